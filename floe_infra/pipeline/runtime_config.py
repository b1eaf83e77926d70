"""The configuration a pipeline's code reads at run time, compiled from floe.yaml and the contract.

Three files, mounted at `/etc/floe/runtime` in the code location and its run pods:
- `floe.yaml`: the pipeline's own file, as validated, with dbt pointed at the mounted profile;
- `platform.yaml`: the platform profiles this pipeline uses, in floe-runtime's format, resolved to
  in-cluster endpoints, with every credential left as a `secret_ref` that floe-runtime resolves
  from the environment (the tenant's own catalog and storage Secrets arrive through `envSecrets`;
  never the platform's storage key);
- `profiles.yml`: the dbt profile of the compute target.
No value in them is a credential. Next to them, `runtime_env` is the environment the same pods
get: where those files are, and the platform's endpoints for the pipeline's own telemetry.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from floe_infra.pipeline.binding import PipelineBinding
from floe_infra.pipeline.labels import pipeline_meta
from floe_infra.runtime_env import RUNTIME_CATALOG, openlineage_env, otlp_env, pyiceberg_env_key

MOUNT_PATH = "/etc/floe/runtime"
DBT_PROFILE = "floe"
# floe-runtime resolves a secret_ref from the environment variable of its UPPER_SNAKE name: these
# two land on POLARIS_CLIENT_ID / POLARIS_CLIENT_SECRET, keys of the tenant's credentials Secret.
CLIENT_ID_REF = "polaris-client-id"
CLIENT_SECRET_REF = "polaris-client-secret"
DUCKDB_PATH_ENV = "FLOE_DUCKDB_PATH"


def compiled_platform(binding: PipelineBinding) -> dict[str, Any]:
    """The platform.yaml floe-runtime reads for this pipeline (credential-free)."""
    contract, pipeline, tenant = binding.contract, binding.pipeline, binding.tenant
    storage = {}
    # Every profile through the tenant's own identity: its MinIO user's Secret, or its IAM role (IRSA).
    credentials: dict[str, Any] = (
        {"mode": "static", "secret_ref": tenant.storage_credentials_secret} if tenant.storage_credentials_secret
        else {"mode": "iam_role", "role_arn": tenant.role_arn} if tenant.role_arn else {"mode": "static"})
    for name, profile in contract.storage.items():
        storage[name] = {"type": "s3", "endpoint": profile.endpoint, "region": profile.region,
                         "bucket": profile.bucket, "path_style_access": profile.path_style,
                         "credentials": credentials}
    catalogs = {
        name: {"type": catalog.type if catalog.type != "embedded" else "rest", "uri": catalog.uri,
               "warehouse": catalog.warehouse, "access_delegation": catalog.access_delegation,
               "credentials": {"mode": "oauth2", "client_id": {"secret_ref": CLIENT_ID_REF},
                               "client_secret": {"secret_ref": CLIENT_SECRET_REF},
                               "scope": f"PRINCIPAL_ROLE:{tenant.principal_role}"}}
        for name, catalog in contract.catalogs.items()
    }
    layers = {
        name: {"name": name, "storage_ref": layer.storage, "catalog_ref": layer.catalog,
               "namespace": ".".join([layer.warehouse, *tenant.namespaces.get(name, layer.namespace)])}
        for name, layer in contract.layers.items()
    }
    endpoints = contract.endpoints
    observability: dict[str, Any] = {**{k: contract.observability[k] for k in ("traces", "metrics", "lineage")},
                                     "attributes": {**contract.observability.get("attributes", {}),
                                                    **pipeline.observability.attributes,
                                                    "service.name": pipeline.name}}
    if endpoints.otlp_grpc:
        observability["otlp_endpoint"] = endpoints.otlp_grpc
    if endpoints.openlineage:
        observability["lineage_endpoint"] = endpoints.openlineage
    return {
        "version": "1.2.0",
        "infrastructure": {"timezone": contract.timezone},
        "storage": storage,
        "catalogs": catalogs,
        "compute": {name: {"type": c["type"], "properties": c["properties"]} for name, c in contract.compute.items()},
        "layers": layers,
        "observability": observability,
    }


def dbt_profile(binding: PipelineBinding) -> dict[str, Any]:
    """dbt's profiles.yml for the pipeline's compute profile (secrets read with env_var)."""
    contract, pipeline = binding.contract, binding.pipeline
    compute = contract.compute[pipeline.compute]
    target = next((t.target for t in pipeline.transforms if t.target), None) or "floe"
    output: dict[str, Any] = {"type": compute["type"], **compute["properties"]}
    if compute["type"] == "duckdb":
        storage = contract.storage[pipeline.storage]
        settings: dict[str, Any] = {"s3_region": storage.region}
        if storage.endpoint:
            scheme, _, host = storage.endpoint.partition("://")
            settings |= {"s3_endpoint": host, "s3_url_style": "path" if storage.path_style else "vhost",
                         "s3_use_ssl": scheme == "https"}
        if binding.tenant.storage_credentials_secret:
            settings |= {"s3_access_key_id": "{{ env_var('AWS_ACCESS_KEY_ID') }}",
                         "s3_secret_access_key": "{{ env_var('AWS_SECRET_ACCESS_KEY') }}"}
        output = {"path": ":memory:", "threads": 4, **output, "extensions": ["httpfs", "iceberg"],
                  "settings": settings,
                  # Sources declared with `meta: {plugin: iceberg}` load from the pipeline's catalog.
                  "plugins": [{"module": "iceberg", "config": {"catalog": RUNTIME_CATALOG}}]}
        # A run may keep its database in a scratch file (to hand results on) instead of the profile's path.
        output["path"] = f"{{{{ env_var('{DUCKDB_PATH_ENV}', '{output['path']}') }}}}"
    return {DBT_PROFILE: {"target": target, "outputs": {target: output}}}


def compiled_pipeline(binding: PipelineBinding) -> dict[str, Any]:
    """floe.yaml as the pods read it: dbt finds its profile where the platform mounts it."""
    data = binding.pipeline.model_dump(mode="json", exclude_none=True)
    dbt = (data.get("orchestration") or {}).get("dbt")
    if dbt is not None:
        dbt["profiles_dir"] = MOUNT_PATH
    return data


def runtime_files(binding: PipelineBinding) -> dict[str, str]:
    """The ConfigMap data: file name -> YAML text."""
    def dump(data: Any) -> str:
        # libyaml's emitter: the same YAML as the pure-Python one, an order of magnitude faster.
        return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=True, default_flow_style=False)

    return {
        "floe.yaml": dump(compiled_pipeline(binding)),
        "platform.yaml": dump(compiled_platform(binding)),
        "profiles.yml": dump(dbt_profile(binding)),
    }


def pyiceberg_env(binding: PipelineBinding) -> dict[str, str]:
    """pyiceberg's catalog `floe`: the pipeline's catalog, scoped to its principal role (the credential
    comes from the tenant's Secret)."""
    catalog = binding.contract.catalogs[binding.pipeline.catalog]
    storage = binding.contract.storage[binding.pipeline.storage]
    props = {"type": "rest", "uri": catalog.uri, "warehouse": catalog.warehouse,
             "scope": f"PRINCIPAL_ROLE:{binding.tenant.principal_role}", "s3.region": storage.region}
    if storage.endpoint:
        props |= {"s3.endpoint": storage.endpoint, "s3.path-style-access": str(storage.path_style).lower()}
    return {pyiceberg_env_key(key): value for key, value in props.items()}


def runtime_env(binding: PipelineBinding) -> dict[str, str]:
    """Environment of the code location and its runs (no credential: those come from `envSecrets`)."""
    contract, pipeline = binding.contract, binding.pipeline
    storage = contract.storage[pipeline.storage]
    catalog = contract.catalogs[pipeline.catalog]
    env = {
        **contract.transform_resources.env,
        "TZ": contract.timezone,
        "FLOE_PLATFORM_ENV": contract.environment,
        "FLOE_PLATFORM_FILE": f"{MOUNT_PATH}/platform.yaml",
        "FLOE_PIPELINE_FILE": f"{MOUNT_PATH}/floe.yaml",
        "DBT_PROFILES_DIR": MOUNT_PATH,
        "FLOE_CATALOG_URI": catalog.uri,
        "FLOE_CATALOG_WAREHOUSE": catalog.warehouse,
        "AWS_REGION": storage.region,
    }
    if storage.endpoint:
        env["AWS_ENDPOINT_URL_S3"] = storage.endpoint
    env |= pyiceberg_env(binding)
    endpoints, switches = contract.endpoints, contract.observability
    if endpoints.otlp_grpc and switches.get("traces") and pipeline.observability.traces:
        attributes = {**switches.get("attributes", {}), **pipeline.observability.attributes}
        env |= {**otlp_env(endpoints.otlp_grpc), "OTEL_SERVICE_NAME": pipeline.name,
                "OTEL_RESOURCE_ATTRIBUTES": ",".join(f"{k}={v}" for k, v in sorted(attributes.items())
                                                     if k != "service.name")}
    if endpoints.openlineage and switches.get("lineage") and pipeline.observability.lineage:
        env |= {**openlineage_env(endpoints.openlineage), "OPENLINEAGE_NAMESPACE": pipeline.name}
    return dict(sorted(env.items()))


class RuntimeConfiguration(pulumi.ComponentResource):
    """The two ConfigMaps a pipeline's pods read: its runtime files and its environment."""

    files: k8s.core.v1.ConfigMap
    env: k8s.core.v1.ConfigMap

    def __init__(self, name: str, binding: PipelineBinding, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:pipeline:RuntimeConfiguration", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.files = k8s.core.v1.ConfigMap(
            f"{name}-files", metadata=pipeline_meta(binding, binding.tenant.runtime_configmap, "runtime-config"),
            data=runtime_files(binding), opts=child)
        self.env = k8s.core.v1.ConfigMap(
            f"{name}-env", metadata=pipeline_meta(binding, binding.tenant.env_configmap, "runtime-config"),
            data=runtime_env(binding), opts=child)
        self.register_outputs({"files": self.files.metadata.name, "env": self.env.metadata.name})
