"""Tenants with their defaults filled in: the identity, namespaces and storage reach of each hosted pipeline.

Everything a tenant may reach is derived here, once, from platform.yaml: its Polaris names, its
Kubernetes names, and the storage prefixes it reads and writes. The platform stack turns these into
grants (Polaris roles, MinIO policies, IAM roles, RBAC) and the contract; nothing else widens them.
A tenant that declares no `writes` or `reads` gets nothing of that kind (least privilege by default).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from floe_infra.config.credentials import CredentialMode
from floe_infra.config.platform import PlatformConfig

# Names Polaris creates itself: a tenant named like one would take over (or lock out) governance.
RESERVED_PRINCIPALS = frozenset({"root"})
RESERVED_PRINCIPAL_ROLES = frozenset({"service_admin"})
RESERVED_CATALOG_ROLES = frozenset({"catalog_admin"})

Access = Literal["read", "write", "put"]


def normalized(name: str) -> str:
    """How names are compared for collisions: case and '-'/'_' do not tell two names apart."""
    return name.lower().replace("-", "_")


@dataclass(frozen=True)
class StorageGrant:
    """One prefix of one bucket a tenant reaches.

    Attributes:
        bucket: Bucket name.
        prefix: Key prefix, ending in '/' (so `bronze/a/` never matches `bronze/ab/...`).
        access: `read` (list and get), `write` (list, get, put, delete) or `put` (put only: compute logs).
    """

    bucket: str
    prefix: str
    access: Access


@dataclass(frozen=True)
class Tenant:
    """A pipeline hosted by the platform, fully resolved.

    Attributes:
        name: Pipeline name (floe.yaml `name`), also the Kubernetes-facing name.
        service_account: Polaris principal name.
        principal_role: Polaris principal role name.
        namespace: The tenant's namespace level inside each layer it writes.
        writes: Layers whose tenant namespace it owns (read and write).
        reads: Layers it reads in full.
        code_server_port: gRPC port of its Dagster code server.
        credential_rotation: Rotation counter of its catalog credentials.
        public_key: Key its credentials are sealed to, if any.
    """

    name: str
    service_account: str
    principal_role: str
    namespace: str
    writes: tuple[str, ...]
    reads: tuple[str, ...]
    code_server_port: int
    credential_rotation: int
    public_key: str | None

    @property
    def code_location(self) -> str:
        """Dagster code location (and code-server Service) name; unique in the namespace."""
        return f"code-{self.name}"

    @property
    def credentials_secret(self) -> str:
        """Kubernetes Secret holding the tenant's catalog client id and secret (written by its pipeline stack)."""
        return f"{self.name}-catalog-credentials"

    @property
    def storage_secret(self) -> str:
        """Kubernetes Secret holding the tenant's own S3 keys (on the platform's MinIO)."""
        return f"{self.name}-s3-credentials"

    @property
    def kubernetes_service_account(self) -> str:
        """Kubernetes ServiceAccount its code location and run pods run as."""
        return f"{self.name}-pipeline"

    @property
    def runtime_configmap(self) -> str:
        """ConfigMap of its runtime files (floe.yaml, platform.yaml, profiles.yml), written by its pipeline stack."""
        return f"{self.name}-floe-config"

    @property
    def env_configmap(self) -> str:
        """ConfigMap of its pods' environment, written by its pipeline stack."""
        return f"{self.name}-floe-env"

    @property
    def cube_models_configmap(self) -> str:
        """ConfigMap of its Cube models, which the platform's Cube mounts (optional) as `model/<tenant>/`."""
        return f"{self.name}-cube-models"

    def namespace_in(self, layer_levels: tuple[str, ...]) -> tuple[str, ...]:
        """The tenant's Iceberg namespace inside a layer's namespace."""
        return (*layer_levels, self.namespace)


def resolve_tenants(platform: PlatformConfig) -> dict[str, Tenant]:
    """Every tenant of the platform, defaults applied, in declaration order."""
    out: dict[str, Tenant] = {}
    for name, cfg in platform.deployment.tenants.items():
        service_account = cfg.service_account or name
        out[name] = Tenant(
            name=name,
            service_account=service_account,
            principal_role=cfg.principal_role or service_account.replace("-", "_"),
            namespace=cfg.namespace or name.replace("-", "_"),
            writes=tuple(cfg.writes or ()),
            reads=tuple(cfg.reads or ()),
            code_server_port=cfg.code_server_port,
            credential_rotation=cfg.credential_rotation,
            public_key=cfg.public_key,
        )
    return out


def layer_prefix(platform: PlatformConfig, layer: str) -> str:
    """A layer's key prefix in its bucket: its namespace levels, '/'-joined, ending in '/'."""
    return "/".join(platform.layers[layer].namespace_levels) + "/"


