"""Table maintenance: one CronJob per layer with a retention, running `floe-infra maintenance run`.

What a layer's retention does to data is decided here only by deploying the job; the job itself
(floe_infra/iceberg/maintenance.py) expires snapshots, deletes rows past the retention where a
table asks and removes files nothing references. It runs in the platform's identity, never a
tenant's: the platform catalog credential (platform.yaml's catalog profile, Polaris' root when the
platform deploys Polaris) and the platform's storage credentials or IAM role of the layer's bucket.
Both reach the pod by reference only: Secret keys composed by Kubernetes into
`FLOE_CATALOG_CREDENTIAL`, the storage Secret through `envFrom`. The plan (no credential) is a
ConfigMap the job mounts; the image is floe-infra's own (`FLOE_INFRA_IMAGE`).

Created per platform: ConfigMap `<name>-maintenance` (one `<layer>.json` plan each); per layer:
ServiceAccount and CronJob `<name>-maintenance-<layer>`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.base import SecretReference
from floe_infra.config.platform import PlatformConfig
from floe_infra.iceberg.maintenance_plan import MaintenancePlan
from floe_infra.platform.kubernetes import env_from_secret, object_meta, platform_labels
from floe_infra.platform.resources import service_resources
from floe_infra.platform.secrets import PlatformSecrets, storage_credentials_secret
from floe_infra.versions import FLOE_INFRA_IMAGE

COMPONENT = "maintenance"
PLAN_DIR = "/etc/floe/maintenance"
LAYER_LABEL = "floe.dev/layer"
# A run that fails is retried once; the next scheduled run resumes whatever is left.
BACKOFF_LIMIT = 1
# A run that missed its time by more than this waits for the next one.
STARTING_DEADLINE_SECONDS = 3600
CRONJOB_NAME_MAX = 52


@dataclass(frozen=True)
class MaintenanceArgs:
    """Inputs of `TableMaintenance`."""

    platform: PlatformConfig
    plans: dict[str, MaintenancePlan]
    namespace: pulumi.Input[str]
    secrets: PlatformSecrets = field(repr=False)


def maintenance_name(platform: PlatformConfig, layer: str | None = None) -> str:
    """`<deployment.name>-maintenance[-<layer>]`: the ConfigMap, and each layer's ServiceAccount and CronJob.

    A CronJob's name is at most 52 characters (its Jobs add 11): a longer one keeps its start and a digest.
    """
    name = f"{platform.deployment.name}-maintenance"
    if layer is not None:
        name = f"{name}-{layer.lower().replace('_', '-')}"
    if len(name) > CRONJOB_NAME_MAX:
        name = f"{name[:CRONJOB_NAME_MAX - 9].rstrip('-')}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return name


def catalog_credential_env(platform: PlatformConfig, layer: str) -> list[k8s.core.v1.EnvVarArgs]:
    """`FLOE_CATALOG_CREDENTIAL` composed by Kubernetes from the catalog profile's Secrets (none without one)."""
    creds = platform.catalogs[platform.layers[layer].catalog_ref].credentials
    if creds.client_secret is None or creds.client_id is None:
        return []
    client_id = (env_from_secret("FLOE_CATALOG_CLIENT_ID", creds.client_id.secret_ref, creds.client_id.env_key)
                 if isinstance(creds.client_id, SecretReference)
                 else k8s.core.v1.EnvVarArgs(name="FLOE_CATALOG_CLIENT_ID", value=creds.client_id))
    return [client_id,
            env_from_secret("FLOE_CATALOG_CLIENT_SECRET", creds.client_secret.secret_ref, creds.client_secret.env_key),
            # $(VAR) expands variables defined before it: the value exists only in the running pod.
            k8s.core.v1.EnvVarArgs(name="FLOE_CATALOG_CREDENTIAL",
                                   value="$(FLOE_CATALOG_CLIENT_ID):$(FLOE_CATALOG_CLIENT_SECRET)")]


