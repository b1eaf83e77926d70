"""`floe-infra new-environment NAME`: a new environment in one step, for both tiers and for CI.

An environment is a stack name shared by the platform project and the pipeline projects. This
writes the platform's `Pulumi.<name>.yaml` (its platform.yaml, and when CI deploys it:
`floe:deployAfter`), each pipeline project's `Pulumi.<name>.yaml`, and the guardrails'
`policy/config/<name>.json`. The pipelines' stack files and the policy start as copies of those of
the environment the new one is deployed after, plain values only: an encrypted value belongs to the
other stack's secrets provider, so it is listed to be set again, and a `floe:platformStack` naming
that environment names the new one. The workflows read these files (`floe_infra.ci`): no workflow
changes. Files that exist are kept; the stacks deployed after the same environment so far now
follow the new one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from floe_infra.ci import (
    DEPLOY_AFTER,
    FIRST,
    POLICY_CONFIG_DIR,
    PipelineProject,
    deploy_order,
    pipeline_projects,
    stack_config,
)
from floe_infra.config.loader import load_platform
from floe_infra.errors import FloeError
from floe_infra.pipeline.scaffold import STACK_NAME_RE

PLATFORM_STACK = "floe:platformStack"
DEFAULT_POLICY = {"all": "mandatory"}


@dataclass
class EnvironmentResult:
    """What `new_environment` did, and what is left to a person.

    Attributes:
        name: The environment.
        after: The stack CI deploys it after (`main`: first).
        pipelines: The pipeline projects that got a stack of it.
        written: Files created.
        kept: Files that existed and were left alone.
        updated: Stack files now deployed after the new environment.
        to_set: (project directory, config key) of values to set by hand: encrypted in the stack copied
            from, or `floe:image` where there was none to copy.
    """

    name: str
    after: str
    pipelines: list[PipelineProject]
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    to_set: list[tuple[Path, str]] = field(default_factory=list)


def _encrypted(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_encrypted(v) for v in value.values())
    return isinstance(value, list) and any(_encrypted(v) for v in value)


def _dump(header: str, config: dict[str, Any]) -> str:
    body = yaml.safe_dump({"config": config}, sort_keys=False, default_flow_style=False) if config else "config: {}\n"
    return header + body


def _write(path: Path, text: str, result: EnvironmentResult) -> bool:
    if path.exists():
        result.kept.append(path)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    result.written.append(path)
    return True


def _check_arguments(root: Path, name: str, platform_file: Path, after: str) -> str:
    """The platform file relative to `root`, once every argument checks out."""
    if not STACK_NAME_RE.fullmatch(name) or name == FIRST:
        raise FloeError(f"'{name}' cannot name an environment: a stack name is letters, digits, '-', '_' and '.', "
                        f"and not `{FIRST}` (which `--after` uses for the branch)")
    if not (root / "Pulumi.yaml").is_file():
        raise FloeError(f"{root} has no Pulumi.yaml: run this in the platform project (the repository's root), or "
                        "give it with --project-dir")
    deployed = deploy_order(root)
    if after != FIRST and after not in deployed:
        raise FloeError(f"--after {after}: CI does not deploy a stack '{after}' (deployed, in order: "
                        f"{', '.join(deployed) or 'none'}); name one of those, or `{FIRST}` to deploy '{name}' first")
    if after == name:
        raise FloeError(f"--after {after}: an environment cannot be deployed after itself")
    if not platform_file.is_file():
        raise FloeError(f"{platform_file} does not exist: write the environment's platform.yaml first (a copy of "
                        "another environment's, with its own deployment.environment, namespace and buckets)")
    try:
        relative = platform_file.resolve().relative_to(root.resolve())
    except ValueError:
        raise FloeError(f"{platform_file} is outside the platform project {root}: CI checks out the project "
                        "only, so the platform.yaml must be in it") from None
    load_platform(platform_file)  # located problems now, not at the first preview
    return relative.as_posix()


def _followed(path: Path, old: str, new: str) -> str:
    """A stack file's text with its `floe:deployAfter: <old>` pointed at `new`, comments kept."""
    pattern = re.compile(rf"^(\s*{re.escape(DEPLOY_AFTER)}:\s*)([\"']?){re.escape(old)}\2(\s*(#.*)?)$",
                         re.MULTILINE)
    text = path.read_text(encoding="utf-8")
    changed, count = pattern.subn(lambda m: f"{m.group(1)}{new}{m.group(3)}", text)
    if count != 1:
        raise FloeError(f"{path}: {DEPLOY_AFTER} is '{old}' but not on a line of its own: set it to '{new}' by "
                        "hand, then run this again")
    return changed