def tenant_prefix(platform: PlatformConfig, tenant: Tenant, layer: str) -> str:
    """The tenant's own key prefix in a layer it writes (where its namespace's tables live)."""
    return "/".join(tenant.namespace_in(platform.layers[layer].namespace_levels)) + "/"


def storage_grants(platform: PlatformConfig, tenant: Tenant) -> list[StorageGrant]:
    """Every bucket prefix the tenant reaches: its own prefix in each layer it writes, each layer it reads
    in full, and (put only) the compute-log prefix its run pods upload to."""
    grants: list[StorageGrant] = []
    for layer in tenant.writes:
        if layer in platform.layers:
            bucket = platform.storage[platform.layers[layer].storage_ref].bucket
            grants.append(StorageGrant(bucket, tenant_prefix(platform, tenant, layer), "write"))
    for layer in tenant.reads:
        if layer in platform.layers:
            bucket = platform.storage[platform.layers[layer].storage_ref].bucket
            grants.append(StorageGrant(bucket, layer_prefix(platform, layer), "read"))
    logs = compute_log_target(platform)
    if logs is not None:
        grants.append(StorageGrant(*logs, "put"))
    return grants


def compute_log_target(platform: PlatformConfig) -> tuple[str, str] | None:
    """Bucket and prefix Dagster's run workers upload compute logs to (S3 compute logs only)."""
    logs = platform.s3_compute_logs
    if logs is None or logs.storage_ref not in platform.storage:
        return None
    prefix = logs.prefix.strip("/")
    return logs.bucket or platform.storage[logs.storage_ref].bucket, f"{prefix}/" if prefix else ""


def tenant_storage_profiles(platform: PlatformConfig, tenant: Tenant) -> list[str]:
    """Storage profiles of the layers the tenant writes or reads, in first-use order."""
    profiles: list[str] = []
    for layer in (*tenant.writes, *tenant.reads):
        if layer in platform.layers and platform.layers[layer].storage_ref not in profiles:
            profiles.append(platform.layers[layer].storage_ref)
    return profiles


def storage_identity(platform: PlatformConfig, profile: str) -> Literal["minio", "irsa"] | None:
    """How a tenant gets storage credentials of its own on a profile: a MinIO user of the platform's MinIO,
    an IAM role of its own (IRSA) on AWS S3, or no way at all (None: floe-infra refuses the tenant there
    rather than hand it the platform's key)."""
    storage = platform.storage[profile]
    if not storage.is_aws and platform.deployment.services.object_storage.deploy:
        return "minio"
    if storage.is_aws and storage.credentials.mode == CredentialMode.IAM_ROLE:
        return "irsa"
    return None


IAM_ROLE_NAME_MAX = 64


def tenant_role_arn(platform: PlatformConfig, tenant: Tenant) -> str | None:
    """The ARN of the tenant's own IAM role (IRSA), when it uses AWS S3 through IAM roles; known before any deploy."""
    provider = platform.deployment.workload_identity.oidc_provider_arn
    if provider is None or not any(storage_identity(platform, p) == "irsa"
                                   for p in tenant_storage_profiles(platform, tenant)):
        return None
    partition, account = provider.split(":")[1], provider.split(":")[4]
    return f"arn:{partition}:iam::{account}:role/{tenant_role_name(platform, tenant)}"


def tenant_role_name(platform: PlatformConfig, tenant: Tenant) -> str:
    """`<platform>-<environment>-<tenant>`, shortened with a hash suffix to IAM's 64 characters."""
    name = f"{platform.deployment.name}-{platform.deployment.environment}-{tenant.name}"
    if len(name) <= IAM_ROLE_NAME_MAX:
        return name
    return f"{name[:IAM_ROLE_NAME_MAX - 9]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def tenant_storage_secret(platform: PlatformConfig, tenant: Tenant) -> str | None:
    """The tenant's S3 keys Secret, when it has a MinIO user (None: IRSA or no storage at all)."""
    if any(storage_identity(platform, p) == "minio" for p in tenant_storage_profiles(platform, tenant)):
        return tenant.storage_secret
    return None


def read_role(layer: str) -> str:
    """Catalog role reading a whole layer."""
    return f"layer_{layer}_reader"


def write_role(tenant: Tenant, layer: str) -> str:
    """Catalog role writing a tenant's namespace in a layer."""
    return f"tenant_{tenant.namespace}_{layer}_writer"


def tenant_object_names(tenant: Tenant) -> dict[str, str]:
    """Kubernetes objects named after a tenant, by what they are (all in the platform's namespace)."""
    return {
        "catalog credentials Secret": tenant.credentials_secret,
        "storage credentials Secret": tenant.storage_secret,
        "ServiceAccount": tenant.kubernetes_service_account,
        "code location": tenant.code_location,
        "runtime ConfigMap": tenant.runtime_configmap,
        "environment ConfigMap": tenant.env_configmap,
        "Cube models ConfigMap": tenant.cube_models_configmap,
    }
