"""PostgreSQL for Dagster, Marquez and Polaris: a project-owned StatefulSet, or an external server.

Each service gets its own role and database. A setup Job creates them idempotently (and resets
their passwords from the Secrets, so a rotated Secret takes effect on the next `pulumi up`),
with the admin credentials of the deployed or external server. No password is ever in the Job
spec: the script reads them from the environment, filled from Secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.platform import PlatformConfig
from floe_infra.kube.rollout import config_digest
from floe_infra.platform.kubernetes import env_from_secret, object_meta, platform_labels
from floe_infra.platform.resources import JOB_RESOURCES, service_resources
from floe_infra.platform.secrets import PlatformSecrets, database_secret
from floe_infra.topology import Topology
from floe_infra.versions import POSTGRES_IMAGE

SETUP_SCRIPT = r"""#!/bin/sh
# Create one role and database per service, idempotently; (re)set each role's password.
set -eu
until pg_isready -q; do echo "waiting for PostgreSQL at $PGHOST:$PGPORT"; sleep 2; done
for service in $FLOE_DATABASES; do
  upper=$(echo "$service" | tr '[:lower:]' '[:upper:]')
  eval "password=\$${upper}_PASSWORD"
  psql -v ON_ERROR_STOP=1 -v role="$service" -v pw="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')\gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'role', :'pw')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'role', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'role')\gexec
SQL
  echo "database $service ready"
done
"""


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of `Database`."""

    platform: PlatformConfig
    topology: Topology
    namespace: pulumi.Input[str]
    secrets: PlatformSecrets = field(repr=False)
    services: tuple[str, ...]


def database_selector(topology: Topology) -> dict[str, str]:
    """Labels selecting the PostgreSQL pod (its Service's selector; tenants' NetworkPolicies allow it)."""
    return {"app.kubernetes.io/name": "postgresql",
            "app.kubernetes.io/instance": topology.services["database"].release or ""}


