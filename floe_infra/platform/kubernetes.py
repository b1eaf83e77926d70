"""Kubernetes foundation: the explicit provider, the platform namespace, its quota and limits.

Nothing here uses an ambient kubeconfig: the provider is built from stack config, and every
other Kubernetes resource of the platform is created through it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.platform import PlatformConfig
from floe_infra.platform.capacity import planned_annotations
from floe_infra.platform.resources import resource_profile

PART_OF = "floe"
# In the pod template of every workload floe-infra configures: a digest of what it reads (see config_digest).
CONFIG_DIGEST_ENV = "FLOE_CONFIG_DIGEST"
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


def platform_chart_labels(platform: PlatformConfig, component: str) -> dict[str, str]:
    """`chart_labels` of a platform service."""
    return chart_labels(platform.deployment.name, str(platform.deployment.environment), component)


def component_selector(platform: PlatformConfig, component: str) -> dict[str, str]:
    """Labels selecting the pods of a platform chart (those `platform_chart_labels` put on them)."""
    return {"floe.dev/platform": platform.deployment.name, "floe.dev/component": component}


def platform_labels(platform: PlatformConfig, component: str) -> dict[str, str]:
    """Labels every platform object carries."""
    return floe_labels(platform.deployment.name, str(platform.deployment.environment), component)


def object_meta(platform: PlatformConfig, name: pulumi.Input[str], component: str, namespace: pulumi.Input[str],
                **extra_labels: str) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata of a namespaced platform object with a fixed name."""
    return k8s.meta.v1.ObjectMetaArgs(
        name=name, namespace=namespace, labels={**platform_labels(platform, component), **extra_labels})


def env_from_secret(name: str, secret: str, key: str) -> k8s.core.v1.EnvVarArgs:
    """An environment variable read from a key of a Secret (the value never enters the spec)."""
    return k8s.core.v1.EnvVarArgs(name=name, value_from=k8s.core.v1.EnvVarSourceArgs(
        secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=key)))


def config_digest(objects: Sequence[k8s.core.v1.ConfigMap | k8s.core.v1.Secret],
                  *extra: pulumi.Input[str]) -> pulumi.Output[str]:
    """A short digest of the versions of the ConfigMaps and Secrets a workload reads, and of `extra`.

    Kubernetes restarts nothing when a ConfigMap or Secret changes (and never updates files mounted
    with subPath): a workload carrying this digest in its pod template (`FLOE_CONFIG_DIGEST`) rolls
    when one of them changes, a rotated password or a new setting included. Object versions
    (`resourceVersion`) change exactly when the object is written, and carry no value of a Secret.
    """
    versions = [o.metadata.apply(lambda m: (m.resource_version or "") if m else "") for o in objects]
    return pulumi.Output.all(*versions, *extra).apply(
        lambda parts: hashlib.sha256("\n".join(str(p) for p in parts).encode()).hexdigest()[:16])


def config_digest_env(objects: Sequence[k8s.core.v1.ConfigMap | k8s.core.v1.Secret],
                      *extra: pulumi.Input[str]) -> dict[str, Any]:
    """`config_digest` as an env var entry of a Helm values env list."""
    return {"name": CONFIG_DIGEST_ENV, "value": config_digest(objects, *extra)}


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach the cluster, from stack config (`floe:kubeconfig`, `floe:kubeContext`)."""

    kubeconfig: pulumi.Input[str] | None = field(repr=False)
    context: str | None


def cluster_provider(name: str, access: ClusterAccess, opts: pulumi.ResourceOptions) -> k8s.Provider:
    """The explicit Kubernetes provider every Kubernetes resource of a stack goes through."""
    # ConfigMaps and Secrets keep their names, which other objects (and the other tier) reference:
    # a change updates them in place rather than the provider's default delete-and-recreate, which
    # leaves a window without the object; workloads that read them roll through their annotations.
    return k8s.Provider(name, k8s.ProviderArgs(kubeconfig=access.kubeconfig, context=access.context,
                                               enable_server_side_apply=True, enable_config_map_mutable=True,
                                               enable_secret_mutable=True), opts=opts)


class KubernetesFoundation(pulumi.ComponentResource):
    """Namespace, ResourceQuota and LimitRange of the platform, through an explicit provider."""

    provider: k8s.Provider
    namespace: k8s.core.v1.Namespace
    namespace_name: pulumi.Output[str]
    quota: k8s.core.v1.ResourceQuota | None
    limit_range: k8s.core.v1.LimitRange | None

    def __init__(self, name: str, platform: PlatformConfig, access: ClusterAccess,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:KubernetesFoundation", name, None, opts)
        self._platform = platform
        self.provider = cluster_provider(f"{name}-provider", access, pulumi.ResourceOptions(parent=self))
        self.namespace = self._create_namespace(name)
        self.namespace_name = self.namespace.metadata.name
        self.quota, self.limit_range = self._create_quota(name)
        self.register_outputs({"namespace": self.namespace_name})

    def _create_namespace(self, name: str) -> k8s.core.v1.Namespace:
        dep = self._platform.deployment
        return k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=dep.namespace, labels=platform_labels(self._platform, "namespace")),
            # Deleting the namespace deletes every volume in it: never outside local.
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, protect=dep.protect_stateful,
                                        retain_on_delete=dep.protect_stateful),
        )

    def _create_quota(self, name: str) -> tuple[k8s.core.v1.ResourceQuota | None, k8s.core.v1.LimitRange | None]:
        lifecycle = self._platform.infrastructure.lifecycle
        if lifecycle is None or not lifecycle.resource_quotas.enabled:
            return None, None
        limits = lifecycle.resource_quotas.namespace_limits
        quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="floe-quota", namespace=self.namespace_name, labels=platform_labels(self._platform, "quota"),
                # What the platform runs here, for the quota-fits guardrail (floe_infra/platform/capacity.py).
                annotations=planned_annotations(self._platform)),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard={
                "pods": str(limits.pods),
                "requests.cpu": limits.requests_cpu,
                "requests.memory": limits.requests_memory,
                "limits.cpu": limits.limits_cpu,
                "limits.memory": limits.limits_memory,
            }),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        # With a quota on limits, a container without resources is refused: give defaults.
        default = resource_profile(self._platform, "platform")
        limit_range = k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=object_meta(self._platform, "floe-limits", "quota", self.namespace_name),
            spec=k8s.core.v1.LimitRangeSpecArgs(limits=[k8s.core.v1.LimitRangeItemArgs(
                type="Container", default=default["limits"], default_request=default["requests"])]),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        return quota, limit_range
