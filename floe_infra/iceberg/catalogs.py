"""Opening Iceberg catalogs: the embedded SQLite catalog, or a REST catalog such as Polaris.

The embedded catalog (pyiceberg SqlCatalog, SQLite + a local warehouse under `.floe/`) lets a data
engineer try tables on a laptop with nothing running. A REST catalog that cannot be reached is an
error naming its URI: floe-infra never falls back to the embedded catalog silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyiceberg.catalog import Catalog

from floe_infra.errors import CatalogUnreachableError, DependencyMissingError

EMBEDDED_DIR = ".floe"


@dataclass(frozen=True)
class CatalogTarget:
    """Where a catalog is and how to authenticate (the credential is a secret, never logged).

    Attributes:
        uri: REST endpoint, or `sqlite:///...` for the embedded catalog.
        warehouse: Warehouse (Polaris catalog) name, or the embedded warehouse location.
        credential: `client_id:client_secret` for OAuth2 client credentials, if needed.
        scope: OAuth2 scope.
    """

    uri: str
    warehouse: str
    credential: str | None = None
    scope: str | None = None

    @property
    def embedded(self) -> bool:
        """True for the embedded SQLite catalog."""
        return self.uri.startswith("sqlite:")


def embedded_target(root: Path) -> CatalogTarget:
    """The embedded catalog under `<root>/.floe/` (created on first use)."""
    base = (root / EMBEDDED_DIR).resolve()
    return CatalogTarget(uri=f"sqlite:///{base / 'catalog.db'}", warehouse=f"file://{base / 'warehouse'}")


def open_catalog(target: CatalogTarget, name: str = "floe") -> Catalog:
    """Connect to a catalog.

    Raises:
        CatalogUnreachableError: When a REST catalog cannot be reached or refuses the credential.
        DependencyMissingError: When the pyiceberg extra for the catalog is not installed.
    """
    if target.embedded:
        try:
            from pyiceberg.catalog.sql import SqlCatalog
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise DependencyMissingError("the embedded catalog needs `pip install 'pyiceberg[sql-sqlite]'`") from exc
        path = Path(target.uri.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        Path(target.warehouse.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        return SqlCatalog(name, uri=target.uri, warehouse=target.warehouse)
    from pyiceberg.catalog.rest import RestCatalog

    props = {"uri": target.uri, "warehouse": target.warehouse}
    if target.credential:
        props["credential"] = target.credential
    if target.scope:
        props["scope"] = target.scope
    try:
        # RestCatalog talks to the server in its constructor (config and token requests).
        return RestCatalog(name, **props)
    except Exception as exc:
        raise CatalogUnreachableError(
            f"cannot reach the Iceberg catalog at {target.uri}: {type(exc).__name__}: {exc}") from None
