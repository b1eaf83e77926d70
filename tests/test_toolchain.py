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


def test_the_random_wrapper_builds_over_the_served_bridge_with_the_shim_and_the_plugin_sdk_fork(
        toolchain: ModuleType):
    gomod = toolchain.wrapper_gomod(toolchain._random_provider())
    assert f"\t{versions.PULUMI_TERRAFORM_BRIDGE.path} {versions.PULUMI_TERRAFORM_BRIDGE.version}" in gomod
    assert f"\t{versions.TERRAFORM_PROVIDER_RANDOM.path} {versions.TERRAFORM_PROVIDER_RANDOM.version}" in gomod
    assert f"replace {versions.TERRAFORM_PROVIDER_RANDOM.path}/shim => ./shim" in gomod
    assert ("replace github.com/hashicorp/terraform-plugin-sdk/v2 => "
            f"{versions.TERRAFORM_PLUGIN_SDK_FORK.path} {versions.TERRAFORM_PLUGIN_SDK_FORK.version}") in gomod
    assert "pulumi-random/provider" not in gomod, "the proxy refuses pulumi-random's own module"


def test_the_random_plugin_is_stamped_with_the_version_of_the_pinned_python_sdk(toolchain: ModuleType):
    requirement = next(line for line in (REPO / "requirements.txt").read_text().splitlines()
                       if line.startswith("pulumi-random=="))
    assert requirement == f"pulumi-random=={versions.PULUMI_RANDOM_SDK}"
    assert toolchain._random_provider().ldflags.endswith(f".Version={versions.PULUMI_RANDOM_SDK}")


def test_the_language_host_is_built_over_the_sdk_of_the_clis_release_and_stamped_with_it(toolchain: ModuleType):
    host = toolchain._language_python()
    assert host.requires == ((versions.PULUMI_SDK.path, versions.PULUMI_CLI.version),)
    assert host.ldflags.endswith(f"version.Version={versions.PULUMI_CLI.version.removeprefix('v')}")
    # The program runner and the dynamic provider shim of the same release; no adapter, no policy shim.
    assert host.binaries == ("pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python")


def test_the_cache_key_covers_floe_infras_own_go_sources(toolchain: ModuleType, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    sources = tmp_path / "pulumi-language-python" / "pulumi-language-python"
    sources.mkdir(parents=True)
    (sources / "main.go").write_text("package main\n")
    monkeypatch.setattr(toolchain, "GO_SOURCES", tmp_path)
    before = toolchain._language_python().key()
    (sources / "main.go").write_text("package main\n\nfunc main() {}\n")
    edited = toolchain._language_python().key()
    (sources / "host.go").write_text("package main\n")
    assert len({before, edited, toolchain._language_python().key()}) == 3


@pytest.mark.parametrize("name", ["pulumi-language-python", "pulumi-resource-random"])
def test_each_own_source_tree_holds_the_main_package_the_tool_builds(toolchain: ModuleType, name: str):
    tool = toolchain.TOOLS[name]()
    assert tool.sources == name
    [package] = tool.packages
    assert (toolchain.GO_SOURCES / name / package / "main.go").read_text().startswith("// Command ")


def test_the_path_directory_drops_binaries_no_current_tool_builds(toolchain: ModuleType, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch):
    # The 2023 host also built pulumi-analyzer-policy-python; after its build is pruned the link dangles on PATH.
    monkeypatch.setattr(toolchain, "CACHE", tmp_path)
    for factory in toolchain.TOOLS.values():
        tool = factory()
        (tool.directory() / "bin").mkdir(parents=True)
        for binary in tool.binaries:
            (tool.directory() / "bin" / binary).write_text("#!/bin/sh\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pulumi-analyzer-policy-python").symlink_to(tmp_path / "pruned" / "bin" / "analyzer")
    bin_dir = toolchain.bin_dir()
    assert not (bin_dir / "pulumi-analyzer-policy-python").is_symlink()
    assert {p.name for p in bin_dir.iterdir()} == {b for f in toolchain.TOOLS.values() for b in f().binaries}
    assert all(p.resolve().exists() for p in bin_dir.iterdir())
