"""Cube (API and refresh worker) with Cube Store, serving the tenants' semantic models.

How pipelines add models without touching this release: for every tenant in platform.yaml the
Cube pods mount the ConfigMap `<tenant>-cube-models` (optional, so it may not exist yet) as the
directory `model/<tenant>/`. A pipeline stack owns and updates its ConfigMap; the kubelet
refreshes the mounted files, and Cube's `schemaVersion` (in the platform's cube.js) hashes the
model directory, so Cube recompiles as soon as the files change. No restart, no platform change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.credentials import CredentialMode
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import resolve_tenants
from floe_infra.kube.helm import env_list, release_args, secret_env
from floe_infra.kube.rollout import config_digest_env
from floe_infra.platform.kubernetes import object_meta
from floe_infra.platform.resources import JOB_RESOURCES, service_resources
from floe_infra.platform.secrets import PlatformSecrets, storage_credentials_secret
from floe_infra.topology import Topology
from floe_infra.versions import BUSYBOX_IMAGE, CUBE_CHART, CUBE_IMAGE, CUBESTORE_CHART, CUBESTORE_IMAGE

MODEL_ROOT = "/cube/conf/model"
CUBE_CONFIG = """\
// floe-infra: recompile the data model whenever a pipeline's model files change.
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const modelRoot = path.resolve(__dirname, process.env.CUBEJS_SCHEMA_PATH || "model");

function digest(dir, hash) {
  if (!fs.existsSync(dir)) return hash;
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith("..")) continue; // the kubelet's atomic-update bookkeeping
    const full = path.join(dir, entry.name);
    if (fs.statSync(full).isDirectory()) digest(full, hash);
    else hash.update(entry.name).update(fs.readFileSync(full));
  }
  return hash;
}

