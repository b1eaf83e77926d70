"""Which environment variables platform.yaml may expand: endpoints and names, never a credential.

CI jobs that run floe-infra hold credentials in environment variables, some of them under the
`FLOE_` prefix (`FLOE_CATALOG_CREDENTIAL` for the live table plan, `FLOE_TENANT_KEY` for a pipeline's
deploy). A value expanded into platform.yaml travels on into ConfigMaps, the contract, offline
previews and PR comments, so only variables whose *name* says they hold an endpoint or a name
expand: `FLOE_<WORDS>_<KIND>` with a kind below, and no word of the name a credential word. Every
other reference is refused by name, at its line, before anything reads the environment.
"""

from __future__ import annotations

import re

PREFIX = "FLOE_"
# The last word of an expandable variable: what its value is.
ENDPOINT_KINDS = ("URL", "URI", "ENDPOINT", "HOST", "PORT")
NAME_KINDS = ("NAME", "BUCKET", "NAMESPACE", "REGION", "WAREHOUSE", "ARN", "ENVIRONMENT")
# A variable with any of these words in its name is refused whatever its kind (`FLOE_TOKEN_URL` too).
CREDENTIAL_WORDS = ("SECRET", "SECRETS", "TOKEN", "TOKENS", "PASSWORD", "PASSWD", "PWD", "PASSPHRASE",
                    "CREDENTIAL", "CREDENTIALS", "KEY", "KEYS", "APIKEY", "PRIVATE", "AUTH", "CERT", "DSN",
                    "SESSION", "COOKIE", "SALT")
_NAME_RE = re.compile(r"FLOE_[A-Z0-9]+(?:_[A-Z0-9]+)*")

_words = "|".join(CREDENTIAL_WORDS)
_kinds = "|".join(ENDPOINT_KINDS + NAME_KINDS)
# The same rule for editors (JSON Schema patterns search, so it is anchored at `${` and `}`): a reference
# the loader expands, optionally with a default.
REFERENCE_PATTERN = (rf"\$\{{FLOE_(?!(?:[A-Z0-9]+_)*(?:{_words})(?:_|\}}|:-))(?:[A-Z0-9]+_)*(?:{_kinds})"
                     r"(?::-[^}]*)?\}")


def refusal(name: str) -> str | None:
    """Why `${name}` may not expand in platform.yaml, or None when it may."""
    literal = "or write $${...} for a literal '${'"
    if not name.startswith(PREFIX):
        return (f"${{{name}}} is not expanded: platform.yaml expands only FLOE_* variables for endpoints and "
                "names, so that no other variable of the machine or CI job (a passphrase, a cloud key) can reach a "
                f"value, a preview or a PR comment; use such a variable ({_allowed()}), {literal}")
    words = name.split("_")[1:]
    if found := [w for w in words if w.upper() in CREDENTIAL_WORDS]:
        return (f"${{{name}}} is not expanded: its name says it holds a credential ({found[0]}), and a credential "
                "expanded here would reach ConfigMaps, the contract, previews and PR comments; platform.yaml "
                "takes credentials only as secret_ref (the name of a Kubernetes Secret): remove the reference")
    if not _NAME_RE.fullmatch(name) or words[-1] not in ENDPOINT_KINDS + NAME_KINDS:
        return (f"${{{name}}} is not expanded: platform.yaml expands only the variables docs/platform-config.md "
                f"lists for endpoints and names ({_allowed()}); rename the variable, {literal}")
    return None


def _allowed() -> str:
    return (f"FLOE_<WORDS>_<KIND>, KIND one of {', '.join(ENDPOINT_KINDS)} for endpoints or "
            f"{', '.join(NAME_KINDS)} for names, in capitals, with no credential word in the name")
