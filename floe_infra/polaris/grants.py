"""The governance model: which catalogs, namespaces, roles and grants a platform.yaml implies.

Least privilege by construction:
- each layer has a read role, granted read on the layer's namespace (Polaris grants reach every
  child namespace, so readers see every tenant's tables in the layer);
- each tenant has, per layer it writes, a write role on its own child namespace only;
- a tenant's principal role holds exactly its read roles and write roles; no catalog-level grant,
  no catalog admin; its principal holds only that principal role.
The root principal never leaves the platform stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from floe_infra.config.catalog import CatalogType
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import Tenant, read_role, resolve_tenants, write_role

READ_PRIVILEGES = ("NAMESPACE_LIST", "NAMESPACE_READ_PROPERTIES", "TABLE_LIST", "TABLE_READ_PROPERTIES",
                   "TABLE_READ_DATA")
WRITE_PRIVILEGES = ("NAMESPACE_READ_PROPERTIES", "TABLE_LIST", "TABLE_CREATE", "TABLE_DROP", "TABLE_READ_PROPERTIES",
                    "TABLE_WRITE_PROPERTIES", "TABLE_READ_DATA", "TABLE_WRITE_DATA", "TABLE_FULL_METADATA")


@dataclass(frozen=True)
class CatalogPlan:
    """A Polaris catalog (warehouse) and the locations its tables may use."""

    default_base_location: str
    allowed_locations: tuple[str, ...]


@dataclass(frozen=True)
class NamespacePlan:
    """A namespace governance owns."""

    catalog: str
    levels: tuple[str, ...]
    properties: dict[str, str]


@dataclass(frozen=True)
class RolePlan:
    """A catalog role and its exact grants."""

    catalog: str
    name: str
    grants: tuple[dict[str, object], ...]


@dataclass(frozen=True)
class TenantPlan:
    """A tenant's principal role (with its catalog roles) and principal."""

    tenant: Tenant
    catalog_roles: tuple[tuple[str, str], ...]  # (catalog, role)


@dataclass(frozen=True)
class GovernancePlan:
    """Everything catalog governance creates."""

    catalogs: dict[str, CatalogPlan]
    namespaces: list[NamespacePlan]
    roles: list[RolePlan]
    tenants: list[TenantPlan]


def namespace_grants(levels: tuple[str, ...], privileges: tuple[str, ...]) -> tuple[dict[str, object], ...]:
    """One grant per privilege on a namespace."""
    return tuple({"type": "namespace", "namespace": list(levels), "privilege": p} for p in privileges)


def plan_governance(platform: PlatformConfig) -> GovernancePlan:
    """The catalogs, namespaces, roles and tenants of a platform's Polaris catalogs."""
    bases: dict[str, str] = {}
    allowed: dict[str, list[str]] = {}
    namespaces: list[NamespacePlan] = []
    roles: list[RolePlan] = []
    layer_warehouse: dict[str, str] = {}
    for name, layer in platform.layers.items():
        profile = platform.catalogs[layer.catalog_ref]
        if profile.type not in (CatalogType.POLARIS, CatalogType.REST):
            continue
        bucket = platform.storage[layer.storage_ref].bucket
        warehouse = profile.warehouse
        layer_warehouse[name] = warehouse
        bases.setdefault(warehouse, f"s3://{bucket}/{warehouse}")
        locations = allowed.setdefault(warehouse, [])
        if f"s3://{bucket}/" not in locations:
            locations.append(f"s3://{bucket}/")
        levels = layer.namespace_levels
        location = f"s3://{bucket}/{'/'.join(levels)}"
        namespaces.append(NamespacePlan(warehouse, levels, {**layer.properties, "location": location}))
        roles.append(RolePlan(warehouse, read_role(name), namespace_grants(levels, READ_PRIVILEGES)))
    tenants = []
    for tenant in resolve_tenants(platform).values():
        assigned: list[tuple[str, str]] = []
        for layer in tenant.writes:
            if layer not in layer_warehouse:
                continue
            levels = tenant.namespace_in(platform.layers[layer].namespace_levels)
            bucket = platform.storage[platform.layers[layer].storage_ref].bucket
            namespaces.append(NamespacePlan(layer_warehouse[layer], levels, {
                "location": f"s3://{bucket}/{'/'.join(levels)}", "owner": tenant.name}))
            role = RolePlan(layer_warehouse[layer], write_role(tenant, layer),
                            namespace_grants(levels, WRITE_PRIVILEGES))
            roles.append(role)
            assigned.append((role.catalog, role.name))
        assigned += [(layer_warehouse[layer], read_role(layer)) for layer in tenant.reads if layer in layer_warehouse]
        tenants.append(TenantPlan(tenant, tuple(assigned)))
    catalogs = {w: CatalogPlan(bases[w], tuple(sorted({*allowed[w], bases[w] + "/"}))) for w in bases}
    return GovernancePlan(catalogs, namespaces, roles, tenants)
