"""floe-infra's own section of platform.yaml: what the platform deploys, and for whom.

floe-runtime describes *how to reach* storage, catalogs and telemetry; deploying them needs more:
which services this platform runs itself and which it only references, chart version overrides,
persistence, the database behind Dagster/Marquez/Polaris, and the pipelines (tenants) the
platform hosts. All of it lives under the top-level `deployment:` key, with defaults that make
a platform.yaml without the section deploy a complete, small platform.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError, model_validator

from floe_infra.config.base import (
    PIPELINE_NAME_MAX,
    PIPELINE_NAME_RE,
    FloeModel,
    HttpUrl,
    IcebergIdentifier,
    ImageRepository,
    KubernetesName,
    PipelineName,
    ProfileName,
    PublicKey,
    SecretName,
)
from floe_infra.config.infrastructure import Quantity
from floe_infra.config.network import TenantNetworkConfig


class Environment(StrEnum):
    """Deployment environment; decides protection and persistence defaults."""

    LOCAL = "local"
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class Persistence(FloeModel):
    """A PersistentVolumeClaim for a stateful service."""

    size: Quantity = Field(default="10Gi", description="Volume size.")
    storage_class: str | None = Field(default=None, description="StorageClass; the cluster default if unset.")


class ServiceConfig(FloeModel):
    """A platform service floe-infra can deploy."""

    deploy: bool = Field(
        default=True,
        description="true: this platform deploys the service; false: it only references an existing one "
                    "through the endpoints in platform.yaml.",
    )
    image_tag: str | None = Field(default=None, description="Override of the pinned image tag.")
    resource_profile: ProfileName | None = Field(
        default=None,
        description="Entry of infrastructure.resource_profiles sizing the service; each service has a default.",
    )


class HelmServiceConfig(ServiceConfig):
    """A service deployed from an upstream Helm chart."""

    chart_version: str | None = Field(
        default=None, description="Override of the pinned chart version (see floe_infra/versions.py)."
    )
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra Helm values merged over floe-infra's (escape hatch). Credentials are rejected.",
    )


class ObjectStorageService(HelmServiceConfig):
    """In-cluster MinIO for the storage profiles that have an endpoint."""

    deploy: bool = Field(
        default=False,
        description="Deploy MinIO and create the buckets of every storage profile with an endpoint in it.",
    )
    persistence: Persistence = Field(default_factory=Persistence, description="MinIO's volume.")
    manage_aws_buckets: bool = Field(
        default=True,
        description="Create (and own) the AWS buckets of storage profiles without an endpoint.",
    )
    noncurrent_version_days: int = Field(
        default=30, ge=1, le=3650,
        description="AWS buckets floe-infra owns: days an overwritten or deleted object version is kept (the window "
                    "to undo a deletion) before S3 removes it for good.",
    )


class DatabaseService(ServiceConfig):
    """The PostgreSQL behind Dagster, Marquez and (outside local) Polaris."""

    deploy: bool = Field(
        default=True,
        description="true: a project-owned PostgreSQL StatefulSet; false: use `host` (e.g. Amazon RDS).",
    )
    persistence: Persistence = Field(default_factory=Persistence, description="PostgreSQL's volume.")
    host: str | None = Field(default=None, description="Host of an external PostgreSQL (deploy: false).")
    port: int = Field(default=5432, ge=1, le=65535, description="PostgreSQL port.")
    admin_secret_ref: SecretName | None = Field(
        default=None,
        description="External PostgreSQL only: Secret with keys username and password of a user that may "
                    "create databases and roles.",
    )

    @model_validator(mode="after")
    def check_external_database(self) -> Self:
        """An external database needs a host and an admin Secret."""
        if not self.deploy and (self.host is None or self.admin_secret_ref is None):
            raise ValueError("deploy: false needs host and admin_secret_ref of the external PostgreSQL")
        return self


class CatalogService(HelmServiceConfig):
    """Apache Polaris."""

    replicas: int = Field(default=1, ge=1, le=10, description="Polaris replicas (more than one needs PostgreSQL).")
    management_url: HttpUrl | None = Field(
        default=None,
        description="Where the machine running `pulumi up` reaches Polaris' REST API to manage catalogs, "
                    "namespaces and grants (NodePort locally, ingress or private endpoint in clouds). "
                    "Unset: derived from the NodePort when local access is enabled.",
    )


class SemanticService(HelmServiceConfig):
    """Cube (API, refresh worker) and Cube Store."""

    dev_mode: bool = Field(default=False, description="Cube Playground and dev mode.")


class OrchestrationService(HelmServiceConfig):
    """Dagster."""

    max_concurrent_runs: int = Field(
        default=4, ge=1, le=100,
        description="Runs Dagster starts at once (each a pod of the transform resource profile); the namespace "
                    "quota must hold them (guardrail quota-fits).",
    )


CRON_FIELD_RE = re.compile(r"^[0-9A-Za-z*,/?-]+$")


def check_cron_schedule(value: str) -> str:
    """A Kubernetes CronJob schedule: 5 cron fields."""
    fields = value.split()
    if len(fields) != 5 or not all(CRON_FIELD_RE.fullmatch(f) for f in fields):
        raise ValueError(f"'{value}' is not a Kubernetes CronJob schedule: 5 cron fields, e.g. '30 2 * * *'")
    return value


class MaintenanceService(ServiceConfig):
    """Iceberg table maintenance: a CronJob per layer with a retention (docs/operations.md)."""

    deploy: bool = Field(
        default=True,
        description="Run a maintenance CronJob for each layer with a retention (layers.<name>.retention_days, or "
                    "its storage profile's lifecycle.expiration_days): it expires old snapshots, removes files "
                    "nothing references and deletes rows past the retention where a table asks for it. false: "
                    "nothing enforces the retention.",
    )
    image_repository: ImageRepository | None = Field(
        default=None,
        description="Repository of the floe-infra image the jobs run (built from floe-infra's Dockerfile); "
                    "default: the pin in floe_infra/versions.py. image_tag overrides the tag.",
    )
    schedule: Annotated[str, AfterValidator(check_cron_schedule)] = Field(
        default="30 2 * * *", description="When the jobs run (CronJob schedule, in infrastructure.timezone).")
    grace_hours: int = Field(
        default=72, ge=1, le=8760,
        description="An unreferenced file younger than this is kept: a writer may be about to commit it.",
    )
    timeout_minutes: int = Field(
        default=360, ge=5, le=1440, description="A run still going after this long is stopped (the next one "
                                                "resumes: every step is safe to repeat).",
    )


class Services(FloeModel):
    """Every service of the platform."""

    object_storage: ObjectStorageService = Field(default_factory=ObjectStorageService, description="MinIO.")
    database: DatabaseService = Field(default_factory=DatabaseService, description="PostgreSQL.")
    catalog: CatalogService = Field(default_factory=CatalogService, description="Apache Polaris.")
    tracing: HelmServiceConfig = Field(default_factory=HelmServiceConfig, description="Jaeger.")
    lineage: ServiceConfig = Field(default_factory=ServiceConfig, description="Marquez (plain Kubernetes objects).")
    orchestration: OrchestrationService = Field(default_factory=OrchestrationService, description="Dagster.")
    semantic: SemanticService = Field(default_factory=SemanticService, description="Cube.")
    maintenance: MaintenanceService = Field(
        default_factory=MaintenanceService, description="Iceberg table maintenance jobs (retention).")


class TenantConfig(FloeModel):
    """A pipeline the platform hosts: its catalog identity, its namespaces and its Dagster location."""

    service_account: ProfileName | None = Field(
        default=None, description="Polaris principal of the pipeline; defaults to the tenant name."
    )
    principal_role: ProfileName | None = Field(
        default=None, description="Polaris principal role; defaults to service_account with '-' as '_'."
    )
    namespace: IcebergIdentifier | None = Field(
        default=None,
        description="The tenant's namespace inside each layer it writes (layer.namespace + this); "
                    "defaults to the tenant name with '-' as '_'.",
    )
    writes: list[ProfileName] | None = Field(
        default=None,
        description="Layers the tenant writes (its own namespace in each). Unset or empty: none (least privilege; "
                    "floe-infra warns).",
    )
    reads: list[ProfileName] | None = Field(
        default=None,
        description="Layers the tenant reads (every tenant's tables in them). Unset or empty: none (least "
                    "privilege; floe-infra warns).",
    )
    code_server_port: int = Field(default=3030, ge=1, le=65535, description="gRPC port of its code server.")
    public_key: PublicKey | None = Field(
        default=None,
        description="The pipeline stack's X25519 public key (base64, `floe-infra tenant keygen`): the platform "
                    "publishes the tenant's catalog credentials sealed to it.",
    )
    credential_rotation: int = Field(
        default=0, ge=0,
        description="Bump to rotate the tenant's catalog credentials on the next `pulumi up`.",
    )


OIDC_PROVIDER_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/[A-Za-z0-9.-]+(/[A-Za-z0-9._-]+)*$")


def check_oidc_provider_arn(value: str) -> str:
    """An IAM OIDC identity provider ARN, as EKS shows it for IRSA."""
    if len(value) > 2048 or not OIDC_PROVIDER_ARN_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not an IAM OIDC provider ARN (arn:aws:iam::123456789012:oidc-provider/"
                         "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE)")
    return value


class WorkloadIdentityConfig(FloeModel):
    """How pods get cloud identities of their own: each tenant one IAM role (IRSA) on AWS."""

    oidc_provider_arn: Annotated[str, AfterValidator(check_oidc_provider_arn)] | None = Field(
        default=None,
        description="The EKS cluster's IAM OIDC provider: each tenant's IAM role trusts it for the tenant's "
                    "Kubernetes ServiceAccount only. Needed when tenants use layers on AWS S3 with iam_role.",
    )

    @property
    def issuer(self) -> str | None:
        """The provider's issuer host and path (`oidc.eks.<region>.amazonaws.com/id/<ID>`), the condition key prefix."""
        return self.oidc_provider_arn.split(":oidc-provider/", 1)[1] if self.oidc_provider_arn else None


