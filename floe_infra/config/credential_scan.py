"""Find credentials written into configuration files.

Two policies, one scanner:
- platform.yaml may *name* credentials (`secret_ref`) but never hold one: a credential-like key
  with a literal string value, or a value that is itself a secret (an AWS key id, a private key,
  a URL or connection string with a password) is rejected.
- floe.yaml holds no credentials at all: credential-like keys are rejected whatever their value,
  and so are secret-looking values anywhere.

The scan walks the parsed document, so every finding has its line and column.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

from floe_infra.config.keys import PRIVATE_KEY_PREFIX
from floe_infra.config.yaml_source import Path_, SourceDocument
from floe_infra.errors import Problem

_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
# `${NAME}` / `${NAME:-default}` as floe-runtime expands them (floe-infra itself expands nothing in floe.yaml).
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Single words that make a key a credential.
_SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "passphrase", "secret", "secrets", "token", "apikey", "credential",
    "credentials", "privatekey", "secretkey", "accesskey", "sessiontoken", "dsn",
})
# Word pairs that do (access_key, api_key, private_key, connection_string, ...).
_SECRET_PAIRS = frozenset({
    ("access", "key"), ("api", "key"), ("private", "key"), ("secret", "key"), ("client", "secret"),
    ("session", "token"), ("auth", "token"), ("connection", "string"), ("conn", "str"),
    ("signing", "key"), ("encryption", "key"),
})
# Words that turn a credential-like key into something that is not a credential value.
_NOT_A_VALUE = frozenset({"ref", "refs", "enabled", "refresh", "backends", "backend", "rotation", "days",
                          "mode", "mount", "path", "name", "names", "type"})

_TENANT_PRIVATE_KEY = "a tenant's private key"
# Each pattern with literals of which every match holds one. A substring test costs a fraction of a
# regex scan and almost no value holds any, so most values (ConfigMaps of whole YAML files among them)
# are never scanned.
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, ...], str], ...] = (
    (re.compile(r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"), ("AKIA", "ASIA", "ABIA", "ACCA"), "an AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), ("PRIVATE KEY-----",), "a private key"),
    (re.compile(re.escape(PRIVATE_KEY_PREFIX)), (PRIVATE_KEY_PREFIX,), _TENANT_PRIVATE_KEY),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"), ("@",), "a URL with a user and password"),
    (re.compile(r"(?i)(^|[;\s?&])(password|pwd)\s*=\s*[^;&\s]+"), ("=",), "a connection string with a password"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), "a GitHub token"),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"), ("xox",), "a Slack token"),
    (re.compile(r"\bsk_(live|test)_[A-Za-z0-9]{16,}\b"), ("sk_live_", "sk_test_"), "a Stripe key"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"), ("eyJ",),
     "a JSON web token"),
)


@functools.lru_cache(maxsize=4096)  # a file repeats its field names: each is judged once
def credential_key(key: str) -> bool:
    """Whether a mapping key names a credential value (`password`, `aws_secret_access_key`, ...)."""
    words = [w for w in _WORD_SPLIT.split(_CAMEL_BOUNDARY.sub("_", key).lower()) if w]
    if not words or words[-1] in _NOT_A_VALUE:
        return False
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


def secret_value_kind(value: str) -> str | None:
    """What kind of secret a string value is, or None."""
    for pattern, literals, kind in _VALUE_PATTERNS:
        for literal in literals:
            if literal in value:
                if pattern.search(value):
                    return kind
                break
    return None


def credential_field(key: str) -> bool:
    """Whether a field holds or names a credential: a credential-like key, or a `secret_ref`."""
    return credential_key(key) or key == "secret_ref" or key.endswith("_secret_ref")


# Sections named like credentials whose fields are settings (mode, role_arn, scope), not secrets.
_CREDENTIAL_SECTIONS = frozenset({"credentials"})


def sensitive(path: Path_, value: Any) -> bool:
    """Whether an error about `value` at `path` must not repeat the value: it sits in (or under) a
    credential field, or it looks like a secret itself."""
    if any(isinstance(part, str) and part not in _CREDENTIAL_SECTIONS and credential_field(part) for part in path):
        return True
    return isinstance(value, str) and secret_value_kind(value) is not None


# Mappings of platform.yaml keyed by Secret names (`rotate: {acme-s3-credentials: 1}`), not by fields.
_KEYED_BY_SECRET_NAME = frozenset({("deployment", "rotate")})


def scan_platform(doc: SourceDocument) -> list[Problem]:
    """Plaintext credentials in platform.yaml (a number is a credential too, under a credential key)."""
    problems: list[Problem] = []

    def visit(value: dict[str, Any] | list[Any], path: Path_) -> None:
        # A value's path is built only when it is reported: big files are mostly strings.
        if isinstance(value, dict):
            keyed_by_name = path in _KEYED_BY_SECRET_NAME
            for key, item in value.items():
                if isinstance(item, dict | list):
                    visit(item, (*path, key))
                else:
                    check(item, path, key, None if keyed_by_name else key)
        else:
            for index, item in enumerate(value):
                if isinstance(item, dict | list):
                    visit(item, (*path, index))
                else:
                    check(item, path, index, None)

    def check(value: Any, parent: Path_, step: str | int, key: str | None) -> None:
        if isinstance(value, str):
            kind = secret_value_kind(value)
            if kind == _TENANT_PRIVATE_KEY:
                # In a tenant's public_key, the model's own check says what to paste instead.
                if not (len(parent) == 3 and parent[:2] == ("deployment", "tenants") and key == "public_key"):
                    problems.append(doc.problem((*parent, step), f"this value is {kind}, which only its pipeline "
                                                "stack holds (`pulumi config set --secret floe:tenantKey`), never "
                                                "platform.yaml: make a new key pair (this one is exposed)"))
            elif kind:
                problems.append(doc.problem((*parent, step), f"this value is {kind}; platform.yaml must not hold "
                                            "credentials: put it in a Kubernetes Secret and reference it "
                                            "with secret_ref"))
            elif key is not None and credential_key(key) and value.strip():
                problems.append(doc.problem((*parent, step), f"'{key}' holds a plaintext credential; replace it "
                                            "with `{secret_ref: <kubernetes-secret-name>}`"))
        elif isinstance(value, int | float) and not isinstance(value, bool) and key is not None and credential_key(key):
            problems.append(doc.problem((*parent, step), f"'{key}' holds a plaintext credential; replace it with "
                                        "`{secret_ref: <kubernetes-secret-name>}`"))

    visit(doc.data, ())
    return problems


def scan_pipeline(doc: SourceDocument) -> list[Problem]:
    """Any credential in floe.yaml (a flagged key's contents are not reported again)."""
    problems: list[Problem] = []

    def visit(value: Any, path: Path_) -> None:
        key = path[-1] if path and isinstance(path[-1], str) else None
        named_credential = key is not None and credential_field(key)
        if named_credential and value is not None and not isinstance(value, bool):
            problems.append(doc.problem(path, f"'{key}' is a credential; floe.yaml holds none. The "
                                        "platform team provides credentials through platform.yaml; "
                                        "refer to its profiles by name", prefer_key=True))
            return
        if isinstance(value, str) and (kind := secret_value_kind(value)):
            problems.append(doc.problem(path, f"this value is {kind}; floe.yaml holds no credentials: "
                                        "ask the platform team to add it to platform.yaml as a secret_ref"))
        elif isinstance(value, str) and (names := [n for n in _ENV_REFERENCE.findall(value) if credential_key(n)]):
            problems.append(doc.problem(path, f"${{{names[0]}}} names a credential variable: floe-runtime expands "
                                        "floe.yaml in the pipeline's pods, where it would copy the credential into "
                                        "this value (and telemetry or lineage that carry it); remove the reference"))
        elif isinstance(value, dict):
            for child_key, child in value.items():
                visit(child, (*path, child_key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                visit(child, (*path, index))

    visit(doc.data, ())
    return problems
