"""A small typed client for the Polaris management API and the Iceberg REST namespace endpoints.

- OAuth2 client credentials (`/api/catalog/v1/oauth/tokens`), refreshed before expiry and once
  more on a 401;
- the realm header on every request;
- timeouts and bounded retries with backoff and jitter (`floe_infra.http`: 429, 503 and
  connection failures; 5xx and lost answers only for idempotent calls; Retry-After up to a cap);
- typed errors that name the operation, the object and Polaris' own message, also when the
  answer is lost, cut short or not JSON;
- `ensure_*` create-or-get helpers that make re-runs idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from floe_infra.errors import CatalogCredentialError, CatalogError, CatalogResponseError
from floe_infra.http import DEFAULT_POLICY, HttpPolicy, error_message, mount_policy, transport_error

REALM_HEADER = "Polaris-Realm"
MANAGEMENT = "/api/management/v1"
CATALOG = "/api/catalog/v1"
NAMESPACE_SEPARATOR = "\x1f"
TOKEN_REFRESH_MARGIN = 60.0
UNREACHABLE_HINT = "check deployment.services.catalog.management_url and that Polaris runs"


class PolarisError(CatalogError):
    """Raised when Polaris refuses a request; names the operation, the object and Polaris' message."""

    def __init__(self, operation: str, status: int, message: str) -> None:
        self.operation = operation
        self.status = status
        self.polaris_message = message
        retried = " (still failing after the retries: try again later)" if status in (429, 502, 503, 504) else ""
        super().__init__(f"{operation}: HTTP {status}: {message}{retried}")


class PolarisCredentialError(PolarisError, CatalogCredentialError):
    """Raised when Polaris refuses the client's credential itself (its token endpoint answers 400 or 401)."""


class NamespaceNotEmptyError(CatalogError):
    """Raised when a namespace or catalog that holds tables would be deleted without permission."""


class NamespaceLocationError(CatalogError):
    """Raised when a namespace in Polaris is not at the location platform.yaml places it (Polaris never moves one)."""


@dataclass(frozen=True)
class PolarisConnection:
    """Where and as whom to reach Polaris.

    Attributes:
        url: Server root, e.g. `http://localhost:30181` (the management URL of platform.yaml).
        client_id: OAuth2 client id.
        client_secret: OAuth2 client secret.
        realm: Polaris realm.
        scope: OAuth2 scope.
    """

    url: str
    client_id: str
    client_secret: str = field(repr=False)
    realm: str = "POLARIS"
    scope: str = "PRINCIPAL_ROLE:ALL"


def encode_namespace(levels: Iterable[str]) -> str:
    """A multi-level namespace in a REST path (levels joined by the unit separator, URL-encoded)."""
    return quote(NAMESPACE_SEPARATOR.join(levels), safe="")


