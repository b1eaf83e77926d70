"""Reading back what exists (Pulumi's refresh) with the credential in effect now, without locking a team out.

Every floe-infra project refreshes on each operation (`refresh: always`), and that refresh runs
before the program: a dynamic provider's `read` gets the resource's state and nothing newer (the
stack config the provider is configured with is the one of the last update too). `read_back` is
how every floe-infra provider reads:

- with the credential in effect now: the one the program declared in this process
  (`live_credentials`), else the one in state;
- a credential the catalog refuses (a tenant's, rotated by the platform since this stack's last
  `pulumi up`; Polaris' root after an interrupted rotation) does not fail the read: failing would
  stop every preview and every `pulumi up` of the stack, the very command that picks up the new
  credential. The state is kept, a warning says so once per endpoint and identity, and the
  provider marks the resource (`kept`) so that the next `pulumi up` reconciles it with the
  credential the program declares;
- a catalog that is down, silent or failing fails the read, once: the first read of that
  endpoint raises its one-line error with what to do (reported without a traceback); the other
  reads of that endpoint in the same operation are not attempted (the operation fails on the
  first), so the failure comes after one request's retries instead of after every resource's, and
  is reported once.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

import pulumi

from floe_infra import live_credentials
from floe_infra.errors import CatalogCredentialError, CatalogError

REFRESH_HINT = ("this project reads back what exists before every operation (`refresh: always`); "
                "`pulumi preview --refresh=false` previews from state without reaching it")

T = TypeVar("T")

_FAILED: dict[str, str] = {}
_WARNED: set[tuple[str, str]] = set()
_LOCK = threading.Lock()


def read_back(endpoint: str, identity: str, stored: str | None, read: Callable[[str | None], T],
              kept: Callable[[str], T]) -> T:
    """Read one resource back from its catalog.

    Args:
        endpoint: The catalog's URL (its failures are reported once per operation).
        identity: Whose credential it is (see `live_credentials`).
        stored: The credential in the resource's state.
        read: Reads the live resource with a credential.
        kept: The resource as in state, marked with why it was not read.

    Raises:
        CatalogError: The first failure of `endpoint` in this process other than a refused credential, its
            message extended with what to do.
    """
    with _LOCK:
        failed = _FAILED.get(endpoint)
    if failed is not None:
        return kept(f"not read: {failed}")
    refused: CatalogCredentialError | None = None
    # The credential declared now first; the state's as well if it differs (a rotation not yet applied).
    for credential in dict.fromkeys((live_credentials.current(endpoint, identity, stored), stored)):
        try:
            return read(credential)
        except CatalogCredentialError as exc:
            refused = exc
        except CatalogError as exc:
            with _LOCK:
                first = endpoint not in _FAILED
                _FAILED.setdefault(endpoint, str(exc))
            if not first:
                return kept(f"not read: {exc}")
            exc.args = (f"{exc}; {REFRESH_HINT}",)
            # The engine shows a provider's failure as the traceback the SDK formats for it; this message says
            # it all, and the operation ends on it: no frames, so the report is this one line.
            sys.tracebacklimit = 0
            raise exc.with_traceback(None) from None
    assert refused is not None
    with _LOCK:
        first = (endpoint, identity) not in _WARNED
        _WARNED.add((endpoint, identity))
    if first:
        pulumi.log.warn(
            f"{endpoint} refused the credential this stack's state holds for {identity}, probably rotated since the "
            "last `pulumi up`: what it manages there is not read back in this operation, and `pulumi up` reconciles "
            f"it with the credential the program declares ({refused})")
    return kept("not read: the catalog refused the credential in state (rotated since the last `pulumi up`?); "
                "`pulumi up` reconciles it with the current one")


def forget_all() -> None:
    """Drop what this process learnt about endpoints (a new deployment in the same process, and tests)."""
    with _LOCK:
        _FAILED.clear()
        _WARNED.clear()
