"""The offline preview: the real platform and pipeline programs under the mock runtime, no credentials.

For pull requests that cannot run `pulumi preview` (forks, data engineers without cloud access):
each project's own `__main__.py` runs with its `Pulumi.<stack>.yaml` config, encrypted values
replaced by stand-ins, the pipelines reading the contract the platform program just exported.
Tenants' credentials are sealed to a fixed throwaway key whose private half the preview holds,
so every run produces the same resources, byte for byte.
"""

from __future__ import annotations

import base64
import copy
import difflib
import hashlib
import json
import runpy
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from nacl.public import PrivateKey

from floe_infra.contract import CONTRACT_OUTPUT
from floe_infra.errors import FloeError
from floe_infra.guardrails import SECRET, Enforcement, GuardedResource, StackFacts, Violation, evaluate, infer_facts
from floe_infra.iceberg.plan import TablePlan
from floe_infra.iceberg.resource import declared_plan
from floe_infra.pipeline.credentials import TENANT_KEY, TenantKeyError
from floe_infra.preview.runtime import (
    ORGANIZATION,
    ProgramRun,
    deterministic_seal,
    fake_secret,
    replace_secrets,
    run_program,
)

TABLE_TYPE = "pulumi-python:dynamic/iceberg:IcebergTable"
PLATFORM_PROJECT = "floe-platform"
# Public knowledge on purpose: it only ever opens stand-in credentials of offline runs.
_OFFLINE_PRIVATE = PrivateKey(hashlib.sha256(b"floe-infra offline preview").digest())
OFFLINE_TENANT_PUBLIC_KEY = base64.b64encode(bytes(_OFFLINE_PRIVATE.public_key)).decode()
OFFLINE_TENANT_PRIVATE_KEY = base64.b64encode(bytes(_OFFLINE_PRIVATE)).decode()


class PreviewError(FloeError):
    """Raised when a project or its stack file cannot be previewed (missing, malformed)."""


@dataclass(frozen=True)
class StackPreview:
    """One stack, previewed offline."""

    project: str
    stack: str
    kind: str
    run: ProgramRun
    guardrails: list[Violation]
    tables: list[TablePlan]

    @property
    def label(self) -> str:
        """`project/stack`."""
        return f"{self.project}/{self.stack}"

    @property
    def blocked(self) -> bool:
        """Whether a mandatory guardrail is violated."""
        return any(v.enforcement is Enforcement.MANDATORY for v in self.guardrails)


# libyaml's safe loader where PyYAML has it: the same data, several times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except FileNotFoundError:
        raise PreviewError(f"{path} does not exist") from None
    except yaml.YAMLError as exc:
        raise PreviewError(f"{path} is not valid YAML: {exc}") from None


def project_name(project_dir: Path) -> str:
    """The `name` of a Pulumi project."""
    data = _read_yaml(project_dir / "Pulumi.yaml")
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise PreviewError(f"{project_dir / 'Pulumi.yaml'} has no project name")
    return data["name"]


def _stand_in(key: str, value: Any) -> tuple[Any, bool]:
    """A config value with every encrypted part replaced; and whether there was one."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return fake_secret(key), True
        parts = {k: _stand_in(f"{key}.{k}", v) for k, v in value.items()}
        return {k: v for k, (v, _) in parts.items()}, any(s for _, s in parts.values())
    if isinstance(value, list):
        items = [_stand_in(f"{key}[{i}]", v) for i, v in enumerate(value)]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def project_stacks(project_dir: Path) -> list[str]:
    """The stacks a project has a `Pulumi.<stack>.yaml` for."""
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in project_dir.glob("Pulumi.*.yaml"))


def stack_config(project_dir: Path, stack: str) -> tuple[dict[str, str], list[str]]:
    """A stack file's config as the engine hands it to the program (`ns:key` -> string), with secret
    keys; encrypted values are replaced by deterministic stand-ins (the preview cannot decrypt them).

    Raises:
        PreviewError: When the project has no such stack file (`pulumi preview` would not find the stack).
    """
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        stacks = project_stacks(project_dir)
        known = f"{project_dir} has no stack '{stack}' (stacks: {', '.join(stacks) or 'none'})"
        if close := difflib.get_close_matches(stack, stacks, n=1):
            raise PreviewError(f"{path} does not exist: {known}; did you mean `{close[0]}`?")
        raise PreviewError(f"{path} does not exist: {known}; a new environment gets its stack files with "
                           f"`floe-infra new-environment {stack}` (docs/ci.md), a single project with "
                           f"`pulumi stack init {stack}` in that directory")
    raw = (_read_yaml(path) or {}).get("config") or {}
    if not isinstance(raw, dict):
        raise PreviewError(f"{path}: `config` must be a mapping")
    project = project_name(project_dir)
    config, secrets = {}, []
    for key, value in raw.items():
        full = key if ":" in key else f"{project}:{key}"
        plain, secret = _stand_in(full, value)
        config[full] = plain if isinstance(plain, str) else json.dumps(plain)
        if secret:
            secrets.append(full)
    return config, secrets


def _program(project_dir: Path) -> Any:
    main = project_dir / "__main__.py"
    if not main.is_file():
        raise PreviewError(f"{project_dir} has no __main__.py")
    return lambda: runpy.run_path(str(main), run_name="__main__")


def guarded_stack(run: ProgramRun) -> tuple[list[GuardedResource], StackFacts]:
    """A run's resources and facts as the guardrails see them (secrets as `SECRET`)."""
    resources = [GuardedResource(r.urn, r.type, r.name, replace_secrets(r.inputs, SECRET), r.protect)
                 for r in run.resources]
    outputs = {k: replace_secrets(v, SECRET) for k, v in run.outputs.items() if k not in run.secret_outputs}
    return resources, infer_facts(resources, outputs)


