"""Local access: NodePort Services for UIs and APIs whose charts cannot set a fixed NodePort.

MinIO, Polaris and Marquez expose their own NodePorts (chart values or our own Services). Jaeger,
the Dagster webserver and Cube get an extra Service here, selecting their pods by the labels the
charts put on them (from each chart's `selectorLabels` helper).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.platform import PlatformConfig
from floe_infra.platform.kubernetes import object_meta
from floe_infra.topology import Topology


@dataclass(frozen=True)
class NodePortTarget:
    """A chart's pods and port, exposed on a fixed NodePort."""

    service: str
    selector: dict[str, str]
    target_port: int
    node_port: int


def node_port_targets(platform: PlatformConfig, topology: Topology) -> list[NodePortTarget]:
    """The extra NodePort Services a local platform needs."""
    local = platform.infrastructure.network.local_access
    if not (local.enabled and local.access_type == "nodeport"):
        return []
    ports = local.ports
    targets = []
    svc = topology.services
    if svc["tracing"].deployed:
        targets.append(NodePortTarget("jaeger", {
            "app.kubernetes.io/name": "jaeger", "app.kubernetes.io/instance": svc["tracing"].release or "",
            "app.kubernetes.io/component": "all-in-one"}, 16686, ports.jaeger))
    if svc["orchestration"].deployed:
        targets.append(NodePortTarget("dagster", {
            "app.kubernetes.io/name": "dagster", "app.kubernetes.io/instance": svc["orchestration"].release or "",
            "component": "dagster-webserver"}, 80, ports.dagster))
    if svc["semantic"].deployed:
        targets.append(NodePortTarget("cube", {
            "app.kubernetes.io/name": "cube", "app.kubernetes.io/instance": svc["semantic"].release or "",
            "app.kubernetes.io/component": "api"}, 4000, ports.cube))
    return targets


class LocalAccess(pulumi.ComponentResource):
    """NodePort Services for local clusters."""

    services: dict[str, k8s.core.v1.Service]

    def __init__(self, name: str, platform: PlatformConfig, topology: Topology, namespace: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:LocalAccess", name, None, opts)
        self.services = {}
        for target in node_port_targets(platform, topology):
            self.services[target.service] = k8s.core.v1.Service(
                f"{name}-{target.service}",
                metadata=object_meta(platform, f"{platform.deployment.name}-{target.service}-nodeport",
                                     "local-access", namespace),
                spec=k8s.core.v1.ServiceSpecArgs(
                    type="NodePort", selector=target.selector,
                    ports=[k8s.core.v1.ServicePortArgs(name="http", port=target.target_port,
                                                       target_port=target.target_port,
                                                       node_port=target.node_port)]),
                opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"services": sorted(self.services)})
