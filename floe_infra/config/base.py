"""Shared building blocks of the configuration models: the base model and validated name types.

Names are validated once, here, with messages that say what the rule is and what was received,
so every model that uses `ProfileName`, `KubernetesName`, `BucketName` or `SecretName` reports
the same precise error.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

PROFILE_NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]*$")
RFC1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
RFC1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
ICEBERG_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SEMVER_RE = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


class FloeModel(BaseModel):
    """Base of every configuration model: unknown fields are errors and models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


def check_profile_name(value: str) -> str:
    """Profile, layer and job names: a letter, then letters, digits, '-' or '_'."""
    if not PROFILE_NAME_RE.match(value):
        raise ValueError(f"'{value}' is not a valid name: it must start with a letter and contain only "
                         "letters, digits, '-' and '_'")
    return value


def check_kubernetes_name(value: str) -> str:
    """RFC 1123 label: what Kubernetes accepts for namespaces, services and Helm releases."""
    if len(value) > 63 or not RFC1123_LABEL_RE.match(value):
        raise ValueError(f"'{value}' is not a valid Kubernetes name (RFC 1123 label): use at most 63 "
                         "lowercase letters, digits and '-', starting and ending with a letter or digit")
    return value


def check_secret_name(value: str) -> str:
    """RFC 1123 subdomain: a `secret_ref` names a Kubernetes Secret in the platform namespace."""
    if len(value) > 253 or not RFC1123_SUBDOMAIN_RE.match(value):
        raise ValueError(f"secret_ref '{value}' is not a valid Kubernetes Secret name (RFC 1123): use "
                         "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit")
    return value


def check_bucket_name(value: str) -> str:
    """S3 bucket naming rules (the ones that apply to new general-purpose buckets)."""
    problems = []
    if not 3 <= len(value) <= 63:
        problems.append(f"be 3 to 63 characters long (it has {len(value)})")
    if not BUCKET_RE.match(value):
        problems.append("use only lowercase letters, digits, '.' and '-', starting and ending with a "
                        "letter or digit")
    if ".." in value:
        problems.append("not contain '..'")
    if IPV4_RE.match(value):
        problems.append("not look like an IP address")
    if value.startswith(("xn--", "sthree-")) or value.endswith(("-s3alias", "--ol-s3")):
        problems.append("not use the reserved prefixes xn--/sthree- or suffixes -s3alias/--ol-s3")
    if problems:
        raise ValueError(f"bucket '{value}' breaks the S3 naming rules: it must " + "; ".join(problems))
    return value


def check_iceberg_identifier(value: str) -> str:
    """One level of an Iceberg namespace or a table name, as engines can quote-free reference it."""
    if not ICEBERG_IDENT_RE.match(value):
        raise ValueError(f"'{value}' is not a valid Iceberg identifier: use letters, digits and '_', "
                         "not starting with a digit")
    return value


def decode_key(text: str, kind: str) -> bytes:
    """A base64 X25519 key (32 bytes)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the {kind} key is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"the {kind} key must be 32 bytes (got {len(raw)}); create a key pair with "
                         "`floe-infra tenant keygen`")
    return raw


def check_public_key(value: str) -> str:
    """A base64 X25519 public key."""
    decode_key(value, "public")
    return value


def check_semver(value: str) -> str:
    """Semantic version `MAJOR.MINOR.PATCH`."""
    if not SEMVER_RE.match(value):
        raise ValueError(f"'{value}' is not a semantic version; write it as MAJOR.MINOR.PATCH, e.g. \"1.0.0\"")
    return value


def _schema_pattern(regex: re.Pattern[str], **extra: int) -> WithJsonSchema:
    """The pattern for editors; validation itself runs the check_* function for a precise message."""
    return WithJsonSchema({"type": "string", "pattern": regex.pattern, **extra})


ProfileName = Annotated[str, AfterValidator(check_profile_name), _schema_pattern(PROFILE_NAME_RE)]
KubernetesName = Annotated[
    str, AfterValidator(check_kubernetes_name), _schema_pattern(RFC1123_LABEL_RE, maxLength=63)
]
SecretName = Annotated[
    str, AfterValidator(check_secret_name), _schema_pattern(RFC1123_SUBDOMAIN_RE, maxLength=253)
]
BucketName = Annotated[str, AfterValidator(check_bucket_name), _schema_pattern(BUCKET_RE)]
IcebergIdentifier = Annotated[str, AfterValidator(check_iceberg_identifier), _schema_pattern(ICEBERG_IDENT_RE)]
SemVer = Annotated[str, AfterValidator(check_semver), _schema_pattern(SEMVER_RE)]

RuntimeSection = Annotated[
    dict[str, Any],
    Field(description="Read by floe-runtime only; floe-infra accepts it as-is (and scans it for "
                      "plaintext credentials) but does not act on it."),
]


class SecretReference(FloeModel):
    """A credential held in a Kubernetes Secret of this name in the platform namespace.

    A single-value reference (an OAuth client secret, say) is a Secret whose one key is the
    UPPER_SNAKE form of its name, so `envFrom` exposes it as the environment variable
    floe-runtime resolves it from.
    """

    secret_ref: SecretName = Field(description="Name of the Kubernetes Secret holding the value.")

    @property
    def env_key(self) -> str:
        """The Secret key (and environment variable) holding the value."""
        return env_key_for(self.secret_ref)


def env_key_for(secret_name: str) -> str:
    """`polaris-client-secret` -> `POLARIS_CLIENT_SECRET`, as floe-runtime resolves references."""
    return re.sub(r"[^A-Za-z0-9]", "_", secret_name).upper()
