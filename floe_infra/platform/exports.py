"""Build the platform contract from platform.yaml and its topology.

Everything in the contract is derived from configuration (names are deterministic), so it is
known at preview time and identical across runs: no Output, no secret value.
"""

from __future__ import annotations

from floe_infra.config.checks import tenant_locations
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import (
    resolve_tenants,
    tenant_role_arn,
    tenant_storage_secret,
)
from floe_infra.contract import (
    BASE_READER,
    CONTRACT_VERSION,
    ROTATION_READER,
    CatalogEndpoint,
    CodeLocation,
    DagsterContract,
    Endpoints,
    LayerEndpoint,
    PlatformContract,
    ResourceRequirements,
    StorageEndpoint,
    TenantContract,
)
from floe_infra.kube.helm import chart_version
from floe_infra.platform.orchestration import dagster_names
from floe_infra.platform.resources import resource_profile
from floe_infra.platform.secrets import storage_credentials_secret
from floe_infra.topology import Topology
from floe_infra.versions import (
    CUBE_CHART,
    CUBESTORE_CHART,
    DAGSTER_CHART,
    DAGSTER_USER_DEPLOYMENTS_CHART,
    JAEGER_CHART,
    MINIO_CHART,
    POLARIS_CHART,
)


def layer_location(platform: PlatformConfig, layer: str) -> str:
    """Base location of a layer: `s3://<bucket>/<namespace levels>`."""
    cfg = platform.layers[layer]
    return f"s3://{platform.storage[cfg.storage_ref].bucket}/{'/'.join(cfg.namespace_levels)}"


def chart_versions(platform: PlatformConfig) -> dict[str, str]:
    """Chart versions of the deployed services (overrides applied)."""
    svc = platform.deployment.services
    out: dict[str, str] = {}
    for chart, service in ((MINIO_CHART, svc.object_storage), (POLARIS_CHART, svc.catalog),
                           (JAEGER_CHART, svc.tracing), (DAGSTER_CHART, svc.orchestration),
                           (CUBE_CHART, svc.semantic)):
        if service.deploy:
            out[chart.name] = chart_version(chart, service)
    if svc.orchestration.deploy:
        # Code locations must run the same Dagster version as the webserver and daemon.
        out[DAGSTER_USER_DEPLOYMENTS_CHART.name] = out[DAGSTER_CHART.name]
    if svc.semantic.deploy:
        out[CUBESTORE_CHART.name] = CUBESTORE_CHART.version
    return out


def min_reader_version(tenants: dict[str, TenantContract]) -> str:
    """The oldest contract a pipeline must read to deploy on this platform: per-tenant identities always, key
    rotation once any tenant's storage keys were rotated (a reader before 1.2 would keep the revoked keys)."""
    return ROTATION_READER if any(t.storage_credentials_rotation for t in tenants.values()) else BASE_READER


def build_contract(platform: PlatformConfig, topology: Topology) -> PlatformContract:
    """The contract the platform stack exports."""
    dep = platform.deployment
    ep = topology.endpoint
    transform = resource_profile(platform, "transform")
    storage = {
        name: StorageEndpoint(
            bucket=profile.bucket, region=profile.region,
            endpoint=next(b.endpoint for b in topology.buckets if b.profile == name),
            path_style=profile.path_style_access or (not profile.is_aws),
            credentials_secret=storage_credentials_secret(platform, name),
            role_arn=profile.credentials.role_arn)
        for name, profile in platform.storage.items()
    }
    catalog_uri = ep("catalog", "rest") or ""
    admin_url = platform.management_url
    catalogs = {}
    for name, profile in platform.catalogs.items():
        uri = catalog_uri if dep.services.catalog.deploy else (profile.uri if isinstance(profile.uri, str) else "")
        deploy_uri = f"{admin_url}/api/catalog" if dep.services.catalog.deploy and admin_url else uri
        catalogs[name] = CatalogEndpoint(type=str(profile.type), uri=uri, deploy_uri=deploy_uri,
                                         warehouse=profile.warehouse, access_delegation=str(profile.access_delegation))
    layers = {
        name: LayerEndpoint(catalog=layer.catalog_ref, warehouse=layer.warehouse,
                            namespace=list(layer.namespace_levels), storage=layer.storage_ref,
                            location=layer_location(platform, name))
        for name, layer in platform.layers.items()
    }
    tenants = {
        name: TenantContract(
            service_account=t.service_account, principal_role=t.principal_role,
            namespaces={layer: list(t.namespace_in(platform.layers[layer].namespace_levels)) for layer in t.writes},
            locations=tenant_locations(platform, t),
            reads=list(t.reads), writes=list(t.writes),
            kubernetes_service_account=t.kubernetes_service_account,
            credentials_secret=t.credentials_secret,
            storage_credentials_secret=tenant_storage_secret(platform, t),
            storage_credentials_rotation=dep.rotate.get(tenant_storage_secret(platform, t) or "", 0),
            role_arn=tenant_role_arn(platform, t),
            runtime_configmap=t.runtime_configmap, env_configmap=t.env_configmap,
            code_location=CodeLocation(name=t.code_location, port=t.code_server_port),
            cube_models_configmap=t.cube_models_configmap)
        for name, t in resolve_tenants(platform).items()
    }
    dagster = None
    if dep.services.orchestration.deploy:
        names = dagster_names(platform, topology)
        dagster = DagsterContract(
            release=names["release"], chart_version=chart_version(DAGSTER_CHART, dep.services.orchestration),
            postgresql_secret=names["postgresql_secret"], service_account=names["service_account"],
            run_env_configmap=names["env_configmap"])
    obs = platform.observability
    return PlatformContract(
        contract_version=CONTRACT_VERSION,
        min_reader_version=min_reader_version(tenants),
        platform=dep.name,
        environment=str(dep.environment),
        namespace=dep.namespace,
        timezone=platform.infrastructure.timezone,
        endpoints=Endpoints(
            s3=topology.s3_endpoint, catalog=catalog_uri, otlp_grpc=ep("tracing", "otlp_grpc") or "",
            otlp_http=ep("tracing", "otlp_http") or "", openlineage=ep("lineage", "openlineage") or "",
            dagster_ui=ep("orchestration", "ui") or "", cube_api=ep("semantic", "api") or ""),
        storage=storage,
        catalogs=catalogs,
        compute={name: {"type": str(c.type), "properties": dict(c.properties)} for name, c in platform.compute.items()},
        layers=layers,
        tenants=tenants,
        dagster=dagster,
        transform_resources=ResourceRequirements(requests=transform["requests"], limits=transform["limits"],
                                                 env=transform["env"]),
        chart_versions=chart_versions(platform),
        observability={"traces": obs.traces, "metrics": obs.metrics, "lineage": obs.lineage,
                       "attributes": dict(obs.attributes)},
    )
