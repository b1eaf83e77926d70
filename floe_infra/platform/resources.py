"""Container resources per service, from `infrastructure.resource_profiles` with small defaults."""

from __future__ import annotations

from typing import Any

from floe_infra.config.checks import SERVICE_RESOURCE_CLASSES
from floe_infra.config.infrastructure import ResourceProfile
from floe_infra.config.platform import PlatformConfig

# Used when platform.yaml defines no profile of that class: enough to start every service on a laptop.
DEFAULT_PROFILES: dict[str, dict[str, Any]] = {
    "platform": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "768Mi"}},
    "storage": {"requests": {"cpu": "100m", "memory": "384Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
    "transform": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
}
# Short-lived helper containers (bucket creation, database setup, init containers).
JOB_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "250m", "memory": "256Mi"},
}


def resource_profile(platform: PlatformConfig, name: str) -> dict[str, Any]:
    """Requests, limits and env of a resource class, as Kubernetes `resources` plus `env`."""
    profiles = platform.infrastructure.resource_profiles or {}
    profile: ResourceProfile | None = profiles.get(name)
    if profile is None:
        base = DEFAULT_PROFILES.get(name, DEFAULT_PROFILES["platform"])
        return {"requests": dict(base["requests"]), "limits": dict(base["limits"]), "env": {}}
    return {
        "requests": profile.requests.model_dump(),
        "limits": profile.limits.model_dump(),
        "env": dict(profile.env),
    }


def service_resources(platform: PlatformConfig, service: str) -> dict[str, dict[str, str]]:
    """Kubernetes `resources` for a platform service (its configured or default class)."""
    chosen = getattr(platform.deployment.services, service).resource_profile
    profile = resource_profile(platform, chosen or SERVICE_RESOURCE_CLASSES[service])
    return {"requests": profile["requests"], "limits": profile["limits"]}
