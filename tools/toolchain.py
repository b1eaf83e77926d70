#!/usr/bin/env python3
"""Build the e2e toolchain from Go modules: the Pulumi CLI, its Python language host, the random and
kubernetes providers, and a Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, kwok).

Nothing can be downloaded as a binary on the machines this project is built on, so every binary comes
from the Go module proxy, pinned in floe_infra/versions.py. Each tool is built in a small wrapper module
generated under the cache (its go.mod requires the upstream module and repeats the replaces the upstream
go.mod needs, which Go ignores in dependencies) and cached under
`~/.cache/floe-infra/toolchain/<tool>-<key>/` (or `$FLOE_TOOLCHAIN_CACHE`), keyed by everything that
decides the build. Rerunning is a no-op once built.

Two tools have main packages the proxy does not serve, so their small Go sources are floe-infra's own
(tools/go/<tool>/, part of the key): the Python language host, over the served sdk/v3 libraries at the
CLI's version, and the random provider, over the served Terraform bridge and terraform-provider-random,
its schema generated at build time by the bridge's tfgen.

Usage: python tools/toolchain.py [build]   build what is missing, print what and how long
       python tools/toolchain.py bin-dir   print the directory to put on PATH
Stdlib only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("FLOE_TOOLCHAIN_CACHE", Path.home() / ".cache" / "floe-infra" / "toolchain"))
# floe-infra's own Go sources of the tools whose main packages no served module holds.
GO_SOURCES = ROOT / "tools" / "go"
# Bump when the way a tool is built changes (not its version: the version is part of the key already).
RECIPE = 1


def _load_versions() -> ModuleType:
    """floe_infra/versions.py without importing the package (no virtualenv needed)."""
    spec = importlib.util.spec_from_file_location("floe_versions", ROOT / "floe_infra" / "versions.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module while the class is created
    spec.loader.exec_module(module)
    return module


V = _load_versions()


@dataclass(frozen=True)
class Tool:
    """One binary (or set of binaries) and how to build it in its wrapper module."""

    name: str
    binaries: tuple[str, ...]
    requires: tuple[tuple[str, str], ...]
    replaces: tuple[tuple[str, str], ...] = ()
    # Files the wrapper needs before `go mod tidy` (main packages), and steps after it (generated files).
    prepare: Callable[[Path], None] | None = None
    generate: Callable[[Path], None] | None = None
    packages: tuple[str, ...] = ()
    ldflags: str = ""
    extra_key: tuple[str, ...] = field(default=())
    # A directory under tools/go/ copied into the wrapper before anything else (floe-infra's own sources).
    sources: str = ""

    def key(self) -> str:
        # floe-infra's own sources are part of what decides the build (only tools that have some).
        extra = (*self.extra_key, sources_digest(self.sources)) if self.sources else self.extra_key
        spec = json.dumps(
            [RECIPE, self.name, self.binaries, self.requires, self.replaces, self.packages, self.ldflags,
             extra, _go_version()],
        )
        return hashlib.sha256(spec.encode()).hexdigest()[:12]

    def directory(self) -> Path:
        return CACHE / f"{self.name}-{self.key()}"


def _go_version() -> str:
    return subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()


GO_ENV = {"GOFLAGS": "-mod=mod -buildvcs=false", "CGO_ENABLED": "0"}


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(cmd, cwd=cwd, env={**os.environ, **GO_ENV, **(env or {})}, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"toolchain: `{' '.join(cmd)}` failed in {cwd}:\n{result.stdout}{result.stderr}")


def _module_dir(module: str, version: str, cwd: Path) -> Path:
    """Where `go mod download` put a module's source (read-only)."""
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        cwd=cwd,
        env={**os.environ, **GO_ENV},
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout or "{}")
    if out.returncode != 0 or "Dir" not in info:
        raise SystemExit(f"toolchain: go mod download {module}@{version} failed: {info.get('Error', out.stderr)}")
    return Path(info["Dir"])


