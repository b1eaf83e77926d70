"""Marquez (OpenLineage API and web UI) as plain Kubernetes objects.

Marquez publishes no chart repository (its chart lives in the source tree and pulls Bitnami
sub-charts), so the platform runs the two official images with a small config of its own:
API on 5000 (admin 5001) behind Service `<release>` port 80, web on 3000 behind `<release>-web`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.platform import PlatformConfig
from floe_infra.kube.rollout import CONFIG_DIGEST_ENV, config_digest
from floe_infra.platform.kubernetes import env_from_secret, object_meta, platform_labels
from floe_infra.platform.resources import service_resources
from floe_infra.platform.secrets import PlatformSecrets, database_secret
from floe_infra.topology import Topology
from floe_infra.versions import MARQUEZ_IMAGE, MARQUEZ_WEB_IMAGE

# Dropwizard substitutes ${VAR} from the environment; the password arrives from a Secret.
MARQUEZ_CONFIG = """\
server:
  applicationConnectors:
  - type: http
    port: ${MARQUEZ_PORT}
  adminConnectors:
  - type: http
    port: ${MARQUEZ_ADMIN_PORT}
db:
  driverClass: org.postgresql.Driver
  url: jdbc:postgresql://${POSTGRES_HOST}:${POSTGRES_PORT}/${POSTGRES_DB}
  user: ${POSTGRES_USER}
  password: ${POSTGRES_PASSWORD}
migrateOnStartup: true
logging:
  level: INFO
  appenders:
  - type: console
