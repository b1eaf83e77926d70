"""Jaeger v2 (all-in-one) receiving OTLP on 4317/4318 and serving its UI on 16686."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.platform import PlatformConfig
from floe_infra.kube.helm import env_list, release_args
from floe_infra.platform.kubernetes import platform_chart_labels
from floe_infra.platform.resources import service_resources
from floe_infra.topology import Topology
from floe_infra.versions import JAEGER_CHART


@dataclass(frozen=True)
class TracingArgs:
    """Inputs of `Tracing`."""

    platform: PlatformConfig
    topology: Topology
    namespace: pulumi.Input[str]


def jaeger_values(platform: PlatformConfig) -> dict[str, Any]:
    """Helm values of the Jaeger release (traces kept in memory; the chart's v2 default storage)."""
    svc = platform.deployment.services.tracing
    values: dict[str, Any] = {
        "jaeger": {
            "enabled": True,
            "replicas": 1,
            "resources": service_resources(platform, "tracing"),
            "extraEnv": env_list({"TZ": platform.infrastructure.timezone}),
            "podLabels": platform_chart_labels(platform, "tracing"),
            "service": {"type": "ClusterIP"},
        },
    }
    if svc.image_tag:
        values["jaeger"]["image"] = {"tag": svc.image_tag}
    return values


class Tracing(pulumi.ComponentResource):
    """The Jaeger release."""

    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: TracingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:Tracing", name, None, opts)
        release = args.topology.services["tracing"].release or ""
        self.release = k8s.helm.v3.Release(
            f"{name}-jaeger",
            release_args(JAEGER_CHART, release=release, namespace=args.namespace,
                         values=jaeger_values(args.platform), service=args.platform.deployment.services.tracing,
                         sources=args.platform.deployment.chart_sources),
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"release": self.release.name})
