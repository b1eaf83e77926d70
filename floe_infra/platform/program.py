"""The platform Pulumi program: stack config -> platform.yaml -> `FloePlatform` -> `contract` output.

Stack config (namespace `floe`):
- `platformFile` (required): the stack's platform.yaml, relative to the project directory.
- `kubeconfig` (optional, may be secret): kubeconfig path or content; default: the usual kubeconfig.
- `kubeContext` (optional): the kubeconfig context to use.
- `chartSources` (optional): per chart, `{"repository": URL}` or `{"path": DIR}` to install from instead of
  the public repository, laid over platform.yaml's `deployment.chart_sources` (air-gapped clusters).
- `secret-<name>` (optional, secret objects): values of Secrets platform.yaml references but does not
  generate, e.g. `pulumi config set --secret --path 'floe:secret-aws-credentials.AWS_SECRET_ACCESS_KEY' ...`.
"""

from __future__ import annotations

import pulumi

from floe_infra.config.deployment import parse_chart_sources
from floe_infra.config.loader import load_platform
from floe_infra.config.platform import PlatformConfig
from floe_infra.contract import CONTRACT_OUTPUT
from floe_infra.errors import ConfigError, FloeError
from floe_infra.kube.cluster import ClusterAccess
from floe_infra.platform.secrets import referenced_secrets
from floe_infra.platform.stack import FloePlatform, PlatformArgs
from floe_infra.process import skip_final_collection
from floe_infra.project import project_path


def with_stack_chart_sources(platform: PlatformConfig, config: pulumi.Config) -> PlatformConfig:
    """platform.yaml with the stack's `floe:chartSources` laid over `deployment.chart_sources`."""
    try:
        overrides = parse_chart_sources(config.get_object("chartSources") or {}, "floe:chartSources")
    except ValueError as exc:
        raise pulumi.RunError(str(exc)) from None
    if not overrides:
        return platform
    deployment = platform.deployment.model_copy(
        update={"chart_sources": {**platform.deployment.chart_sources, **overrides}})
    return platform.model_copy(update={"deployment": deployment})


def run_platform() -> FloePlatform:
    """Build the platform of the current stack and export its contract."""
    skip_final_collection()  # the program process ends with the operation (floe_infra/process.py)
    config = pulumi.Config("floe")
    try:
        loaded = load_platform(project_path(config.require("platformFile")))
    except ConfigError as exc:
        # A RunError is reported as the program's error message, without a Python traceback.
        raise pulumi.RunError(f"platform.yaml is invalid:\n{exc}") from None
    for warning in loaded.warnings:
        pulumi.log.warn(str(warning))
    platform = with_stack_chart_sources(loaded.config, config)
    provided = {}
    for name, _ in referenced_secrets(platform):
        value = config.get_secret_object(f"secret-{name}")
        if value is not None:
            provided[name] = value
    access = ClusterAccess(kubeconfig=config.get_secret("kubeconfig"), context=config.get("kubeContext"))
    try:
        stack = FloePlatform("floe", PlatformArgs(platform=platform, access=access, provided_secrets=provided))
    except FloeError as exc:
        raise pulumi.RunError(str(exc)) from None
    pulumi.export(CONTRACT_OUTPUT, stack.contract_output())
    return stack
