"""Rules that span fields or files, each a `check_*` function yielding (path, message).

They run after the models validate, so they can rely on types; the loader turns each finding
into a located `Problem`.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import NoneType
from typing import Any

from pydantic import BaseModel

from floe_infra.config.catalog import CatalogType
from floe_infra.config.egress import check_tenant_egress
from floe_infra.config.layout import check_catalog_layout
from floe_infra.config.pipeline import PipelineConfig
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.retention import advise_retention, check_compute_log_expiry
from floe_infra.config.schema import unwrap_annotation
from floe_infra.config.tenancy import (
    RESERVED_CATALOG_ROLES,
    RESERVED_PRINCIPAL_ROLES,
    RESERVED_PRINCIPALS,
    Tenant,
    compute_log_target,
    layer_prefix,
    normalized,
    read_role,
    resolve_tenants,
    storage_identity,
    tenant_object_names,
    tenant_prefix,
    tenant_storage_profiles,
    write_role,
)
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
    "maintenance": "platform",
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


def check_layers_apart(platform: PlatformConfig) -> Iterator[Finding]:
    """No layer inside another: not its namespace (a tenant's namespace in the outer layer could be the inner
    layer, and its reader role would reach it), not its storage prefix in a shared bucket."""
    layers = list(platform.layers.items())
    for index, (key, layer) in enumerate(layers):
        for other_key, other in layers[:index]:
            mine, theirs = _lowered(layer.namespace_levels), _lowered(other.namespace_levels)
            if layer.warehouse == other.warehouse and mine != theirs and (
                    mine[:len(theirs)] == theirs or theirs[:len(mine)] == mine):
                inner, outer = (key, other_key) if len(mine) > len(theirs) else (other_key, key)
                yield ("layers", key, "namespace"), (
                    f"the namespace of layer '{inner}' lies inside the namespace of layer '{outer}': a tenant's "
                    f"namespace in '{outer}' could be '{inner}', and readers of '{outer}' would read it; give each "
                    "layer a namespace of its own beside the others (e.g. lakehouse.silver, lakehouse.gold)")
                continue
            bucket = _bucket(platform, layer.storage_ref)
            if bucket is None or bucket != _bucket(platform, other.storage_ref):
                continue
            mine_prefix, theirs_prefix = layer_prefix(platform, key), layer_prefix(platform, other_key)
            if mine_prefix.startswith(theirs_prefix) or theirs_prefix.startswith(mine_prefix):
                yield ("layers", key, "namespace"), (
                    f"layers '{other_key}' and '{key}' keep their data under overlapping prefixes ('{theirs_prefix}', "
                    f"'{mine_prefix}') of bucket '{bucket}': storage access to one would reach the other; give them "
                    "different namespaces or different buckets")


def _bucket(platform: PlatformConfig, profile: str) -> str | None:
    return platform.storage[profile].bucket if profile in platform.storage else None


def _lowered(levels: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(level.lower() for level in levels)


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
    """Tenants use existing layers, reserved names of no one, and names nobody else has (compared without case
    or the difference between '-' and '_')."""
    tenants = resolve_tenants(platform)
    platform_name = platform.deployment.name
    for name, tenant in tenants.items():
        if name == platform_name or name.startswith(f"{platform_name}-"):
            yield ("deployment", "tenants", name), (
                f"tenant names '{platform_name}' and '{platform_name}-*' are reserved: the platform's own objects are "
                f"named so ('{platform_name}-s3-credentials', '{platform_name}-dagster-floe-env', ...) and a tenant's "
                "objects would take their names; choose another name")
        for field in ("writes", "reads"):
            layers = getattr(tenant, field)
            for index, layer in enumerate(layers):
                if layer not in platform.layers:
                    yield ("deployment", "tenants", name, field, index), (
                        f"layer '{layer}' does not exist ({known_names(platform.layers)})")
                elif layer in layers[:index]:
                    yield ("deployment", "tenants", name, field, index), f"layer '{layer}' is listed twice"
        for field, reserved, what in (("service_account", RESERVED_PRINCIPALS, "principal"),
                                      ("principal_role", RESERVED_PRINCIPAL_ROLES, "principal role")):
            value = getattr(tenant, field)
            if normalized(value) in reserved:
                yield _tenant_field(platform, name, field), (
                    f"'{value}' is Polaris' own {what} and reserved: a tenant using it would take over or lock out "
                    f"catalog governance; choose another {field}")
    yield from _collisions(platform, tenants)


def _tenant_field(platform: PlatformConfig, name: str, field: str) -> Path_:
    """Where a tenant setting is written, or the tenant itself when it is a default."""
    written = getattr(platform.deployment.tenants[name], field, None) is not None
    return ("deployment", "tenants", name, field) if written else ("deployment", "tenants", name)


def _collisions(platform: PlatformConfig, tenants: Mapping[str, Tenant]) -> Iterator[Finding]:
    """Two tenants (or a tenant and the platform) that would get the same Polaris or Kubernetes name."""
    owners: dict[tuple[str, str], tuple[str, str]] = {}  # (kind, normalized name) -> (owner, how)

    def claim(kind: str, value: str, owner: str, how: str, at: Path_) -> Iterator[Finding]:
        key = (kind, normalized(value))
        if key in owners and owners[key][0] != owner:
            first, first_how = owners[key]
            yield at, (f"{how} '{value}' collides with {first_how} of {first} (names are compared without case "
                       f"and '-' vs '_'); rename one of them")
        owners.setdefault(key, (owner, how))

    for layer in platform.layers:
        catalog = platform.catalogs.get(platform.layers[layer].catalog_ref)
        if catalog is not None:
            yield from claim(f"catalog role in {catalog.warehouse}", read_role(layer), f"layer '{layer}'",
                             "its reader role", ("layers", layer))
    for secret in _secret_refs(platform, []):
        yield from claim("object", secret, "the platform", f"Secret '{secret}'", ())
    for name, tenant in tenants.items():
        who = f"tenant '{name}'"
        yield from claim("principal", tenant.service_account, who, "its service_account",
                         _tenant_field(platform, name, "service_account"))
        yield from claim("principal role", tenant.principal_role, who, "its principal_role",
                         _tenant_field(platform, name, "principal_role"))
        yield from claim("namespace", tenant.namespace, who, "its namespace",
                         _tenant_field(platform, name, "namespace"))
        for layer in tenant.writes:
            catalog = platform.catalogs.get(platform.layers[layer].catalog_ref) if layer in platform.layers else None
            if catalog is not None:
                role = write_role(tenant, layer)
                if normalized(role) in RESERVED_CATALOG_ROLES:
                    yield _tenant_field(platform, name, "namespace"), f"catalog role '{role}' is reserved by Polaris"
                yield from claim(f"catalog role in {catalog.warehouse}", role, who,
                                 f"its writer role for layer '{layer}'", ("deployment", "tenants", name, "writes"))
        for what, object_name in tenant_object_names(tenant).items():
            yield from claim("object", object_name, who, f"its {what}", ("deployment", "tenants", name))


def _secret_refs(value: object, found: list[str]) -> list[str]:
    """Every Secret name platform.yaml references (`secret_ref`, `*_secret_ref`), defaults included, into `found`.

    Only the fields that may hold one are visited (`_secret_ref_fields`): a platform with 100,000 storage profiles
    is read in a fraction of what dumping it would take.
    """
    if isinstance(value, BaseModel):
        items: Iterable[tuple[object, object]] = ((name, getattr(value, name))
                                                  for name in _secret_ref_fields(type(value)))
    elif isinstance(value, dict):
        items = value.items()
    else:
        items = enumerate(value)  # type: ignore[arg-type]  # lists and tuples: the only other containers here
    for key, item in items:
        if isinstance(item, str):
            if isinstance(key, str) and key.endswith("secret_ref"):
                found.append(item)
        elif isinstance(item, BaseModel | dict | list | tuple):
            _secret_refs(item, found)
    return found


@functools.cache
def _secret_ref_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` that are a Secret name or may hold one."""
    return tuple(name for name, info in model.model_fields.items()
                 if name.endswith("secret_ref") or _may_hold_secret_refs(info.annotation, frozenset({model})))


