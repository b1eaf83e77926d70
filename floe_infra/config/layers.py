"""Layers (bronze/silver/gold...): each binds a bucket, a catalog and a namespace."""

from __future__ import annotations

from pydantic import Field, field_validator

from floe_infra.config.base import FloeModel, ProfileName, check_iceberg_identifier, check_profile_name


class LayerConfig(FloeModel):
    """One data layer of the medallion architecture."""

    name: ProfileName = Field(description="Layer name (bronze, silver, gold, raw, ...).")
    description: str = Field(default="", max_length=500, description="What the layer holds.")
    storage_ref: ProfileName = Field(description="Storage profile holding the layer's data.")
    catalog_ref: ProfileName = Field(default="default", description="Catalog profile holding its tables.")
    namespace: str = Field(
        min_length=3, max_length=255,
        description="`<warehouse>.<namespace>`: the warehouse of catalog_ref, then the Iceberg namespace.",
    )
    retention_days: int | None = Field(
        default=None, ge=1, le=36500,
        description="Days of history the layer's Iceberg tables keep. A maintenance job (deployment.services."
                    "maintenance) expires snapshots older than this (a table's history.expire.* properties win), "
                    "deletes files no remaining snapshot or metadata references, and deletes the rows of time "
                    "partitions older than this from tables that set floe.retention.column. Current data of a "
                    "table is never expired by an S3 lifecycle rule. Unset: the storage profile's "
                    "lifecycle.expiration_days, else history is kept forever.",
    )
    properties: dict[str, str] = Field(
        default_factory=dict, description="Properties set on the layer's Iceberg namespace."
    )

    @field_validator("namespace")
    @classmethod
    def check_namespace_format(cls, value: str) -> str:
        """`warehouse.namespace`, every part an Iceberg identifier."""
        parts = value.split(".")
        if len(parts) < 2:
            raise ValueError(f"namespace '{value}' must start with the catalog's warehouse, "
                             "e.g. 'demo_catalog.bronze'")
        check_profile_name(parts[0])
        for part in parts[1:]:
            check_iceberg_identifier(part)
        return value

    @property
    def warehouse(self) -> str:
        """The warehouse prefix of `namespace`."""
        return self.namespace.split(".", 1)[0]

    @property
    def namespace_levels(self) -> tuple[str, ...]:
        """The Iceberg namespace inside the warehouse, as levels."""
        return tuple(self.namespace.split(".")[1:])
