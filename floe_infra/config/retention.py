"""What retention means in a platform.yaml, and the rules that keep it from deleting live data.

A layer's retention (`retention_days`, else its storage profile's `lifecycle.expiration_days`)
is enforced on its Iceberg tables by a maintenance job (floe_infra/iceberg/maintenance.py), never
by an S3 lifecycle rule on the objects themselves. The only current objects a lifecycle rule
expires are compute logs, under their own prefix: that prefix must hold nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator

from floe_infra.config.base import SecretReference
from floe_infra.config.catalog import CatalogType
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import compute_log_target, layer_prefix
from floe_infra.config.yaml_source import Path_

# Catalogs the maintenance job reaches: the Iceberg REST protocol (Polaris speaks it).
MAINTAINED_CATALOGS = (CatalogType.POLARIS, CatalogType.REST)
CUBESTORE_PREFIX = "cubestore/"

Finding = tuple[Path_, str]


def layer_retention_days(platform: PlatformConfig, layer: str) -> int | None:
    """A layer's retention in days: its own, else its storage profile's `lifecycle.expiration_days`, else None."""
    cfg = platform.layers[layer]
    if cfg.retention_days:
        return cfg.retention_days
    profile = platform.storage.get(cfg.storage_ref)
    return profile.lifecycle.expiration_days if profile and profile.lifecycle else None


def unmaintained_layers(platform: PlatformConfig) -> dict[str, str]:
    """Layers with a retention that no maintenance job enforces, with the reason."""
    out: dict[str, str] = {}
    deploy = platform.deployment.services.maintenance.deploy
    for name, layer in platform.layers.items():
        if layer_retention_days(platform, name) is None or layer.catalog_ref not in platform.catalogs:
            continue
        catalog = platform.catalogs[layer.catalog_ref]
        if not deploy:
            out[name] = "deployment.services.maintenance.deploy is false"
        elif catalog.type not in MAINTAINED_CATALOGS:
            out[name] = f"its catalog '{layer.catalog_ref}' is of type {catalog.type}, which the job cannot reach"
        elif isinstance(catalog.uri, SecretReference) and not platform.deployment.services.catalog.deploy:
            out[name] = f"its catalog '{layer.catalog_ref}' has its URI in a Secret, which the job cannot read"
    return out


def maintained_layers(platform: PlatformConfig) -> list[str]:
    """Layers whose retention a maintenance job enforces (one CronJob each)."""
    skipped = unmaintained_layers(platform)
    return [name for name in platform.layers
            if name not in skipped and layer_retention_days(platform, name) is not None]


def glacier_days(platform: PlatformConfig, bucket: str) -> int | None:
    """Days before a noncurrent version of an AWS bucket moves to Glacier, when that comes before its removal."""
    days = [p.lifecycle.transition_to_glacier for p in platform.storage.values()
            if p.bucket == bucket and p.lifecycle and p.lifecycle.transition_to_glacier]
    noncurrent = platform.deployment.services.object_storage.noncurrent_version_days
    return min(days) if days and min(days) < noncurrent else None


def protected_prefixes(platform: PlatformConfig, bucket: str) -> list[tuple[str, str]]:
    """Prefixes of a bucket that readers open live: each layer's, each warehouse's default location, Cube Store's."""
    out: list[tuple[str, str]] = []
    for name, layer in platform.layers.items():
        profile = platform.storage.get(layer.storage_ref)
        if profile is None or profile.bucket != bucket:
            continue
        out.append((f"layer '{name}'", layer_prefix(platform, name)))
        if layer.catalog_ref in platform.catalogs:
            out.append((f"the warehouse of catalog '{layer.catalog_ref}'",
                        f"{platform.catalogs[layer.catalog_ref].warehouse}/"))
    default = platform.storage.get("default")
    if platform.deployment.services.semantic.deploy and default is not None and default.bucket == bucket:
        out.append(("Cube Store", CUBESTORE_PREFIX))
    return out


def check_compute_log_expiry(platform: PlatformConfig) -> Iterator[Finding]:
    """The compute-log prefix, whose objects a lifecycle rule expires, holds nothing a reader needs."""
    target = compute_log_target(platform)
    logs = platform.s3_compute_logs
    if target is None or logs is None or not platform.storage[logs.storage_ref].is_aws \
            or not platform.deployment.services.object_storage.manage_aws_buckets:
        return  # only AWS buckets floe-infra owns get lifecycle rules
    bucket, prefix = target
    where: Path_ = ("observability", "compute_logs", "prefix")
    if not prefix:
        yield where, (f"compute logs expire after compute_logs.retention_days ({logs.retention_days}) under their "
                      f"prefix, and an empty prefix is all of bucket '{bucket}'; give them a prefix of their own, "
                      "e.g. compute-logs/")
        return
    for what, other in protected_prefixes(platform, bucket):
        if prefix.startswith(other) or other.startswith(prefix):
            yield where, (f"compute logs ('{prefix}' in bucket '{bucket}') overlap {what} ('{other}'), and compute "
                          f"logs expire after {logs.retention_days} days; use a prefix of their own")


def advise_retention(platform: PlatformConfig) -> Iterator[Finding]:
    """Retention settings that do nothing, and retentions nothing enforces."""
    for name, reason in unmaintained_layers(platform).items():
        yield ("layers", name, "retention_days"), (
            f"layer '{name}' keeps {layer_retention_days(platform, name)} days of history, but no maintenance job "
            f"enforces it: {reason}; run `floe-infra maintenance run --platform <file> --layer {name}` on a "
            "schedule of your own (docs/operations.md)")
    noncurrent = platform.deployment.services.object_storage.noncurrent_version_days
    holders = {platform.storage[layer.storage_ref].bucket for layer in platform.layers.values()
               if layer.storage_ref in platform.storage}
    for name, profile in platform.storage.items():
        lifecycle = profile.lifecycle
        if lifecycle is None or not profile.is_aws:
            continue
        if lifecycle.transition_to_glacier and glacier_days(platform, profile.bucket) is None:
            yield ("storage", name, "lifecycle", "transition_to_glacier"), (
                f"archives only noncurrent object versions, which S3 removes after {noncurrent} days "
                "(deployment.services.object_storage.noncurrent_version_days), before this transition; it has no "
                "effect (floe-infra never archives current objects: every reader opens them live)")
        if lifecycle.expiration_days and profile.bucket not in holders:
            yield ("storage", name, "lifecycle", "expiration_days"), (
                f"is the retention of the layers in bucket '{profile.bucket}', which holds none; it has no effect "
                "(floe-infra never expires current objects by lifecycle rule)")
