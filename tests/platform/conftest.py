"""Run the real platform program under Pulumi's mock runtime, once per stack, for many assertions."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from floe_infra.platform.program import run_platform
from floe_infra.preview.runtime import ProgramRun, RegisteredResource, run_program
from tests.conftest import REPO

DEMO_STACKS = {
    "local": "demo/platform/platform.yaml",
    "dev": "demo/platform/platform.dev.yaml",
    "prod": "demo/platform/platform.prod.yaml",
}
RELEASE = "kubernetes:helm.sh/v3:Release"
# `deployment.services` of a test platform outside local: Polaris' management API must have an address there.
CATALOG_REACHABLE = "{catalog: {management_url: 'https://polaris.example.com'}}"
SECRET = "kubernetes:core/v1:Secret"


def run_platform_stack(stack: str, platform_file: str, config: dict[str, str] | None = None,
                       secret_keys: tuple[str, ...] = ()) -> ProgramRun:
    """Run the platform program as `stack` with `platform_file`."""
    return run_program(run_platform, project="floe-platform", stack=stack, root_directory=REPO,
                       config={"floe:platformFile": platform_file, **(config or {})},
                       secret_keys=list(secret_keys))


@functools.cache
def demo_run(stack: str) -> ProgramRun:
    """The demo platform of one environment (cached: the program is deterministic)."""
    return run_platform_stack(stack, DEMO_STACKS[stack])


def with_management_url(platform_file: Path) -> str:
    """A floe-runtime platform file as floe-infra deploys it outside local: with Polaris' management URL.

    floe-runtime's files carry no `deployment` section; outside local the platform program refuses to run
    without an address for Polaris' management API (it would otherwise declare no catalog governance).
    """
    return f"{platform_file.read_text()}\ndeployment:\n  services: {CATALOG_REACHABLE}\n"


def release(run: ProgramRun, name: str) -> RegisteredResource:
    """A Helm release by its logical resource name."""
    resource = run.named(name)
    assert resource.type == RELEASE
    return resource


def values(run: ProgramRun, name: str) -> dict[str, Any]:
    """The Helm values of a release."""
    return release(run, name).inputs["values"]


def as_json(value: Any) -> str:
    """Stable JSON of registered inputs (secret wrappers included) for equality checks."""
    return json.dumps(value, sort_keys=True, default=str)

