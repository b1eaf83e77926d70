"""The platform's shape, derived from platform.yaml alone: what is deployed, under which names, where.

Pure data, no Pulumi: the platform components use it to name releases and wire services, the
contract exports its endpoints, and `floe-infra validate` prints it. Release and Service names
follow each chart's naming rule (`R-<chart>`, or `R` when the release name contains the chart
name), so every in-cluster URL is known before anything is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from floe_infra.config.platform import PlatformConfig
from floe_infra.config.storage import StorageProfile


class Provisioner(StrEnum):
    """Who creates a storage profile's bucket."""

    AWS = "aws"  # pulumi-aws, in the profile's region
    MINIO = "minio"  # the platform's in-cluster MinIO
    EXTERNAL = "external"  # someone else: the bucket must exist


@dataclass(frozen=True)
class ServicePlan:
    """One platform service.

    Attributes:
        key: Key under `deployment.services`.
        product: What it is (Polaris, Jaeger...).
        deployed: Whether this platform deploys it.
        release: Helm release (or object) name when deployed.
        endpoints: Named URLs clients use (in-cluster when deployed, from platform.yaml otherwise).
    """

    key: str
    product: str
    deployed: bool
    release: str | None
    endpoints: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BucketPlan:
    """A storage profile's bucket and who provisions it."""

    profile: str
    bucket: str
    provisioner: Provisioner
    region: str
    endpoint: str


@dataclass(frozen=True)
class Topology:
    """The whole platform plan."""

    namespace: str
    environment: str
    services: dict[str, ServicePlan]
    buckets: list[BucketPlan]

    def host(self, service: str) -> str:
        """Cluster DNS name of a Service in the platform namespace."""
        return f"{service}.{self.namespace}.svc.cluster.local"

    def endpoint(self, service: str, name: str) -> str | None:
        """An endpoint of a service, if it has one."""
        return self.services[service].endpoints.get(name)

    @property
    def database(self) -> tuple[str, int]:
        """Host and port of the platform's PostgreSQL."""
        host, _, port = self.services["database"].endpoints["postgres"].rpartition(":")
        return host, int(port)

    @property
    def s3_endpoint(self) -> str:
        """S3 endpoint clients use; empty for AWS S3."""
        return self.services["object_storage"].endpoints.get("s3", "")


def release_name(platform: PlatformConfig, chart: str) -> str:
    """Deterministic release name `<deployment.name>-<chart>`."""
    return f"{platform.deployment.name}-{chart}"


def provisioner_of(platform: PlatformConfig, profile: StorageProfile) -> Provisioner:
    """Who provisions a storage profile's bucket."""
    storage = platform.deployment.services.object_storage
    if profile.is_aws:
        return Provisioner.AWS if storage.manage_aws_buckets else Provisioner.EXTERNAL
    return Provisioner.MINIO if storage.deploy else Provisioner.EXTERNAL


def build_topology(platform: PlatformConfig) -> Topology:
    """The platform plan for a validated platform.yaml."""
    dep = platform.deployment
    svc = dep.services
    ns = dep.namespace

    def host(name: str) -> str:
        return f"{name}.{ns}.svc.cluster.local"

    services: dict[str, ServicePlan] = {}

    minio = release_name(platform, "minio")
    external_s3 = next(
        (p.endpoint for p in platform.storage.values() if isinstance(p.endpoint, str) and p.endpoint), "")
    services["object_storage"] = ServicePlan(
        "object_storage", "MinIO", svc.object_storage.deploy, minio if svc.object_storage.deploy else None,
        {"s3": f"http://{host(minio)}:9000", "console": f"http://{host(minio + '-console')}:9001"}
        if svc.object_storage.deploy else ({"s3": external_s3} if external_s3 else {}),
    )

    database = release_name(platform, "postgresql")
    services["database"] = ServicePlan(
        "database", "PostgreSQL", svc.database.deploy, database if svc.database.deploy else None,
        {"postgres": f"{host(database)}:5432"} if svc.database.deploy
        else {"postgres": f"{svc.database.host}:{svc.database.port}"},
    )

    polaris = release_name(platform, "polaris")
    first_catalog = next(iter(platform.catalogs.values()), None)
    referenced_uri = first_catalog.uri if first_catalog and isinstance(first_catalog.uri, str) else ""
    services["catalog"] = ServicePlan(
        "catalog", "Apache Polaris", svc.catalog.deploy, polaris if svc.catalog.deploy else None,
        {"rest": f"http://{host(polaris)}:8181/api/catalog", "health": f"http://{host(polaris + '-mgmt')}:8182"}
        if svc.catalog.deploy else ({"rest": referenced_uri} if referenced_uri else {}),
    )

    jaeger = release_name(platform, "jaeger")
    obs = platform.observability
    services["tracing"] = ServicePlan(
        "tracing", "Jaeger", svc.tracing.deploy, jaeger if svc.tracing.deploy else None,
        {"otlp_grpc": f"http://{host(jaeger)}:4317", "otlp_http": f"http://{host(jaeger)}:4318",
         "ui": f"http://{host(jaeger)}:16686"}
        if svc.tracing.deploy else ({"otlp_grpc": obs.otlp_endpoint} if obs.otlp_endpoint else {}),
    )

    marquez = release_name(platform, "marquez")
    services["lineage"] = ServicePlan(
        "lineage", "Marquez", svc.lineage.deploy, marquez if svc.lineage.deploy else None,
        {"openlineage": f"http://{host(marquez)}:80/api/v1/lineage", "api": f"http://{host(marquez)}:80",
         "ui": f"http://{host(marquez + '-web')}:80"}
        if svc.lineage.deploy else ({"openlineage": obs.lineage_endpoint} if obs.lineage_endpoint else {}),
    )

    dagster = release_name(platform, "dagster")
    services["orchestration"] = ServicePlan(
        "orchestration", "Dagster", svc.orchestration.deploy, dagster if svc.orchestration.deploy else None,
        {"ui": f"http://{host(dagster + '-webserver')}:80"} if svc.orchestration.deploy else {},
    )

    cube = release_name(platform, "cube")
    services["semantic"] = ServicePlan(
        "semantic", "Cube", svc.semantic.deploy, cube if svc.semantic.deploy else None,
        {"api": f"http://{host(cube)}:4000",
         "cubestore": f"{host(release_name(platform, 'cubestore') + '-router')}:3030"}
        if svc.semantic.deploy else {},
    )

    buckets = []

    def add_bucket(profile_name: str, bucket: str) -> None:
        profile = platform.storage[profile_name]
        provisioner = provisioner_of(platform, profile)
        endpoint = services["object_storage"].endpoints["s3"] if provisioner is Provisioner.MINIO else (
            profile.endpoint if isinstance(profile.endpoint, str) else "")
        buckets.append(BucketPlan(profile_name, bucket, provisioner, profile.region, endpoint))

    for name, profile in platform.storage.items():
        add_bucket(name, profile.bucket)
    logs = platform.observability.compute_logs
    if logs is not None and logs.enabled and logs.bucket and logs.storage_ref in platform.storage:
        # A dedicated compute-log bucket lives beside its storage profile's bucket.
        add_bucket(logs.storage_ref, logs.bucket)
    return Topology(ns, str(dep.environment), services, buckets)
