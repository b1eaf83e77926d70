"""Compute profiles: the dbt adapter a pipeline's transforms run on."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from floe_infra.config.base import FloeModel
from floe_infra.config.credentials import CredentialConfig, no_credentials


class ComputeTarget(StrEnum):
    """dbt adapters floe-runtime supports."""

    DUCKDB = "duckdb"
    SNOWFLAKE = "snowflake"
    BIGQUERY = "bigquery"
    REDSHIFT = "redshift"
    DATABRICKS = "databricks"
    POSTGRES = "postgres"
    SPARK = "spark"


class ComputeProfile(FloeModel):
    """One compute target and its connection properties (no credentials inline)."""

    type: ComputeTarget = Field(default=ComputeTarget.DUCKDB, description="dbt adapter name.")
    properties: dict[str, Any] = Field(
        default_factory=dict, description="Adapter properties, e.g. DuckDB path and threads."
    )
    credentials: CredentialConfig = Field(
        default_factory=no_credentials, description="Adapter credentials by reference."
    )
