"""Run the real pipeline program under Pulumi's mock runtime, on a contract the platform program exported."""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from floe_infra.pipeline.program import run_pipeline
from floe_infra.platform.program import run_platform
from floe_infra.polaris.sealing import generate_keypair
from floe_infra.preview.runtime import ProgramRun, run_program
from tests.conftest import DEMO, REPO
from tests.platform.conftest import DEMO_STACKS

PIPELINE_DIR = DEMO / "data_engineering"
IMAGE = "ghcr.io/floe-demo/ecommerce-analytics:1.0.0"


@functools.cache
def tenant_keys() -> tuple[str, str]:
    """(public, private): the demo tenant's key pair for this test session."""
    return generate_keypair()


@functools.cache
def _platform(stack: str) -> ProgramRun:
    return run_program(run_platform, project="floe-platform", stack=stack, root_directory=REPO,
                       config={"floe:platformFile": DEMO_STACKS[stack]}, tenant_public_key=tenant_keys()[0])


def platform_run(stack: str = "local") -> ProgramRun:
    """The demo platform program of one environment, tenants' credentials sealed to `tenant_keys()`."""
    return _platform(stack)


def platform_contract(stack: str = "local") -> dict[str, Any]:
    """A fresh copy of the contract the demo platform exports (safe to modify)."""
    return copy.deepcopy(platform_run(stack).outputs["contract"])


def run_pipeline_stack(
    contract: Mapping[str, Any] | None = None,
    *,
    stack: str = "local",
    config: Mapping[str, str] | None = None,
    secret_keys: tuple[str, ...] = ("floe:tenantKey",),
    secret_output_names: tuple[str, ...] = (),
    project_dir: Path = PIPELINE_DIR,
    platform_stack: str | None = None,
    other_outputs: Mapping[str, Any] | None = None,
    chart_downloads: bool = False,
) -> ProgramRun:
    """Run the pipeline program of `project_dir` as `stack`, its StackReference answered with `contract` (and
    `other_outputs` beside it)."""
    contract = platform_contract(stack) if contract is None else contract
    settings = {"floe:image": IMAGE, "floe:tenantKey": tenant_keys()[1], **(config or {})}
    reference = platform_stack or f"organization/floe-platform/{stack}"
    return run_program(run_pipeline, project="ecommerce-analytics", stack=stack, root_directory=project_dir,
                       config={k: v for k, v in settings.items() if v is not None},
                       secret_keys=[k for k in secret_keys if settings.get(k) is not None],
                       stack_references={reference: ({"contract": dict(contract), **(other_outputs or {})},
                                                     list(secret_output_names))},
                       chart_downloads=chart_downloads)


@functools.cache
def demo_pipeline(stack: str = "local") -> ProgramRun:
    """The demo pipeline on the demo platform of one environment (cached: deterministic)."""
    return run_pipeline_stack(stack=stack)