def _decoded(response: requests.Response, operation: str, url: str) -> Any:
    """The JSON body of a successful answer; a typed error when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type") or "no content type"
        raise CatalogResponseError(
            f"{operation}: {url} answered HTTP {response.status_code} with a body that is not JSON ({kind}: "
            f"{response.text.strip()[:80]!r}); check that the URL is Polaris' and not a proxy or a web page, "
            "then try again") from None


class PolarisClient:
    """Management and namespace calls against one Polaris realm."""

    def __init__(self, connection: PolarisConnection, *, session: requests.Session | None = None,
                 policy: HttpPolicy = DEFAULT_POLICY, clock: Callable[[], float] = time.monotonic) -> None:
        self.connection = connection
        self.policy = policy
        self.session = mount_policy(session or requests.Session(), policy)
        self._clock = clock
        self._token: str | None = None
        self._token_expiry = 0.0

    # --- transport ----------------------------------------------------------------------------

    def _send(self, method: str, url: str, operation: str, **kwargs: Any) -> requests.Response:
        """One logical request; the session's policy bounds its time and retries."""
        try:
            return self.session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise transport_error(exc, operation=operation, url=self.connection.url, policy=self.policy,
                                  hint=UNREACHABLE_HINT) from exc

    def token(self) -> str:
        """A valid access token (fetched when missing or about to expire)."""
        if self._token is not None and self._clock() < self._token_expiry - TOKEN_REFRESH_MARGIN:
            return self._token
        conn = self.connection
        operation = f"get an OAuth2 token for client {conn.client_id}"
        response = self._send(
            "POST", f"{conn.url}{CATALOG}/oauth/tokens", operation,
            data={"grant_type": "client_credentials", "client_id": conn.client_id,
                  "client_secret": conn.client_secret, "scope": conn.scope},
            headers={REALM_HEADER: conn.realm})
        if response.status_code != 200:
            refused = PolarisCredentialError if response.status_code in (400, 401) else PolarisError
            raise refused(operation, response.status_code, error_message(response))
        body = _decoded(response, operation, conn.url)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise CatalogResponseError(f"{operation}: {conn.url} answered without an access_token; check that the "
                                       "URL is Polaris' OAuth2 endpoint")
        self._token = body["access_token"]
        self._token_expiry = self._clock() + float(body.get("expires_in", 3600))
        return self._token

    def request(self, method: str, path: str, operation: str, *, api: str = MANAGEMENT,
                json: Any = None, params: Mapping[str, str] | None = None,
                ok: Iterable[int] = (200, 201, 204), missing_ok: bool = False) -> Any:
        """Call Polaris; returns the decoded body (None for 204, or 404 when `missing_ok`).

        Raises:
            PolarisError: With the operation and Polaris' message for any other status.
            CatalogError: When no usable answer arrives (typed by `floe_infra.http.transport_error`).
        """
        url = f"{self.connection.url}{api}{path}"
        for refreshed in (False, True):
            headers = {REALM_HEADER: self.connection.realm, "Authorization": f"Bearer {self.token()}"}
            response = self._send(method, url, operation, json=json, params=params, headers=headers)
            if response.status_code == 401 and not refreshed:
                self._token = None  # expired or revoked early: get a new one, once
                continue
            break
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code not in set(ok):
            raise PolarisError(operation, response.status_code, error_message(response))
        if response.status_code == 204 or not response.content:
            return None
        return _decoded(response, operation, self.connection.url)

    # --- catalogs -----------------------------------------------------------------------------

    def get_catalog(self, name: str) -> dict[str, Any] | None:
        """A catalog, or None."""
        return self.request("GET", f"/catalogs/{quote(name)}", f"get catalog {name}", missing_ok=True)

    def create_catalog(self, catalog: dict[str, Any]) -> dict[str, Any]:
        """Create a catalog."""
        return self.request("POST", "/catalogs", f"create catalog {catalog['name']}", json={"catalog": catalog})

    def update_catalog(self, name: str, version: int, properties: dict[str, str],
                       storage: dict[str, Any]) -> dict[str, Any]:
        """Replace a catalog's properties and storage configuration."""
        return self.request("PUT", f"/catalogs/{quote(name)}", f"update catalog {name}", json={
            "currentEntityVersion": version, "properties": properties, "storageConfigInfo": storage})

    def delete_catalog(self, name: str) -> None:
        """Delete an (empty) catalog."""
        self.request("DELETE", f"/catalogs/{quote(name)}", f"delete catalog {name}", missing_ok=True)

    # --- principals ---------------------------------------------------------------------------

    def get_principal(self, name: str) -> dict[str, Any] | None:
        """A principal, or None."""
        return self.request("GET", f"/principals/{quote(name)}", f"get principal {name}", missing_ok=True)

    def create_principal(self, name: str, properties: dict[str, str] | None = None) -> dict[str, str]:
        """Create a principal; returns its credentials (Polaris shows them only now)."""
        body = self.request("POST", "/principals", f"create principal {name}", json={
            "principal": {"name": name, "properties": properties or {}}, "credentialRotationRequired": False})
        return _credentials(body)

    def reset_credentials(self, name: str, client_secret: str | None = None) -> dict[str, str]:
        """New credentials for a principal, as root: `client_secret` or a random secret, the client id unchanged;
        every older secret stops working at once. (Polaris lets only a principal itself rotate its credentials,
        and a rotation keeps the previous secret working until the next one.)"""
        return _credentials(self.request("POST", f"/principals/{quote(name)}/reset",
                                         f"reset the credentials of principal {name}",
                                         json={"clientSecret": client_secret} if client_secret else {}))

    def delete_principal(self, name: str) -> None:
        """Delete a principal."""
        self.request("DELETE", f"/principals/{quote(name)}", f"delete principal {name}", missing_ok=True)

    def principal_roles_of(self, principal: str) -> set[str]:
        """Principal roles assigned to a principal."""
        body = self.request("GET", f"/principals/{quote(principal)}/principal-roles",
                            f"list the roles of principal {principal}")
        return {r["name"] for r in body.get("roles", [])}

    def assign_principal_role(self, principal: str, role: str) -> None:
        """Assign a principal role to a principal."""
        self.request("PUT", f"/principals/{quote(principal)}/principal-roles",
                     f"assign principal role {role} to principal {principal}", json={"principalRole": {"name": role}})

    def revoke_principal_role(self, principal: str, role: str) -> None:
        """Revoke a principal role from a principal."""
        self.request("DELETE", f"/principals/{quote(principal)}/principal-roles/{quote(role)}",
                     f"revoke principal role {role} from principal {principal}", missing_ok=True)

    # --- principal roles ----------------------------------------------------------------------

    def get_principal_role(self, name: str) -> dict[str, Any] | None:
        """A principal role, or None."""
        return self.request("GET", f"/principal-roles/{quote(name)}", f"get principal role {name}", missing_ok=True)

    def create_principal_role(self, name: str) -> None:
        """Create a principal role."""
        self.request("POST", "/principal-roles", f"create principal role {name}",
                     json={"principalRole": {"name": name}})

    def delete_principal_role(self, name: str) -> None:
        """Delete a principal role."""
        self.request("DELETE", f"/principal-roles/{quote(name)}", f"delete principal role {name}", missing_ok=True)

    def catalog_roles_of(self, principal_role: str, catalog: str) -> set[str]:
        """Catalog roles of a catalog assigned to a principal role."""
        body = self.request("GET", f"/principal-roles/{quote(principal_role)}/catalog-roles/{quote(catalog)}",
                            f"list the catalog roles of principal role {principal_role} in catalog {catalog}",
                            missing_ok=True)
        return {r["name"] for r in (body or {}).get("roles", [])}

    def assign_catalog_role(self, principal_role: str, catalog: str, role: str) -> None:
        """Assign a catalog role to a principal role."""
        self.request("PUT", f"/principal-roles/{quote(principal_role)}/catalog-roles/{quote(catalog)}",
                     f"assign catalog role {catalog}.{role} to principal role {principal_role}",
                     json={"catalogRole": {"name": role}})

    def revoke_catalog_role(self, principal_role: str, catalog: str, role: str) -> None:
        """Revoke a catalog role from a principal role."""
        self.request("DELETE",
                     f"/principal-roles/{quote(principal_role)}/catalog-roles/{quote(catalog)}/{quote(role)}",
                     f"revoke catalog role {catalog}.{role} from principal role {principal_role}", missing_ok=True)

    # --- catalog roles and grants -------------------------------------------------------------

    def get_catalog_role(self, catalog: str, role: str) -> dict[str, Any] | None:
        """A catalog role, or None."""
        return self.request("GET", f"/catalogs/{quote(catalog)}/catalog-roles/{quote(role)}",
                            f"get catalog role {catalog}.{role}", missing_ok=True)

    def create_catalog_role(self, catalog: str, role: str) -> None:
        """Create a catalog role."""
        self.request("POST", f"/catalogs/{quote(catalog)}/catalog-roles", f"create catalog role {catalog}.{role}",
                     json={"catalogRole": {"name": role}})

    def delete_catalog_role(self, catalog: str, role: str) -> None:
        """Delete a catalog role."""
        self.request("DELETE", f"/catalogs/{quote(catalog)}/catalog-roles/{quote(role)}",
                     f"delete catalog role {catalog}.{role}", missing_ok=True)

    def grants(self, catalog: str, role: str) -> list[dict[str, Any]]:
        """Grants held by a catalog role."""
        body = self.request("GET", f"/catalogs/{quote(catalog)}/catalog-roles/{quote(role)}/grants",
                            f"list the grants of catalog role {catalog}.{role}")
        return list(body.get("grants", []))

    def add_grant(self, catalog: str, role: str, grant: dict[str, Any]) -> None:
        """Add one grant (one privilege on one securable) to a catalog role."""
        self.request("PUT", f"/catalogs/{quote(catalog)}/catalog-roles/{quote(role)}/grants",
                     f"grant {grant['privilege']} to catalog role {catalog}.{role}", json={"grant": grant})

    def revoke_grant(self, catalog: str, role: str, grant: dict[str, Any]) -> None:
        """Revoke one grant from a catalog role."""
        self.request("POST", f"/catalogs/{quote(catalog)}/catalog-roles/{quote(role)}/grants",
                     f"revoke {grant['privilege']} from catalog role {catalog}.{role}", json={"grant": grant})

    # --- namespaces (Iceberg REST, prefix = catalog name) -------------------------------------

    def get_namespace(self, catalog: str, levels: Iterable[str]) -> dict[str, str] | None:
        """A namespace's properties, or None."""
        levels = list(levels)
        body = self.request("GET", f"/{quote(catalog)}/namespaces/{encode_namespace(levels)}",
                            f"get namespace {catalog}.{'.'.join(levels)}", api=CATALOG, missing_ok=True)
        return None if body is None else dict(body.get("properties") or {})

    def create_namespace(self, catalog: str, levels: Iterable[str], properties: dict[str, str]) -> None:
        """Create a namespace."""
        levels = list(levels)
        self.request("POST", f"/{quote(catalog)}/namespaces", f"create namespace {catalog}.{'.'.join(levels)}",
                     api=CATALOG, json={"namespace": levels, "properties": properties})

    def update_namespace_properties(self, catalog: str, levels: Iterable[str], updates: dict[str, str],
                                    removals: list[str]) -> None:
        """Set and remove namespace properties."""
        levels = list(levels)
        self.request("POST", f"/{quote(catalog)}/namespaces/{encode_namespace(levels)}/properties",
                     f"update the properties of namespace {catalog}.{'.'.join(levels)}", api=CATALOG,
                     json={"updates": updates, "removals": removals})

    def delete_namespace(self, catalog: str, levels: Iterable[str]) -> None:
        """Delete an empty namespace."""
        levels = list(levels)
        self.request("DELETE", f"/{quote(catalog)}/namespaces/{encode_namespace(levels)}",
                     f"delete namespace {catalog}.{'.'.join(levels)}", api=CATALOG, missing_ok=True)

    def list_namespaces(self, catalog: str, parent: Iterable[str] = ()) -> list[list[str]]:
        """Child namespaces of `parent` (top level when empty)."""
        parent = list(parent)
        params = {"parent": NAMESPACE_SEPARATOR.join(parent)} if parent else None
        body = self.request("GET", f"/{quote(catalog)}/namespaces",
                            f"list namespaces of {catalog}.{'.'.join(parent) or '(root)'}", api=CATALOG,
                            params=params, missing_ok=True)
        return [list(ns) for ns in (body or {}).get("namespaces", [])]

    def list_tables(self, catalog: str, levels: Iterable[str]) -> list[str]:
        """Table names in a namespace."""
        levels = list(levels)
        body = self.request("GET", f"/{quote(catalog)}/namespaces/{encode_namespace(levels)}/tables",
                            f"list tables of namespace {catalog}.{'.'.join(levels)}", api=CATALOG, missing_ok=True)
        return [i["name"] for i in (body or {}).get("identifiers", [])]

    def drop_table(self, catalog: str, levels: Iterable[str], table: str) -> None:
        """Drop a table from the catalog; its files stay where they are (no purge: Polaris refuses one to a caller
        without TABLE_WRITE_DATA, which root's catalog_admin role does not hold)."""
        levels = list(levels)
        self.request("DELETE", f"/{quote(catalog)}/namespaces/{encode_namespace(levels)}/tables/{quote(table)}",
                     f"drop table {catalog}.{'.'.join(levels)}.{table}", api=CATALOG, missing_ok=True)

    def tables_under(self, catalog: str, levels: Iterable[str]) -> list[str]:
        """Every table in a namespace and its descendants, as dotted names."""
        levels = list(levels)
        found = [".".join([*levels, t]) for t in self.list_tables(catalog, levels)]
        for child in self.list_namespaces(catalog, levels):
            found += self.tables_under(catalog, child)
        return found


def _credentials(body: dict[str, Any]) -> dict[str, str]:
    creds = body.get("credentials") or {}
    return {"client_id": str(creds["clientId"]), "client_secret": str(creds["clientSecret"])}