def _check(run: ProgramRun, overrides: Mapping[str, Enforcement]) -> list[Violation]:
    violations = evaluate(*guarded_stack(run), overrides)
    return sorted(violations, key=lambda v: (v.rule, v.urn, v.message))


def _tables(run: ProgramRun) -> list[TablePlan]:
    # With no previous state, each table's plan is its creation (what `pulumi preview` shows for a new stack).
    return sorted((declared_plan(None, r.inputs) for r in run.of_type(TABLE_TYPE)), key=lambda plan: plan.name)


def preview_platform(project_dir: Path, stack: str, overrides: Mapping[str, Enforcement]) -> StackPreview:
    """The platform project's stack, offline."""
    config, secrets = stack_config(project_dir, stack)
    project = project_name(project_dir)
    run = run_program(_program(project_dir), project=project, stack=stack, root_directory=project_dir,
                      config=config, secret_keys=secrets, tenant_public_key=OFFLINE_TENANT_PUBLIC_KEY)
    return StackPreview(project, stack, "platform", run, _check(run, overrides), _tables(run))


def _stand_in_credentials(contract: Mapping[str, Any]) -> dict[str, Any]:
    """The contract with each tenant's published credentials re-sealed to the offline key.

    A contract from a deployed platform carries ciphertext only the tenant's own key opens; the
    preview holds no such key. Tenants without published credentials keep none, so a pipeline
    that needs them fails here as it would in `pulumi preview`.
    """
    out = copy.deepcopy(dict(contract))
    for name, tenant in (out.get("tenants") or {}).items():
        if isinstance(tenant, dict) and tenant.get("sealed_credentials"):
            credentials = {"client_id": f"{name}-client-id", "client_secret": fake_secret(f"offline-{name}")}
            tenant["sealed_credentials"] = deterministic_seal(OFFLINE_TENANT_PUBLIC_KEY, credentials, name)
    return out


def preview_pipeline(pipeline_file: Path, stack: str, contract: Mapping[str, Any],
                     overrides: Mapping[str, Enforcement], assumed_secrets: Collection[str] = ()) -> StackPreview:
    """The stack of the pipeline project holding `pipeline_file`, offline, on `contract` (whose published
    credentials are sealed to the offline key: see `offline_preview`).

    `floe:tenantKey` is replaced by the offline key only where the stack sets it as a secret (or
    `assumed_secrets` names it: CI sets it before previewing); unset or in plain text, the
    program stops as it would in `pulumi preview`.
    """
    project_dir = pipeline_file.resolve().parent
    config, secrets = stack_config(project_dir, stack)
    if TENANT_KEY in secrets or TENANT_KEY in assumed_secrets:
        config[TENANT_KEY] = OFFLINE_TENANT_PRIVATE_KEY
        secrets = sorted({*secrets, TENANT_KEY})
    for key in set(assumed_secrets) - {TENANT_KEY} - set(config):
        config[key], secrets = fake_secret(key), sorted({*secrets, key})
    if pipeline_file.name != "floe.yaml":
        config.setdefault("floe:pipelineFile", pipeline_file.name)
    reference = config.get("floe:platformStack") or f"{ORGANIZATION}/{PLATFORM_PROJECT}/{stack}"
    project = project_name(project_dir)
    try:
        run = run_program(_program(project_dir), project=project, stack=stack, root_directory=project_dir,
                          config=config, secret_keys=secrets,
                          stack_references={reference: ({CONTRACT_OUTPUT: dict(contract)}, [])})
    except pulumi.RunError as exc:
        if isinstance(exc.__context__, TenantKeyError) and TENANT_KEY not in config:
            raise PreviewError(
                f"{project_dir / f'Pulumi.{stack}.yaml'} sets no {TENANT_KEY}, and a pipeline stack is its tenant "
                "only with the tenant's private key. Previewing what CI deploys (its deploy job sets the key from "
                f"the pipeline's GitHub environment, docs/ci.md): add `--assume-secret {TENANT_KEY}`. Deploying "
                f"from this stack file: `pulumi config set --secret {TENANT_KEY} \"$(cat tenant.key)\"` in "
                f"{project_dir}") from None
        raise
    return StackPreview(project, stack, "pipeline", run, _check(run, overrides), _tables(run))


