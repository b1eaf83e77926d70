"""The explicit Kubernetes provider of a stack, from its stack config (never an ambient kubeconfig)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s


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
