"""The root model of platform.yaml, the platform team's file."""

from __future__ import annotations

from pydantic import Field, field_validator

from floe_infra.config.base import FloeModel, ProfileName, RuntimeSection, check_semver
from floe_infra.config.catalog import CatalogProfile
from floe_infra.config.compute import ComputeProfile
from floe_infra.config.deployment import DeploymentConfig
from floe_infra.config.infrastructure import InfrastructureConfig
from floe_infra.config.layers import LayerConfig
from floe_infra.config.observability import ComputeLogManager, ComputeLogsConfig, ObservabilityConfig
from floe_infra.config.security import SecurityConfig
from floe_infra.config.storage import StorageProfile

# platform.yaml schema versions floe-infra reads: 1.0 (profiles), 1.1 (infrastructure,
# security, governance), 1.2 (layers). A new minor may add fields floe-infra would ignore.
SUPPORTED_PLATFORM_VERSIONS = ("1.0", "1.1", "1.2")
CURRENT_PLATFORM_VERSION = "1.2.0"


class PlatformConfig(FloeModel):
    """platform.yaml: storage, catalogs, compute, observability, and what the platform deploys."""

    version: str = Field(
        default=CURRENT_PLATFORM_VERSION,
        description=f"Schema version; floe-infra reads {', '.join(v + '.x' for v in SUPPORTED_PLATFORM_VERSIONS)}.",
    )
    layers: dict[ProfileName, LayerConfig] = Field(
        default_factory=dict, description="Data layers (bronze/silver/gold), each with bucket and namespace."
    )
    infrastructure: InfrastructureConfig = Field(
        default_factory=InfrastructureConfig, description="Timezone, quotas, resources, local access."
    )
    security: SecurityConfig = Field(default_factory=SecurityConfig, description="Security settings.")
    governance: RuntimeSection | None = Field(default=None, description="Governance, for floe-runtime.")
    storage: dict[ProfileName, StorageProfile] = Field(
        default_factory=dict, description="Named storage profiles (one bucket each)."
    )
    catalogs: dict[ProfileName, CatalogProfile] = Field(
        default_factory=dict, description="Named Iceberg catalog profiles."
    )
    compute: dict[ProfileName, ComputeProfile] = Field(
        default_factory=dict, description="Named compute (dbt adapter) profiles."
    )
    observability: ObservabilityConfig = Field(
        default_factory=ObservabilityConfig, description="Tracing, lineage and compute logs."
    )
    deployment: DeploymentConfig = Field(
        default_factory=DeploymentConfig,
        description="floe-infra's extension: deployed services, tenants, environment. Stripped before "
                    "the configuration is handed to floe-runtime.",
    )

    @field_validator("version")
    @classmethod
    def check_supported_version(cls, value: str) -> str:
        """A schema version floe-infra reads."""
        check_semver(value)
        if ".".join(value.split(".")[:2]) not in SUPPORTED_PLATFORM_VERSIONS:
            supported = ", ".join(v + ".x" for v in SUPPORTED_PLATFORM_VERSIONS)
            raise ValueError(f"platform.yaml version {value} is not supported; floe-infra reads {supported}")
        return value

    @property
    def management_url(self) -> str | None:
        """Where the machine running `pulumi up` reaches Polaris' REST API: `management_url`, else the Polaris
        NodePort on localhost when local access uses NodePorts; None when neither is known."""
        catalog = self.deployment.services.catalog
        if catalog.management_url:
            return str(catalog.management_url).rstrip("/")
        local = self.infrastructure.network.local_access
        if local.enabled and local.access_type == "nodeport":
            return f"http://localhost:{local.ports.polaris}"
        return None

    @property
    def s3_compute_logs(self) -> ComputeLogsConfig | None:
        """Dagster's S3 compute logs: platform.yaml's settings, or S3 on the `default` storage profile, or none."""
        logs = self.observability.compute_logs
        if logs is None:
            logs = ComputeLogsConfig() if "default" in self.storage else None
        if logs is None or not logs.enabled or logs.manager_type != ComputeLogManager.S3:
            return None
        return logs