def _may_hold_secret_refs(annotation: Any, seen: frozenset[type]) -> bool:
    for alt in unwrap_annotation(annotation):
        origin = typing.get_origin(alt)
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            if alt not in seen and any(name.endswith("secret_ref") or _may_hold_secret_refs(info.annotation,
                                                                                            seen | {alt})
                                       for name, info in alt.model_fields.items()):
                return True
        elif origin is typing.Literal or (isinstance(alt, type) and issubclass(alt, str | int | float | NoneType)):
            continue  # plain values (enums, booleans among them): nothing inside
        elif origin in (dict, list, tuple, set, frozenset):
            if any(_may_hold_secret_refs(arg, seen) for arg in typing.get_args(alt) if arg is not Ellipsis):
                return True
        else:
            return True  # Any, or a type not foreseen here: look inside
    return False


def check_tenant_storage(platform: PlatformConfig) -> Iterator[Finding]:
    """Every tenant gets storage credentials of its own wherever its layers are, and the compute-log prefix its
    run pods write to is one of its own (never empty, never inside a layer)."""
    tenants = resolve_tenants(platform)
    for name, tenant in tenants.items():
        for profile in tenant_storage_profiles(platform, tenant):
            identity = storage_identity(platform, profile)
            if identity is None:
                yield ("deployment", "tenants", name), (
                    f"tenant '{name}' uses storage profile '{profile}', where floe-infra cannot give it credentials of "
                    "its own (only the platform's MinIO users and AWS IAM roles can be scoped to a tenant's prefixes), "
                    "and it never hands a tenant the platform's storage key; put its layers on the platform's MinIO, "
                    "or on AWS S3 with credentials.mode: iam_role")
            elif identity == "irsa" and platform.deployment.workload_identity.oidc_provider_arn is None:
                yield ("deployment", "tenants", name), (
                    f"tenant '{name}' uses AWS S3 (storage profile '{profile}'): each tenant gets an IAM role of its "
                    "own (IRSA), which needs deployment.workload_identity.oidc_provider_arn, the EKS cluster's OIDC "
                    "provider")
    target = compute_log_target(platform)
    if not tenants or target is None:
        return
    bucket, prefix = target
    where: Path_ = ("observability", "compute_logs") if platform.observability.compute_logs else ("observability",)
    if not prefix:
        yield where, "compute logs need a prefix when the platform hosts tenants: their run pods may write below it"
    for layer, cfg in platform.layers.items():
        if _bucket(platform, cfg.storage_ref) == bucket and (
                prefix.startswith(layer_prefix(platform, layer)) or layer_prefix(platform, layer).startswith(prefix)):
            yield where, (f"compute logs ('{prefix}' in bucket '{bucket}') overlap layer '{layer}': tenants' run pods "
                          "may write compute logs, so they could write into the layer; use another prefix")


