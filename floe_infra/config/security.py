"""Security and governance sections: mostly floe-runtime's; floe-infra reads the at-rest key."""

from __future__ import annotations

from pydantic import Field

from floe_infra.config.base import FloeModel, RuntimeSection


class AtRestEncryption(FloeModel):
    """Encryption at rest; `kms_key_id` becomes the SSE-KMS key of AWS buckets."""

    enabled: bool = Field(default=False, description="Encrypt with a customer key.")
    kms_key_id: str | None = Field(default=None, description="KMS key ARN or id for SSE-KMS.")
    multi_region_key: bool = Field(default=False, description="The key is a multi-region key.")


class EncryptionConfig(FloeModel):
    """Encryption settings."""

    in_transit: RuntimeSection | None = Field(default=None, description="TLS settings, for floe-runtime.")
    at_rest: AtRestEncryption = Field(default_factory=AtRestEncryption, description="Encryption at rest.")


class SecurityConfig(FloeModel):
    """Security settings of the platform."""

    authentication: RuntimeSection | None = Field(default=None, description="User auth, for floe-runtime.")
    authorization: RuntimeSection | None = Field(default=None, description="RBAC/ABAC, for floe-runtime.")
    secret_backends: RuntimeSection | None = Field(
        default=None, description="Where Secrets come from (External Secrets, Vault), for floe-runtime."
    )
    encryption: EncryptionConfig = Field(default_factory=EncryptionConfig, description="Encryption.")
    audit: RuntimeSection | None = Field(default=None, description="Audit logging, for floe-runtime.")