class TableMaintenance(pulumi.ComponentResource):
    """The plans ConfigMap, and a ServiceAccount and a CronJob per maintained layer."""

    configmap: k8s.core.v1.ConfigMap
    service_accounts: dict[str, k8s.core.v1.ServiceAccount]
    cronjobs: dict[str, k8s.batch.v1.CronJob]

    def __init__(self, name: str, args: MaintenanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:TableMaintenance", name, None, opts)
        self._base = name
        self._args = args
        platform = args.platform
        self.configmap = k8s.core.v1.ConfigMap(
            f"{name}-plans", metadata=object_meta(platform, maintenance_name(platform), COMPONENT, args.namespace),
            data={f"{layer}.json": plan.to_json() for layer, plan in sorted(args.plans.items())},
            opts=pulumi.ResourceOptions(parent=self))
        self.service_accounts = {}
        self.cronjobs = {}
        for layer in sorted(args.plans):
            self.service_accounts[layer] = self._create_service_account(layer)
            self.cronjobs[layer] = self._create_cronjob(layer)
        self.register_outputs({"cronjobs": sorted(maintenance_name(platform, layer) for layer in self.cronjobs)})

    def _create_service_account(self, layer: str) -> k8s.core.v1.ServiceAccount:
        platform = self._args.platform
        role_arn = platform.storage[platform.layers[layer].storage_ref].credentials.role_arn
        return k8s.core.v1.ServiceAccount(
            f"{self._base}-{layer}-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=maintenance_name(platform, layer), namespace=self._args.namespace,
                labels={**platform_labels(platform, COMPONENT), LAYER_LABEL: layer},
                # IRSA: the layer bucket's IAM role, assumed through this account.
                annotations={"eks.amazonaws.com/role-arn": role_arn} if role_arn else None),
            # The job never calls the API server (IRSA mounts its own token).
            automount_service_account_token=False, opts=pulumi.ResourceOptions(parent=self))

    def _container(self, layer: str) -> k8s.core.v1.ContainerArgs:
        platform = self._args.platform
        svc = platform.deployment.services.maintenance
        storage_secret = storage_credentials_secret(platform, platform.layers[layer].storage_ref)
        return k8s.core.v1.ContainerArgs(
            name=COMPONENT,
            image=f"{svc.image_repository or FLOE_INFRA_IMAGE.repository}:{svc.image_tag or FLOE_INFRA_IMAGE.tag}",
            command=["floe-infra", "maintenance", "run", "--plan", f"{PLAN_DIR}/plan.json"],
            env=[k8s.core.v1.EnvVarArgs(name="TZ", value=platform.infrastructure.timezone),
                 *catalog_credential_env(platform, layer)],
            env_from=[k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=storage_secret))]
            if storage_secret else None,
            resources=k8s.core.v1.ResourceRequirementsArgs(**service_resources(platform, COMPONENT)),
            security_context=k8s.core.v1.SecurityContextArgs(
                run_as_non_root=True, allow_privilege_escalation=False, read_only_root_filesystem=True,
                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"])),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="plan", mount_path=PLAN_DIR, read_only=True),
                           k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")])

    def _create_cronjob(self, layer: str) -> k8s.batch.v1.CronJob:
        args = self._args
        platform = args.platform
        svc = platform.deployment.services.maintenance
        labels = {**platform_labels(platform, COMPONENT), LAYER_LABEL: layer}
        secrets = args.secrets.managed(storage_credentials_secret(platform, platform.layers[layer].storage_ref),
                                       *_catalog_secrets(platform, layer))
        pod = k8s.core.v1.PodSpecArgs(
            service_account_name=self.service_accounts[layer].metadata.name,
            automount_service_account_token=False,
            restart_policy="Never",
            security_context=k8s.core.v1.PodSecurityContextArgs(run_as_user=10001, run_as_group=10001),
            containers=[self._container(layer)],
            volumes=[k8s.core.v1.VolumeArgs(name="plan", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                         name=self.configmap.metadata.name,
                         items=[k8s.core.v1.KeyToPathArgs(key=f"{layer}.json", path="plan.json")])),
                     k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())])
        return k8s.batch.v1.CronJob(
            f"{self._base}-{layer}",
            metadata=object_meta(platform, maintenance_name(platform, layer), COMPONENT, args.namespace,
                                 **{LAYER_LABEL: layer}),
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=svc.schedule,
                time_zone=platform.infrastructure.timezone,
                # Two runs on one layer would race each other's commits: a late run waits for the next slot.
                concurrency_policy="Forbid",
                starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
                successful_jobs_history_limit=3,
                failed_jobs_history_limit=3,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.batch.v1.JobSpecArgs(
                        backoff_limit=BACKOFF_LIMIT,
                        active_deadline_seconds=svc.timeout_minutes * 60,
                        template=k8s.core.v1.PodTemplateSpecArgs(
                            metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels), spec=pod)))),
            # A run needs the Secrets it reads: created by this stack first where the stack writes them.
            opts=pulumi.ResourceOptions(parent=self, depends_on=secrets))


def _catalog_secrets(platform: PlatformConfig, layer: str) -> list[str]:
    creds = platform.catalogs[platform.layers[layer].catalog_ref].credentials
    return [ref.secret_ref for ref in (creds.client_id, creds.client_secret) if isinstance(ref, SecretReference)]
