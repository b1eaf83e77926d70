"""The platform contract: the one interface between the platform stack and pipeline stacks.

The platform stack exports it as a single stack output named `contract`; each pipeline stack
reads it through a StackReference and validates it with this same model. It carries names,
endpoints and Secret *names*, never a secret value. Its version follows semantic versioning:
a pipeline refuses a contract whose major version differs from the one it was built for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from floe_infra.errors import ContractError

CONTRACT_VERSION = "1.2.0"
# 1.1: per-tenant identities (Kubernetes ServiceAccount, storage credentials, object names); pipelines
# need them, so they refuse a 1.0 contract rather than fall back to the platform's shared identities.
# 1.2: each tenant's storage key rotation, so its pods roll when the platform rotates its keys.
MINIMUM_MINOR = 1
CONTRACT_OUTPUT = "contract"


class _ContractModel(BaseModel):
    # Tolerant of fields added by newer minor versions; frozen like the config models. Every
    # optional field defaults to None: stack outputs drop null map entries on the way.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ResourceRequirements(_ContractModel):
    """Requests, limits and environment of a workload class."""

    requests: dict[str, str] = Field(description="cpu/memory requests.")
    limits: dict[str, str] = Field(description="cpu/memory limits.")
    env: dict[str, str] = Field(default_factory=dict, description="Environment of workloads of this class.")


class StorageEndpoint(_ContractModel):
    """How to reach one storage profile's bucket."""

    bucket: str = Field(description="Bucket name.")
    region: str = Field(description="Bucket region.")
    endpoint: str = Field(description="S3 endpoint; empty for AWS S3.")
    path_style: bool = Field(description="Path-style S3 requests.")
    credentials_secret: str | None = Field(
        default=None, description="Secret with the platform services' own S3 keys (never a pipeline's: see "
                                  "TenantContract.storage_credentials_secret), or None (IAM role).")
    role_arn: str | None = Field(default=None, description="IAM role for IRSA, if any.")


class LayerEndpoint(_ContractModel):
    """Where a layer's tables live."""

    catalog: str = Field(description="Catalog profile name.")
    warehouse: str = Field(description="Polaris catalog (warehouse) name.")
    namespace: list[str] = Field(description="Iceberg namespace levels inside the warehouse.")
    storage: str = Field(description="Storage profile name.")
    location: str = Field(description="Base location of the layer, s3://bucket/prefix.")


class CatalogEndpoint(_ContractModel):
    """An Iceberg REST catalog as in-cluster clients reach it."""

    type: str = Field(description="Catalog type.")
    uri: str = Field(description="REST endpoint (in-cluster when deployed).")
    deploy_uri: str = Field(description="REST endpoint as the machine running `pulumi up` reaches it.")
    warehouse: str = Field(description="Warehouse name.")
    access_delegation: str = Field(description="Credential vending mode.")


class CodeLocation(_ContractModel):
    """The Dagster code location a tenant deploys."""

    name: str = Field(description="Deployment, Service and location name.")
    port: int = Field(description="gRPC port.")


class TenantContract(_ContractModel):
    """What a pipeline needs to know about itself on the platform."""

    service_account: str = Field(description="Polaris principal.")
    principal_role: str = Field(description="Polaris principal role.")
    namespaces: dict[str, list[str]] = Field(description="Layer -> its own namespace levels (written).")
    locations: dict[str, str] = Field(
        description="Layer -> its own storage location (s3://bucket/prefix/) in each layer it writes; its tables' "
                    "location properties must stay inside it.")
    reads: list[str] = Field(description="Layers it reads.")
    writes: list[str] = Field(description="Layers it writes.")
    kubernetes_service_account: str = Field(
        description="ServiceAccount its code location and run pods run as (RBAC: get on its own ConfigMaps).")
    credentials_secret: str = Field(
        description="Secret its pipeline stack writes with its catalog client id and secret (opened from "
                    "sealed_credentials).")
    storage_credentials_secret: str | None = Field(
        default=None, description="Secret with its own S3 keys (the platform's MinIO), or None (IAM role or none).")
    storage_credentials_rotation: int = Field(
        default=0, description="How many times the platform rotated the keys in storage_credentials_secret "
                               "(deployment.rotate); its pods roll when it changes. 0 in a 1.1 contract.")
    role_arn: str | None = Field(default=None, description="Its own IAM role (IRSA) on AWS S3, if any.")
    runtime_configmap: str = Field(description="ConfigMap its pipeline stack writes with its runtime files.")
    env_configmap: str = Field(description="ConfigMap its pipeline stack writes with its pods' environment.")
    code_location: CodeLocation = Field(description="Its Dagster code location.")
    cube_models_configmap: str = Field(description="ConfigMap the platform's Cube mounts for its models.")
    sealed_credentials: str | None = Field(
        default=None, description="Its catalog credentials sealed to its public key (ciphertext), if published.")


