"""Which stacks a change touches, and which environments CI deploys: the matrices of the workflows.

The stack files are the one list of environments: the platform project's `Pulumi.<stack>.yaml`
files at the root, and each pipeline project's beside its floe.yaml. CI deploys the platform
stacks whose stack file sets `floe:deployAfter` (`main`: first, on every merge; another stack:
once that one is deployed), in that order, each with `policy/config/<stack>.json`; a stack
without it (`local`) is previewed offline only.

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

# The pull request label that accepts the risky changes of its offline check (floe_infra.preview.gate).
RISK_LABEL = "accept-risky-changes"
DEPLOY_AFTER = "floe:deployAfter"
FIRST = "main"
POLICY_CONFIG_DIR = PurePosixPath("policy", "config")
SHARED = ("floe_infra/", "policy/", "requirements.txt", "pyproject.toml", "Pulumi.yaml", "__main__.py")
SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "node_modules", ".floe", "__pycache__"})


class ChangeDetectionError(FloeError):
    """Raised when git cannot tell what changed."""

    exit_code = ExitCode.RUNTIME


class EnvironmentsError(FloeError):
    """Raised when the stack files do not say which environments CI deploys in which order."""


@dataclass(frozen=True)
class PipelineProject:
    """A pipeline's Pulumi project: its directory (relative, POSIX), project name, and its stacks, each with
    the platform stack it deploys onto."""

    dir: str
    name: str
    stacks: tuple[tuple[str, str], ...] = ()

    @property
    def platform_stacks(self) -> frozenset[str]:
        """The platform stacks its stacks deploy onto."""
        return frozenset(platform for _, platform in self.stacks)


@dataclass(frozen=True)
class TablePlanTarget:
    """A pipeline stack whose tables a pull request plans against the live catalog: the project, the stack,
    and the platform.yaml (relative, POSIX) of the platform stack it deploys onto."""

    project: PipelineProject
    stack: str
    platform_file: str


@dataclass(frozen=True)
class AffectedStacks:
    """The platform stacks and pipeline projects a change touches.

    Attributes:
        platform: Platform stack names, sorted.
        pipelines: Pipeline projects, sorted by directory.
        tables: The stacks of those pipeline projects, each with its platform's file, by directory and stack.
    """

    platform: list[str]
    pipelines: list[PipelineProject]
    tables: list[TablePlanTarget]


def _stack_name(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")


def stack_config(path: Path) -> dict[str, Any]:
    """The `config` mapping of a stack file.

    Raises:
        EnvironmentsError: When it is not YAML, or its `config` is not a mapping.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise EnvironmentsError(f"{path} is not valid YAML: {exc}") from None
    config = data.get("config") if isinstance(data, dict) else None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise EnvironmentsError(f"{path}: `config` must be a mapping")
    return config


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
        found.append(PipelineProject(relative.as_posix(), name, _stacks_of(floe_yaml.parent)))
    return sorted(found, key=lambda p: p.dir)


def _stacks_of(project_dir: Path) -> tuple[tuple[str, str], ...]:
    """A pipeline project's stacks, each with the platform stack it references (`floe:platformStack`, or the
    same stack name, as the pipeline program resolves it)."""
    out = []
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        stack = _stack_name(path)
        reference = stack_config(path).get("floe:platformStack")
        out.append((stack, reference.rsplit("/", 1)[-1] if isinstance(reference, str) else stack))
    return tuple(out)


def platform_stacks(root: Path) -> dict[str, str]:
    """Platform stack name -> its platform.yaml (relative), from the root's `Pulumi.<stack>.yaml` files."""
    stacks = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        platform_file = stack_config(path).get("floe:platformFile")
        if isinstance(platform_file, str):
            stacks[_stack_name(path)] = PurePosixPath(platform_file).as_posix()
    return stacks


def deploy_order(root: Path) -> list[str]:
    """The platform stacks CI deploys, in the order it deploys them: those whose stack file sets
    `floe:deployAfter`, each after the stack it names (`main`: first), stacks after the same one by name.

    Raises:
        EnvironmentsError: When a stack follows one CI does not deploy, the stacks follow each other in a
            circle, or a deployed stack has no policy configuration.
    """
    after: dict[str, str] = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        value = stack_config(path).get(DEPLOY_AFTER)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise EnvironmentsError(f"{path}: {DEPLOY_AFTER} must be the stack CI deploys before this one, or "
                                    f"`{FIRST}` to deploy it first on every merge to main")
        after[_stack_name(path)] = value.strip()
    for stack, previous in sorted(after.items()):
        if previous != FIRST and previous not in after:
            deployed = ", ".join(sorted(after)) or "none"
            raise EnvironmentsError(f"Pulumi.{stack}.yaml: {DEPLOY_AFTER} is '{previous}', which CI does not "
                                    f"deploy (deployed: {deployed}); name one of those, or `{FIRST}` to deploy "
                                    f"{stack} first")
    order: list[str] = []

    def visit(previous: str) -> None:
        for stack in sorted(s for s, p in after.items() if p == previous):
            order.append(stack)
            visit(stack)

    visit(FIRST)
    if circle := sorted(set(after) - set(order)):
        raise EnvironmentsError(f"{DEPLOY_AFTER} of {', '.join(circle)} go round in a circle: one of them must "
                                f"follow a deployed stack, or `{FIRST}`")
    for stack in order:
        policy = POLICY_CONFIG_DIR / f"{stack}.json"
        if not (root / policy).is_file():
            raise EnvironmentsError(f"CI deploys stack '{stack}' with the guardrails' configuration {policy}, which "
                                    'does not exist: create it (`{"all": "mandatory"}` enforces every rule; '
                                    "docs/ci.md)")
    return order


def affected(root: Path, changed: Iterable[str] | None, stacks: Sequence[str] | None = None) -> AffectedStacks:
    """What `changed` (repository-relative POSIX paths; None: everything) touches; `stacks` limits the
    stacks (the platform's and the pipelines')."""
    files = [PurePosixPath(f).as_posix() for f in changed or ()]
    shared = changed is None or any(f.startswith(s) if s.endswith("/") else f == s for f in files for s in SHARED)
    by_stack = platform_stacks(root)
    platform = sorted(
        stack for stack, platform_file in by_stack.items()
        if (stacks is None or stack in stacks)
        and (shared or platform_file in files or f"Pulumi.{stack}.yaml" in files))
    pipelines, tables = [], []
    for project in pipeline_projects(root):
        own = [(stack, ref) for stack, ref in project.stacks if stacks is None or stack in stacks]
        touched = shared or any(ref in platform for _, ref in own) or any(
            f.startswith(project.dir + "/") for f in files)
        if own and touched:
            pipelines.append(project)
            tables += [TablePlanTarget(project, stack, by_stack[ref]) for stack, ref in own if ref in by_stack]
    return AffectedStacks(platform, pipelines, tables)


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
    """The matrices as one JSON object: `platform` (stack names), `pipelines` (`dir`, `name`) and `tables`
    (`project`, `stack`, `platform`: the platform.yaml)."""
    def project(p: PipelineProject) -> dict[str, str]:
        return {"dir": p.dir, "name": p.name}

    return {"platform": changes.platform, "pipelines": [project(p) for p in changes.pipelines],
            "tables": [{"project": project(t.project), "stack": t.stack, "platform": t.platform_file}
                       for t in changes.tables]}


def as_github_outputs(values: dict[str, Any]) -> list[str]:
    """`key=json` lines for `$GITHUB_OUTPUT`: the matrices of the preview and deploy workflows."""
    return [f"{key}={json.dumps(value)}" for key, value in values.items()]
