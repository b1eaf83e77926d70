"""Infrastructure settings: timezone, local access ports, quotas and per-class resources."""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import available_timezones

from pydantic import AfterValidator, Field, field_validator, model_validator

from floe_infra.config.base import FloeModel, RuntimeSection

QUANTITY_RE = re.compile(r"^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


@functools.cache
def known_timezone(name: str) -> bool:
    """Whether `name` is an IANA timezone of this machine's tz database. UTC needs no look-up: finding
    the others walks the database's directory, which every program start would pay at import."""
    return name == "UTC" or name in available_timezones()


def check_quantity(value: str) -> str:
    """A Kubernetes resource quantity such as `500m`, `2`, `512Mi`."""
    if not QUANTITY_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 4Gi)")
    return value


Quantity = Annotated[str, AfterValidator(check_quantity)]


class ResourceAmounts(FloeModel):
    """CPU and memory of a container."""

    cpu: Quantity = Field(description="CPU, e.g. 500m.")
    memory: Quantity = Field(description="Memory, e.g. 512Mi.")


class ResourceProfile(FloeModel):
    """Requests, limits and environment of one class of workloads."""

    requests: ResourceAmounts = Field(description="Guaranteed resources.")
    limits: ResourceAmounts = Field(description="Maximum resources.")
    env: dict[str, str] = Field(default_factory=dict, description="Environment for workloads of this class.")


class ResourceQuotaLimits(FloeModel):
    """Namespace-wide totals."""

    pods: int = Field(default=50, ge=1, description="Maximum number of pods.")
    requests_cpu: Quantity = Field(default="8", description="Total CPU requests.")
    requests_memory: Quantity = Field(default="8Gi", description="Total memory requests.")
    limits_cpu: Quantity = Field(default="12", description="Total CPU limits.")
    limits_memory: Quantity = Field(default="20Gi", description="Total memory limits.")


class ResourceQuotas(FloeModel):
    """A ResourceQuota (and matching LimitRange) on the platform namespace."""

    enabled: bool = Field(default=True, description="Create the ResourceQuota and LimitRange.")
    namespace_limits: ResourceQuotaLimits = Field(
        default_factory=ResourceQuotaLimits, description="Namespace totals."
    )


class JobCleanup(FloeModel):
    """Cleanup of finished Dagster run Jobs."""

    ttl_seconds: int = Field(default=300, ge=0, description="ttlSecondsAfterFinished of run Jobs.")
    history_limits: dict[str, int] = Field(
        default_factory=lambda: {"successful": 3, "failed": 5}, description="Jobs kept for debugging."
    )


class Cleanup(FloeModel):
    """Automatic cleanup of ephemeral resources."""

    enabled: bool = Field(default=True, description="Set TTLs on run Jobs.")
    jobs: JobCleanup = Field(default_factory=JobCleanup, description="Run Job cleanup.")


class Lifecycle(FloeModel):
    """Cleanup and quotas."""

    cleanup: Cleanup = Field(default_factory=Cleanup, description="Cleanup of run Jobs.")
    resource_quotas: ResourceQuotas = Field(default_factory=ResourceQuotas, description="Namespace quotas.")


class AccessType(StrEnum):
    """How services are reached from outside the cluster in local setups."""

    NODEPORT = "nodeport"
    PORT_FORWARD = "port-forward"
    LOADBALANCER = "loadbalancer"


NodePort = Annotated[int, Field(ge=30000, le=32767)]


class LocalAccessPorts(FloeModel):
    """NodePorts per service (30000-32767)."""

    dagster: NodePort = Field(default=30000, description="Dagster UI.")
    polaris: NodePort = Field(default=30181, description="Polaris REST API.")
    minio: NodePort = Field(default=30900, description="MinIO S3 API.")
    minio_console: NodePort = Field(default=30901, description="MinIO console.")
    jaeger: NodePort = Field(default=30686, description="Jaeger UI.")
    marquez_web: NodePort = Field(default=30301, description="Marquez web UI.")
    marquez_api: NodePort = Field(default=30500, description="Marquez API.")
    cube: NodePort = Field(default=30400, description="Cube API.")
    localstack: NodePort = Field(default=30566, description="LocalStack (floe-runtime setups only).")

    @model_validator(mode="after")
    def check_unique_ports(self) -> Self:
        """Two services cannot share a NodePort."""
        seen: dict[int, str] = {}
        for name, port in self.model_dump().items():
            if port in seen:
                raise ValueError(f"NodePort {port} is used by both {seen[port]} and {name}")
            seen[port] = name
        return self


class LocalAccess(FloeModel):
    """External access for local clusters."""

    enabled: bool = Field(default=False, description="Expose UIs and APIs on the node.")
    access_type: AccessType = Field(default=AccessType.NODEPORT, description="How they are exposed.")
    ports: LocalAccessPorts = Field(default_factory=LocalAccessPorts, description="Ports per service.")


class Network(FloeModel):
    """Network settings."""

    enabled: bool = Field(default=True, description="Network configuration enabled.")
    dns: RuntimeSection | None = Field(default=None, description="DNS hints, for floe-runtime.")
    network_policies: RuntimeSection | None = Field(default=None, description="Network zones, for floe-runtime.")
    ingress: RuntimeSection | None = Field(default=None, description="Ingress hints, for floe-runtime.")
    local_access: LocalAccess = Field(default_factory=LocalAccess, description="Local access (NodePorts).")


class CloudProvider(StrEnum):
    """Cloud the platform runs on."""

    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    LOCAL = "local"


class Cloud(FloeModel):
    """Cloud account settings."""

    provider: CloudProvider = Field(default=CloudProvider.LOCAL, description="Cloud provider.")
    region: str | None = Field(default=None, description="Default region.")
    account_id: str | None = Field(default=None, pattern=r"^\d{12}$", description="AWS account id.")
    aws: RuntimeSection | None = Field(default=None, description="AWS details, for floe-runtime.")
    localstack: RuntimeSection | None = Field(default=None, description="LocalStack settings, for floe-runtime.")
    multi_region: RuntimeSection | None = Field(default=None, description="Multi-region hints, for floe-runtime.")

    @model_validator(mode="after")
    def check_region_for_aws(self) -> Self:
        """AWS needs a region."""
        if self.provider == CloudProvider.AWS and not self.region:
            raise ValueError("provider aws needs region")
        return self


class InfrastructureConfig(FloeModel):
    """Cluster-level settings of the platform."""

    timezone: str = Field(default="UTC", description="IANA timezone (TZ) of every platform pod.")
    network: Network = Field(default_factory=Network, description="Network settings.")
    cloud: Cloud = Field(default_factory=Cloud, description="Cloud provider settings.")
    lifecycle: Lifecycle | None = Field(default=None, description="Cleanup and namespace quotas.")
    resource_profiles: dict[str, ResourceProfile] | None = Field(
        default=None,
        description="Resource classes: `platform` (long-running services), `storage` (MinIO, Polaris, "
                    "databases), `transform` (Dagster runs and code locations).",
    )

    @field_validator("timezone")
    @classmethod
    def check_timezone(cls, value: str) -> str:
        """An IANA timezone name."""
        if not known_timezone(value):
            raise ValueError(f"'{value}' is not an IANA timezone (e.g. UTC, Europe/Berlin, Australia/Sydney)")
        return value
