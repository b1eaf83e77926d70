"""What the platform's namespace must hold: every pod floe-infra runs there, with room to roll one.

A ResourceQuota refuses any pod that would exceed it. Too small a quota does not fail `pulumi up`
at once: a rolling update (a new setting, a rotation) never gets its new pod, Dagster runs stay
queued, and a Helm release waits out its timeout. So the platform sums what it runs from
platform.yaml (services and their replicas, one code server per tenant, Dagster's concurrent runs,
one extra pod for a rollout, one short Job) and writes the sums onto its ResourceQuota, where the
`quota-fits` guardrail compares them with the quota, in the offline preview and in CrossGuard.
"""

from __future__ import annotations

from dataclasses import dataclass

from floe_infra.config.platform import PlatformConfig
from floe_infra.config.retention import maintained_layers
from floe_infra.config.tenancy import resolve_tenants
from floe_infra.platform.resources import JOB_RESOURCES, resource_profile, service_resources
from floe_infra.quota import PLANNED_ANNOTATION, QUOTA_KEYS, quantity


@dataclass(frozen=True)
class PodGroup:
    """Pods of one kind: how many, and each one's requests and limits."""

    what: str
    count: int
    resources: dict[str, dict[str, str]]

    def amount(self, key: str) -> float:
        """Total of a quota key (`requests.cpu`, `limits.memory`, `pods`) over the group."""
        if key == "pods":
            return float(self.count)
        kind, resource = key.split(".")
        return self.count * quantity(self.resources[kind][resource])


def pod_groups(platform: PlatformConfig) -> list[PodGroup]:
    """Every pod the platform runs in its namespace at steady state (services, code servers, runs)."""
    svc = platform.deployment.services
    groups: list[PodGroup] = []
    per_service = {"object_storage": 1, "database": 1, "catalog": svc.catalog.replicas, "tracing": 1,
                   # Marquez API and web; Dagster webserver and daemon; Cube API, refresh worker, Cube Store
                   # router and worker.
                   "lineage": 2, "orchestration": 2, "semantic": 4}
    for service, count in per_service.items():
        if getattr(svc, service).deploy:
            groups.append(PodGroup(service, count, service_resources(platform, service)))
    if svc.orchestration.deploy:
        transform = resource_profile(platform, "transform")
        transform = {"requests": transform["requests"], "limits": transform["limits"]}
        if tenants := len(resolve_tenants(platform)):
            groups.append(PodGroup("code servers (one per tenant)", tenants, transform))
        groups.append(PodGroup("Dagster runs (max_concurrent_runs)", svc.orchestration.max_concurrent_runs, transform))
    if layers := len(maintained_layers(platform)):
        # Each layer's job starts at the same scheduled time: all of them run at once.
        groups.append(PodGroup("table maintenance jobs (one per layer)", layers,
                               service_resources(platform, "maintenance")))
    return groups


def planned(platform: PlatformConfig) -> dict[str, float]:
    """Quota totals the platform needs: steady state, plus the largest pod (a rollout) and one short Job."""
    groups = pod_groups(platform)
    headroom = [PodGroup("a Job (database setup, bucket creation)", 1, JOB_RESOURCES)]
    if groups:
        largest = max(groups, key=lambda g: (g.amount("limits.memory") / g.count, g.amount("limits.cpu") / g.count))
        headroom.append(PodGroup(f"one more {largest.what} pod during a rollout", 1, largest.resources))
    return {key: sum(g.amount(key) for g in (*groups, *headroom)) for key in QUOTA_KEYS}


def planned_annotations(platform: PlatformConfig) -> dict[str, str]:
    """`planned` as ResourceQuota annotations (CPU in millicores, memory in MiB: exact and readable)."""
    out = {}
    for key, value in planned(platform).items():
        if key.endswith("cpu"):
            text = f"{round(value * 1000)}m"
        elif key.endswith("memory"):
            text = f"{round(value / 2**20)}Mi"
        else:
            text = str(round(value))
        out[f"{PLANNED_ANNOTATION}{key}"] = text
    return out
