"""The configuration references document every field the models read."""

from __future__ import annotations

import re

import pytest

from floe_infra.config import PipelineConfig, PlatformConfig
from floe_infra.config.schema import field_paths
from tests.conftest import REPO


@pytest.mark.parametrize(("model", "doc"), [
    (PlatformConfig, "docs/platform-config.md"),
    (PipelineConfig, "docs/pipeline-config.md"),
])
def test_every_field_is_named_in_the_reference(model, doc):
    prose = re.sub(r"```.*?```", "", (REPO / doc).read_text(), flags=re.DOTALL)
    quoted = re.findall(r"`([^`\n]+)`", prose)
    words = {word for token in quoted for word in re.split(r"[^A-Za-z0-9_]+", token)}
    missing = sorted({path for path in field_paths(model) if path.rsplit(".", 1)[-1] not in words})
    assert missing == [], f"{doc} does not mention: {missing}"


def test_top_level_sections_have_their_own_headings():
    text = (REPO / "docs/platform-config.md").read_text()
    for section in PlatformConfig.model_fields:
        assert f"`{section}`" in text.split("\n## ", 1)[1], section