def _pipeline_stack(project: PipelineProject, root: Path, result: EnvironmentResult) -> None:
    directory = root / project.dir
    source = directory / f"Pulumi.{result.after}.yaml"
    config: dict[str, Any] = {}
    if result.after != FIRST and source.is_file():
        for key, value in stack_config(source).items():
            if _encrypted(value):
                result.to_set.append((directory, key))
            elif key == PLATFORM_STACK and isinstance(value, str) and value.rsplit("/", 1)[-1] == result.after:
                config[key] = f"{value.rsplit('/', 1)[0]}/{result.name}"
            else:
                config[key] = value
    origin = f", from Pulumi.{result.after}.yaml" if config else ""
    header = (f"# The {result.name} stack of the pipeline `{project.name}` (floe-infra new-environment{origin}).\n"
              "# floe:tenantKey is never in this file: the deploy job sets it from the GitHub environment\n"
              f"# {result.name}-{project.name} (FLOE_TENANT_KEY; docs/ci.md).\n")
    if _write(directory / f"Pulumi.{result.name}.yaml", _dump(header, config), result) and "floe:image" not in config:
        result.to_set.append((directory, "floe:image"))


def new_environment(root: Path, name: str, platform_file: Path, after: str) -> EnvironmentResult:
    """Write the stack files of environment `name` and its policy configuration.

    Args:
        root: The platform project (the repository's root).
        name: The environment's stack name.
        platform_file: Its platform.yaml, inside `root`.
        after: The stack CI deploys it after, or `main` to deploy it first.

    Raises:
        FloeError: When an argument does not fit (the name, `after`, the platform file).
        ConfigError: When the platform.yaml does not validate.
    """
    relative = _check_arguments(root, name, platform_file, after)
    # The stacks deployed after `after` so far follow the new one: checked before anything is written.
    followers = {path: _followed(path, after, name) for path in sorted(root.glob("Pulumi.*.yaml"))
                 if path.name != f"Pulumi.{name}.yaml" and stack_config(path).get(DEPLOY_AFTER) == after}
    result = EnvironmentResult(name, after, pipeline_projects(root))
    when = "first on every merge to main" if after == FIRST else f"from main after {after}"
    header = (f"# The {name} platform stack `floe-platform/{name}` (floe-infra new-environment).\n"
              f"# CI deploys it {when} (floe:deployAfter; docs/ci.md \"Environments\").\n")
    if _write(root / f"Pulumi.{name}.yaml", _dump(header, {"floe:platformFile": relative, DEPLOY_AFTER: after}),
              result):
        for path, text in followers.items():
            path.write_text(text, encoding="utf-8")
            result.updated.append(path)
    for project in result.pipelines:
        _pipeline_stack(project, root, result)
    source = root / POLICY_CONFIG_DIR / f"{after}.json"
    policy = source.read_text(encoding="utf-8") if source.is_file() else json.dumps(DEFAULT_POLICY, indent=2) + "\n"
    _write(root / POLICY_CONFIG_DIR / f"{name}.json", policy, result)
    return result


def next_steps(result: EnvironmentResult, root: Path) -> list[str]:
    """What a person does next, in order."""
    name = result.name
    dirs = ", ".join(str(root / p.dir) for p in result.pipelines)
    steps = [f"create the stacks: `pulumi stack init {name}` in {root} (the platform project)"
             + (f" and in {dirs}" if dirs else "")
             + " (it keeps the stack files, adding its secrets provider's settings)"]
    steps += [f"in {directory}: `pulumi config set {'' if key == 'floe:image' else '--secret '}{key} ...`"
              + (" (the pipeline's image)" if key == "floe:image" else " (encrypted for another stack: not copied)")
              for directory, key in result.to_set]
    tiers = [f"`{name}` and `{name}-preview` (the platform's)"]
    tiers += [f"`{name}-{p.name}` (with FLOE_TENANT_KEY) and `{name}-{p.name}-preview`" for p in result.pipelines]
    steps.append(f"create the GitHub environments {', '.join(tiers)}, with the secrets of docs/ci.md")
    pipelines = "".join(f" --pipeline {p.dir}/floe.yaml" for p in result.pipelines)
    steps.append(f"check it offline: floe-infra preview --offline --stack {name}{pipelines} "
                 "--assume-secret floe:tenantKey")
    when = "first" if result.after == FIRST else f"after {result.after}"
    steps.append(f"commit the files: the pull request's offline check previews {name}, and the merge deploys it "
                 f"{when} (floe-infra ci environments shows the order)")
    return steps
