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
    """Bucket lifecycle rules applied to AWS buckets floe-infra manages."""

    transition_to_glacier: int | None = Field(
        default=None, ge=1, description="Days after which objects move to S3 Glacier."
    )
    expiration_days: int | None = Field(
        default=None, ge=1, description="Days after which objects expire (a layer's retention_days wins)."
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
    lifecycle: StorageLifecycle | None = Field(default=None, description="Lifecycle rules for AWS buckets.")
    replication: StorageReplication | None = Field(
        default=None, description="Replication settings (metadata for floe-runtime)."
    )

    @property
    def is_aws(self) -> bool:
        """True when the profile targets AWS S3 itself (no custom endpoint)."""
        return self.endpoint == ""
