"""Catalog profiles: the Iceberg REST catalog (Polaris) a platform offers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from floe_infra.config.base import FloeModel, HttpUrl, ProfileName, RuntimeSection, SecretReference
from floe_infra.config.credentials import CredentialConfig, no_credentials


class CatalogType(StrEnum):
    """Catalog implementations floe-runtime knows. `embedded` is floe-infra's SQLite catalog."""

    POLARIS = "polaris"
    GLUE = "glue"
    NESSIE = "nessie"
    REST = "rest"
    HIVE = "hive"
    EMBEDDED = "embedded"


class AccessDelegation(StrEnum):
    """Whether the catalog vends storage credentials to clients."""

    VENDED_CREDENTIALS = "vended-credentials"
    REMOTE_SIGNING = "remote-signing"
    NONE = "none"


class CatalogProfile(FloeModel):
    """One Iceberg catalog (a Polaris *catalog*, which Iceberg clients call a warehouse)."""

    type: CatalogType = Field(default=CatalogType.POLARIS, description="Catalog implementation.")
    uri: HttpUrl | SecretReference = Field(
        description="Catalog REST endpoint as clients outside floe-infra's deployment see it."
    )
    warehouse: ProfileName = Field(description="Warehouse (Polaris catalog) name.")
    namespace: str = Field(default="default", min_length=1, max_length=255, description="Default namespace.")
    credentials: CredentialConfig = Field(
        default_factory=no_credentials, description="How runtime clients authenticate (OAuth2)."
    )
    access_delegation: AccessDelegation = Field(
        default=AccessDelegation.NONE, description="Credential vending mode requested by clients."
    )
    token_refresh_enabled: bool = Field(default=True, description="Refresh OAuth2 tokens before expiry.")
    properties: dict[str, str] = Field(default_factory=dict, description="Extra catalog client properties.")
    high_availability: RuntimeSection | None = Field(
        default=None, description="HA hints for floe-runtime; replicas are set under deployment.services.catalog."
    )