PLATFORM_CHECKS = (check_layer_references, check_layers_apart, check_catalog_layout, check_compute_logs,
                   check_services, check_tenants, check_tenant_storage, check_tenant_egress,
                   check_compute_log_expiry)


def advise_least_privilege(platform: PlatformConfig) -> Iterator[Finding]:
    """A tenant without `writes` or `reads` gets none (not every layer): say so, since it may be an oversight."""
    for name, cfg in platform.deployment.tenants.items():
        for field, what in (("writes", "writes no layer"), ("reads", "reads no layer")):
            if getattr(cfg, field) is None:
                yield ("deployment", "tenants", name), (
                    f"tenant '{name}' sets no {field}, so it {what} (least privilege); list the layers it "
                    f"{field[:-1]}s, or write `{field}: []` to say none on purpose")


PLATFORM_ADVICE = (advise_least_privilege, advise_retention)


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


# Iceberg table properties that place files (the table's own `location` is never a property).
LOCATION_PROPERTIES = frozenset({"write.data.path", "write.metadata.path", "write.object-storage.path",
                                 "write.folder-storage.path"})


def location_property(key: str, value: str) -> bool:
    """Whether a table property places data or metadata files: a known one, any `*.path`/`*location`, or a URI."""
    return key in LOCATION_PROPERTIES or key.endswith((".path", "location")) or "://" in value


def inside_location(value: str, location: str) -> bool:
    """Whether `value` names a place strictly inside `location` (`s3://bucket/prefix/`), with no '.', '..' or
    empty segment, escape or other scheme to get around the prefix."""
    if not value.startswith(location) or any(c in value for c in "\\%?#") or any(ord(c) <= 32 for c in value):
        return False
    rest = value[len(location):].rstrip("/")
    return all(part not in ("", ".", "..") for part in rest.split("/")) if rest else True


def tenant_locations(platform: PlatformConfig, tenant: Tenant) -> dict[str, str]:
    """Layer -> the tenant's own `s3://bucket/prefix/` in each layer it writes."""
    return {layer: f"s3://{platform.storage[platform.layers[layer].storage_ref].bucket}/"
                   f"{tenant_prefix(platform, tenant, layer)}"
            for layer in tenant.writes if layer in platform.layers and platform.layers[layer].storage_ref
            in platform.storage}


PIPELINE_CHECKS = (check_orchestration_references, check_table_names, check_table_renames)


@dataclass(frozen=True)
class HostedTenant:
    """A tenant as a pipeline is checked against it.

    Attributes:
        service_account: Polaris principal.
        principal_role: Polaris principal role.
        writes: Layers it writes.
        locations: Layer -> its own storage location (`s3://bucket/prefix/`) in each layer it writes.
    """

    service_account: str
    principal_role: str
    writes: Collection[str]
    locations: Mapping[str, str]


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
        tenants={name: HostedTenant(t.service_account, t.principal_role, t.writes, tenant_locations(platform, t))
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
        elif tenant is not None and table.layer in tenant.locations:
            for key, value in table.properties.items():
                if location_property(key, value) and not inside_location(value, tenant.locations[table.layer]):
                    yield ("tables", index, "properties", key), (
                        f"'{key}' must stay inside the tenant's own location in layer '{table.layer}' "
                        f"({tenant.locations[table.layer]}): a table writing elsewhere would write into another "
                        "tenant's or the platform's data; remove it (tables get a location inside it by default)")
    if pipeline.orchestration is not None and view.orchestration is False:
        yield ("orchestration",), (f"{where} deploys no Dagster; remove `orchestration` or ask the platform team "
                                   "to enable deployment.services.orchestration")
    if pipeline.consumption.enabled and not view.semantic:
        yield ("consumption", "enabled"), f"{where} deploys no Cube (deployment.services.semantic)"
