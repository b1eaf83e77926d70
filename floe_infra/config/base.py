"""Shared building blocks of the configuration models: the base model and validated name types.

Names are validated once, here, with messages that say what the rule is and what was received,
so every model that uses `ProfileName`, `KubernetesName`, `BucketName` or `SecretName` reports
the same precise error.
"""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from floe_infra.config.expansion import REFERENCE_PATTERN
from floe_infra.config.keys import decode_public_key

PROFILE_NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]*$")
RFC1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
RFC1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
ICEBERG_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SEMVER_RE = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")
HTTP_URL_RE = re.compile(r"^https?://[A-Za-z0-9._~%-]+(?::\d{1,5})?(?:[/?#]\S*)?$")
# A container image's registry and repository, without tag or digest (the OCI distribution name rule).
IMAGE_REPOSITORY_RE = re.compile(r"^[a-z0-9]+([._-]{1,2}[a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*$")
# Every name is bounded: Polaris takes at most 256 characters, Kubernetes 63 (labels) or 253, and a
# name ends up in role names, object names and messages. Regexes are applied with `fullmatch`, so a
# trailing newline (which `$` alone lets through) is refused.
PROFILE_NAME_MAX = 63
ICEBERG_IDENT_MAX = 128
HTTP_URL_MAX = 2048
# A pipeline's name is its tenant's name on the platform: a Kubernetes label in Helm release names such
# as `code-<name>`, which Helm caps at 53 characters.
# It starts with a letter: its default Iceberg namespace (the name with '_' for '-') must be an identifier.
PIPELINE_NAME_MAX = 48
PIPELINE_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