def sources_digest(name: str) -> str:
    """A digest of floe-infra's Go sources of one tool: their paths and contents."""
    digest = hashlib.sha256()
    root = GO_SOURCES / name
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _copy_package(source: Path, target: Path) -> None:
    """A directory (a main package from the read-only module cache, or floe-infra's sources) into the
    wrapper, writable."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


# --- the tools ---------------------------------------------------------------------------------------


def _pulumi() -> Tool:
    return Tool(
        name="pulumi",
        binaries=("pulumi",),
        requires=((V.PULUMI_CLI.path, V.PULUMI_CLI.version), (V.PULUMI_SDK.path, V.PULUMI_SDK.version)),
        # pkg/v3's own go.mod replaces these; as a dependency its replaces are ignored.
        replaces=(("github.com/atotto/clipboard",
                   "github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e"),),
        packages=("github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",),
        ldflags=f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={V.PULUMI_CLI.version}",
    )


def _python_scripts(wrapper: Path, out: Path) -> None:
    """The CLI distribution's Python shims of the same release: the program runner the host starts, and the
    dynamic provider plugin the engine starts (`python -m pulumi.dynamic` in the stack's virtualenv)."""
    sdk = _module_dir(V.PULUMI_SDK.path, V.PULUMI_SDK.version, wrapper)
    for source in (
        sdk / "python" / "cmd" / "pulumi-language-python-exec",
        sdk / "python" / "dist" / "pulumi-resource-pulumi-python",
    ):
        target = out / source.name
        shutil.copyfile(source, target)
        target.chmod(0o755)


def _language_python() -> Tool:
    # The host's own module (sdk/python/cmd/pulumi-language-python/v3) is refused by the proxy at every
    # version; floe-infra's host (tools/go/pulumi-language-python) serves the same RPCs over sdk/v3 at the
    # CLI's release, whose python/toolchain package resolves virtualenvs, pip, poetry and uv.
    version = V.PULUMI_SDK.version.removeprefix("v")
    return Tool(
        name="pulumi-language-python",
        binaries=("pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python"),
        requires=((V.PULUMI_SDK.path, V.PULUMI_SDK.version),),
        sources="pulumi-language-python",
        packages=("./pulumi-language-python",),
        ldflags=f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={version}",
    )


RANDOM_VERSION_STAMP = "floe.dev/toolchain/pulumi-resource-random/provider.Version"


def _random_shim(wrapper: Path) -> None:
    """The shim's module (a name under terraform-provider-random's path, so it may import the provider's
    internal package) and the files tfgen fills in, empty until it runs."""
    (wrapper / "shim" / "go.mod").write_text(
        f"module {V.TERRAFORM_PROVIDER_RANDOM.path}/shim\n\ngo 1.26\n\n"
        f"require {V.TERRAFORM_PROVIDER_RANDOM.path} {V.TERRAFORM_PROVIDER_RANDOM.version}\n")
    (wrapper / "provider" / "bridge-metadata.json").write_text("{}\n")
    (wrapper / "pulumi-resource-random" / "schema.json").write_text("{}\n")


def _random_schema(wrapper: Path) -> None:
    """tfgen's schema and bridge metadata, from terraform-provider-random's schema and docs; the schema gets
    the plugin's version (tfgen leaves it out), as upstream's generate step does. The docs' HCL examples
    are left out: converting them needs `pulumi convert` and its Terraform converter plugin."""
    out = wrapper / "tfgen-out"
    _run(["go", "run", "-ldflags", f"-X {RANDOM_VERSION_STAMP}={V.PULUMI_RANDOM_SDK}", "./pulumi-tfgen-random",
          "schema", "--skip-examples", "--out", str(out)], cwd=wrapper)
    shutil.copyfile(out / "bridge-metadata.json", wrapper / "provider" / "bridge-metadata.json")
    schema = json.loads((out / "schema.json").read_text())
    schema["version"] = V.PULUMI_RANDOM_SDK
    (wrapper / "pulumi-resource-random" / "schema.json").write_text(json.dumps(schema, indent=2) + "\n")


def _random_provider() -> Tool:
    return Tool(
        name="pulumi-resource-random",
        binaries=("pulumi-resource-random",),
        requires=(
            (V.PULUMI_TERRAFORM_BRIDGE.path, V.PULUMI_TERRAFORM_BRIDGE.version),
            (V.TERRAFORM_PROVIDER_RANDOM.path, V.TERRAFORM_PROVIDER_RANDOM.version),
            (f"{V.TERRAFORM_PROVIDER_RANDOM.path}/shim", "v0.0.0"),
        ),
        replaces=(
            (f"{V.TERRAFORM_PROVIDER_RANDOM.path}/shim", "./shim"),
            # The bridge's own go.mod replaces the plugin SDK with Pulumi's fork; as a dependency, it is ignored.
            ("github.com/hashicorp/terraform-plugin-sdk/v2",
             f"{V.TERRAFORM_PLUGIN_SDK_FORK.path} {V.TERRAFORM_PLUGIN_SDK_FORK.version}"),
        ),
        sources="pulumi-resource-random",
        prepare=_random_shim,
        generate=_random_schema,
        packages=("./pulumi-resource-random",),
        ldflags=f"-X {RANDOM_VERSION_STAMP}={V.PULUMI_RANDOM_SDK}",
    )


def _kubernetes_provider_main(wrapper: Path) -> None:
    """The provider's main package, whose embedded schema `go generate` writes (not in the module zip)."""
    provider = _module_dir(V.PULUMI_KUBERNETES_PROVIDER.path, V.PULUMI_KUBERNETES_PROVIDER.version, wrapper)
    _copy_package(provider / "cmd" / "pulumi-resource-kubernetes", wrapper / "pulumi-resource-kubernetes")


def _kubernetes_provider_schema(wrapper: Path) -> None:
    version = V.PULUMI_KUBERNETES_SDK.version.removeprefix("v")
    _run(["go", "run", "./generate.go"], cwd=wrapper / "pulumi-resource-kubernetes", env={"VERSION": version})


def _kubernetes_provider() -> Tool:
    version = V.PULUMI_KUBERNETES_SDK.version.removeprefix("v")
    return Tool(
        name="pulumi-resource-kubernetes",
        binaries=("pulumi-resource-kubernetes",),
        requires=(
            (V.PULUMI_KUBERNETES_PROVIDER.path, V.PULUMI_KUBERNETES_PROVIDER.version),
            (V.PULUMI_KUBERNETES_SDK.path, V.PULUMI_KUBERNETES_SDK.version),
        ),
        # provider/go.mod replaces the SDK with its sibling directory; the published SDK of the release instead.
        replaces=((V.PULUMI_KUBERNETES_SDK.path, f"{V.PULUMI_KUBERNETES_SDK.path} {V.PULUMI_KUBERNETES_SDK.version}"),),
        prepare=_kubernetes_provider_main,
        generate=_kubernetes_provider_schema,
        packages=("./pulumi-resource-kubernetes",),
        ldflags=f"-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version={version}",
    )


ETCD_MAIN = """package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

// The etcd binary's main: upstream's lives in the root module, whose replaces point at its own tree.
func main() { etcdmain.Main(os.Args) }
"""


def _etcd_main(wrapper: Path) -> None:
    (wrapper / "etcd").mkdir(exist_ok=True)
    (wrapper / "etcd" / "main.go").write_text(ETCD_MAIN)


def _etcd() -> Tool:
    return Tool(
        name="etcd",
        binaries=("etcd",),
        requires=((V.ETCD.path, V.ETCD.version),),
        prepare=_etcd_main,
        packages=("./etcd",),
    )


def staging_replaces(gomod: str, kubernetes_version: str) -> tuple[tuple[str, str], ...]:
    """k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/...;
    the published k8s.io/<name> at v0.<minor>.<patch> are the same code."""
    staging_version = "v0." + kubernetes_version.removeprefix("v1.")
    replaces = []
    for line in gomod.splitlines():
        parts = line.split()
        if "=>" in parts and parts[-1].startswith("./staging/"):
            replaces.append((parts[0], f"{parts[0]} {staging_version}"))
    return tuple(replaces)


def _kubernetes_gomod() -> str:
    CACHE.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{V.KUBERNETES.path}@{V.KUBERNETES.version}"],
        cwd=CACHE,
        env={**os.environ, "GO111MODULE": "on"},
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout or "{}")
    if "GoMod" not in info:
        raise SystemExit(f"toolchain: go mod download {V.KUBERNETES.path} failed: {info.get('Error', out.stderr)}")
    return Path(info["GoMod"]).read_text()


