"""Opening Iceberg catalogs: the embedded SQLite catalog, or a REST catalog such as Polaris.

The embedded catalog (pyiceberg SqlCatalog, SQLite + a local warehouse under `.floe/`) lets a data
engineer try tables on a laptop with nothing running; writers of one embedded catalog take turns
through a file lock next to it (`exclusive`). A REST catalog is reached with a timeout on every
request, the token request included (`floe_infra.iceberg.auth`), and bounded retries
(`floe_infra.http`); its commits are optimistic, checked by the
server and retried by the engine. A REST catalog that cannot be reached is a typed error naming
its URI: floe-infra never falls back to the embedded catalog silently.

pyiceberg's catalogs are imported when one is opened: the Pulumi programs import this module for
`CatalogTarget` only, and pyiceberg's catalog code is most of a pipeline program's start-up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random

from floe_infra.errors import ConcurrentChangeError, DependencyMissingError
from floe_infra.http import DEFAULT_POLICY, HttpPolicy

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

EMBEDDED_DIR = ".floe"
LOCK_TIMEOUT = 120.0


@dataclass(frozen=True)
class CatalogTarget:
    """Where a catalog is and how to authenticate (the credential is a secret, never logged).

    Attributes:
        uri: REST endpoint, or `sqlite:///...` for the embedded catalog.
        warehouse: Warehouse (Polaris catalog) name, or the embedded warehouse location.
        credential: `client_id:client_secret` for OAuth2 client credentials, if needed.
        scope: OAuth2 scope.
        properties: Further client properties of a REST catalog (storage endpoint, region, timeouts; no
            credential).
    """

    uri: str
    warehouse: str
    credential: str | None = field(default=None, repr=False)
    scope: str | None = None
    # Left out of the hash (a dict has none) but compared: targets key the provider's opened catalogs.
    properties: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def embedded(self) -> bool:
        """True for the embedded SQLite catalog."""
        return self.uri.startswith("sqlite:")


def credential_identity(place: Mapping[str, Any]) -> str:
    """Whose credential reaches a catalog entry (`uri`, `warehouse`, `scope`): the principal role it is scoped
    to, a tenant's (see `floe_infra.live_credentials`)."""
    return str(place.get("scope") or "")


def embedded_target(root: Path) -> CatalogTarget:
    """The embedded catalog under `<root>/.floe/` (created on first use)."""
    base = (root / EMBEDDED_DIR).resolve()
    return CatalogTarget(uri=f"sqlite:///{base / 'catalog.db'}", warehouse=f"file://{base / 'warehouse'}")


def open_catalog(target: CatalogTarget, name: str = "floe", policy: HttpPolicy = DEFAULT_POLICY) -> Catalog:
    """Connect to a catalog.

    Raises:
        CatalogError: When a REST catalog cannot be reached, refuses the credential or answers nonsense
            (typed: `CatalogUnreachableError`, `CatalogTimeoutError`, `CatalogBusyError`, ...).
        DependencyMissingError: When the pyiceberg extra for the catalog is not installed.
    """
    from floe_infra.iceberg.failures import catalog_errors

    if target.embedded:
        try:
            from pyiceberg.catalog.sql import SqlCatalog
            from sqlalchemy.exc import OperationalError
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise DependencyMissingError("the embedded catalog needs `pip install 'pyiceberg[sql-sqlite]'`") from exc
        path = Path(target.uri.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        Path(target.warehouse.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        # Two processes opening a new catalog race to create its tables; the loser's retry finds them.
        retrying = Retrying(stop=stop_after_attempt(3), wait=wait_random(0.05, 0.3), reraise=True,
                            retry=retry_if_exception_type(OperationalError))
        with catalog_errors(target.uri, "open the embedded catalog"):
            for attempt in retrying:
                with attempt:
                    return SqlCatalog(name, uri=target.uri, warehouse=target.warehouse)
    props: dict[str, Any] = {**target.properties, "uri": target.uri, "warehouse": target.warehouse}
    if target.credential:
        # Not pyiceberg's legacy `credential`: its token request has no timeout (see floe_infra.iceberg.auth).
        from floe_infra.iceberg.auth import client_credentials_auth

        props["auth"] = client_credentials_auth(target.uri, target.credential, target.scope, policy)
    from floe_infra.iceberg.rest import BoundedRestCatalog

    # The constructor talks to the server (config and token requests): errors name the URI only.
    with catalog_errors(target.uri, "connect to the catalog", policy):
        return BoundedRestCatalog(name, policy, **props)


@contextmanager
def exclusive(target: CatalogTarget, timeout: float | None = None) -> Iterator[None]:
    """Hold the embedded catalog for one writer at a time (REST catalogs: no lock, commits are optimistic).

    The lock is a file next to the SQLite database; the operating system releases it when its
    holder exits, also when it is killed.

    Raises:
        ConcurrentChangeError: When another writer holds the lock for longer than `timeout` seconds
            (default `LOCK_TIMEOUT`).
    """
    if not target.embedded:
        yield
        return
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    path = f"{target.uri.removeprefix('sqlite:///')}.lock"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise ConcurrentChangeError(
            f"another floe-infra apply has held the embedded catalog's lock {path} for {timeout:g} s; let it "
            "finish, then rerun") from None
    try:
        yield
    finally:
        lock.release()
