"""Observability settings: tracing (OTLP), lineage (OpenLineage) and Dagster compute logs."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from floe_infra.config.base import BucketName, FloeModel, HttpUrl, ProfileName, RuntimeSection


class ComputeLogManager(StrEnum):
    """Where Dagster keeps run stdout/stderr."""

    S3 = "s3"
    AZURE_BLOB = "azure_blob"
    GCS = "gcs"
    LOCAL = "local"
    NOOP = "noop"


class ComputeLogsConfig(FloeModel):
    """Dagster compute logs, stored in the platform's object storage."""

    enabled: bool = Field(default=True, description="Capture and upload run logs.")
    manager_type: ComputeLogManager = Field(default=ComputeLogManager.S3, description="Log backend.")
    storage_ref: ProfileName = Field(default="default", description="Storage profile the logs go to.")
    bucket: BucketName | None = Field(
        default=None, description="Bucket for logs; defaults to the storage profile's bucket."
    )
    prefix: str = Field(default="dagster-compute-logs/", description="Key prefix of log objects.")
    retention_days: int = Field(default=30, ge=1, le=3650, description="Log retention in days.")
    local_dir: str = Field(default="/tmp/dagster-compute-logs", description="Local buffer directory.")
    upload_interval: int = Field(default=30, ge=1, le=300, description="Upload interval in seconds.")


class ObservabilityConfig(FloeModel):
    """Platform observability. Endpoints are used when the platform does not deploy Jaeger/Marquez."""

    traces: bool = Field(default=True, description="Emit OpenTelemetry traces.")
    metrics: bool = Field(default=True, description="Emit metrics.")
    lineage: bool = Field(default=True, description="Emit OpenLineage events.")
    otlp_endpoint: HttpUrl | None = Field(
        default=None, description="OTLP endpoint of an external collector (ignored when Jaeger is deployed)."
    )
    lineage_endpoint: HttpUrl | None = Field(
        default=None, description="OpenLineage endpoint of an external Marquez (ignored when deployed)."
    )
    attributes: dict[str, str] = Field(default_factory=dict, description="Resource attributes on telemetry.")
    tracing: RuntimeSection | None = Field(default=None, description="Sampling/exporters, for floe-runtime.")
    metrics_config: RuntimeSection | None = Field(default=None, description="Metrics exporters, for floe-runtime.")
    logging: RuntimeSection | None = Field(default=None, description="Log level/backends, for floe-runtime.")
    compute_logs: ComputeLogsConfig | None = Field(default=None, description="Dagster compute logs storage.")