def _kubernetes() -> Tool:
    # The version the API server reports (charts check kubeVersion against it); hack/lib/version.sh does this.
    major, minor = V.KUBERNETES.version.removeprefix("v").split(".")[:2]
    stamp = "k8s.io/component-base/version"
    return Tool(
        name="kubernetes",
        binaries=("kube-apiserver", "kube-controller-manager", "kube-scheduler"),
        requires=((V.KUBERNETES.path, V.KUBERNETES.version),),
        replaces=staging_replaces(_kubernetes_gomod(), V.KUBERNETES.version),
        packages=(
            "k8s.io/kubernetes/cmd/kube-apiserver",
            "k8s.io/kubernetes/cmd/kube-controller-manager",
            "k8s.io/kubernetes/cmd/kube-scheduler",
        ),
        ldflags=f"-X {stamp}.gitVersion={V.KUBERNETES.version} -X {stamp}.gitMajor={major} "
                f"-X {stamp}.gitMinor={minor} -X {stamp}.gitTreeState=clean",
    )


def _kwok() -> Tool:
    return Tool(
        name="kwok",
        binaries=("kwok",),
        requires=((V.KWOK.path, V.KWOK.version),),
        packages=("sigs.k8s.io/kwok/cmd/kwok",),
    )


TOOLS: dict[str, Callable[[], Tool]] = {
    "pulumi": _pulumi,
    "pulumi-language-python": _language_python,
    "pulumi-resource-random": _random_provider,
    "pulumi-resource-kubernetes": _kubernetes_provider,
    "etcd": _etcd,
    "kubernetes": _kubernetes,
    "kwok": _kwok,
}
POST_BUILD: dict[str, Callable[[Path, Path], None]] = {"pulumi-language-python": _python_scripts}