"""


@dataclass(frozen=True)
class LineageArgs:
    """Inputs of `Lineage`."""

    platform: PlatformConfig
    topology: Topology
    namespace: pulumi.Input[str]
    database_ready: pulumi.Resource
    secrets: PlatformSecrets = field(repr=False)


def marquez_selector(topology: Topology, role: str) -> dict[str, str]:
    """Labels selecting Marquez' `api` or `web` pods (Service selectors; tenants' NetworkPolicies allow the API)."""
    return {"app.kubernetes.io/name": "marquez", "app.kubernetes.io/instance": topology.services["lineage"].release
            or "", "floe.dev/role": role}


class Lineage(pulumi.ComponentResource):
    """Marquez API and web."""

    config: k8s.core.v1.ConfigMap
    api: k8s.apps.v1.Deployment
    api_service: k8s.core.v1.Service
    web: k8s.apps.v1.Deployment
    web_service: k8s.core.v1.Service

    def __init__(self, name: str, args: LineageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:Lineage", name, None, opts)
        self._base = name
        self._args = args
        self._release = args.topology.services["lineage"].release or ""
        self.config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=object_meta(args.platform, f"{self._release}-config", "lineage", args.namespace),
            data={"config.yml": MARQUEZ_CONFIG},
            opts=pulumi.ResourceOptions(parent=self))
        self.api = self._create_api()
        self.web = self._create_web()
        local = args.platform.infrastructure.network.local_access
        nodeports = local.enabled and local.access_type == "nodeport"
        self.api_service = self._service("api", self._release, 5000,
                                         local.ports.marquez_api if nodeports else None)
        self.web_service = self._service("web", f"{self._release}-web", 3000,
                                         local.ports.marquez_web if nodeports else None)
        self.register_outputs({"api": self.api_service.metadata.name, "web": self.web_service.metadata.name})

    def _selector(self, role: str) -> dict[str, str]:
        return marquez_selector(self._args.topology, role)

    def _pod_meta(self, role: str) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(labels={**platform_labels(self._args.platform, "lineage"),
                                                  **self._selector(role)})

    def _create_api(self) -> k8s.apps.v1.Deployment:
        platform = self._args.platform
        topo = self._args.topology
        host, port = topo.database
        secret = database_secret(platform, "marquez")
        env = [
            k8s.core.v1.EnvVarArgs(name="MARQUEZ_PORT", value="5000"),
            k8s.core.v1.EnvVarArgs(name="MARQUEZ_ADMIN_PORT", value="5001"),
            k8s.core.v1.EnvVarArgs(name="MARQUEZ_CONFIG", value="/opt/marquez/config.yml"),
            k8s.core.v1.EnvVarArgs(name="POSTGRES_HOST", value=host),
            k8s.core.v1.EnvVarArgs(name="POSTGRES_PORT", value=str(port)),
            k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value="marquez"),
            k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value="marquez"),
            env_from_secret("POSTGRES_PASSWORD", secret, "password"),
            k8s.core.v1.EnvVarArgs(name="TZ", value=platform.infrastructure.timezone),
            # Rolls Marquez when its configuration or its database password changes.
            k8s.core.v1.EnvVarArgs(name=CONFIG_DIGEST_ENV,
                                   value=config_digest([self.config, *self._args.secrets.managed(secret)])),
        ]
        probe = k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(path="/healthcheck", port=5001),
                                      initial_delay_seconds=20, period_seconds=15)
        container = k8s.core.v1.ContainerArgs(
            name="marquez",
            image=MARQUEZ_IMAGE.ref(platform.deployment.services.lineage.image_tag),
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=5000),
                   k8s.core.v1.ContainerPortArgs(name="http-admin", container_port=5001)],
            env=env,
            readiness_probe=probe,
            liveness_probe=probe,
            resources=k8s.core.v1.ResourceRequirementsArgs(**service_resources(platform, "lineage")),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="config", mount_path="/opt/marquez")])
        return k8s.apps.v1.Deployment(
            f"{self._base}-api",
            metadata=object_meta(platform, self._release, "lineage", self._args.namespace),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self._selector("api")),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=self._pod_meta("api"),
                    spec=k8s.core.v1.PodSpecArgs(
                        containers=[container],
                        volumes=[k8s.core.v1.VolumeArgs(name="config", config_map=(
                            k8s.core.v1.ConfigMapVolumeSourceArgs(name=self.config.metadata.name)))]))),
            # Marquez migrates its schema at start: its database must exist first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self._args.database_ready]))

    def _create_web(self) -> k8s.apps.v1.Deployment:
        platform = self._args.platform
        probe = k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(path="/healthcheck", port=3000),
                                      initial_delay_seconds=10, period_seconds=15)
        container = k8s.core.v1.ContainerArgs(
            name="marquez-web",
            image=MARQUEZ_WEB_IMAGE.ref(platform.deployment.services.lineage.image_tag),
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=3000)],
            env=[k8s.core.v1.EnvVarArgs(name="MARQUEZ_HOST", value=self._release),
                 k8s.core.v1.EnvVarArgs(name="MARQUEZ_PORT", value="80"),
                 k8s.core.v1.EnvVarArgs(name="TZ", value=platform.infrastructure.timezone)],
            readiness_probe=probe,
            resources=k8s.core.v1.ResourceRequirementsArgs(**service_resources(platform, "lineage")))
        return k8s.apps.v1.Deployment(
            f"{self._base}-web",
            metadata=object_meta(platform, f"{self._release}-web", "lineage", self._args.namespace),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self._selector("web")),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=self._pod_meta("web"), spec=k8s.core.v1.PodSpecArgs(containers=[container]))),
            opts=pulumi.ResourceOptions(parent=self))

    def _service(self, role: str, service_name: str, target: int, node_port: int | None) -> k8s.core.v1.Service:
        port = k8s.core.v1.ServicePortArgs(name="http", port=80, target_port=target, node_port=node_port)
        return k8s.core.v1.Service(
            f"{self._base}-{role}-service",
            metadata=object_meta(self._args.platform, service_name, "lineage", self._args.namespace),
            spec=k8s.core.v1.ServiceSpecArgs(type="NodePort" if node_port else "ClusterIP",
                                             selector=self._selector(role), ports=[port]),
            opts=pulumi.ResourceOptions(parent=self))
