"""Human-readable summary of a valid configuration, printed by `floe-infra validate`."""

from __future__ import annotations

from floe_infra.config.loader import Loaded
from floe_infra.config.pipeline import PipelineConfig
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.retention import layer_retention_days, unmaintained_layers
from floe_infra.config.tenancy import resolve_tenants
from floe_infra.topology import build_topology


def platform_summary(loaded: Loaded[PlatformConfig]) -> list[str]:
    """Lines describing profiles, layers, services (deployed or referenced) and tenants."""
    cfg = loaded.config
    topo = build_topology(cfg)
    dep = cfg.deployment
    lines = [f"platform {loaded.document.file}: version {cfg.version}, environment {dep.environment}, "
             f"namespace {dep.namespace}"]
    by_profile = {b.profile: b for b in topo.buckets}
    for name, profile in cfg.storage.items():
        plan = by_profile[name]
        lines.append(f"  storage  {name}: bucket {profile.bucket} ({plan.provisioner.value}"
                     f"{', ' + plan.region if plan.provisioner.value == 'aws' else ''})")
    for name, catalog in cfg.catalogs.items():
        lines.append(f"  catalog  {name}: {catalog.type} warehouse {catalog.warehouse}")
    for name, compute in cfg.compute.items():
        lines.append(f"  compute  {name}: {compute.type}")
    unmaintained = unmaintained_layers(cfg)
    for name, layer in cfg.layers.items():
        days = layer_retention_days(cfg, name)
        retention = "" if days is None else (
            f", retention {days} days ({'not enforced' if name in unmaintained else 'maintenance job'})")
        lines.append(f"  layer    {name}: namespace {layer.namespace}, storage {layer.storage_ref}{retention}")
    for plan in topo.services.values():
        if plan.deployed:
            state = f"deploys {plan.product} (release {plan.release})"
        elif plan.endpoints:
            state = f"references {plan.product} at {', '.join(plan.endpoints.values())}"
        else:
            state = f"does not deploy or reference {plan.product}"
        lines.append(f"  service  {plan.key}: {state}")
    for tenant in resolve_tenants(cfg).values():
        lines.append(f"  tenant   {tenant.name}: principal {tenant.service_account}, role {tenant.principal_role}, "
                     f"writes {', '.join(tenant.writes) or '-'}, reads {', '.join(tenant.reads) or '-'}")
    return lines


def pipeline_summary(loaded: Loaded[PipelineConfig]) -> list[str]:
    """Lines describing a pipeline's references and contents."""
    cfg = loaded.config
    jobs = len(cfg.orchestration.jobs) if cfg.orchestration else 0
    return [
        f"pipeline {loaded.document.file}: {cfg.name} {cfg.version}",
        f"  profiles storage {cfg.storage}, catalog {cfg.catalog}, compute {cfg.compute}",
        f"  {len(cfg.tables)} tables, {len(cfg.transforms)} transforms, {jobs} jobs, "
        f"semantic layer {'on' if cfg.consumption.enabled else 'off'}",
    ]
