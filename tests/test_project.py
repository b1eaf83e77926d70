"""The project directory programs resolve stack-config paths against."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest
from pulumi.runtime import settings

from floe_infra.project import project_path


def test_a_config_path_is_resolved_against_the_directory_the_cli_passes(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path):
    monkeypatch.setattr(settings.SETTINGS, "root_directory", str(tmp_path))
    assert project_path("platform.yaml") == tmp_path / "platform.yaml"


def test_a_cli_that_passes_no_project_directory_is_named_as_too_old(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(settings.SETTINGS, "root_directory", None)
    with pytest.raises(pulumi.RunError, match=r"needs Pulumi CLI 3\.153 or newer"):
        project_path("platform.yaml")
