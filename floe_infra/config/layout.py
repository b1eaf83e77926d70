"""Where a platform's Polaris catalogs and namespaces live in object storage, and whether Polaris accepts it.

One place computes it: catalog governance creates exactly these catalogs and namespaces
(`floe_infra/polaris/grants.py`), and `floe-infra validate` checks them against the rules Apache
Polaris 1.7.0 applies when it creates a namespace (`LocalIcebergCatalog.createNamespace`, with the
catalog setting `polaris.config.namespace-custom-location.enabled` off, as floe-infra leaves it):

- a namespace is created inside an existing one (or at the top of the catalog): governance creates
  the namespaces above a layer's namespace of more than one level;
- a top-level namespace lies exactly at `<an allowed location of its catalog>/<name>/`, a nested
  one exactly at `<its parent's location>/<name>/` (`validateNamespaceLocation`);
- no namespace lies inside a sibling's location or contains it (`validateNoLocationOverlap`).

Every location ends in '/', as Polaris stores it (`ADD_TRAILING_SLASH_TO_LOCATION`), so what
governance declares is what it reads back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from floe_infra.config.catalog import CatalogType
from floe_infra.config.locations import LOCATION, same_location, without_scheme
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import layer_prefix, resolve_tenants, tenant_prefix
from floe_infra.config.yaml_source import Path_


@dataclass(frozen=True)
class CatalogLayout:
    """A Polaris catalog (warehouse) and the locations its namespaces and tables may use."""

    default_base_location: str
    allowed_locations: tuple[str, ...]


@dataclass(frozen=True)
class NamespaceLayout:
    """A namespace governance creates: its catalog, levels and location, and the layer (and tenant) it is for.

    A `parent` namespace holds a layer's namespace of more than one level (Polaris creates a namespace only
    inside an existing one): no properties, no roles; `layer` is the first layer below it.
    """

    catalog: str
    levels: tuple[str, ...]
    location: str
    layer: str
    tenant: str | None = None
    parent: bool = False


def governed_layers(platform: PlatformConfig) -> list[str]:
    """Layers whose catalog profile is a Polaris (or REST) catalog: the ones governance manages."""
    return [name for name, layer in platform.layers.items()
            if layer.catalog_ref in platform.catalogs and layer.storage_ref in platform.storage
            and platform.catalogs[layer.catalog_ref].type in (CatalogType.POLARIS, CatalogType.REST)]


def _bucket(platform: PlatformConfig, layer: str) -> str:
    return platform.storage[platform.layers[layer].storage_ref].bucket


def catalog_layouts(platform: PlatformConfig) -> dict[str, CatalogLayout]:
    """Each warehouse: `s3://<first layer bucket>/<warehouse>` as its default base location, every layer bucket
    (and the default base location) allowed."""
    bases: dict[str, str] = {}
    allowed: dict[str, set[str]] = {}
    for name in governed_layers(platform):
        warehouse = platform.catalogs[platform.layers[name].catalog_ref].warehouse
        bucket = _bucket(platform, name)
        bases.setdefault(warehouse, f"s3://{bucket}/{warehouse}")
        allowed.setdefault(warehouse, set()).add(f"s3://{bucket}/")
    return {w: CatalogLayout(base, tuple(sorted({*allowed[w], base + "/"}))) for w, base in bases.items()}


def namespace_layouts(platform: PlatformConfig) -> list[NamespaceLayout]:
    """Every namespace governance creates, parents first: each layer's, at `s3://<bucket>/<namespace>/` (and the
    namespaces above it, at the same place in its bucket), then each tenant's in every layer it writes, at
    `<the layer's location><tenant namespace>/`."""
    layers = governed_layers(platform)
    out: dict[tuple[str, tuple[str, ...]], NamespaceLayout] = {}
    for name in layers:
        catalog, levels = platform.catalogs[platform.layers[name].catalog_ref].warehouse, \
            platform.layers[name].namespace_levels
        for depth in range(1, len(levels)):
            out.setdefault((catalog, levels[:depth]), NamespaceLayout(
                catalog, levels[:depth], f"s3://{_bucket(platform, name)}/{'/'.join(levels[:depth])}/", name,
                parent=True))
        out[(catalog, levels)] = NamespaceLayout(catalog, levels,
                                                 f"s3://{_bucket(platform, name)}/{layer_prefix(platform, name)}", name)
    for tenant in resolve_tenants(platform).values():
        for name in dict.fromkeys(tenant.writes):
            if name in layers:
                catalog = platform.catalogs[platform.layers[name].catalog_ref].warehouse
                levels = tenant.namespace_in(platform.layers[name].namespace_levels)
                out.setdefault((catalog, levels), NamespaceLayout(
                    catalog, levels, f"s3://{_bucket(platform, name)}/{tenant_prefix(platform, tenant, name)}", name,
                    tenant.name))
    return sorted(out.values(), key=lambda ns: (len(ns.levels), ns.tenant is not None))


def polaris_refusals(catalogs: dict[str, CatalogLayout], namespaces: list[NamespaceLayout]
                     ) -> Iterator[tuple[NamespaceLayout, str]]:
    """Each namespace Polaris would refuse to create in this order, and why."""
    created: dict[tuple[str, tuple[str, ...]], NamespaceLayout] = {}
    refused: set[tuple[str, tuple[str, ...]]] = set()
    for ns in namespaces:
        dotted = ".".join(ns.levels)
        parent = created.get((ns.catalog, ns.levels[:-1]))
        if len(ns.levels) > 1 and parent is None:
            refused.add((ns.catalog, ns.levels))
            if (ns.catalog, ns.levels[:-1]) not in refused:  # said once, for the outermost
                yield ns, (f"Polaris creates a namespace only inside an existing one, and nothing creates "
                           f"{ns.catalog}.{'.'.join(ns.levels[:-1])}")
            continue
        if parent is None:
            expected = [f"{a if a.endswith('/') else a + '/'}{ns.levels[-1]}/" for a in catalogs[ns.catalog]
                        .allowed_locations]
        else:
            expected = [f"{parent.location}{ns.levels[-1]}/"]
        if not any(same_location(ns.location, e) for e in expected):
            refused.add((ns.catalog, ns.levels))
            yield ns, (f"Polaris accepts namespace {dotted} only at {' or '.join(expected)} (namespace-custom-location "
                       f"is off), not at {ns.location}")
            continue
        for sibling in created.values():
            if sibling.catalog == ns.catalog and sibling.levels[:-1] == ns.levels[:-1]:
                mine, theirs = without_scheme(ns.location), without_scheme(sibling.location)
                if mine.startswith(theirs) or theirs.startswith(mine):
                    yield ns, (f"Polaris refuses namespace {dotted} at {ns.location}: it overlaps namespace "
                               f"{'.'.join(sibling.levels)} at {sibling.location}")
        created[(ns.catalog, ns.levels)] = ns


def check_catalog_layout(platform: PlatformConfig) -> Iterator[tuple[Path_, str]]:
    """Namespaces Polaris 1.7.0 would refuse, found before `pulumi up` sends them."""
    for name in governed_layers(platform):
        if LOCATION in platform.layers[name].properties:
            yield ("layers", name, "properties", LOCATION), (
                f"floe-infra places layer '{name}' at s3://{_bucket(platform, name)}/{layer_prefix(platform, name)}, "
                "the one location Polaris accepts for its namespace (namespace-custom-location is off); remove "
                "'location' from its properties")
    layouts = namespace_layouts(platform)
    parents = {(ns.catalog, ns.levels): ns for ns in layouts if ns.parent}
    for ns, why in polaris_refusals(catalog_layouts(platform), layouts):
        where: Path_ = ("layers", ns.layer, "namespace") if ns.tenant is None else (
            "deployment", "tenants", ns.tenant, "writes",
            list(platform.deployment.tenants[ns.tenant].writes or []).index(ns.layer))
        shared = parents.get((ns.catalog, ns.levels[:-1]))
        hint = (f"its parent namespace {'.'.join(shared.levels)} is at {shared.location}, for layer '{shared.layer}': "
                "keep the layers below one namespace in one bucket, or give them namespaces apart"
                if shared is not None and shared.layer != ns.layer else
                "change the layer's namespace or its storage profile")
        yield where, f"{why}; {hint}"
