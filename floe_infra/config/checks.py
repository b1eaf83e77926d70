"""Rules that span fields or files, each a `check_*` function yielding (path, message).

They run after the models validate, so they can rely on types; the loader turns each finding
into a located `Problem`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from floe_infra.config.catalog import CatalogType
from floe_infra.config.pipeline import PipelineConfig
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import resolve_tenants
from floe_infra.config.yaml_source import Path_

Finding = tuple[Path_, str]

# Default resource class of each service (infrastructure.resource_profiles key).
SERVICE_RESOURCE_CLASSES = {
    "object_storage": "storage",
    "database": "storage",
    "catalog": "storage",
    "tracing": "platform",
    "lineage": "platform",
    "orchestration": "platform",
    "semantic": "platform",
}


def known_names(names: Collection[object]) -> str:
    """`known: a, b` for an error message listing what exists."""
    listed = ", ".join(sorted(str(n) for n in names)) if names else "none defined"
    return f"known: {listed}"


def check_layer_references(platform: PlatformConfig) -> Iterator[Finding]:
    """Layers point at existing storage and catalog profiles, in the catalog's warehouse."""
    namespaces: dict[str, str] = {}
    for key, layer in platform.layers.items():
        if layer.storage_ref not in platform.storage:
            yield ("layers", key, "storage_ref"), (
                f"storage profile '{layer.storage_ref}' does not exist ({known_names(platform.storage)})")
        catalog = platform.catalogs.get(layer.catalog_ref)
        if catalog is None:
            yield ("layers", key, "catalog_ref"), (
                f"catalog profile '{layer.catalog_ref}' does not exist ({known_names(platform.catalogs)})")
        elif layer.warehouse != catalog.warehouse:
            yield ("layers", key, "namespace"), (
                f"namespace '{layer.namespace}' must start with the warehouse of catalog "
                f"'{layer.catalog_ref}' ('{catalog.warehouse}.')")
        if layer.namespace in namespaces:
            yield ("layers", key, "namespace"), (
                f"namespace '{layer.namespace}' is already used by layer '{namespaces[layer.namespace]}'")
        namespaces.setdefault(layer.namespace, key)


def check_compute_logs(platform: PlatformConfig) -> Iterator[Finding]:
    """Compute logs go to an existing storage profile."""
    logs = platform.observability.compute_logs
    if logs is not None and logs.enabled and logs.storage_ref not in platform.storage:
        yield ("observability", "compute_logs", "storage_ref"), (
            f"storage profile '{logs.storage_ref}' does not exist ({known_names(platform.storage)})")


def check_services(platform: PlatformConfig) -> Iterator[Finding]:
    """Deployed services have what they need; resource profiles exist."""
    services = platform.deployment.services
    profiles = platform.infrastructure.resource_profiles or {}
    for name in SERVICE_RESOURCE_CLASSES:
        chosen = getattr(services, name).resource_profile
        if chosen is not None and chosen not in profiles:
            yield ("deployment", "services", name, "resource_profile"), (
                f"resource profile '{chosen}' is not in infrastructure.resource_profiles ({known_names(profiles)})")
    if services.catalog.deploy and platform.catalogs and not any(
        c.type in (CatalogType.POLARIS, CatalogType.REST) for c in platform.catalogs.values()
    ):
        yield ("deployment", "services", "catalog", "deploy"), (
            "Polaris is deployed but every catalog profile is of another type; add a polaris profile or "
            "set deploy: false")
    if services.object_storage.deploy and not any(not p.is_aws for p in platform.storage.values()):
        yield ("deployment", "services", "object_storage", "deploy"), (
            "MinIO is deployed but every storage profile targets AWS S3 (no endpoint); give the in-cluster "
            "profiles an endpoint or set deploy: false")


def check_tenants(platform: PlatformConfig) -> Iterator[Finding]:
    """Tenants use existing layers and unique identities and namespaces."""
    seen: dict[str, dict[str, str]] = {"service_account": {}, "principal_role": {}, "namespace": {}}
    for name, tenant in resolve_tenants(platform).items():
        for field in ("writes", "reads"):
            for layer in getattr(tenant, field):
                if layer not in platform.layers:
                    yield ("deployment", "tenants", name, field), (
                        f"layer '{layer}' does not exist ({known_names(platform.layers)})")
        for field, owners in seen.items():
            value = getattr(tenant, field)
            if value in owners:
                yield ("deployment", "tenants", name), (
                    f"{field} '{value}' is already used by tenant '{owners[value]}'")
            owners.setdefault(value, name)


PLATFORM_CHECKS = (check_layer_references, check_compute_logs, check_services, check_tenants)


def check_orchestration_references(pipeline: PipelineConfig) -> Iterator[Finding]:
    """Schedules and sensors run jobs that exist."""
    orchestration = pipeline.orchestration
    if orchestration is None:
        return
    jobs = orchestration.jobs
    for kind, entries in (("schedules", orchestration.schedules), ("sensors", orchestration.sensors)):
        for key, entry in entries.items():
            if entry.job not in jobs:
                yield ("orchestration", kind, key, "job"), f"job '{entry.job}' does not exist ({known_names(jobs)})"


