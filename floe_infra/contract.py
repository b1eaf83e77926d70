"""The platform contract: the one interface between the platform stack and pipeline stacks.

The platform stack exports it as a stack output named `contract`; each pipeline stack reads it
through a StackReference and validates it with this same model. It carries names, endpoints and
Secret *names*, never a secret value. Its version follows semantic versioning, and this code is a
*reader* of one major and minor version (`READER_VERSION`):
- a contract of another major is refused, unless the platform also publishes one of the reader's
  major beside it (`contract_v<major>`, during the platform's upgrade window: `select_contract`);
- a contract says which readers it needs (`min_reader_version`, from what the platform uses): a
  reader older than that is refused, naming both versions and the upgrade, since it would ignore
  fields the platform relies on (a newer contract's fields this reader does not know are listed);
  any other reader ignores the fields it does not know.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from floe_infra.errors import ContractError

CONTRACT_VERSION = "1.3.0"
# 1.1: per-tenant identities (Kubernetes ServiceAccount, storage credentials, object names); pipelines
# need them, so they refuse a 1.0 contract rather than fall back to the platform's shared identities.
# 1.2: each tenant's storage key rotation, so its pods roll when the platform rotates its keys.
# 1.3: min_reader_version, which readers from 1.3 on enforce (older ones cannot: they ignore it).
MINIMUM_MINOR = 1
# The contract version this code reads (a constant of the code: a pipeline on this floe-infra is a 1.3 reader).
READER_VERSION = ".".join(CONTRACT_VERSION.split(".")[:2])
READER_MAJOR = int(CONTRACT_VERSION.split(".")[0])
# What a contract needs of its readers, by the version that introduced it (see `min_reader_version`).
ROTATION_READER = "1.2"
BASE_READER = f"{READER_MAJOR}.{MINIMUM_MINOR}"
CONTRACT_OUTPUT = "contract"


def contract_output_name(major: int) -> str:
    """The stack output holding the contract of one major version beside `contract` (an upgrade window)."""
    return f"{CONTRACT_OUTPUT}_v{major}"


class _ContractModel(BaseModel):
    # Tolerant of fields added by newer minor versions, for readers the contract does not exclude
    # (`min_reader_version`); frozen like the config models. Every optional field defaults to None:
    # stack outputs drop null map entries on the way.
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
    min_reader_version: str | None = Field(
        default=None, description="MAJOR.MINOR: the oldest contract version a pipeline must read to deploy on this "
                                  "contract, from what the platform uses (None in contracts before 1.3).")
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


def _version(text: str) -> tuple[int, int] | None:
    """`MAJOR.MINOR[.PATCH]` as (major, minor), or None."""
    parts = text.split(".")
    if len(parts) < 2 or not all(part.isdigit() for part in parts[:2]):
        return None
    return int(parts[0]), int(parts[1])


def _model_alternatives(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [alt for arg in typing.get_args(annotation) for alt in _model_alternatives(arg)]
    return [annotation]


def unknown_fields(model: type[BaseModel], raw: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the fields in `raw` that `model` does not know (what a newer contract added)."""
    if not isinstance(raw, dict):
        return []
    found: list[str] = []
    for key, value in raw.items():
        info = model.model_fields.get(key)
        if info is None:
            found.append(f"{prefix}{key}")
            continue
        for alt in _model_alternatives(info.annotation):
            if isinstance(alt, type) and issubclass(alt, BaseModel):
                found += unknown_fields(alt, value, f"{prefix}{key}.")
            elif typing.get_origin(alt) is dict and isinstance(value, dict):
                inner = typing.get_args(alt)[1]
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    for name, item in value.items():
                        found += unknown_fields(inner, item, f"{prefix}{key}.{name}.")
    return found