class Database(pulumi.ComponentResource):
    """The platform's PostgreSQL and the per-service databases in it."""

    service: k8s.core.v1.Service | None
    statefulset: k8s.apps.v1.StatefulSet | None
    setup_job: k8s.batch.v1.Job
    host: str
    port: int

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:Database", name, None, opts)
        self._base = name
        self._args = args
        cfg = args.platform.deployment.services.database
        self.host, self.port = args.topology.database
        if cfg.deploy:
            self.service, self.statefulset = self._create_server()
            admin_secret = f"{args.platform.deployment.name}-postgresql-admin"
        else:
            self.service, self.statefulset = None, None
            admin_secret = cfg.admin_secret_ref or ""
        self.setup_job = self._create_setup_job(admin_secret)
        self.register_outputs({"host": self.host, "databases": list(args.services)})

    def _labels(self) -> dict[str, str]:
        return database_selector(self._args.topology)

    def _create_server(self) -> tuple[k8s.core.v1.Service, k8s.apps.v1.StatefulSet]:
        args = self._args
        platform = args.platform
        cfg = platform.deployment.services.database
        release = args.topology.services["database"].release or ""
        admin = f"{platform.deployment.name}-postgresql-admin"
        protect = platform.deployment.protect_stateful
        service = k8s.core.v1.Service(
            f"{self._base}-service",
            metadata=object_meta(platform, release, "database", args.namespace),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=self._labels(),
                ports=[k8s.core.v1.ServicePortArgs(name="postgres", port=5432, target_port="postgres")]),
            opts=pulumi.ResourceOptions(parent=self))
        claim = k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"], storage_class_name=cfg.persistence.storage_class,
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": cfg.persistence.size}))
        container = k8s.core.v1.ContainerArgs(
            name="postgresql",
            image=POSTGRES_IMAGE.ref(cfg.image_tag),
            ports=[k8s.core.v1.ContainerPortArgs(name="postgres", container_port=5432)],
            env=[
                env_from_secret("POSTGRES_USER", admin, "username"),
                env_from_secret("POSTGRES_PASSWORD", admin, "password"),
                k8s.core.v1.EnvVarArgs(name="PGDATA", value="/var/lib/postgresql/data/pgdata"),
                k8s.core.v1.EnvVarArgs(name="TZ", value=platform.infrastructure.timezone),
            ],
            resources=k8s.core.v1.ResourceRequirementsArgs(**service_resources(platform, "database")),
            readiness_probe=k8s.core.v1.ProbeArgs(
                exec_=k8s.core.v1.ExecActionArgs(command=["sh", "-c", 'pg_isready -U "$POSTGRES_USER"']),
                period_seconds=10, timeout_seconds=5),
            liveness_probe=k8s.core.v1.ProbeArgs(
                exec_=k8s.core.v1.ExecActionArgs(command=["sh", "-c", 'pg_isready -U "$POSTGRES_USER"']),
                initial_delay_seconds=30, period_seconds=20, timeout_seconds=5),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="data", mount_path="/var/lib/postgresql/data")],
        )
        statefulset = k8s.apps.v1.StatefulSet(
            f"{self._base}-server",
            metadata=object_meta(platform, release, "database", args.namespace),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name=release,
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self._labels()),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels={**platform_labels(platform, "database"), **self._labels()}),
                    spec=k8s.core.v1.PodSpecArgs(
                        containers=[container],
                        security_context=k8s.core.v1.PodSecurityContextArgs(fs_group=999))),
                volume_claim_templates=[k8s.core.v1.PersistentVolumeClaimArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(name="data"), spec=claim)],
            ),
            # The admin Secret must exist before the server initializes its data directory.
            opts=pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect,
                                        depends_on=[args.secrets.secrets[admin]]))
        return service, statefulset

    def _create_setup_job(self, admin_secret: str) -> k8s.batch.v1.Job:
        args = self._args
        platform = args.platform
        release = args.topology.services["database"].release or f"{platform.deployment.name}-postgresql"
        script = k8s.core.v1.ConfigMap(
            f"{self._base}-setup-script",
            metadata=object_meta(platform, f"{release}-setup", "database", args.namespace),
            data={"setup.sh": SETUP_SCRIPT},
            opts=pulumi.ResourceOptions(parent=self))
        env = [
            k8s.core.v1.EnvVarArgs(name="PGHOST", value=self.host),
            k8s.core.v1.EnvVarArgs(name="PGPORT", value=str(self.port)),
            k8s.core.v1.EnvVarArgs(name="PGDATABASE", value="postgres"),
            env_from_secret("PGUSER", admin_secret, "username"),
            env_from_secret("PGPASSWORD", admin_secret, "password"),
            k8s.core.v1.EnvVarArgs(name="FLOE_DATABASES", value=" ".join(args.services)),
        ] + [
            env_from_secret(f"{service.upper()}_PASSWORD", database_secret(platform, service), "password")
            for service in args.services
        ]
        depends: list[pulumi.Resource] = [args.secrets.secrets[database_secret(platform, s)] for s in args.services]
        if self.statefulset is not None:
            depends.append(self.statefulset)
        # A new service, script or password (a rotation) is a new Job that (re)sets the roles: the name
        # carries a digest of what the Job does and of the versions of the Secrets it reads.
        digest = config_digest(args.secrets.managed(*(database_secret(platform, s) for s in args.services)),
                               SETUP_SCRIPT, " ".join(args.services))
        return k8s.batch.v1.Job(
            f"{self._base}-setup",
            metadata=object_meta(platform, pulumi.Output.concat(f"{release}-setup-", digest.apply(lambda d: d[:8])),
                                 "database", args.namespace),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=10,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=platform_labels(platform, "database")),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="OnFailure",
                        containers=[k8s.core.v1.ContainerArgs(
                            name="setup",
                            image=POSTGRES_IMAGE.ref(platform.deployment.services.database.image_tag),
                            command=["sh", "/scripts/setup.sh"],
                            env=env,
                            resources=k8s.core.v1.ResourceRequirementsArgs(**JOB_RESOURCES),
                            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="scripts", mount_path="/scripts")])],
                        volumes=[k8s.core.v1.VolumeArgs(
                            name="scripts",
                            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=script.metadata.name))]))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends))

