"""The fake Polaris with real Iceberg tables: namespace and table calls forwarded to Apache Iceberg's REST server.

What is real: everything the Iceberg REST API does to namespaces and tables (create, load, list,
commit, rename, drop, purge; their validation, errors and table metadata) is Apache Iceberg's own
reference implementation (`RESTCatalogAdapter` over a `JdbcCatalog`, see `iceberg_rest.py`), with
table files in a local directory that pyiceberg clients read and write too.

What is fake: Polaris itself. Its URL layout (`/api/catalog/v1/{catalog}/...`, the catalog name as
`prefix` in `GET /api/catalog/v1/config?warehouse=...`), the management API (catalogs, principals,
roles, grants) and OAuth2 tokens are `FakePolaris`. Every forwarded call needs a bearer token the
fake issued and still honours, for a catalog that exists in the fake; which principal's token it was
is recorded in `forwarded`. Before a call is forwarded, the fake applies Polaris' own rules to it
(`tests/polaris/fake_catalog_rules.py`): the caller's grants, the purge setting, and the location of
a new namespace. A catalog's `default-base-location` is not used for tables: they live under the
Iceberg server's warehouse.
Requests and responses are still validated against the OpenAPI specs, as `FakePolaris` does.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import requests

from tests.e2e.iceberg_rest import IcebergRestServer
from tests.polaris.fake_polaris import FakePolaris, Reply, error

CONFIG_PATH = "/api/catalog/v1/config"
FORWARDED = re.compile(r"/api/catalog/v1/(?P<catalog>[^/]+)/(?P<rest>namespaces(?:/.*)?|tables/rename"
                       r"|transactions/commit)")
FORWARD_TIMEOUT = (5.0, 60.0)
PASSED_HEADERS = ("ETag",)
# What an in-memory realm holds, lost when Polaris restarts (FakePolaris' attributes).
REALM_STATE = ("secrets", "tokens", "token_principals", "catalogs", "principals", "principal_roles", "catalog_roles",
               "namespaces", "tables")


@dataclass(frozen=True)
class Forwarded:
    """One call forwarded to the Iceberg REST server, and whose token authorized it."""

    client_id: str
    method: str
    path: str
    status: int


class IcebergRestPolaris(FakePolaris):
    """`FakePolaris` whose Iceberg REST namespaces and tables live in a real Iceberg REST catalog."""

    def __init__(self, backend: IcebergRestServer, root_id: str = "root",
                 root_secret: str = "root-secret-for-tests") -> None:
        super().__init__(root_id, root_secret)
        self.backend = backend
        self.token_clients: dict[str, str] = {}
        self.forwarded: list[Forwarded] = []
        self.port = 0
        self._backend_session = requests.Session()

    def start(self, port: int = 0) -> str:
        url = super().start(port)
        assert self._server is not None
        self.port = self._server.server_port
        # Clients ask whether a namespace or table exists with HEAD, which FakePolaris has no use for.
        handler = self._server.RequestHandlerClass
        handler.do_HEAD = handler.do_GET  # type: ignore[attr-defined]
        return url

    def stop(self) -> None:
        super().stop()
        self._backend_session.close()

    # --- outages --------------------------------------------------------------------------------

    def go_down(self) -> None:
        """Stop answering: the port is closed, as when Polaris' pod is gone (its state is kept)."""
        super().stop()

    def come_back(self) -> None:
        """Answer again at the same address."""
        self.start(self.port)

    def lose_realm(self) -> None:
        """Empty the realm, as an in-memory Polaris restarting: no catalog, principal or role, no token, and no
        namespace or table in its catalogs (their metadata lived in memory too; data files would stay in S3)."""
        for catalog in list(self.catalogs):
            for levels in self._backend_namespaces(catalog, []):
                self._drop_backend_namespace(catalog, levels)
        # A realm as bootstrapping leaves it (root with service_admin, root's bootstrap credential); realm settings
        # (`features`) are configuration and survive.
        bootstrapped = FakePolaris(self.root_id, self.clients[self.root_id])
        for name in REALM_STATE:
            setattr(self, name, getattr(bootstrapped, name))
        self.token_clients.clear()

    def _backend_namespaces(self, catalog: str, parent: list[str]) -> list[list[str]]:
        query = f"?parent={'%1F'.join(quote(level, safe='') for level in parent)}" if parent else ""
        answer = self._backend("GET", catalog, f"namespaces{query}")
        answer.raise_for_status()
        return [list(levels) for levels in answer.json().get("namespaces", [])]

    def _drop_backend_namespace(self, catalog: str, levels: list[str]) -> None:
        for child in self._backend_namespaces(catalog, levels):
            self._drop_backend_namespace(catalog, child)
        encoded = "%1F".join(quote(level, safe="") for level in levels)
        tables = self._backend("GET", catalog, f"namespaces/{encoded}/tables")
        tables.raise_for_status()
        for table in tables.json().get("identifiers", []):
            self._backend("DELETE", catalog, f"namespaces/{encoded}/tables/{quote(table['name'], safe='')}"
                                             "?purgeRequested=true").raise_for_status()
        self._backend("DELETE", catalog, f"namespaces/{encoded}").raise_for_status()

    # --- routing --------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: str, raw: bytes, auth: str) -> Any:
        if method == "GET" and path == CONFIG_PATH:
            self._client_of(auth)
            return self._config(parse_qs(query))
        match = FORWARDED.fullmatch(path)
        if match is None:
            return super()._route(method, path, query, raw, auth)
        client_id = self._client_of(auth)
        catalog = unquote(match["catalog"])
        self._catalog(catalog)
        # Polaris' own checks first (tests/polaris/fake_catalog_rules.py): 404 for a missing target, 403 without
        # the grants, the purge setting; then the location Polaris gives a new namespace, and refuses to move.
        principal, scope = self._caller(auth)
        self.authorize_catalog_call(principal, scope, method, catalog, match["rest"], query, self._headers, raw)
        if method == "POST" and match["rest"] == "namespaces":
            body = json.loads(raw)
            raw = json.dumps({**body, "properties": self.new_namespace_properties(
                catalog, tuple(body["namespace"]), body.get("properties") or {})}).encode()
        elif method == "POST" and match["rest"].endswith("/properties"):
            self.check_namespace_update(catalog, _levels(match["rest"]), json.loads(raw).get("updates", {}))
        return self._forward(client_id, method, path, catalog, f"{match['rest']}?{query}" if query else match["rest"],
                             raw)

    def _client_of(self, auth: str) -> str:
        token = auth.removeprefix("Bearer ")
        if self.tokens.get(token, 0) < time.monotonic():
            raise error(401, "the token is missing, invalid or expired", "NotAuthorizedException")
        return self.token_clients[token]

    def _token(self, raw: bytes) -> Any:
        body = super()._token(raw)
        self.token_clients[body["access_token"]] = parse_qs(raw.decode())["client_id"][0]
        return body

    def _config(self, query: dict[str, list[str]]) -> Any:
        warehouse = query.get("warehouse", [""])[0]
        if not warehouse:
            raise error(400, "Please specify a warehouse", "BadRequestException")
        catalog = self._catalog(warehouse)
        # As Polaris: the catalog's properties as defaults, its name as the prefix of every path.
        return {"defaults": dict(catalog.get("properties") or {}), "overrides": {"prefix": warehouse}}

    def _validate_response(self, spec: Any, handler: Any, url: str, query: str, raw: bytes, reply: Reply) -> None:
        body = reply.body
        if isinstance(body, dict) and "next-page-token" in body and body["next-page-token"] is None:
            # The spec requires a null `next-page-token` on a last page but declares it with OpenAPI 3.0's
            # `nullable` in a 3.1 document, where that keyword means nothing: validate without the null.
            reply = Reply(reply.status, {k: v for k, v in body.items() if k != "next-page-token"}, reply.headers)
        super()._validate_response(spec, handler, url, query, raw, reply)

    # --- forwarding -----------------------------------------------------------------------------

    def _backend(self, method: str, catalog: str, rest: str, raw: bytes = b"") -> requests.Response:
        headers = {"Content-Type": "application/json"} if raw else {}
        try:
            # No retry: a commit may have been applied when its answer was lost.
            return self._backend_session.request(method, f"{self.backend.catalog_url(catalog)}/v1/{rest}",
                                                 data=raw or None, headers=headers, timeout=FORWARD_TIMEOUT)
        except requests.RequestException as exc:
            raise error(503, f"the Iceberg REST catalog is unreachable: {type(exc).__name__}",
                        "ServiceUnavailableException") from None

    def _forward(self, client_id: str, method: str, path: str, catalog: str, rest: str, raw: bytes) -> Any:
        answer = self._backend(method, catalog, rest, raw)
        self.forwarded.append(Forwarded(client_id, method, unquote(path), answer.status_code))
        try:
            body = answer.json() if answer.content and method != "HEAD" else None
        except ValueError:  # Jetty answers some refusals with an HTML page
            raise error(answer.status_code, f"the Iceberg REST catalog answered {answer.text[:300]!r}",
                        "BadRequestException") from None
        headers = {name: answer.headers[name] for name in PASSED_HEADERS if name in answer.headers}
        raise Reply(answer.status_code, body, headers)

    # --- where namespaces and tables are, for Polaris' rules: the Iceberg REST catalog ----------------------

    def _namespace_properties(self, catalog: str, levels: tuple[str, ...]) -> dict[str, str] | None:
        answer = self._backend("GET", catalog, f"namespaces/{_encoded(levels)}")
        return dict(answer.json().get("properties") or {}) if answer.status_code == 200 else None

    def _child_namespaces(self, catalog: str, parent: tuple[str, ...]) -> list[tuple[str, ...]]:
        answer = self._backend("GET", catalog, f"namespaces?parent={_encoded(parent)}" if parent else "namespaces")
        return [tuple(ns) for ns in answer.json().get("namespaces", [])] if answer.status_code == 200 else []

    def _table_locations(self, catalog: str, levels: tuple[str, ...]) -> dict[str, str]:
        answer = self._backend("GET", catalog, f"namespaces/{_encoded(levels)}/tables")
        names = [i["name"] for i in answer.json().get("identifiers", [])] if answer.status_code == 200 else []
        return {name: self._backend("GET", catalog, f"namespaces/{_encoded(levels)}/tables/{quote(name, safe='')}")
                .json()["metadata"]["location"] for name in names}

    def _table_exists(self, catalog: str, levels: tuple[str, ...], name: str) -> bool:
        return self._backend("HEAD", catalog, f"namespaces/{_encoded(levels)}/tables/{quote(name, safe='')}"
                             ).status_code == 204

    def delete_catalog(self, name: str, **_: Any) -> Any:
        self._catalog(name)
        if self._backend("GET", name, "namespaces").json().get("namespaces"):
            raise error(400, f"Catalog {name} is not empty", "BadRequestException")
        return super().delete_catalog(name)


def _encoded(levels: tuple[str, ...]) -> str:
    return "%1F".join(quote(level, safe="") for level in levels)


def _levels(rest: str) -> tuple[str, ...]:
    """The namespace of `namespaces/{namespace}/...`."""
    return tuple(unquote(rest.split("/")[1]).split("\x1f"))