ChartName = Literal["minio", "polaris", "jaeger", "dagster", "dagster-user-deployments", "cube", "cubestore"]


class ChartSource(FloeModel):
    """Where a chart is installed from instead of its public repository (air-gapped clusters, vendored charts)."""

    repository: str | None = Field(
        default=None,
        description="A Helm repository serving the chart at the pinned version (an internal mirror), "
                    "e.g. https://charts.example.internal/floe.",
    )
    path: str | None = Field(
        default=None,
        description="A chart directory, relative to the Pulumi project (keeps previews identical on every "
                    "machine) or absolute.",
    )

    @model_validator(mode="after")
    def check_one_source(self) -> Self:
        """Exactly one of repository and path; a repository is an http(s) or oci URL."""
        if (self.repository is None) == (self.path is None):
            raise ValueError("give exactly one of repository (a Helm repository URL) and path (a chart directory)")
        if self.repository is not None:
            url = urlsplit(self.repository)
            if url.scheme not in ("http", "https", "oci") or not url.netloc:
                raise ValueError(f"repository '{self.repository}' is not a Helm repository URL: use "
                                 "https://host/path (or oci://host/path)")
        return self


# Built once: a TypeAdapter compiles its validator from the type, which is most of a small validation's cost.
_CHART_SOURCES = TypeAdapter(dict[ChartName, ChartSource])


