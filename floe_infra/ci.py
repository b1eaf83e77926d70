"""Which stacks a change touches: the matrix of the pull request and deploy workflows.

The platform project's stacks are affected by their own platform.yaml (via `floe:platformFile`
in `Pulumi.<stack>.yaml`), by their stack file, and by anything every stack shares (the package,
the project files, the pinned requirements, the policy pack). A pipeline project is affected by
its own directory, by the shared parts, and by a change of a platform stack one of its stacks
deploys onto: a platform change can break a pipeline (a layer it writes removed, Dagster no
longer deployed), and the pipeline's preview is where that shows.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from floe_infra.errors import ExitCode, FloeError

SHARED = ("floe_infra/", "policy/", "requirements.txt", "pyproject.toml", "Pulumi.yaml", "__main__.py")
SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "node_modules", ".floe", "__pycache__"})


class ChangeDetectionError(FloeError):
    """Raised when git cannot tell what changed."""

    exit_code = ExitCode.RUNTIME


@dataclass(frozen=True)
class PipelineProject:
    """A pipeline's Pulumi project: its directory (relative, POSIX), project name, and the platform
    stack each of its stacks deploys onto."""

    dir: str
    name: str
    platform_stacks: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AffectedStacks:
    """The platform stacks and pipeline projects a change touches.

    Attributes:
        platform: Platform stack names, sorted.
        pipelines: Pipeline projects, sorted by directory.
    """

    platform: list[str]
    pipelines: list[PipelineProject]


def pipeline_projects(root: Path) -> list[PipelineProject]:
    """Directories holding both a floe.yaml and a Pulumi.yaml (pipeline projects), relative to `root`."""
    found = []
    for floe_yaml in root.rglob("floe.yaml"):
        relative = floe_yaml.parent.relative_to(root)
        project_file = floe_yaml.parent / "Pulumi.yaml"
        if SKIPPED_DIRS & set(relative.parts) or not project_file.is_file() or floe_yaml.parent == root:
            continue
        name = (yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}).get("name")
        if not isinstance(name, str):
            raise FloeError(f"{project_file} has no project name")
        found.append(PipelineProject(relative.as_posix(), name, _platform_stacks_of(floe_yaml.parent)))
    return sorted(found, key=lambda p: p.dir)


def _platform_stacks_of(project_dir: Path) -> frozenset[str]:
    """The platform stack names a pipeline project's stacks reference (`floe:platformStack`, or the same
    stack name, as the pipeline program resolves it)."""
    out = set()
    for path in project_dir.glob("Pulumi.*.yaml"):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        config = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("config") or {}
        reference = config.get("floe:platformStack") if isinstance(config, dict) else None
        out.add(reference.rsplit("/", 1)[-1] if isinstance(reference, str) else stack)
    return frozenset(out)


def platform_stacks(root: Path) -> dict[str, str]:
    """Platform stack name -> its platform.yaml (relative), from the root's `Pulumi.<stack>.yaml` files."""
    stacks = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        platform_file = (data.get("config") or {}).get("floe:platformFile")
        if isinstance(platform_file, str):
            stacks[path.name.removeprefix("Pulumi.").removesuffix(".yaml")] = PurePosixPath(platform_file).as_posix()
    return stacks


def affected(root: Path, changed: Iterable[str] | None, stacks: Sequence[str] | None = None) -> AffectedStacks:
    """What `changed` (repository-relative POSIX paths; None: everything) touches; `stacks` limits the
    platform stacks."""
    files = [PurePosixPath(f).as_posix() for f in changed or ()]
    shared = changed is None or any(f.startswith(s) if s.endswith("/") else f == s for f in files for s in SHARED)
    by_stack = platform_stacks(root)
    platform = sorted(
        stack for stack, platform_file in by_stack.items()
        if (stacks is None or stack in stacks)
        and (shared or platform_file in files or f"Pulumi.{stack}.yaml" in files))
    pipelines = [p for p in pipeline_projects(root)
                 if shared or p.platform_stacks & set(platform) or any(f.startswith(p.dir + "/") for f in files)]
    return AffectedStacks(platform, pipelines)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False,
                              timeout=60)
    except FileNotFoundError:
        raise ChangeDetectionError("git is not installed; install it, or list every stack with --all") from None
    except subprocess.TimeoutExpired:
        raise ChangeDetectionError(f"git {args[0]} in {root} took more than 60 s") from None


def changed_files(root: Path, base: str) -> list[str]:
    """Files changed between `base` and HEAD (`git diff base...HEAD`), relative to `root`.

    Raises:
        ChangeDetectionError: When `root` is not in a git repository, `base` is unknown or git fails.
    """
    if _git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise ChangeDetectionError(f"{root} is not inside a git repository: run this in a checkout of the "
                                   "repository, or list every stack with --all")
    if _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").returncode != 0:
        raise ChangeDetectionError(f"git knows no commit '{base}': fetch it first (in GitHub Actions, check out "
                                   "with fetch-depth: 0)")
    result = _git(root, "diff", "--name-only", "--relative", f"{base}...HEAD")
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no message"])[0]
        raise ChangeDetectionError(f"git diff {base}...HEAD failed: {first}")
    return [line for line in result.stdout.splitlines() if line]


def as_json(changes: AffectedStacks) -> dict[str, Any]:
    """The matrices as one JSON object: `platform` (stack names) and `pipelines` (`dir`, `name`)."""
    return {"platform": changes.platform, "pipelines": [{"dir": p.dir, "name": p.name} for p in changes.pipelines]}


def as_github_outputs(changes: AffectedStacks) -> list[str]:
    """`key=json` lines for `$GITHUB_OUTPUT`: the matrices of the preview and deploy workflows."""
    return [f"{key}={json.dumps(value)}" for key, value in as_json(changes).items()]
