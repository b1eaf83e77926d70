"""Storage profiles: S3 (AWS or an S3-compatible endpoint such as MinIO) per bucket."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from floe_infra.config.base import BucketName, EndpointUrl, FloeModel, SecretReference
from floe_infra.config.credentials import CredentialConfig, no_credentials


class StorageType(StrEnum):
    """Object storage backends floe-runtime knows; floe-infra provisions `s3`."""

    S3 = "s3"
    GCS = "gcs"
    AZURE = "azure"
    LOCAL = "local"


class StorageLifecycle(FloeModel):
    """floe-runtime's retention settings of a bucket, as floe-infra applies them (never to a current object)."""

    transition_to_glacier: int | None = Field(
        default=None, ge=1,
        description="AWS buckets floe-infra owns: days after which a noncurrent (overwritten or deleted) object "
                    "version moves to S3 Glacier, when that is sooner than its removal "
                    "(deployment.services.object_storage.noncurrent_version_days). Current objects are never "
                    "archived: every reader opens them live.",
    )
    expiration_days: int | None = Field(
        default=None, ge=1,
        description="Retention of the layers stored in this bucket that set no retention_days (see "
                    "layers.<name>.retention_days); no lifecycle rule expires current objects.",
    )


class StorageReplication(FloeModel):
    """Cross-region replication settings (read by floe-runtime; floe-infra does not set up replication)."""

    enabled: bool = Field(default=False, description="Whether the bucket is replicated.")
    destination_region: str | None = Field(default=None, description="Region of the replica bucket.")


class StorageProfile(FloeModel):
    """One S3 bucket and how to reach it.

    An empty `endpoint` means AWS S3: floe-infra creates the bucket with pulumi-aws. A set
    endpoint means an S3-compatible service: the in-cluster MinIO when
    `deployment.services.object_storage.deploy` is true, else an external service whose bucket
    must already exist.
    """

    type: StorageType = Field(default=StorageType.S3, description="Storage backend type.")
    endpoint: EndpointUrl | SecretReference = Field(
        default="", description="S3 endpoint URL; empty for AWS S3, set for MinIO/LocalStack."
    )
    region: str = Field(default="us-east-1", description="AWS region of the bucket.")
    bucket: BucketName = Field(description="Bucket name (S3 naming rules).")
    path_style_access: bool = Field(default=False, description="Path-style requests (needed for MinIO).")
    credentials: CredentialConfig = Field(
        default_factory=no_credentials, description="How clients authenticate to this storage."
    )
    lifecycle: StorageLifecycle | None = Field(default=None, description="Retention of the bucket's data.")
    replication: StorageReplication | None = Field(
        default=None, description="Replication settings (metadata for floe-runtime)."
    )

    @property
    def is_aws(self) -> bool:
        """True when the profile targets AWS S3 itself (no custom endpoint)."""
        return self.endpoint == ""
