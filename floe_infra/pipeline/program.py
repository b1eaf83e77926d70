"""The pipeline Pulumi program: floe.yaml + the platform stack's contract -> `FloePipeline`.

Stack config (namespace `floe`):
- `pipelineFile` (default `floe.yaml`): the pipeline's floe.yaml, relative to the project directory.
- `platformStack` (default `<organization>/floe-platform/<this stack's name>`): the platform stack.
- `image`: the pipeline's image, `registry/repository:tag` or `...@sha256:...`; required with
  `orchestration` in floe.yaml.
- `dagsterModule` (default `orchestration.definitions`): module of the Dagster definitions in the image.
- `tenantKey` (secret, required): the private key from `floe-infra tenant keygen`. It is what makes the stack
  this tenant: it opens the tenant's catalog credentials, sealed in the contract to the tenant's public key.
- `kubeconfig` (optional, may be secret) and `kubeContext` (optional): how to reach the cluster.
- `chartSources` (optional): `{"dagster-user-deployments": {"repository": URL} | {"path": DIR}}`, where the
  code location's chart installs from instead of its public repository (air-gapped clusters).
"""

from __future__ import annotations

import pulumi

from floe_infra.config.deployment import ChartSource, parse_chart_sources
from floe_infra.config.loader import load_pipeline
from floe_infra.contract import CONTRACT_OUTPUT, PlatformContract, parse_contract, select_contract
from floe_infra.errors import ConfigError, ContractError, FloeError
from floe_infra.kube.cluster import ClusterAccess
from floe_infra.pipeline.binding import bind_pipeline
from floe_infra.pipeline.code_location import ImageRef
from floe_infra.pipeline.credentials import open_tenant_credentials
from floe_infra.pipeline.semantic import read_model_files
from floe_infra.pipeline.stack import FloePipeline, PipelineArgs
from floe_infra.process import skip_final_collection
from floe_infra.project import project_path

PLATFORM_PROJECT = "floe-platform"
# The engine's builtin function behind StackReference (pulumi/pkg resource/deploy/builtins.go).
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"
DEFAULT_PIPELINE_FILE = "floe.yaml"
DEFAULT_DAGSTER_MODULE = "orchestration.definitions"


def platform_stack_name(config: pulumi.Config) -> str:
    """The platform stack to reference: `floe:platformStack`, or the same stack name in `floe-platform`.

    On self-managed backends (file://, s3://) the organization is always `organization`, which is
    what `pulumi.get_organization()` returns there, so the default works on both kinds of backend.
    """
    return config.get("platformStack") or f"{pulumi.get_organization()}/{PLATFORM_PROJECT}/{pulumi.get_stack()}"


def read_contract(stack_name: str) -> PlatformContract:
    """The platform's contract, read and validated before any resource is declared.

    The contract decides which resources exist, so it is read synchronously (as config and invoke
    results are), not inside an `apply` where resources would hide from previews: through the
    engine's builtin `readStackOutputs` function, the same read a StackReference makes. During the
    platform's upgrade window, the contract of this reader's major version beside `contract`.

    Raises:
        ContractError: When the output is missing, malformed, of another major version, or needs a newer reader.
    """
    result = pulumi.runtime.invoke(READ_STACK_OUTPUTS, {"name": stack_name})
    raw, note = select_contract((result.value or {}).get("outputs") or {})
    if raw is None:
        raise ContractError(f"the platform stack {stack_name} exports no `{CONTRACT_OUTPUT}` output: deploy it first "
                            "(`pulumi up` in the platform project), or point floe:platformStack at the deployed one; "
                            "before it is deployed, `floe-infra preview --contract contract.json` previews the "
                            "pipeline offline on a contract file")
    contract = parse_contract(raw)
    if note:
        pulumi.log.warn(note)
    return contract


def stack_chart_sources(config: pulumi.Config) -> dict[str, ChartSource]:
    """`floe:chartSources`, validated.

    Raises:
        FloeError: When it is not an object of chart names to a repository URL or a chart directory.
    """
    try:
        return parse_chart_sources(config.get_object("chartSources") or {}, "floe:chartSources")
    except ValueError as exc:
        raise FloeError(str(exc)) from None


def _build(config: pulumi.Config) -> FloePipeline:
    loaded = load_pipeline(project_path(config.get("pipelineFile", DEFAULT_PIPELINE_FILE)))
    platform_stack = platform_stack_name(config)
    # Registered so that state (and Pulumi Cloud) shows which platform stack this one builds on.
    pulumi.StackReference(platform_stack)
    binding = bind_pipeline(loaded, read_contract(platform_stack))
    image_text = config.get("image")
    if binding.deploys_code_location and image_text is None:
        raise FloeError("floe:image is not set: `pulumi config set floe:image registry/repository:tag` "
                        "(the image with this pipeline's Dagster definitions and dbt project)")
    args = PipelineArgs(
        binding=binding,
        access=ClusterAccess(kubeconfig=config.get_secret("kubeconfig"), context=config.get("kubeContext")),
        image=ImageRef.parse(image_text) if binding.deploys_code_location and image_text else None,
        module=config.get("dagsterModule", DEFAULT_DAGSTER_MODULE),
        credentials=open_tenant_credentials(binding, config),
        model_files=read_model_files(loaded) if binding.pipeline.consumption.enabled else {},
        chart_sources=stack_chart_sources(config),
    )
    return FloePipeline(binding.name, args)


def run_pipeline() -> FloePipeline:
    """Build the current stack's pipeline on its platform and export what the data team looks up."""
    skip_final_collection()  # the program process ends with the operation (floe_infra/process.py)
    config = pulumi.Config("floe")
    try:
        pipeline = _build(config)
    except ConfigError as exc:
        # A RunError is reported as the program's error message, without a Python traceback.
        raise pulumi.RunError(f"floe.yaml has problems:\n{exc}") from None
    except FloeError as exc:
        raise pulumi.RunError(str(exc)) from None
    binding = pipeline.binding
    pulumi.export("pipeline", binding.name)
    pulumi.export("platform", binding.contract.platform)
    pulumi.export("namespace", binding.contract.namespace)
    pulumi.export("code_location", binding.tenant.code_location.name if pipeline.code_location else None)
    pulumi.export("tables", sorted(pipeline.tables.tables) if pipeline.tables else [])
    pulumi.export("dagster_ui", binding.contract.endpoints.dagster_ui)
    return pipeline
