"""Labels every object floe-infra creates carries, whichever tier creates it."""

from __future__ import annotations

PART_OF = "floe"
# The pipeline (tenant) an object or pod belongs to: set by pipeline stacks, selected by the platform's
# per-tenant NetworkPolicies.
PIPELINE_LABEL = "floe.dev/pipeline"


def floe_labels(platform: str, environment: str, component: str) -> dict[str, str]:
    """Labels every object floe-infra creates carries (platform and pipeline stacks alike)."""
    return {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/component": component,
        "floe.dev/platform": platform,
        "floe.dev/environment": environment,
    }


def chart_labels(platform: str, environment: str, component: str) -> dict[str, str]:
    """Labels floe-infra adds to what a Helm chart renders.

    Charts own the `app.kubernetes.io/*` keys of their objects: `component`, `name` and `instance`
    are in their selectors (a pod template label that differs makes the API server refuse the
    workload) and Helm sets `managed-by: Helm`. Ours go under `floe.dev/`, plus `part-of`.
    """
    return {"app.kubernetes.io/part-of": PART_OF, "floe.dev/platform": platform, "floe.dev/environment": environment,
            "floe.dev/component": component}
