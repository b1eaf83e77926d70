"""Credentials as the running deployment declares them now, for provider calls that only see old state.

Pulumi hands a dynamic provider's `delete` (and `read`) nothing but the resource's old state. A
credential kept there goes stale when it is rotated: the delete of a removed resource later in the
same `pulumi up`, or of the old half of a replacement, would authenticate with a revoked secret.
So every floe-infra provider records, in `check` (which the engine calls for each declared resource
before any delete), the credential its resources declare now, by endpoint and client id; calls
working from state use the newest credential recorded for that endpoint and client, and the state's
own only when the program declared none (`pulumi destroy`, `pulumi refresh`). One dynamic provider
process serves a whole deployment, so what one resource records the others see.
"""

from __future__ import annotations

import threading

_CURRENT: dict[tuple[str, str], str] = {}
_LOCK = threading.Lock()


def _key(endpoint: str, credential: str) -> tuple[str, str]:
    client_id, _, _ = credential.partition(":")
    return endpoint.rstrip("/"), client_id


def remember(endpoint: object, credential: object) -> None:
    """Record `credential` (`client_id:secret`) as the current one of its client at `endpoint`.

    Values a preview does not know yet (the engine's placeholders) are no URL and no credential: ignored.
    """
    if isinstance(endpoint, str) and "://" in endpoint and isinstance(credential, str) and ":" in credential:
        with _LOCK:
            _CURRENT[_key(endpoint, credential)] = credential


def current(endpoint: str | None, stored: str | None) -> str | None:
    """The current credential of `stored`'s client at `endpoint`: the declared one if any, else `stored`."""
    if not endpoint or not stored:
        return stored
    with _LOCK:
        return _CURRENT.get(_key(endpoint, stored), stored)


def forget_all() -> None:
    """Drop every recorded credential (a new deployment in the same process, and tests)."""
    with _LOCK:
        _CURRENT.clear()