def check_table_names(pipeline: PipelineConfig) -> Iterator[Finding]:
    """Table names are unique per layer."""
    seen: set[tuple[str, str]] = set()
    for index, table in enumerate(pipeline.tables):
        if (table.layer, table.name) in seen:
            yield ("tables", index, "name"), f"table '{table.name}' is declared twice in layer '{table.layer}'"
        seen.add((table.layer, table.name))


def check_table_renames(pipeline: PipelineConfig) -> Iterator[Finding]:
    """`renamed_from` names a table that is no longer declared, and only one table claims it.

    Renaming a table that is still declared would move its data to the new name and create the
    old name again, empty.
    """
    declared = {(t.layer, t.name) for t in pipeline.tables}
    claimed: dict[tuple[str, str], str] = {}
    for index, table in enumerate(pipeline.tables):
        if table.renamed_from is None:
            continue
        old = (table.layer, table.renamed_from)
        if old in declared:
            yield ("tables", index, "renamed_from"), (
                f"table '{table.renamed_from}' is still declared in layer '{table.layer}': a table can only be "
                f"renamed from a name floe.yaml no longer declares; remove '{table.renamed_from}' to rename it to "
                f"'{table.name}', or drop renamed_from to declare a new table")
        elif old in claimed:
            yield ("tables", index, "renamed_from"), (
                f"tables '{claimed[old]}' and '{table.name}' are both renamed from '{table.renamed_from}'; only one "
                "can be")
        claimed.setdefault(old, table.name)


PIPELINE_CHECKS = (check_orchestration_references, check_table_names, check_table_renames)


@dataclass(frozen=True)
class HostedTenant:
    """A tenant as a pipeline is checked against it."""

    service_account: str
    principal_role: str
    writes: Collection[str]


@dataclass(frozen=True)
class PlatformView:
    """What a floe.yaml is checked against: read from platform.yaml (`validate`) or from the platform
    stack's contract (a pipeline stack), so both apply the same rules.

    Attributes:
        name: How messages name the platform (`the platform`, `platform 'floe' (dev)`).
        storage, catalogs, compute, layers: Profile and layer names.
        tenants: Hosted pipelines by name.
        orchestration: Whether it deploys Dagster (None: not known, not checked).
        semantic: Whether it deploys Cube.
    """

    name: str
    storage: Collection[str]
    catalogs: Collection[str]
    compute: Collection[str]
    layers: Collection[str]
    tenants: Mapping[str, HostedTenant]
    orchestration: bool | None
    semantic: bool


def platform_view(platform: PlatformConfig) -> PlatformView:
    """The view of a platform.yaml."""
    services = platform.deployment.services
    return PlatformView(
        name="the platform", storage=platform.storage, catalogs=platform.catalogs, compute=platform.compute,
        layers=platform.layers,
        tenants={name: HostedTenant(t.service_account, t.principal_role, t.writes)
                 for name, t in resolve_tenants(platform).items()},
        orchestration=services.orchestration.deploy, semantic=services.semantic.deploy)


def check_pipeline_against(pipeline: PipelineConfig, view: PlatformView) -> Iterator[Finding]:
    """floe.yaml's profiles, layers, identity and services exist on the platform and are the tenant's."""
    where = view.name
    for field, profiles in (("storage", view.storage), ("catalog", view.catalogs), ("compute", view.compute)):
        ref = getattr(pipeline, field)
        if ref not in profiles:
            yield (field,), f"{field} profile '{ref}' is not defined by {where} ({known_names(profiles)})"
    tenant = view.tenants.get(pipeline.name)
    if tenant is None:
        yield ("name",), (f"pipeline '{pipeline.name}' is not a tenant of {where} ({known_names(view.tenants)}); "
                          f"the platform team onboards it with deployment.tenants.{pipeline.name} in platform.yaml")
    for field in ("service_account", "principal_role"):
        given = getattr(pipeline, field)
        if tenant is not None and given is not None and given != getattr(tenant, field):
            yield (field,), f"'{given}' is not this pipeline's identity on {where}, which is '{getattr(tenant, field)}'"
    for index, table in enumerate(pipeline.tables):
        if table.layer not in view.layers:
            yield ("tables", index, "layer"), (
                f"layer '{table.layer}' does not exist on {where} ({known_names(view.layers)})")
        elif tenant is not None and table.layer not in tenant.writes:
            yield ("tables", index, "layer"), (
                f"tenant '{pipeline.name}' may not write layer '{table.layer}' on {where} "
                f"(it writes: {', '.join(tenant.writes) or 'none'})")
    if pipeline.orchestration is not None and view.orchestration is False:
        yield ("orchestration",), (f"{where} deploys no Dagster; remove `orchestration` or ask the platform team "
                                   "to enable deployment.services.orchestration")
    if pipeline.consumption.enabled and not view.semantic:
        yield ("consumption", "enabled"), f"{where} deploys no Cube (deployment.services.semantic)"
