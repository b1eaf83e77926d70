"""Credential settings of a storage, catalog or compute profile (platform.yaml only).

A credential is never written in platform.yaml: it is a `secret_ref` to a Kubernetes Secret,
or a mode that needs no static secret at all (IAM role, workload identity).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from floe_infra.config.base import FloeModel, SecretName, SecretReference

IAM_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def check_role_arn(value: str) -> str:
    """An IAM role ARN, `arn:aws:iam::<12-digit account>:role/<name>`."""
    if not IAM_ROLE_ARN_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not an IAM role ARN (arn:aws:iam::123456789012:role/name)")
    return value


class CredentialMode(StrEnum):
    """How a client obtains its credentials."""

    STATIC = "static"
    OAUTH2 = "oauth2"
    IAM_ROLE = "iam_role"
    SERVICE_ACCOUNT = "service_account"


class CredentialConfig(FloeModel):
    """Credentials of a profile, by reference only."""

    mode: CredentialMode = Field(
        default=CredentialMode.STATIC,
        description="static: keys in the Secret named by secret_ref; oauth2: client credentials flow; "
                    "iam_role: assume role_arn (IRSA); service_account: workload identity.",
    )
    client_id: str | SecretReference | None = Field(
        default=None, description="OAuth2 client id (not secret; may also be a secret_ref)."
    )
    client_secret: SecretReference | None = Field(
        default=None, description="OAuth2 client secret, always a secret_ref."
    )
    scope: str | None = Field(default=None, description="OAuth2 scope, e.g. PRINCIPAL_ROLE:DATA_ENGINEER.")
    role_arn: Annotated[str, AfterValidator(check_role_arn)] | None = Field(
        default=None, description="IAM role ARN for iam_role mode."
    )
    secret_ref: SecretName | None = Field(
        default=None,
        description="static mode: Secret with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                    "(storage) or the engine's own keys (compute).",
    )

    @model_validator(mode="after")
    def check_mode_requirements(self) -> Self:
        """Each mode names what it needs."""
        if self.mode == CredentialMode.OAUTH2 and (self.client_id is None or self.client_secret is None):
            raise ValueError("mode oauth2 needs client_id and client_secret (a secret_ref)")
        if self.mode == CredentialMode.IAM_ROLE and self.role_arn is None:
            raise ValueError("mode iam_role needs role_arn")
        return self


# A profile that sets no credentials gets this one (frozen) instance rather than a copy of its own: a platform.yaml
# with 100,000 storage profiles holds one, not 100,000.
_NO_CREDENTIALS = CredentialConfig()


def no_credentials() -> CredentialConfig:
    """The default `credentials` of a profile: static mode, naming no Secret."""
    return _NO_CREDENTIALS