def parse_chart_sources(raw: object, origin: str) -> dict[str, ChartSource]:
    """Chart sources from stack config (`floe:chartSources`), validated like platform.yaml's.

    Raises:
        ValueError: With every problem, each prefixed by `origin` and the chart name.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"{origin}: expected an object of chart name -> {{repository: URL}} or {{path: DIR}}")
    try:
        return _CHART_SOURCES.validate_python(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{origin}: {problems}") from None


class DeploymentConfig(FloeModel):
    """What this platform deploys and for whom (floe-infra's extension of platform.yaml)."""

    environment: Environment = Field(
        default=Environment.DEV,
        description="local: no protection, in-memory Polaris; other environments protect stateful "
                    "resources and run Polaris on PostgreSQL.",
    )
    name: KubernetesName = Field(
        default="floe", description="Prefix of Helm release names (`floe-polaris`, `floe-dagster`, ...)."
    )
    namespace: KubernetesName = Field(default="floe", description="Kubernetes namespace of the platform.")
    services: Services = Field(default_factory=Services, description="Services and their settings.")
    tenants: dict[PipelineName, TenantConfig] = Field(
        default_factory=dict,
        # pydantic keeps no schema for mapping keys; editors get the pipeline name rule here.
        json_schema_extra={"propertyNames": {"pattern": PIPELINE_NAME_RE.pattern, "maxLength": PIPELINE_NAME_MAX}},
        description="Pipelines hosted by this platform, by pipeline name (floe.yaml `name`). Onboarding a "
                    "pipeline is one entry here.",
    )
    workload_identity: WorkloadIdentityConfig = Field(
        default_factory=WorkloadIdentityConfig,
        description="Cloud identities of the tenants' pods (AWS: one IRSA role per tenant).",
    )
    tenant_network: TenantNetworkConfig = Field(
        default_factory=TenantNetworkConfig,
        description="Where tenant pods may connect beyond the platform's own services: the cluster's DNS, and each "
                    "external endpoint they use (docs/security.md).",
    )
    allow_table_deletion: bool = Field(
        default=False,
        description="Let `pulumi destroy` delete catalogs and namespaces that still hold tables.",
    )
    rotate: dict[SecretName, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Rotation of generated credentials: bump the number next to a Secret the platform generates "
                    "and the next `pulumi up` gives it new values; everything that uses them follows (database "
                    "roles reset, Polaris' root credential reset in Polaris, workloads restarted). See "
                    "docs/operations.md.",
    )
    chart_sources: dict[ChartName, ChartSource] = Field(
        default_factory=dict,
        description="Per chart, an internal Helm repository or a local chart directory to install from instead "
                    "of the public repository in floe_infra/versions.py (the pinned version still applies). "
                    "Stack config `floe:chartSources` overrides this per stack.",
    )

    @model_validator(mode="after")
    def check_catalog_replicas(self) -> Self:
        """Polaris keeps in-memory state locally: one replica only."""
        if self.environment == Environment.LOCAL and self.services.catalog.replicas > 1:
            raise ValueError("environment local runs Polaris in memory: services.catalog.replicas must be 1")
        return self

    @property
    def protect_stateful(self) -> bool:
        """Stateful resources are protected and retained everywhere but local."""
        return self.environment != Environment.LOCAL
