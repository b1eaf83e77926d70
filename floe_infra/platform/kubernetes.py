"""Kubernetes foundation: the explicit provider, the platform namespace, its quota and limits.

Nothing here uses an ambient kubeconfig: the provider is built from stack config, and every
other Kubernetes resource of the platform is created through it.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.platform import PlatformConfig
from floe_infra.kube.cluster import ClusterAccess, cluster_provider
from floe_infra.kube.labels import chart_labels, floe_labels
from floe_infra.platform.capacity import planned_annotations
from floe_infra.platform.resources import resource_profile


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