def select_contract(outputs: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The contract this reader deploys on, among a platform stack's outputs, and a note when it is the one the
    platform publishes for an upgrade window.

    `contract` normally; when its major version is newer than this reader's, `contract_v<reader major>` if the
    platform publishes it beside (the window), else `contract` (which `parse_contract` then refuses).
    """
    raw = outputs.get(CONTRACT_OUTPUT)
    version = _version(str(raw.get("contract_version", ""))) if isinstance(raw, dict) else None
    previous = outputs.get(contract_output_name(READER_MAJOR))
    if version is None or version[0] <= READER_MAJOR or not isinstance(previous, dict):
        return raw, None
    note = (f"the platform publishes contract {raw['contract_version']} and, for pipelines that read "
            f"{READER_MAJOR}.x, contract {previous.get('contract_version')} as `{contract_output_name(READER_MAJOR)}` "
            f"during its upgrade window: this pipeline deploys on the latter; upgrade floe-infra in the pipeline "
            f"project to a release that reads {version[0]}.x before the platform stops publishing it")
    return previous, note


def parse_contract(raw: Any) -> PlatformContract:
    """Validate a contract read from a stack output, as this reader (`READER_VERSION`).

    Raises:
        ContractError: When it is missing, malformed, of another major version, or needs a newer reader.
    """
    if not isinstance(raw, dict):
        raise ContractError("the platform stack exports no `contract` output; is it a floe-infra platform "
                            "stack, and has `pulumi up` run on it?")
    version = str(raw.get("contract_version", ""))
    parsed = _version(version)
    if parsed is None:
        raise ContractError(f"the platform contract has no valid contract_version (got {version!r})")
    major, minor = parsed
    if major == READER_MAJOR and minor < MINIMUM_MINOR:
        raise ContractError(
            f"the platform stack exports contract version {version}, which predates per-tenant identities "
            f"({BASE_READER}); run `pulumi up` on the platform stack with this floe-infra first")
    if major < READER_MAJOR:
        raise ContractError(
            f"the platform stack exports contract version {version}, but this floe-infra reads contract version "
            f"{READER_MAJOR}.x ({CONTRACT_VERSION}); upgrade floe-infra in the platform project so both speak the "
            "same major version")
    if major > READER_MAJOR:
        window = contract_output_name(READER_MAJOR)
        raise ContractError(
            f"the platform stack exports contract version {version}, but this floe-infra reads contract version "
            f"{READER_MAJOR}.x ({CONTRACT_VERSION}); upgrade floe-infra in the pipeline project to a release that "
            f"reads {major}.x. During the platform's upgrade window it also publishes `{window}` for pipelines on "
            f"{READER_MAJOR}.x, which a pipeline stack reads by itself (a contract file: `pulumi stack output {window} "
            "--json`); docs/operations.md, Upgrading the platform")
    _check_reader(raw, version)
    try:
        return PlatformContract.model_validate(_integral_numbers(raw))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ContractError(f"the platform contract is malformed at {where}: {first['msg']}") from None


def _check_reader(raw: dict[str, Any], version: str) -> None:
    """Refuse a contract that needs a newer reader than this one: it would ignore what the platform relies on."""
    needed = raw.get("min_reader_version")
    if needed is None:
        return  # before 1.3: every field of such a contract is known here
    parsed = _version(str(needed))
    if parsed is None or parsed[0] != READER_MAJOR:
        raise ContractError(f"the platform contract is malformed at min_reader_version: {needed!r} is not "
                            f"{READER_MAJOR}.MINOR")
    if parsed <= (READER_MAJOR, int(READER_VERSION.split(".")[1])):
        return  # what this reader does not know, it may ignore
    unknown = unknown_fields(PlatformContract, raw)
    shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
    raise ContractError(
        f"the platform contract (version {version}) needs pipelines that read contract {needed} or later, but this "
        f"floe-infra reads contract {READER_VERSION} ({CONTRACT_VERSION}), so it would ignore what the platform "
        f"relies on{f' ({shown})' if unknown else ''}; upgrade floe-infra in the pipeline project (its "
        f"requirements.txt) to a release that reads contract {needed}, then deploy again")


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
