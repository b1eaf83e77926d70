"""Credentials as the running deployment declares them now, for provider calls that only see old state.

Pulumi hands a dynamic provider's `delete` (and `read`) nothing but the resource's old state. A
credential kept there goes stale when it is rotated: the delete of a removed resource later in the
same `pulumi up`, or of the old half of a replacement, would authenticate with a revoked secret.
So every floe-infra provider records, in `check` (which the engine calls for each declared resource
before any delete), the credential its resources declare now, by endpoint and identity; calls
working from state use the newest credential recorded for that endpoint and identity, and the
state's own only when the program declared none (`pulumi destroy`, `pulumi refresh`, and the
refresh that starts every operation: it runs before the program does). One dynamic provider
process serves a whole deployment, so what one resource records the others see.

The identity says whose credential it is, not which client id it has: a tenant's principal role
(the OAuth2 scope its tables ask for) or a realm's root. Rotation may or may not change a client id
(Polaris keeps it; a principal created again gets a new one); either way the current credential of
that identity is found.
"""

from __future__ import annotations

import threading

_CURRENT: dict[tuple[str, str], str] = {}
_LOCK = threading.Lock()


def _key(endpoint: str, identity: str) -> tuple[str, str]:
    return endpoint.rstrip("/"), identity


def remember(endpoint: object, identity: str, credential: object) -> None:
    """Record `credential` (`client_id:secret`) as the current one of `identity` at `endpoint`.

    Values a preview does not know yet (the engine's placeholders) are no URL and no credential: ignored.
    """
    if isinstance(endpoint, str) and "://" in endpoint and isinstance(credential, str) and ":" in credential:
        with _LOCK:
            _CURRENT[_key(endpoint, identity)] = credential


def current(endpoint: str | None, identity: str, stored: str | None) -> str | None:
    """The current credential of `identity` at `endpoint`: the declared one if any, else `stored` (from state)."""
    if not endpoint:
        return stored
    with _LOCK:
        return _CURRENT.get(_key(endpoint, identity), stored)


def forget_all() -> None:
    """Drop every recorded credential (a new deployment in the same process, and tests)."""
    with _LOCK:
        _CURRENT.clear()
