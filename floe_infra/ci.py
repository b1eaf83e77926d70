"""Which stacks a change touches: the matrix of the pull request and deploy workflows.

The platform project's stacks are affected by their own platform.yaml (via `floe:platformFile`
in `Pulumi.<stack>.yaml`), by their stack file, and by anything every stack shares (the package,
the project files, the pinned requirements, the policy pack). A pipeline project is affected by
its own directory and by the shared parts too.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import yaml

from floe_infra.errors import FloeError

SHARED = ("floe_infra/", "policy/", "requirements.txt", "pyproject.toml", "Pulumi.yaml", "__main__.py")
SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "node_modules", ".floe", "__pycache__"})


class ChangeDetectionError(FloeError):
    """Raised when git cannot tell what changed."""


@dataclass(frozen=True)
class PipelineProject:
    """A pipeline's Pulumi project: its directory (relative, POSIX) and project name."""

    dir: str
    name: str


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
        found.append(PipelineProject(relative.as_posix(), name))
    return sorted(found, key=lambda p: p.dir)


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
    pipelines = [p for p in pipeline_projects(root) if shared or any(f.startswith(p.dir + "/") for f in files)]
    return AffectedStacks(platform, pipelines)


def changed_files(root: Path, base: str) -> list[str]:
    """Files changed between `base` and HEAD (`git diff base...HEAD`).

    Raises:
        ChangeDetectionError: When git fails (unknown base, shallow clone).
    """
    result = subprocess.run(["git", "diff", "--name-only", f"{base}...HEAD"], cwd=root, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise ChangeDetectionError(f"git diff against {base} failed: {result.stderr.strip()} (is the base "
                                   "fetched? check out with fetch-depth: 0)")
    return [line for line in result.stdout.splitlines() if line]


def as_github_outputs(changes: AffectedStacks) -> list[str]:
    """`key=json` lines for `$GITHUB_OUTPUT`: the matrices of the preview and deploy workflows."""
    return [f"platform={json.dumps(changes.platform)}",
            f"pipelines={json.dumps([asdict(p) for p in changes.pipelines])}"]
