"""Apache Polaris, the Iceberg REST catalog, as a pinned Helm release.

In `local`, Polaris keeps its metadata in memory and bootstraps its realm itself from
`POLARIS_BOOTSTRAP_CREDENTIALS` (read from a Secret). Elsewhere it persists to PostgreSQL
(relational JDBC) and a one-shot Job runs the admin tool's `bootstrap` before the server starts.
Catalog *contents* (warehouses, namespaces, principals, grants) are catalog governance's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.credentials import CredentialMode
from floe_infra.config.platform import PlatformConfig
from floe_infra.kube.helm import env_list, release_args, secret_env
from floe_infra.kube.rollout import config_digest_env
from floe_infra.platform.kubernetes import env_from_secret, object_meta, platform_chart_labels, platform_labels
from floe_infra.platform.resources import JOB_RESOURCES, service_resources
from floe_infra.platform.secrets import (
    PlatformSecrets,
    database_secret,
    polaris_root_secret,
    storage_credentials_secret,
)
from floe_infra.topology import Topology
from floe_infra.versions import POLARIS_ADMIN_IMAGE, POLARIS_CHART, POLARIS_IMAGE

REALM = "POLARIS"


@dataclass(frozen=True)
class CatalogServerArgs:
    """Inputs of `CatalogServer`."""

    platform: PlatformConfig
    topology: Topology
    namespace: pulumi.Input[str]
    secrets: PlatformSecrets = field(repr=False)
    database_ready: pulumi.Resource | None


def catalog_storage_profile(platform: PlatformConfig) -> str | None:
    """The storage profile whose credentials Polaris uses for S3 (the first layer's, else `default`)."""
    for layer in platform.layers.values():
        return layer.storage_ref
    return "default" if "default" in platform.storage else next(iter(platform.storage), None)


class CatalogServer(pulumi.ComponentResource):
    """Polaris with its persistence, bootstrap and S3 access."""

    release: k8s.helm.v3.Release
    bootstrap_job: k8s.batch.v1.Job | None

    def __init__(self, name: str, args: CatalogServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:CatalogServer", name, None, opts)
        self._base = name
        self._args = args
        self._in_memory = args.platform.deployment.environment == "local"
        self.bootstrap_job = None if self._in_memory else self._create_bootstrap_job()
        self.release = self._create_release()
        self.register_outputs({"release": self.release.name})

    def values(self) -> dict[str, Any]:
        """Helm values of the Polaris release (no secret values: only Secret names and key names)."""
        platform = self._args.platform
        topo = self._args.topology
        svc = platform.deployment.services.catalog
        env: list[dict[str, Any]] = env_list({"TZ": platform.infrastructure.timezone})
        values: dict[str, Any] = {
            "image": {"repository": POLARIS_IMAGE.repository, "tag": svc.image_tag or POLARIS_IMAGE.tag},
            "replicaCount": svc.replicas,
            "resources": service_resources(platform, "catalog"),
            "realmContext": {"realms": [REALM]},
            "podLabels": platform_chart_labels(platform, "catalog"),
            # One shared signing key, so tokens stay valid across restarts and replicas.
            "authentication": {"tokenBroker": {
                "type": "symmetric-key",
                "secret": {"name": polaris_root_secret(platform), "symmetricKey": {"secretKey": "TOKEN_KEY"}}}},
        }
        if self._in_memory:
            values["persistence"] = {"type": "in-memory"}
            env.append(secret_env("POLARIS_BOOTSTRAP_CREDENTIALS", polaris_root_secret(platform),
                                  "POLARIS_BOOTSTRAP_CREDENTIALS"))
        else:
            values["persistence"] = {"type": "relational-jdbc", "relationalJdbc": {"secret": {
                "name": database_secret(platform, "polaris"),
                "username": "username", "password": "password", "jdbcUrl": "jdbcUrl"}}}
        profile_name = catalog_storage_profile(platform)
        if profile_name is not None:
            profile = platform.storage[profile_name]
            env += env_list({"AWS_REGION": profile.region})
            secret = storage_credentials_secret(platform, profile_name)
            if secret:
                values["storage"] = {"secret": {"name": secret, "awsAccessKeyId": "AWS_ACCESS_KEY_ID",
                                                "awsSecretAccessKey": "AWS_SECRET_ACCESS_KEY"}}
            elif profile.credentials.mode == CredentialMode.IAM_ROLE and profile.credentials.role_arn:
                values["serviceAccount"] = {"create": True, "annotations": {
                    "eks.amazonaws.com/role-arn": profile.credentials.role_arn}}
        otlp = topo.endpoint("tracing", "otlp_grpc")
        if platform.observability.traces and otlp:
            values["tracing"] = {"enabled": True, "endpoint": otlp}
        ports = platform.infrastructure.network.local_access
        if ports.enabled and ports.access_type == "nodeport":
            values["extraServices"] = [{
                "nameSuffix": "nodeport", "type": "NodePort",
                "ports": [{"name": "polaris-http", "port": 8181, "targetPort": 8181, "nodePort": ports.ports.polaris}],
            }]
        # Rolls Polaris when a Secret it reads changes (root and token key, database, storage keys).
        storage = storage_credentials_secret(platform, profile_name) if profile_name is not None else None
        values["extraEnv"] = [*env, config_digest_env(self._args.secrets.managed(
            polaris_root_secret(platform), database_secret(platform, "polaris"), storage))]
        return values

    def _create_release(self) -> k8s.helm.v3.Release:
        args = self._args
        platform = args.platform
        release = args.topology.services["catalog"].release or ""
        depends: list[pulumi.Resource] = [args.secrets.secrets[polaris_root_secret(platform)]]
        if self.bootstrap_job is not None:
            depends.append(self.bootstrap_job)
        return k8s.helm.v3.Release(
            f"{self._base}-polaris",
            release_args(POLARIS_CHART, release=release, namespace=args.namespace, values=self.values(),
                         service=platform.deployment.services.catalog,
                         sources=platform.deployment.chart_sources),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends))

    def _create_bootstrap_job(self) -> k8s.batch.v1.Job:
        """Run `polaris-admin-tool bootstrap` once against the relational store."""
        args = self._args
        platform = args.platform
        root = polaris_root_secret(platform)
        db = database_secret(platform, "polaris")
        release = args.topology.services["catalog"].release or ""

        depends: list[pulumi.Resource] = [args.secrets.secrets[root], args.secrets.secrets[db]]
        if args.database_ready is not None:
            depends.append(args.database_ready)
        return k8s.batch.v1.Job(
            f"{self._base}-bootstrap",
            metadata=object_meta(platform, f"{release}-bootstrap", "catalog", args.namespace),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=platform_labels(platform, "catalog")),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="OnFailure",
                        containers=[k8s.core.v1.ContainerArgs(
                            name="bootstrap",
                            image=POLARIS_ADMIN_IMAGE.ref(platform.deployment.services.catalog.image_tag),
                            # $(VAR) is expanded by Kubernetes from env: the credential stays in the Secret.
                            args=["bootstrap", f"--realm={REALM}", "--credential=$(POLARIS_BOOTSTRAP_CREDENTIALS)"],
                            env=[
                                k8s.core.v1.EnvVarArgs(name="POLARIS_PERSISTENCE_TYPE", value="relational-jdbc"),
                                env_from_secret("QUARKUS_DATASOURCE_JDBC_URL", db, "jdbcUrl"),
                                env_from_secret("QUARKUS_DATASOURCE_USERNAME", db, "username"),
                                env_from_secret("QUARKUS_DATASOURCE_PASSWORD", db, "password"),
                                env_from_secret("POLARIS_BOOTSTRAP_CREDENTIALS", root, "POLARIS_BOOTSTRAP_CREDENTIALS"),
                            ],
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests=JOB_RESOURCES["requests"], limits={"cpu": "500m", "memory": "512Mi"}),
                        )]))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends))