class FloeModel(BaseModel):
    """Base of every configuration model: unknown fields are errors and models are immutable.

    A model's validator is built when it first validates, not when its module is imported: a process that
    imports models it never validates (the platform program imports the pipeline's) does not pay for them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True, defer_build=True)


def check_profile_name(value: str) -> str:
    """Profile, layer and job names: a letter, then letters, digits, '-' or '_'."""
    if len(value) > PROFILE_NAME_MAX:
        raise ValueError(f"'{value[:PROFILE_NAME_MAX]}…' is longer than {PROFILE_NAME_MAX} characters")
    if not PROFILE_NAME_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid name: it must start with a letter and contain only "
                         "letters, digits, '-' and '_'")
    return value


def check_kubernetes_name(value: str) -> str:
    """RFC 1123 label: what Kubernetes accepts for namespaces, services and Helm releases."""
    if len(value) > 63 or not RFC1123_LABEL_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid Kubernetes name (RFC 1123 label): use at most 63 "
                         "lowercase letters, digits and '-', starting and ending with a letter or digit")
    return value


def check_pipeline_name(value: str) -> str:
    """A pipeline (tenant) name: the same rule in floe.yaml `name` and platform.yaml `deployment.tenants`."""
    if len(value) > PIPELINE_NAME_MAX or not PIPELINE_NAME_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid pipeline name: it names the tenant, its Kubernetes objects and "
                         f"its Helm release, so use at most {PIPELINE_NAME_MAX} lowercase letters, digits and '-', "
                         "starting with a letter and ending with a letter or digit (e.g. 'sales-orders')")
    return value


def check_http_url(value: str) -> str:
    """An http(s) URL with a host: `http://floe-minio:9000`, `https://polaris.example.com/api/catalog`."""
    if len(value) > HTTP_URL_MAX or not HTTP_URL_RE.fullmatch(value):
        hint = ""
        if "://" not in value:
            hint = f"; did you mean 'http://{value.split('//')[-1]}'?"
        raise ValueError(f"'{value}' is not an http(s) URL: write it as http(s)://host[:port][/path]{hint}")
    return value


def check_endpoint_url(value: str) -> str:
    """An S3 endpoint: empty for AWS S3 itself, else an http(s) URL."""
    return check_http_url(value) if value else value


def check_image_repository(value: str) -> str:
    """A container image repository, registry included, without a tag: `registry.example.com/floe/floe-infra`."""
    if len(value) > 255 or not IMAGE_REPOSITORY_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not an image repository: write registry/path/name in lowercase, without "
                         "a tag (the tag is image_tag)")
    return value


def check_secret_name(value: str) -> str:
    """RFC 1123 subdomain: a `secret_ref` names a Kubernetes Secret in the platform namespace."""
    if len(value) > 253 or not RFC1123_SUBDOMAIN_RE.fullmatch(value):
        raise ValueError(f"secret_ref '{value}' is not a valid Kubernetes Secret name (RFC 1123): use "
                         "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit")
    return value


def check_bucket_name(value: str) -> str:
    """S3 bucket naming rules (the ones that apply to new general-purpose buckets)."""
    problems = []
    if not 3 <= len(value) <= 63:
        problems.append(f"be 3 to 63 characters long (it has {len(value)})")
    if not BUCKET_RE.fullmatch(value):
        problems.append("use only lowercase letters, digits, '.' and '-', starting and ending with a "
                        "letter or digit")
    if ".." in value:
        problems.append("not contain '..'")
    if IPV4_RE.fullmatch(value):
        problems.append("not look like an IP address")
    if value.startswith(("xn--", "sthree-")) or value.endswith(("-s3alias", "--ol-s3")):
        problems.append("not use the reserved prefixes xn--/sthree- or suffixes -s3alias/--ol-s3")
    if problems:
        raise ValueError(f"bucket '{value}' breaks the S3 naming rules: it must " + "; ".join(problems))
    return value


def check_iceberg_identifier(value: str) -> str:
    """One level of an Iceberg namespace or a table name, as engines can quote-free reference it."""
    if len(value) > ICEBERG_IDENT_MAX:
        raise ValueError(f"'{value[:ICEBERG_IDENT_MAX]}…' is longer than {ICEBERG_IDENT_MAX} characters")
    if not ICEBERG_IDENT_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid Iceberg identifier: use letters, digits and '_', "
                         "not starting with a digit")
    return value


def check_public_key(value: str) -> str:
    """A base64 X25519 public key."""
    decode_public_key(value)
    return value


PROJECT_PATH_MAX = 1024
_WINDOWS_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def check_project_path(value: str) -> str:
    """A path inside the pipeline's project: relative, '/'-separated, never climbing out with '..'.

    Symlinks can only be judged on disk: whoever reads the path resolves it and checks again.
    """
    if not value or len(value) > PROJECT_PATH_MAX:
        raise ValueError(f"a path of 1 to {PROJECT_PATH_MAX} characters is needed here")
    if any(ord(c) < 32 or c == "\\" for c in value):
        raise ValueError(f"'{value}' holds a backslash or a control character: write the path with '/'")
    if value.startswith("/") or _WINDOWS_DRIVE_RE.match(value):
        raise ValueError(f"'{value}' is absolute: write it relative to floe.yaml (paths stay inside the pipeline's "
                         "project)")
    if posixpath.normpath(value).split("/")[0] == "..":
        raise ValueError(f"'{value}' leads out of the pipeline's project (relative to floe.yaml): files outside it "
                         "would be published with the pipeline; move them into the project")
    return value


def check_semver(value: str) -> str:
    """Semantic version `MAJOR.MINOR.PATCH`."""
    if len(value) > 64 or not SEMVER_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a semantic version; write it as MAJOR.MINOR.PATCH, e.g. \"1.0.0\"")
    return value


def _schema_pattern(regex: re.Pattern[str] | str, **extra: int) -> WithJsonSchema:
    """The pattern for editors, also accepting a `${VAR}` reference (expanded before validation); validation
    itself runs the check_* function for a precise message."""
    pattern = regex.pattern if isinstance(regex, re.Pattern) else regex
    return WithJsonSchema({"anyOf": [{"type": "string", "pattern": pattern, **extra},
                                     {"type": "string", "pattern": REFERENCE_PATTERN}]})


ProfileName = Annotated[str, AfterValidator(check_profile_name),
                        _schema_pattern(PROFILE_NAME_RE, maxLength=PROFILE_NAME_MAX)]
KubernetesName = Annotated[
    str, AfterValidator(check_kubernetes_name), _schema_pattern(RFC1123_LABEL_RE, maxLength=63)
]
PipelineName = Annotated[
    str, AfterValidator(check_pipeline_name), _schema_pattern(PIPELINE_NAME_RE, maxLength=PIPELINE_NAME_MAX)
]
SecretName = Annotated[
    str, AfterValidator(check_secret_name), _schema_pattern(RFC1123_SUBDOMAIN_RE, maxLength=253)
]
BucketName = Annotated[str, AfterValidator(check_bucket_name), _schema_pattern(BUCKET_RE)]
IcebergIdentifier = Annotated[str, AfterValidator(check_iceberg_identifier),
                              _schema_pattern(ICEBERG_IDENT_RE, maxLength=ICEBERG_IDENT_MAX)]
SemVer = Annotated[str, AfterValidator(check_semver), _schema_pattern(SEMVER_RE)]
ImageRepository = Annotated[str, AfterValidator(check_image_repository),
                            _schema_pattern(IMAGE_REPOSITORY_RE, maxLength=255)]
HttpUrl = Annotated[str, AfterValidator(check_http_url), _schema_pattern(HTTP_URL_RE, maxLength=HTTP_URL_MAX)]
# A storage endpoint: empty for AWS S3 itself, else the URL of an S3-compatible service.
EndpointUrl = Annotated[str, AfterValidator(check_endpoint_url),
                        _schema_pattern(f"^$|{HTTP_URL_RE.pattern}")]
ProjectPath = Annotated[str, AfterValidator(check_project_path),
                        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": PROJECT_PATH_MAX})]
PublicKey = Annotated[str, AfterValidator(check_public_key),
                      _schema_pattern(r"^[A-Za-z0-9+/]{43}=$")]

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
