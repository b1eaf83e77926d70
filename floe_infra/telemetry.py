"""Environment variables that point OpenTelemetry and OpenLineage clients at the platform.

Shared by the platform's Dagster pods and each pipeline's code location, so both speak to
Jaeger and Marquez the same way.
"""

from __future__ import annotations


def otlp_env(endpoint: str) -> dict[str, str]:
    """The OTLP exporter settings for a gRPC endpoint."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}


def openlineage_env(endpoint: str) -> dict[str, str]:
    """The OpenLineage HTTP transport settings for a full lineage URL (`.../api/v1/lineage`)."""
    # The client joins OPENLINEAGE_URL and OPENLINEAGE_ENDPOINT itself: split the URL at its API path.
    base, _, path = endpoint.partition("/api/")
    return {"OPENLINEAGE_URL": base, "OPENLINEAGE_ENDPOINT": f"api/{path}" if path else "api/v1/lineage"}
