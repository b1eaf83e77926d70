"""Environment variables the platform's and the pipelines' pods read, named in one place.

OpenTelemetry and OpenLineage clients find Jaeger and Marquez through them (the platform's
Dagster pods and each code location alike), and pyiceberg finds the pipeline's catalog, which
it loads by the name `floe`, through `PYICEBERG_CATALOG__FLOE__*` (dbt-duckdb's iceberg plugin
and the pipeline's own code).
"""

from __future__ import annotations

RUNTIME_CATALOG = "floe"


def otlp_env(endpoint: str) -> dict[str, str]:
    """The OTLP exporter settings for a gRPC endpoint."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}


def openlineage_env(endpoint: str) -> dict[str, str]:
    """The OpenLineage HTTP transport settings for a full lineage URL (`.../api/v1/lineage`)."""
    # The client joins OPENLINEAGE_URL and OPENLINEAGE_ENDPOINT itself: split the URL at its API path.
    base, _, path = endpoint.partition("/api/")
    return {"OPENLINEAGE_URL": base, "OPENLINEAGE_ENDPOINT": f"api/{path}" if path else "api/v1/lineage"}


def pyiceberg_env_key(prop: str) -> str:
    """The variable pyiceberg reads a property of the `floe` catalog from (`s3.path-style-access` ->
    `PYICEBERG_CATALOG__FLOE__S3__PATH_STYLE_ACCESS`: pyiceberg maps `__` to `.` and `_` to `-`)."""
    return f"PYICEBERG_CATALOG__{RUNTIME_CATALOG.upper()}__" + prop.upper().replace(".", "__").replace("-", "_")
