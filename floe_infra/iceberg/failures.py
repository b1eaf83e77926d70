"""What pyiceberg and its HTTP session raise, as floe-infra's typed catalog errors.

pyiceberg maps HTTP statuses to its own exceptions and lets transport failures (`requests`) and
unparseable answers (pydantic) through untouched; the command line and the Pulumi provider
must instead say which catalog failed, during what, and what to do. `catalog_errors` wraps one
operation; anything it does not recognise is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pydantic
import requests
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    AuthorizationExpiredError,
    BadRequestError,
    CommitStateUnknownException,
    ForbiddenError,
    OAuthError,
    RESTError,
    ServerError,
    ServiceUnavailableError,
    TooManyRequestsError,
    UnauthorizedError,
)

from floe_infra.errors import (
    CatalogBusyError,
    CatalogCredentialError,
    CatalogError,
    CatalogResponseError,
    CommitStateUnknownError,
    FloeError,
)
from floe_infra.http import DEFAULT_POLICY, HttpPolicy, transport_error
from floe_infra.iceberg.auth import CREDENTIAL_HINT, UNREACHABLE_HINT


def catalog_uri(catalog: Catalog) -> str:
    """Where a catalog is (its REST URI or SQLite file; never a credential)."""
    return str(catalog.properties.get("uri", catalog.name))


def translate(exc: BaseException, *, uri: str, operation: str,
              policy: HttpPolicy = DEFAULT_POLICY) -> FloeError | None:
    """The typed error for `exc`, or None when it is not a known catalog failure."""
    if isinstance(exc, FloeError):
        return exc
    where = f"{operation}: the catalog at {uri}"
    if isinstance(exc, requests.RequestException):
        return transport_error(exc, operation=operation, url=uri, policy=policy, hint=UNREACHABLE_HINT)
    if isinstance(exc, CommitStateUnknownException):
        return CommitStateUnknownError(
            f"{where} failed the commit without saying whether it applied ({exc}); nothing is retried blindly: "
            "rerun, and floe-infra re-reads the table and applies only what is missing")
    if isinstance(exc, TooManyRequestsError | ServiceUnavailableError | ServerError):
        return CatalogBusyError(f"{where} is overloaded or unavailable ({exc}), also after the retries that are "
                                "safe; try again later")
    if isinstance(exc, UnauthorizedError | OAuthError | AuthorizationExpiredError):
        return CatalogCredentialError(f"{where} refused the credential ({exc}); {CREDENTIAL_HINT}")
    if isinstance(exc, ForbiddenError):
        return CatalogError(f"{where} refused the permission ({exc}); check the pipeline's grants in the platform "
                            "(deployment.tenants.<pipeline>.writes and reads)")
    if isinstance(exc, pydantic.ValidationError | json.JSONDecodeError):
        return CatalogResponseError(
            f"{where} sent an answer that is not the Iceberg REST JSON expected (cut short, or not JSON: "
            f"{_first_line(exc)}); check that the URI is the catalog's REST endpoint, then rerun")
    if isinstance(exc, BadRequestError | RESTError):
        return CatalogError(f"{where} refused the request: {exc}")
    if type(exc).__module__.startswith("sqlalchemy"):
        return CatalogError(f"{operation}: the embedded catalog {uri} failed: {_first_line(exc)}")
    return None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


@contextmanager
def catalog_errors(catalog: Catalog | str, operation: str, policy: HttpPolicy | None = None) -> Iterator[None]:
    """Run one catalog operation (against a catalog, or a URI not opened yet); known failures become
    typed `FloeError`s.

    Raises:
        CatalogError: Or one of its subclasses, naming the catalog, the operation and what to do.
    """
    try:
        yield
    except FloeError:
        raise
    except Exception as exc:
        uri = catalog if isinstance(catalog, str) else catalog_uri(catalog)
        # The REST catalog's own policy, for the timeouts the message quotes.
        policy = policy or getattr(catalog, "policy", DEFAULT_POLICY)
        error = translate(exc, uri=uri, operation=operation, policy=policy)
        if error is None:
            raise
        raise error from exc
