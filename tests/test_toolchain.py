"""tools/toolchain.py: wrapper modules, cache keys and the no-op rerun, without building anything."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from floe_infra import versions
from tests.conftest import REPO


@pytest.fixture(scope="module")
def toolchain() -> ModuleType:
    spec = importlib.util.spec_from_file_location("toolchain", REPO / "tools" / "toolchain.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["toolchain"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def fixed_go(toolchain: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchain, "_go_version", lambda: "go1.26.8")


KUBERNETES_GOMOD = """module k8s.io/kubernetes

require (
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
\tgithub.com/spf13/cobra v1.9.1
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
)
"""


def test_kubernetes_staging_modules_are_replaced_by_their_published_versions(toolchain: ModuleType):
    assert toolchain.staging_replaces(KUBERNETES_GOMOD, "v1.34.4") == (
        ("k8s.io/api", "k8s.io/api v0.34.4"), ("k8s.io/client-go", "k8s.io/client-go v0.34.4"))


def test_the_pulumi_wrapper_requires_pkg_and_sdk_at_one_version_and_repeats_the_clipboard_replace(
        toolchain: ModuleType):
    gomod = toolchain.wrapper_gomod(toolchain._pulumi())
    assert f"\tgithub.com/pulumi/pulumi/pkg/v3 {versions.PULUMI_CLI.version}" in gomod
    assert f"\tgithub.com/pulumi/pulumi/sdk/v3 {versions.PULUMI_CLI.version}" in gomod
    assert "replace github.com/atotto/clipboard => github.com/tgummerer/clipboard" in gomod


def test_the_kubernetes_provider_is_the_release_commit_of_the_pinned_python_sdk(toolchain: ModuleType):
    requirement = next(line for line in (REPO / "requirements.txt").read_text().splitlines()
                       if line.startswith("pulumi-kubernetes=="))
    assert requirement == f"pulumi-kubernetes=={versions.PULUMI_KUBERNETES_SDK.version.removeprefix('v')}"
    tool = toolchain._kubernetes_provider()
    assert tool.ldflags.endswith(f"version.Version={versions.PULUMI_KUBERNETES_SDK.version.removeprefix('v')}")


def test_the_cache_key_follows_the_pinned_version(toolchain: ModuleType):
    tool = toolchain._pulumi()
    assert tool.key() == toolchain._pulumi().key()
    bumped = dataclasses.replace(tool, requires=((versions.PULUMI_CLI.path, "v3.999.0"),))
    assert bumped.key() != tool.key()


def test_a_built_tool_is_not_built_again(toolchain: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(toolchain, "CACHE", tmp_path)
    tool = toolchain._pulumi()
    (tool.directory() / "bin").mkdir(parents=True)
    (tool.directory() / "bin" / "pulumi").write_text("#!/bin/sh\n")
    monkeypatch.setattr(toolchain, "_run", lambda *a, **k: pytest.fail("nothing may be built"))
    assert toolchain.build(tool) == ("cached", 0.0)