module.exports = {
  schemaVersion: () => digest(modelRoot, crypto.createHash("sha256")).digest("hex"),
};
"""


@dataclass(frozen=True)
class SemanticArgs:
    """Inputs of `Semantic`."""

    platform: PlatformConfig
    topology: Topology
    namespace: pulumi.Input[str]
    secrets: PlatformSecrets = field(repr=False)


class Semantic(pulumi.ComponentResource):
    """Cube Store, Cube, and Cube's config file."""

    config: k8s.core.v1.ConfigMap
    cubestore: k8s.helm.v3.Release
    cube: k8s.helm.v3.Release

    def __init__(self, name: str, args: SemanticArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:Semantic", name, None, opts)
        self._args = args
        platform = args.platform
        svc = platform.deployment.services.semantic
        release = args.topology.services["semantic"].release or ""
        self.config = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata=object_meta(platform, f"{release}-config", "semantic", args.namespace),
            data={"cube.js": CUBE_CONFIG}, opts=pulumi.ResourceOptions(parent=self))
        self.cubestore = k8s.helm.v3.Release(
            f"{name}-cubestore",
            release_args(CUBESTORE_CHART, release=f"{platform.deployment.name}-cubestore", namespace=args.namespace,
                         values=self.cubestore_values(), service=None, sources=platform.deployment.chart_sources),
            opts=pulumi.ResourceOptions(parent=self))
        self.cube = k8s.helm.v3.Release(
            f"{name}-cube",
            release_args(CUBE_CHART, release=release, namespace=args.namespace, values=self.cube_values(),
                         service=svc, sources=platform.deployment.chart_sources),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[
                self.config, args.secrets.secrets[f"{platform.deployment.name}-cube-api"]]))
        self.register_outputs({"cube": self.cube.name, "cubestore": self.cubestore.name})

    def _storage(self) -> tuple[str | None, str | None]:
        """The storage profile holding Cube Store's data, and its credentials Secret."""
        platform = self._args.platform
        name = "default" if "default" in platform.storage else next(iter(platform.storage), None)
        return name, storage_credentials_secret(platform, name) if name else None

    def cubestore_values(self) -> dict[str, Any]:
        """Cube Store keeps pre-aggregations under `cubestore/` in the platform's default bucket."""
        platform = self._args.platform
        resources = service_resources(platform, "semantic")
        env = env_list({"TZ": platform.infrastructure.timezone})
        values: dict[str, Any] = {
            "image": {"repository": CUBESTORE_IMAGE.repository, "tag": CUBESTORE_IMAGE.tag},
            "router": {"resources": resources, "extraEnvVars": env},
            # The workers' init container waits for the router; the chart's default image is busybox:latest.
            "workers": {"workersCount": 1, "resources": resources, "extraEnvVars": env,
                        "initRouter": {"image": {"repository": BUSYBOX_IMAGE.repository, "tag": BUSYBOX_IMAGE.tag},
                                       "resources": JOB_RESOURCES}},
            # Nothing scrapes Cube Store's statsd metrics: no sidecar (one image and 100m CPU per pod fewer).
            "exporter": {"enabled": False},
        }
        profile_name, secret = self._storage()
        # Rolls Cube Store when its storage credentials change.
        digest = config_digest_env(self._args.secrets.managed(secret))
        values["router"]["extraEnvVars"] = values["workers"]["extraEnvVars"] = [*env, digest]
        if profile_name is None:
            return values
        profile = platform.storage[profile_name]
        if profile.is_aws:
            values["cloudStorage"] = {"aws": {"bucket": profile.bucket, "region": profile.region,
                                              "subPath": "cubestore"}}
            if secret:
                creds = [secret_env("CUBESTORE_AWS_ACCESS_KEY_ID", secret, "AWS_ACCESS_KEY_ID"),
                         secret_env("CUBESTORE_AWS_SECRET_ACCESS_KEY", secret, "AWS_SECRET_ACCESS_KEY")]
                values["router"]["extraEnvVars"] = values["workers"]["extraEnvVars"] = [*env, digest, *creds]
            elif profile.credentials.mode == CredentialMode.IAM_ROLE and profile.credentials.role_arn:
                account = {"create": True, "annotations": {"eks.amazonaws.com/role-arn": profile.credentials.role_arn}}
                values["router"]["serviceAccount"] = account
                values["workers"]["serviceAccount"] = {**account, "create": False,
                                                       "name": f"{platform.deployment.name}-cubestore-router"}
        elif secret:
            values["cloudStorage"] = {"minio": {
                # The access key id of MinIO credentials is the user name, not a secret.
                "accessKeyID": secret, "secretKeyFromSecret": {"name": secret, "key": "AWS_SECRET_ACCESS_KEY"},
                "bucket": profile.bucket, "region": profile.region, "subPath": "cubestore",
                "endpoint": self._args.topology.s3_endpoint}}
        return values

    def cube_values(self) -> dict[str, Any]:
        """Helm values of Cube: DuckDB over the lakehouse, models mounted per tenant."""
        args = self._args
        platform = args.platform
        svc = platform.deployment.services.semantic
        n = platform.deployment.name
        tenants = resolve_tenants(platform)
        volumes: list[dict[str, Any]] = [{"name": "floe-cube-config", "configMap": {"name": f"{n}-cube-config"}}]
        mounts: list[dict[str, Any]] = [{"name": "floe-cube-config", "mountPath": "/cube/conf/cube.js",
                                         "subPath": "cube.js", "readOnly": True}]
        for tenant, resolved in tenants.items():
            volumes.append({"name": f"model-{tenant}",
                            "configMap": {"name": resolved.cube_models_configmap, "optional": True}})
            # A whole-directory mount (no subPath), so the kubelet keeps the files current.
            mounts.append({"name": f"model-{tenant}", "mountPath": f"{MODEL_ROOT}/{tenant}", "readOnly": True})
        env = env_list({"TZ": platform.infrastructure.timezone,
                        **({"FLOE_CATALOG_URI": uri} if (uri := args.topology.endpoint("catalog", "rest")) else {})})
        # The chart dereferences duckdb.s3 unconditionally: without it, rendering fails (nil pointer).
        duckdb: dict[str, Any] = {"s3": {}}
        accounts: dict[str, Any] = {}
        profile_name, secret = self._storage()
        if profile_name is not None:
            profile = platform.storage[profile_name]
            s3: dict[str, Any] = {"region": profile.region}
            endpoint = args.topology.s3_endpoint if not profile.is_aws else ""
            if endpoint:
                scheme, _, host = endpoint.partition("://")
                # DuckDB wants host:port and the chart's template reads `URLStyle`.
                s3 |= {"endpoint": host, "useSSL": str(scheme == "https").lower(), "URLStyle": "path"}
            duckdb["s3"] = s3
            if secret:
                # The chart's secretAccessKeyFromSecret is broken for DuckDB: inject both keys ourselves.
                env += [secret_env("CUBEJS_DB_DUCKDB_S3_ACCESS_KEY_ID", secret, "AWS_ACCESS_KEY_ID"),
                        secret_env("CUBEJS_DB_DUCKDB_S3_SECRET_ACCESS_KEY", secret, "AWS_SECRET_ACCESS_KEY")]
            elif profile.credentials.mode == CredentialMode.IAM_ROLE and profile.credentials.role_arn:
                # No keys: the API and the refresh worker reach S3 through the profile's IAM role (IRSA).
                account = {"create": True, "annotations": {"eks.amazonaws.com/role-arn": profile.credentials.role_arn}}
                accounts = {"api": {"serviceAccount": account}, "worker": {"serviceAccount": account}}
        values = {
            "image": {"repository": CUBE_IMAGE.repository, "tag": svc.image_tag or CUBE_IMAGE.tag},
            "config": {
                "apiPort": 4000,
                "devMode": svc.dev_mode,
                "logLevel": "info",
                "telemetry": False,
                "schemaPath": "model",
                "apiSecretFromSecret": {"name": f"{n}-cube-api", "key": "CUBEJS_API_SECRET"},
                "volumes": volumes,
                "volumeMounts": mounts,
            },
            "datasources": {"default": {"type": "duckdb", "duckdb": duckdb}},
            "cubestore": {"host": f"{n}-cubestore-router", "port": 3030},
            # Rolls Cube when cube.js (mounted with subPath: never updated in place) or a Secret it reads changes.
            "extraEnvVars": [*env, config_digest_env([self.config, *self._args.secrets.managed(f"{n}-cube-api",
                                                                                               secret)])],
            "api": {"apiCount": 1, "resources": service_resources(platform, "semantic")},
            "worker": {"enabled": True, "resources": service_resources(platform, "semantic")},
        }
        for component, extra in accounts.items():
            values[component] |= extra
        return values