# --- building ------------------------------------------------------------------------------------------


def wrapper_gomod(tool: Tool) -> str:
    lines = [f"module floe.dev/toolchain/{tool.name}", "", "go 1.26", "", "require ("]
    lines += [f"\t{path} {version}" for path, version in tool.requires]
    lines += [")", ""]
    lines += [f"replace {old} => {new}" for old, new in tool.replaces]
    return "\n".join(lines) + "\n"


def _tools_go(tool: Tool) -> str:
    imports = "\n".join(f'\t_ "{p}"' for p in tool.packages if not p.startswith("./"))
    return ("//go:build tools\n\n// The packages this module builds, so that go mod tidy keeps them.\n"
            f"package tools\n\nimport (\n{imports}\n)\n")


def build(tool: Tool) -> tuple[str, float]:
    """Build one tool into its cache directory unless it is there; returns (status, seconds)."""
    directory = tool.directory()
    out = directory / "bin"
    if all((out / b).exists() for b in tool.binaries):
        return "cached", 0.0
    start = time.monotonic()
    wrapper = directory / "src"
    shutil.rmtree(wrapper, ignore_errors=True)
    wrapper.mkdir(parents=True)
    if tool.sources:
        _copy_package(GO_SOURCES / tool.sources, wrapper)
    (wrapper / "go.mod").write_text(wrapper_gomod(tool))
    (wrapper / "tools.go").write_text(_tools_go(tool))
    if tool.prepare:
        tool.prepare(wrapper)
    _run(["go", "mod", "tidy"], cwd=wrapper)
    if tool.generate:
        tool.generate(wrapper)
    staging = directory / "bin.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for package in tool.packages:
        binary = staging / Path(package).name
        cmd = ["go", "build", "-trimpath", "-o", str(binary)]
        if tool.ldflags:
            cmd += ["-ldflags", tool.ldflags]
        _run([*cmd, package], cwd=wrapper)
    if tool.name in POST_BUILD:
        POST_BUILD[tool.name](wrapper, staging)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)  # complete or absent: an interrupted build is redone, never half-used
    return "built", time.monotonic() - start


def prune(tool: Tool) -> list[Path]:
    """Remove builds of `tool` under keys other than the current one (older pins, older recipes)."""
    stale = [d for d in CACHE.glob(f"{tool.name}-*")
             if re.fullmatch(rf"{re.escape(tool.name)}-[0-9a-f]{{12}}", d.name) and d != tool.directory()]
    for directory in stale:
        shutil.rmtree(directory)
    return stale


def bin_dir() -> Path:
    """One directory with every tool, for PATH (symlinks into the versioned cache directories)."""
    target = CACHE / "bin"
    target.mkdir(parents=True, exist_ok=True)
    linked: set[str] = set()
    for factory in TOOLS.values():
        tool = factory()
        for binary in tool.binaries:
            link = target / binary
            source = tool.directory() / "bin" / binary
            if not source.exists():
                raise SystemExit(f"toolchain: {binary} is not built; run `./dev.sh toolchain`")
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(source)
            linked.add(binary)
    # A binary an older recipe built (e.g. the 2023 host's policy analyzer) would stay on PATH, dangling.
    for stale in target.iterdir():
        if stale.name not in linked and stale.is_symlink():
            stale.unlink()
    return target


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "build"
    if command == "bin-dir":
        print(bin_dir())
        return 0
    if command != "build":
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    if shutil.which("go") is None:
        print("toolchain: Go is required (https://go.dev/doc/install)", file=sys.stderr)
        return 2
    CACHE.mkdir(parents=True, exist_ok=True)
    total = time.monotonic()
    print(f"toolchain cache: {CACHE} ({_go_version()})")
    for name, factory in TOOLS.items():
        tool = factory()
        status, seconds = build(tool)
        removed = ", removed " + " ".join(d.name for d in pruned) if (pruned := prune(tool)) else ""
        print(f"  {name:28} {status:7} {seconds:7.1f} s  {tool.directory().name}{removed}", flush=True)
    print(f"toolchain ready in {time.monotonic() - total:.1f} s: {bin_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
