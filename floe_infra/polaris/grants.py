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

from floe_infra.config.layout import catalog_layouts, namespace_layouts
from floe_infra.config.locations import LOCATION
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import Tenant, read_role, resolve_tenants, write_role

READ_PRIVILEGES = ("NAMESPACE_LIST", "NAMESPACE_READ_PROPERTIES", "TABLE_LIST", "TABLE_READ_PROPERTIES",
                   "TABLE_READ_DATA")
WRITE_PRIVILEGES = ("NAMESPACE_READ_PROPERTIES", "TABLE_LIST", "TABLE_CREATE", "TABLE_DROP", "TABLE_READ_PROPERTIES",
                    "TABLE_WRITE_PROPERTIES", "TABLE_READ_DATA", "TABLE_WRITE_DATA", "TABLE_FULL_METADATA")
# Catalog properties governance sets. Polaris refuses a drop with purgeRequested=true unless
# DROP_WITH_PURGE_ENABLED is on (default off): pipelines purge the tables they declare with
# `drop_when_removed`, which their writer roles (TABLE_DROP and TABLE_WRITE_DATA) allow.
CATALOG_SETTINGS = {"polaris.config.drop-with-purge.enabled": "true"}


@dataclass(frozen=True)
class CatalogPlan:
    """A Polaris catalog (warehouse): its properties and the locations its tables may use."""

    properties: dict[str, str]
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
    catalogs = {w: CatalogPlan({"default-base-location": c.default_base_location, **CATALOG_SETTINGS},
                               c.allowed_locations) for w, c in catalog_layouts(platform).items()}
    tenants = resolve_tenants(platform)
    namespaces: list[NamespacePlan] = []
    roles: list[RolePlan] = []
    written: dict[str, list[tuple[str, str]]] = {}
    layer_catalog: dict[str, str] = {}
    for ns in namespace_layouts(platform):
        if ns.parent:
            namespaces.append(NamespacePlan(ns.catalog, ns.levels, {LOCATION: ns.location}))
            continue
        if ns.tenant is None:
            layer = platform.layers[ns.layer]
            namespaces.append(NamespacePlan(ns.catalog, ns.levels, {**layer.properties, LOCATION: ns.location}))
            roles.append(RolePlan(ns.catalog, read_role(ns.layer), namespace_grants(ns.levels, READ_PRIVILEGES)))
            layer_catalog[ns.layer] = ns.catalog
            continue
        tenant = tenants[ns.tenant]
        namespaces.append(NamespacePlan(ns.catalog, ns.levels, {LOCATION: ns.location, "owner": tenant.name}))
        role = RolePlan(ns.catalog, write_role(tenant, ns.layer), namespace_grants(ns.levels, WRITE_PRIVILEGES))
        roles.append(role)
        written.setdefault(tenant.name, []).append((role.catalog, role.name))
    return GovernancePlan(catalogs, namespaces, roles, [
        TenantPlan(tenant, (*written.get(tenant.name, []), *((layer_catalog[layer], read_role(layer))
                                                             for layer in tenant.reads if layer in layer_catalog)))
        for tenant in tenants.values()])
