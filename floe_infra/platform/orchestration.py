"""Dagster: webserver and daemon from the official chart, K8sRunLauncher, PostgreSQL, S3 compute logs.

User code is not part of this release: each pipeline stack installs its own
`dagster-user-deployments` release in the platform namespace, and the webserver's workspace
lists the code location of every tenant platform.yaml hosts, so onboarding a pipeline is one
entry under `deployment.tenants`. Every Dagster pod (webserver, daemon, runs, code locations)
gets the OTLP and OpenLineage endpoints from a shared ConfigMap.

The Dagster charts' values.schema.json files reference remote URLs that no longer resolve;
the release installs from a local copy without the schema (`floe-infra charts fetch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import resolve_tenants
from floe_infra.kube.helm import chart_version, release_args
from floe_infra.kube.rollout import config_digest_env
from floe_infra.platform.kubernetes import object_meta
from floe_infra.platform.resources import resource_profile, service_resources
from floe_infra.platform.secrets import PlatformSecrets, storage_credentials_secret
from floe_infra.runtime_env import openlineage_env, otlp_env
from floe_infra.topology import Topology
from floe_infra.versions import DAGSTER_CHART, POSTGRES_IMAGE

AWS_CONFIG_PATH = "/etc/floe/aws"
# botocore picks virtual-hosted addressing for custom endpoints; MinIO needs path-style.
AWS_PATH_STYLE_CONFIG = "[default]\ns3 =\n    addressing_style = path\n"


def dagster_names(platform: PlatformConfig, topology: Topology) -> dict[str, str]:
    """Names the platform and pipeline stacks agree on."""
    release = topology.services["orchestration"].release or f"{platform.deployment.name}-dagster"
    return {
        "release": release,
        "postgresql_secret": f"{platform.deployment.name}-dagster-postgresql",
        "env_configmap": f"{release}-floe-env",
        "transform_env_configmap": f"{release}-transform-env",
        "aws_configmap": f"{release}-aws-config",
        "service_account": release,
    }


@dataclass(frozen=True)
class OrchestrationArgs:
    """Inputs of `Orchestration`."""

    platform: PlatformConfig
    topology: Topology
    namespace: pulumi.Input[str]
    secrets: PlatformSecrets = field(repr=False)
    database_ready: pulumi.Resource


class Orchestration(pulumi.ComponentResource):
    """The Dagster release and the ConfigMaps every Dagster pod reads."""

    env_configmap: k8s.core.v1.ConfigMap
    transform_env_configmap: k8s.core.v1.ConfigMap
    aws_configmap: k8s.core.v1.ConfigMap
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: OrchestrationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:Orchestration", name, None, opts)
        self._args = args
        self._names = dagster_names(args.platform, args.topology)
        child = pulumi.ResourceOptions(parent=self)
        platform = args.platform
        self.env_configmap = k8s.core.v1.ConfigMap(
            f"{name}-env", metadata=object_meta(platform, self._names["env_configmap"], "orchestration",
                                                args.namespace),
            data=self.shared_env(), opts=child)
        self.transform_env_configmap = k8s.core.v1.ConfigMap(
            f"{name}-transform-env",
            metadata=object_meta(platform, self._names["transform_env_configmap"], "orchestration", args.namespace),
            data=resource_profile(platform, "transform")["env"], opts=child)
        self.aws_configmap = k8s.core.v1.ConfigMap(
            f"{name}-aws-config", metadata=object_meta(platform, self._names["aws_configmap"], "orchestration",
                                                       args.namespace),
            data={"config": AWS_PATH_STYLE_CONFIG}, opts=child)
        self.release = k8s.helm.v3.Release(
            f"{name}-dagster",
            release_args(DAGSTER_CHART, release=self._names["release"], namespace=args.namespace,
                         values=self.values(), service=platform.deployment.services.orchestration,
                         sources=platform.deployment.chart_sources, from_local_copy=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[
                args.database_ready, args.secrets.secrets[self._names["postgresql_secret"]],
                self.env_configmap, self.transform_env_configmap, self.aws_configmap]))
        self.register_outputs({"release": self.release.name})

    def shared_env(self) -> dict[str, str]:
        """Environment of every Dagster pod: telemetry endpoints, S3 endpoint, timezone."""
        platform = self._args.platform
        topo = self._args.topology
        env = {"TZ": platform.infrastructure.timezone, "AWS_CONFIG_FILE": f"{AWS_CONFIG_PATH}/config"}
        otlp = topo.endpoint("tracing", "otlp_grpc")
        if platform.observability.traces and otlp:
            env |= otlp_env(otlp)
        lineage = topo.endpoint("lineage", "openlineage")
        if platform.observability.lineage and lineage:
            env |= openlineage_env(lineage)
        if topo.s3_endpoint:
            env["AWS_ENDPOINT_URL_S3"] = topo.s3_endpoint
        logs = platform.s3_compute_logs
        if logs is not None:
            env["AWS_REGION"] = platform.storage[logs.storage_ref].region
        catalog = topo.endpoint("catalog", "rest")
        if catalog:
            env["FLOE_CATALOG_URI"] = catalog
        return dict(sorted(env.items()))

    def _env_from(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        platform = self._args.platform
        config_maps = [{"name": self._names["env_configmap"]}]
        logs = platform.s3_compute_logs
        secret = storage_credentials_secret(platform, logs.storage_ref) if logs else None
        return config_maps, ([{"name": secret}] if secret else [])

    def _aws_volume(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        volumes = [{"name": "floe-aws-config", "configMap": {"name": self._names["aws_configmap"]}}]
        mounts = [{"name": "floe-aws-config", "mountPath": AWS_CONFIG_PATH, "readOnly": True}]
        return volumes, mounts

    def workspace_servers(self) -> list[dict[str, Any]]:
        """Code locations of the tenants: one gRPC server each, deployed by the pipeline stacks."""
        return [{"host": t.code_location, "port": t.code_server_port, "name": t.code_location}
                for t in resolve_tenants(self._args.platform).values()]

    def values(self) -> dict[str, Any]:
        """Helm values of the Dagster release (Secret names only, never values)."""
        platform = self._args.platform
        dep = platform.deployment
        host, port = self._args.topology.database
        config_maps, secrets = self._env_from()
        volumes, mounts = self._aws_volume()
        transform = resource_profile(platform, "transform")
        resources = service_resources(platform, "orchestration")
        lifecycle = platform.infrastructure.lifecycle
        ttl = lifecycle.cleanup.jobs.ttl_seconds if lifecycle and lifecycle.cleanup.enabled else None
        version = chart_version(DAGSTER_CHART, dep.services.orchestration)
        role_arn = next((p.credentials.role_arn for p in platform.storage.values() if p.credentials.role_arn), None)
        # Rolls the webserver and the daemon when a ConfigMap or Secret they read changes.
        digest = config_digest_env([self.env_configmap, self.transform_env_configmap, self.aws_configmap,
                                    *self._args.secrets.managed(self._names["postgresql_secret"],
                                                                *(s["name"] for s in secrets))])
        component = {"resources": resources, "envConfigMaps": config_maps, "envSecrets": secrets,
                     "volumes": volumes, "volumeMounts": mounts, "env": [digest]}
        values: dict[str, Any] = {
            "global": {"postgresqlSecretName": self._names["postgresql_secret"],
                       "serviceAccountName": self._names["service_account"]},
            "serviceAccount": {"create": True, "name": self._names["service_account"],
                               "annotations": {"eks.amazonaws.com/role-arn": role_arn} if role_arn else {}},
            "generatePostgresqlPasswordSecret": False,
            "generateCeleryConfigSecret": False,
            # The chart's check-db-ready init containers run this image's pg_isready even with an external
            # database: the same pinned PostgreSQL image as the database itself, one image to mirror.
            "postgresql": {"enabled": False, "postgresqlHost": host, "postgresqlUsername": "dagster",
                           "postgresqlDatabase": "dagster", "service": {"port": port},
                           "image": {"repository": POSTGRES_IMAGE.repository, "pullPolicy": "IfNotPresent",
                                     "tag": dep.services.database.image_tag or POSTGRES_IMAGE.tag}},
            "rabbitmq": {"enabled": False},
            "redis": {"enabled": False},
            "flower": {"enabled": False},
            "dagster-user-deployments": {"enabled": True, "enableSubchart": False, "deployments": []},
            "dagsterWebserver": {
                "nameOverride": "webserver",
                "image": {"tag": dep.services.orchestration.image_tag or version},
                "workspace": {"enabled": True, "servers": self.workspace_servers()},
                **component,
            },
            "dagsterDaemon": {
                "image": {"tag": dep.services.orchestration.image_tag or version},
                "runCoordinator": {"enabled": True, "type": "QueuedRunCoordinator",
                                   "config": {"queuedRunCoordinator": {
                                   "maxConcurrentRuns": dep.services.orchestration.max_concurrent_runs}}},
                **component,
            },
            "runLauncher": {"type": "K8sRunLauncher", "config": {"k8sRunLauncher": {
                "jobNamespace": dep.namespace,
                "loadInclusterConfig": True,
                "envConfigMaps": [*config_maps, {"name": self._names["transform_env_configmap"]}],
                # No platform Secret in run pods: each gets its tenant's own Secrets from its code location
                # (includeConfigInLaunchedRuns), the tenant's storage user uploading the compute logs too.
                "envSecrets": [],
                "volumes": volumes,
                "volumeMounts": mounts,
                "resources": {"requests": transform["requests"], "limits": transform["limits"]},
                "runK8sConfig": {"jobSpecConfig": {"ttlSecondsAfterFinished": ttl}} if ttl is not None else {},
            }}},
        }
        logs = platform.s3_compute_logs
        if logs is not None:
            profile = platform.storage[logs.storage_ref]
            s3: dict[str, Any] = {"bucket": logs.bucket or profile.bucket, "prefix": logs.prefix,
                                  "localDir": logs.local_dir, "uploadInterval": logs.upload_interval,
                                  "region": profile.region, "skipEmptyFiles": True}
            endpoint = self._args.topology.s3_endpoint if not profile.is_aws else ""
            if endpoint:
                s3["endpointUrl"] = endpoint
            values["computeLogManager"] = {"type": "S3ComputeLogManager", "config": {"s3ComputeLogManager": s3}}
        else:
            values["computeLogManager"] = {"type": "NoOpComputeLogManager"}
        return values