class DagsterContract(_ContractModel):
    """What a pipeline's code location release needs from the platform's Dagster."""

    release: str = Field(description="Main Dagster release name.")
    chart_version: str = Field(description="Dagster chart version; user deployments must match.")
    postgresql_secret: str = Field(description="Secret with key postgresql-password.")
    service_account: str = Field(description="Service account of Dagster pods.")
    run_env_configmap: str = Field(description="ConfigMap of environment shared with run pods.")


class Endpoints(_ContractModel):
    """In-cluster endpoints (empty string when a service is neither deployed nor referenced)."""

    s3: str = Field(description="S3 endpoint (empty for AWS).")
    catalog: str = Field(description="Iceberg REST catalog URI.")
    otlp_grpc: str = Field(description="OTLP gRPC endpoint.")
    otlp_http: str = Field(description="OTLP HTTP endpoint.")
    openlineage: str = Field(description="OpenLineage endpoint (…/api/v1/lineage).")
    dagster_ui: str = Field(description="Dagster webserver.")
    cube_api: str = Field(description="Cube API.")


class PlatformContract(_ContractModel):
    """Everything a pipeline stack needs from the platform stack."""

    contract_version: str = Field(description="Semantic version of this contract.")
    platform: str = Field(description="Platform name (deployment.name).")
    environment: str = Field(description="local, dev, staging or prod.")
    namespace: str = Field(description="Kubernetes namespace of the platform.")
    timezone: str = Field(description="TZ of platform pods.")
    endpoints: Endpoints
    storage: dict[str, StorageEndpoint] = Field(description="Storage profiles.")
    catalogs: dict[str, CatalogEndpoint] = Field(description="Catalog profiles.")
    compute: dict[str, dict[str, Any]] = Field(description="Compute profiles: type and properties.")
    layers: dict[str, LayerEndpoint] = Field(description="Layers.")
    tenants: dict[str, TenantContract] = Field(description="Hosted pipelines.")
    dagster: DagsterContract | None = Field(default=None, description="Dagster, when deployed.")
    transform_resources: ResourceRequirements = Field(description="Resources of run pods and code locations.")
    chart_versions: dict[str, str] = Field(description="Chart versions the platform deployed, by chart.")
    observability: dict[str, Any] = Field(description="traces/metrics/lineage switches and attributes.")


def _integral_numbers(value: Any) -> Any:
    """`2.0` back to `2`, recursively.

    Stack outputs travel as protobuf Values, whose numbers are doubles: a StackReference hands
    `threads: 2` over as `2.0`, which dbt and Helm templates would not take for an integer.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_numbers(item) for item in value]
    return value


def parse_contract(raw: Any, expected_major: int = int(CONTRACT_VERSION.split(".")[0])) -> PlatformContract:
    """Validate a contract read from a stack output.

    Raises:
        ContractError: When it is missing, malformed, or of another major version.
    """
    if not isinstance(raw, dict):
        raise ContractError("the platform stack exports no `contract` output; is it a floe-infra platform "
                            "stack, and has `pulumi up` run on it?")
    version = str(raw.get("contract_version", ""))
    major = version.split(".", 1)[0]
    if not major.isdigit():
        raise ContractError(f"the platform contract has no valid contract_version (got {version!r})")
    minor = version.split(".")[1] if version.count(".") >= 1 else ""
    if int(major) == expected_major and minor.isdigit() and int(minor) < MINIMUM_MINOR:
        raise ContractError(
            f"the platform stack exports contract version {version}, which predates per-tenant identities "
            f"({expected_major}.{MINIMUM_MINOR}); run `pulumi up` on the platform stack with this floe-infra first")
    if int(major) != expected_major:
        raise ContractError(
            f"the platform stack exports contract version {version}, but this floe-infra reads contract "
            f"version {expected_major}.x ({CONTRACT_VERSION}); upgrade floe-infra in the "
            f"{'pipeline' if int(major) > expected_major else 'platform'} project so both speak the same major version")
    try:
        return PlatformContract.model_validate(_integral_numbers(raw))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ContractError(f"the platform contract is malformed at {where}: {first['msg']}") from None


def read_contract_json(path: Path) -> dict[str, Any]:
    """A contract file as JSON (`pulumi stack output contract --json > contract.json`), checked to parse.

    Raises:
        ContractError: When the file is missing, not JSON, or not a valid contract.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"{path} does not exist; get the contract with `pulumi stack output contract --json "
                            f"--stack <org>/floe-platform/<stack> > {path.name}`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg}); write it with "
                            "`pulumi stack output contract --json`") from None
    try:
        parse_contract(raw)
    except ContractError as exc:
        raise ContractError(f"{path}: {exc}") from None
    return raw


def load_contract_file(path: Path) -> PlatformContract:
    """A contract file, validated (see `read_contract_json`).

    Raises:
        ContractError: When the file is missing, not JSON, or not a valid contract.
    """
    return parse_contract(read_contract_json(path))
