"""The maintenance plan of a layer: which catalog and namespace, what retention, how to reach storage.

Derived from platform.yaml alone (no Pulumi, no pyiceberg), so the platform stack writes the same
plan into the job's ConfigMap that `floe-infra maintenance run --platform ... --layer ...` builds by
hand. A plan holds no credential: the job reads those from the environment its Secrets fill.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from floe_infra.config.base import FloeModel
from floe_infra.config.catalog import CatalogType
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.retention import layer_retention_days, maintained_layers
from floe_infra.errors import FloeError
from floe_infra.topology import Topology

PLAN_FORMAT = 1
# Every storage call of the job is bounded (pyarrow's S3 client, seconds).
S3_TIMEOUTS = {"s3.connect-timeout": "10", "s3.request-timeout": "60"}
_CREDENTIAL_WORDS = ("secret", "key-id", "token", "password", "credential", "session")


class MaintenancePlanError(FloeError):
    """Raised when a maintenance plan file is missing, not JSON, or not a plan."""


class MaintenancePlan(FloeModel):
    """What the maintenance job of one layer maintains, and how it reaches the catalog and storage."""

    format: Literal[1] = Field(default=PLAN_FORMAT, description="Plan format version.")
    layer: str = Field(description="Layer name (platform.yaml `layers`).")
    catalog_uri: str = Field(description="Iceberg REST catalog URI, as the job reaches it.")
    warehouse: str = Field(description="Warehouse (Polaris catalog) name.")
    scope: str | None = Field(default=None, description="OAuth2 scope of the catalog credential.")
    namespace: list[str] = Field(min_length=1, description="The layer's namespace levels; every child namespace "
                                                           "(each tenant's) is maintained too.")
    retention_days: int = Field(ge=1, description="History kept: snapshots older than this expire, rows of older "
                                                  "time partitions go where a table asks.")
    grace_hours: int = Field(ge=1, description="Unreferenced files younger than this are kept.")
    properties: dict[str, str] = Field(default_factory=dict,
                                       description="Catalog and storage client properties (never a credential).")

    @field_validator("properties")
    @classmethod
    def check_no_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        """Credentials come from the environment (Secrets), never from the plan."""
        if bad := sorted(k for k in value if any(word in k.lower() for word in _CREDENTIAL_WORDS)):
            raise ValueError(f"properties {', '.join(bad)} look like credentials; the job reads credentials from "
                             "its environment, never from the plan")
        return value

    def to_json(self) -> str:
        """The plan as the job's ConfigMap holds it."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path) -> MaintenancePlan:
        """Read a plan file.

        Raises:
            MaintenancePlanError: When it is missing, not JSON or not a valid plan.
        """
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MaintenancePlanError(f"{path} does not exist") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise MaintenancePlanError(f"{path} is not a maintenance plan ({where}: {first['msg']})") from None


def maintenance_plans(platform: PlatformConfig, topology: Topology) -> dict[str, MaintenancePlan]:
    """The plan of every layer a maintenance job enforces the retention of."""
    return {name: layer_plan(platform, topology, name) for name in maintained_layers(platform)}


def layer_plan(platform: PlatformConfig, topology: Topology, layer: str, catalog_uri: str | None = None
               ) -> MaintenancePlan:
    """The plan of one layer; `catalog_uri` replaces the URI the job uses (a run from outside the cluster).

    Raises:
        FloeError: When the layer has no retention or its catalog is not an Iceberg REST catalog.
    """
    cfg = platform.layers[layer]
    days = layer_retention_days(platform, layer)
    if days is None:
        raise FloeError(f"layer '{layer}' has no retention (layers.{layer}.retention_days): nothing to maintain")
    catalog = platform.catalogs[cfg.catalog_ref]
    if catalog.type not in (CatalogType.POLARIS, CatalogType.REST):
        raise FloeError(f"layer '{layer}' is in catalog '{cfg.catalog_ref}' of type {catalog.type}; maintenance "
                        "reaches Iceberg REST catalogs (polaris, rest)")
    in_cluster = topology.endpoint("catalog", "rest") if platform.deployment.services.catalog.deploy else None
    uri = catalog_uri or in_cluster or (catalog.uri if isinstance(catalog.uri, str) else "")
    if not uri:
        raise FloeError(f"layer '{layer}': catalog '{cfg.catalog_ref}' has its URI in a Secret; pass --catalog-uri")
    profile = platform.storage[cfg.storage_ref]
    bucket = next(b for b in topology.buckets if b.profile == cfg.storage_ref)
    properties = {"s3.region": profile.region, **S3_TIMEOUTS}
    if bucket.endpoint:
        # S3-compatible services (MinIO) are addressed path-style.
        properties |= {"s3.endpoint": bucket.endpoint, "s3.force-virtual-addressing": "false"}
    scope = catalog.credentials.scope or ("PRINCIPAL_ROLE:ALL" if catalog.type == CatalogType.POLARIS else None)
    return MaintenancePlan(layer=layer, catalog_uri=uri, warehouse=catalog.warehouse, scope=scope,
                           namespace=list(cfg.namespace_levels), retention_days=days,
                           grace_hours=platform.deployment.services.maintenance.grace_hours, properties=properties)