def offline_preview(platform_dir: Path | None, stack: str, pipeline_files: Sequence[Path],
                    overrides: Mapping[str, Enforcement], *, contract: Mapping[str, Any] | None = None,
                    assumed_secrets: Collection[str] = (),
                    progress: Callable[[int, int, str], None] | None = None) -> list[StackPreview]:
    """The platform stack, then each pipeline (the project around each floe.yaml) on its contract.

    Args:
        platform_dir: The platform project; None with `contract`.
        stack: The stack name of every project.
        pipeline_files: floe.yaml files whose projects to preview.
        overrides: Guardrail enforcement overrides.
        contract: A platform contract (`pulumi stack output contract --json`) to preview the pipelines on
            instead of running the platform project.
        assumed_secrets: Secret config keys the stack files lack but CI sets before previewing.
        progress: Called after each stack with (stacks done, stacks in all, what was previewed).

    Raises:
        PreviewError: When a project is incomplete.
        pulumi.RunError: When a program stops with an error (its message is the user's).
    """
    previews: list[StackPreview] = []
    total = len(pipeline_files) + (contract is None)

    def done(preview: StackPreview) -> None:
        previews.append(preview)
        if progress is not None:
            progress(len(previews), total, f"{preview.label}: {len(preview.run.resources)} resources")

    if contract is None:
        if platform_dir is None:
            raise PreviewError("give the platform project or a contract to preview the pipelines on")
        if (platform_dir / "floe.yaml").is_file():
            raise PreviewError(f"{platform_dir} is a pipeline project (floe.yaml beside Pulumi.yaml), not the "
                               "platform project: preview the pipeline on the platform's contract with `--contract "
                               "contract.json` (`pulumi stack output contract --json` of the deployed platform "
                               "stack, or `floe-infra contract export --platform platform.yaml`), or name the "
                               "platform project with `--project-dir`")
        platform = preview_platform(platform_dir, stack, overrides)
        contract = platform.run.outputs.get(CONTRACT_OUTPUT)
        if not isinstance(contract, dict):
            raise PreviewError(f"the platform project in {platform_dir} exports no `{CONTRACT_OUTPUT}`")
        done(platform)
    contract = _stand_in_credentials(contract)
    for file in pipeline_files:
        done(preview_pipeline(file, stack, contract, overrides, assumed_secrets))
    return previews


def without_nulls(value: Any) -> Any:
    """`value` without null map entries, as stack outputs arrive through the engine."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def export_contract(platform_file: Path) -> dict[str, Any]:
    """The `contract` output of a platform stack on `platform_file`, as the stack exports it.

    The platform program itself runs (under the mock runtime), so this is what `pulumi stack output
    contract --json` shows, with one difference only a deployment can remove: the published
    credentials of tenants with a public key are stand-ins sealed to the offline preview's key.

    Raises:
        ConfigError: When platform.yaml is invalid.
    """
    from floe_infra.config.loader import load_platform
    from floe_infra.platform.program import run_platform

    platform_file = platform_file.resolve()
    load_platform(platform_file)  # located problems, before any program runs
    run = run_program(run_platform, project=PLATFORM_PROJECT, stack="export", root_directory=platform_file.parent,
                      config={"floe:platformFile": platform_file.name}, tenant_public_key=OFFLINE_TENANT_PUBLIC_KEY)
    return without_nulls(run.outputs[CONTRACT_OUTPUT])
