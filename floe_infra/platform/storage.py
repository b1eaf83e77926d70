"""Object storage: the in-cluster MinIO release and AWS S3 buckets, one per storage profile bucket."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.platform import PlatformConfig
from floe_infra.config.retention import glacier_days
from floe_infra.config.tenancy import compute_log_target, storage_grants
from floe_infra.kube.helm import release_args
from floe_infra.kube.rollout import CONFIG_DIGEST_ENV, config_digest
from floe_infra.platform.kubernetes import platform_chart_labels
from floe_infra.platform.resources import JOB_RESOURCES, service_resources
from floe_infra.platform.secrets import PlatformSecrets, storage_credentials_secret
from floe_infra.platform.tenants import minio_policy, minio_policy_name, minio_tenants
from floe_infra.topology import BucketPlan, Provisioner, Topology
from floe_infra.versions import MINIO_CHART

# Uploads still unfinished after this long were abandoned by their writer.
ABORT_INCOMPLETE_UPLOAD_DAYS = 7

if TYPE_CHECKING:
    # Imported where buckets are made: pulumi_aws is ~260 modules (0.15 s, 44,000 objects the garbage
    # collector walks on every full collection after) that a platform on MinIO never uses.
    import pulumi_aws as aws


@dataclass(frozen=True)
class StorageArgs:
    """Inputs of `ObjectStorage`."""

    platform: PlatformConfig
    topology: Topology
    namespace: pulumi.Input[str]
    secrets: PlatformSecrets = field(repr=False)


class ObjectStorage(pulumi.ComponentResource):
    """MinIO (when deployed) and the AWS buckets floe-infra owns."""

    minio: k8s.helm.v3.Release | None

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:ObjectStorage", name, None, opts)
        self._base = name
        self._args = args
        protect = args.platform.deployment.protect_stateful
        self._stateful = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)
        self.minio = self._create_minio() if args.platform.deployment.services.object_storage.deploy else None
        # Annotated here, not on the class: the SDK resolves a resource class's annotations at registration.
        self.aws_providers: dict[str, aws.Provider] = {}
        self.aws_buckets: dict[str, aws.s3.Bucket] = {}
        seen: set[str] = set()
        for plan in args.topology.buckets:
            if plan.provisioner is Provisioner.AWS and plan.bucket not in seen:
                seen.add(plan.bucket)
                self.aws_buckets[plan.bucket] = self._create_aws_bucket(plan)
        self.register_outputs({
            "minio": self.minio.name if self.minio else None,
            "aws_buckets": {bucket: b.bucket for bucket, b in self.aws_buckets.items()},
        })

    # --- MinIO ----------------------------------------------------------------------------------

    def _minio_values(self) -> dict[str, Any]:
        platform = self._args.platform
        service = platform.deployment.services.object_storage
        buckets = sorted({plan.bucket for plan in self._args.topology.buckets
                          if plan.provisioner is Provisioner.MINIO})
        users = sorted({s for p in platform.storage
                        if (s := storage_credentials_secret(platform, p)) and s in self._args.secrets.secrets})
        tenants = minio_tenants(platform)
        values: dict[str, Any] = {
            "mode": "standalone",
            "replicas": 1,
            "existingSecret": f"{platform.deployment.name}-minio-root",
            "persistence": {"enabled": True, "size": service.persistence.size},
            "resources": service_resources(platform, "object_storage"),
            # Buckets are created by the chart's post-install hook; never purged on upgrade.
            "buckets": [{"name": b, "policy": "none", "purge": False, "versioning": True, "objectlocking": False}
                        for b in buckets],
            # No default console user: the platform's storage credentials (readwrite, for the platform's own
            # services), and one user per tenant whose policy reaches only the tenant's prefixes.
            "users": [{"accessKey": secret, "existingSecret": secret, "existingSecretKey": "AWS_SECRET_ACCESS_KEY",
                       "policy": "readwrite"} for secret in users]
                     + [{"accessKey": tenant.storage_secret, "existingSecret": tenant.storage_secret,
                         "existingSecretKey": "AWS_SECRET_ACCESS_KEY", "policy": minio_policy_name(tenant)}
                        for tenant in tenants],
            "policies": [minio_policy(tenant, storage_grants(platform, tenant)) for tenant in tenants],
            "svcaccts": [],
            # Rolls MinIO when its root or a user's credentials change.
            "environment": {"TZ": platform.infrastructure.timezone,
                            CONFIG_DIGEST_ENV: config_digest(self._object_storage_secrets())},
            "makeBucketJob": {"resources": JOB_RESOURCES},
            "makeUserJob": {"resources": JOB_RESOURCES},
            "makePolicyJob": {"resources": JOB_RESOURCES},
            "customCommandJob": {"resources": JOB_RESOURCES},
            "podLabels": platform_chart_labels(platform, "object-storage"),
        }
        local = platform.infrastructure.network.local_access
        if local.enabled and local.access_type == "nodeport":
            values["service"] = {"type": "NodePort", "nodePort": local.ports.minio}
            values["consoleService"] = {"type": "NodePort", "nodePort": local.ports.minio_console}
        if service.persistence.storage_class:
            values["persistence"]["storageClass"] = service.persistence.storage_class
        if service.image_tag:
            values["image"] = {"tag": service.image_tag}
        return values

    def _object_storage_secrets(self) -> list[k8s.core.v1.Secret]:
        secrets = self._args.secrets
        return [s for n, s in sorted(secrets.secrets.items()) if secrets.specs[n].component == "object-storage"]

    def _create_minio(self) -> k8s.helm.v3.Release:
        args = self._args
        release = args.topology.services["object_storage"].release
        assert release is not None  # deployed services always have a release name
        needed = [s for n, s in args.secrets.secrets.items()
                  if args.secrets.specs[n].component == "object-storage"]
        return k8s.helm.v3.Release(
            f"{self._base}-minio",
            release_args(MINIO_CHART, release=release, namespace=args.namespace, values=self._minio_values(),
                         service=args.platform.deployment.services.object_storage,
                         sources=args.platform.deployment.chart_sources),
            # The chart reads its root and user credentials from these Secrets at install time.
            opts=pulumi.ResourceOptions.merge(self._stateful, pulumi.ResourceOptions(depends_on=needed)),
        )

    # --- AWS S3 ---------------------------------------------------------------------------------

    def _aws_provider(self, region: str) -> aws.Provider:
        import pulumi_aws as aws

        if region not in self.aws_providers:
            self.aws_providers[region] = aws.Provider(
                f"{self._base}-aws-{region}", aws.ProviderArgs(region=region),
                opts=pulumi.ResourceOptions(parent=self))
        return self.aws_providers[region]

    def _create_aws_bucket(self, plan: BucketPlan) -> aws.s3.Bucket:
        import pulumi_aws as aws

        platform = self._args.platform
        provider = self._aws_provider(plan.region)
        base = f"{self._base}-{plan.bucket}"
        tags = {"floe:platform": platform.deployment.name, "floe:environment": str(platform.deployment.environment),
                "floe:profile": plan.profile, "managed-by": "pulumi"}
        bucket = aws.s3.Bucket(
            base, aws.s3.BucketArgs(bucket=plan.bucket, force_destroy=False, tags=tags),
            opts=pulumi.ResourceOptions.merge(self._stateful, pulumi.ResourceOptions(provider=provider)))
        child = pulumi.ResourceOptions(parent=bucket, provider=provider)
        at_rest = platform.security.encryption.at_rest
        kms = at_rest.kms_key_id if at_rest.enabled and at_rest.kms_key_id else None
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{base}-encryption",
            aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
                bucket=bucket.id,
                rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=(
                        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="aws:kms" if kms else "AES256", kms_master_key_id=kms)),
                    bucket_key_enabled=bool(kms))]),
            opts=child)
        aws.s3.BucketVersioning(
            f"{base}-versioning",
            aws.s3.BucketVersioningInitArgs(
                bucket=bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled")),
            opts=child)
        aws.s3.BucketPublicAccessBlock(
            f"{base}-public-access",
            aws.s3.BucketPublicAccessBlockArgs(bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                                               ignore_public_acls=True, restrict_public_buckets=True),
            opts=child)
        aws.s3.BucketOwnershipControls(
            f"{base}-ownership",
            aws.s3.BucketOwnershipControlsArgs(
                bucket=bucket.id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced")),
            opts=child)
        self._create_lifecycle(base, bucket, plan, child)
        return bucket

    def _create_lifecycle(self, base: str, bucket: aws.s3.Bucket, plan: BucketPlan,
                          opts: pulumi.ResourceOptions) -> None:
        """Rules that never touch a current object a reader opens (docs/platform-config.md, `retention_days`).

        Table data is retained by the maintenance job (floe_infra/platform/maintenance.py); S3 only removes
        dead multipart uploads, noncurrent versions after a grace period (the window to undo a deletion), and
        compute logs under their own prefix.
        """
        import pulumi_aws as aws

        platform = self._args.platform
        noncurrent = platform.deployment.services.object_storage.noncurrent_version_days
        archive = glacier_days(platform, plan.bucket)
        everything = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
        rules = [
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="abort-incomplete-uploads", status="Enabled", filter=everything,
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=ABORT_INCOMPLETE_UPLOAD_DAYS)),
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="noncurrent-versions", status="Enabled", filter=everything,
                # A delete marker left alone once its versions are gone is removed too.
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
                noncurrent_version_expiration=(
                    aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(noncurrent_days=noncurrent)),
                noncurrent_version_transitions=[
                    aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionTransitionArgs(
                        noncurrent_days=archive, storage_class="GLACIER")] if archive else None),
        ]
        logs = compute_log_target(platform)
        settings = platform.s3_compute_logs
        if logs is not None and settings is not None and logs[0] == plan.bucket and logs[1]:
            rules.append(aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="compute-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=logs[1]),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=settings.retention_days)))
        aws.s3.BucketLifecycleConfiguration(
            f"{base}-lifecycle", aws.s3.BucketLifecycleConfigurationArgs(bucket=bucket.id, rules=rules), opts=opts)
