"""An in-process Polaris: management API and Iceberg REST namespaces, with state and fault injection.

Every request and every response body is validated against the generated models of the official
`apache-polaris` package (its Python SDK, generated from the Polaris management and Iceberg REST
OpenAPI specs), and, where the repository's reference material is beside the checkout, also against
the OpenAPI spec files themselves (paths, parameters and headers too). A violation is recorded and
the test fails, so a test that sends (or expects) anything the APIs reject fails.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from apache_polaris.sdk.catalog import models as iceberg_models
from apache_polaris.sdk.management import models as management_models
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from pydantic import ValidationError

from tests.loopback import BEFORE, Fault, answer_instead, send, spoil_answer, take

__all__ = ["FakePolaris", "Fault"]

SPECS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "specs"
MANAGEMENT_SPEC = SPECS / "polaris-management-service.yml"
ICEBERG_SPEC = SPECS / "iceberg-rest-catalog-open-api.yaml"
SEP = "\x1f"


def spec_files_present() -> bool:
    """Whether the OpenAPI spec files are beside the checkout (CI has them; a bare clone does not)."""
    return MANAGEMENT_SPEC.is_file() and ICEBERG_SPEC.is_file()


def model_errors(model_name: str | None, body: Any) -> list[str]:
    """What the generated model of `model_name` rejects in `body` (discriminated bases check their subtype)."""
    if model_name is None:
        return [] if body is None else [f"the API defines no body here, got {json.dumps(body)[:80]}"]
    model = getattr(management_models, model_name, None) or getattr(iceberg_models, model_name)
    if not isinstance(body, dict):
        return [f"{model_name}: expected an object, got {json.dumps(body)[:80]}"]
    # The specs declare fields such as `next-page-token` nullable with OpenAPI 3.0's `nullable`, which the
    # generated models do not carry: a null stands for an absent value.
    body = {k: v for k, v in body.items() if v is not None}
    try:
        model.from_dict(body)
    except (ValidationError, ValueError, TypeError, KeyError) as exc:
        return [f"{model_name}: {exc}"]
    return []


class Reply(Exception):  # noqa: N818 - control flow inside the fake server, not an error of the product
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def error(status: int, message: str, kind: str) -> Reply:
    return Reply(status, {"error": {"message": message, "type": kind, "code": status}})


class FakePolaris:
    """State of one realm plus the HTTP server exposing it."""

    _specs: tuple[OpenAPI, OpenAPI] | None = None

    def __init__(self, root_id: str = "root", root_secret: str = "root-secret-for-tests") -> None:
        self.root_id = root_id
        self.clients: dict[str, str] = {root_id: root_secret}
        self.tokens: dict[str, float] = {}
        self.token_lifetime = 3600
        self.catalogs: dict[str, dict[str, Any]] = {}
        self.principals: dict[str, dict[str, Any]] = {}
        self.principal_roles: dict[str, dict[str, set[str]]] = {}  # role -> catalog -> catalog roles
        self.catalog_roles: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.namespaces: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}
        self.tables: dict[tuple[str, tuple[str, ...]], set[str]] = {}
        self.faults: list[Fault] = []
        self.calls: list[str] = []
        self.violations: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def specs(cls) -> tuple[OpenAPI, OpenAPI]:
        if cls._specs is None:
            cls._specs = (OpenAPI.from_file_path(str(MANAGEMENT_SPEC)), OpenAPI.from_file_path(str(ICEBERG_SPEC)))
        return cls._specs

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            do_POST = do_PUT = do_DELETE = do_GET  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._stopped.set()  # releases hanging requests
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def writes(self) -> list[str]:
        """Calls that change state (everything but GETs and token requests)."""
        return [c for c in self.calls if not c.startswith("GET") and "/oauth/tokens" not in c]

    # --- HTTP plumbing --------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        path, query = parts.path, parts.query
        call = f"{handler.command} {unquote(path)}"
        with self._lock:
            self.calls.append(call)
            # Operations this class routes itself have body models; subclasses may route more (their bodies are
            # then checked by the spec files only), and a call nobody routes is a violation (see `_route`).
            operation = None if path == "/api/catalog/v1/oauth/tokens" else self._operation(handler.command, path)
            rejected = []
            if operation is not None and raw:
                rejected = [f"request {call}: {e}" for e in model_errors(operation[2], json.loads(raw))]
                self.violations += rejected
            spec, spec_url = self._spec_for(path) if spec_files_present() else (None, path)
            if spec is not None:
                self._validate_request(spec, handler, spec_url, query, raw)
            fault = take(self.faults, call)
            if fault is None or fault.kind not in BEFORE:
                try:
                    if rejected:
                        # As Polaris does: a body its model rejects is a bad request, never reaches a handler.
                        raise error(400, rejected[0], "BadRequestException")
                    body = self._route(handler.command, path, query, raw, handler.headers.get("Authorization", ""))
                    reply = Reply(200 if body is not None else 204, body)
                except Reply as r:
                    reply = r
                if reply.status < 400 and (operation is not None or path == "/api/catalog/v1/oauth/tokens"):
                    model = "OAuthTokenResponse" if operation is None else operation[3]
                    self.violations += [f"response {reply.status} to {call}: {e}"
                                        for e in model_errors(model, reply.body)]
                if spec is not None:
                    self._validate_response(spec, handler, spec_url, query, raw, reply)
        if fault is not None and fault.kind in BEFORE:
            answer_instead(handler, fault, self._stopped)
            return
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        if fault is not None:
            spoil_answer(handler, fault, reply.status, payload)
        else:
            send(handler, reply.status, payload, reply.headers)

    def _spec_for(self, path: str) -> tuple[OpenAPI | None, str]:
        management, iceberg = self.specs()
        if path.startswith("/api/management/v1"):
            return management, f"http://localhost{path}"
        if path.startswith("/api/catalog/v1"):
            return iceberg, f"http://localhost{path.removeprefix('/api/catalog')}"
        return None, path

    def _openapi_request(self, handler: BaseHTTPRequestHandler, url: str, query: str, raw: bytes) -> Any:
        headers = dict(handler.headers.items())
        prepared = requests.Request(handler.command, url + (f"?{query}" if query else ""), headers=headers,
                                    data=raw or None).prepare()
        return RequestsOpenAPIRequest(prepared)

    def _validate_request(self, spec: OpenAPI, handler: BaseHTTPRequestHandler, url: str, query: str,
                          raw: bytes) -> None:
        try:
            spec.validate_request(self._openapi_request(handler, url, query, raw))
        except Exception as exc:  # openapi-core raises many types; all mean "the spec rejects it"
            self.violations.append(f"request {handler.command} {handler.path}: {exc}")

    def _validate_response(self, spec: OpenAPI, handler: BaseHTTPRequestHandler, url: str, query: str,
                           raw: bytes, reply: Reply) -> None:
        if reply.status >= 400:
            return  # error bodies follow the shared error model; statuses are the server's choice
        response = requests.Response()
        response.status_code = reply.status
        response._content = b"" if reply.body is None else json.dumps(reply.body).encode()
        response.headers["Content-Type"] = "application/json"
        try:
            spec.validate_response(self._openapi_request(handler, url, query, raw), RequestsOpenAPIResponse(response))
        except Exception as exc:
            self.violations.append(f"response {reply.status} to {handler.command} {handler.path}: {exc}")

    # --- routing --------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: str, raw: bytes, auth: str) -> Any:
        if path == "/api/catalog/v1/oauth/tokens" and method == "POST":
            return self._token(raw)
        token = auth.removeprefix("Bearer ")
        if self.tokens.get(token, 0) < time.monotonic():
            raise error(401, "the token is missing, invalid or expired", "NotAuthorizedException")
        body = json.loads(raw) if raw else None
        operation = self._operation(method, path)
        if operation is None:
            self.violations.append(f"request {method} {path}: no such operation in the Polaris APIs")
            raise error(404, f"no route for {method} {path}", "NotFoundException")
        handler, args, _, _ = operation
        return handler(*args, body=body, query=parse_qs(query))

    def _routes(self) -> list[tuple[str, Callable[..., Any], str | None, str | None]]:
        """(METHOD path regex, handler, request body model, response body model), as the APIs define them."""
        m, c = "/api/management/v1", "/api/catalog/v1"
        seg = r"([^/]+)"
        return [
            (f"GET {m}/catalogs/{seg}", self.get_catalog, None, "Catalog"),
            (f"POST {m}/catalogs", self.create_catalog, "CreateCatalogRequest", "Catalog"),
            (f"PUT {m}/catalogs/{seg}", self.update_catalog, "UpdateCatalogRequest", "Catalog"),
            (f"DELETE {m}/catalogs/{seg}", self.delete_catalog, None, None),
            (f"POST {m}/principals", self.create_principal, "CreatePrincipalRequest", "PrincipalWithCredentials"),
            (f"GET {m}/principals/{seg}", self.get_principal, None, "Principal"),
            (f"DELETE {m}/principals/{seg}", self.delete_principal, None, None),
            (f"POST {m}/principals/{seg}/rotate", self.rotate, None, "PrincipalWithCredentials"),
            (f"POST {m}/principals/{seg}/reset", self.reset, "ResetPrincipalRequest", "PrincipalWithCredentials"),
            (f"GET {m}/principals/{seg}/principal-roles", self.list_principal_roles_of, None, "PrincipalRoles"),
            (f"PUT {m}/principals/{seg}/principal-roles", self.assign_principal_role, "GrantPrincipalRoleRequest",
             None),
            (f"DELETE {m}/principals/{seg}/principal-roles/{seg}", self.revoke_principal_role, None, None),
            (f"POST {m}/principal-roles", self.create_principal_role, "CreatePrincipalRoleRequest", "PrincipalRole"),
            (f"GET {m}/principal-roles/{seg}", self.get_principal_role, None, "PrincipalRole"),
            (f"DELETE {m}/principal-roles/{seg}", self.delete_principal_role, None, None),
            (f"GET {m}/principal-roles/{seg}/catalog-roles/{seg}", self.list_catalog_roles_of, None, "CatalogRoles"),
            (f"PUT {m}/principal-roles/{seg}/catalog-roles/{seg}", self.assign_catalog_role,
             "GrantCatalogRoleRequest", None),
            (f"DELETE {m}/principal-roles/{seg}/catalog-roles/{seg}/{seg}", self.revoke_catalog_role, None, None),
            (f"POST {m}/catalogs/{seg}/catalog-roles", self.create_catalog_role, "CreateCatalogRoleRequest",
             "CatalogRole"),
            (f"GET {m}/catalogs/{seg}/catalog-roles/{seg}", self.get_catalog_role, None, "CatalogRole"),
            (f"DELETE {m}/catalogs/{seg}/catalog-roles/{seg}", self.delete_catalog_role, None, None),
            (f"GET {m}/catalogs/{seg}/catalog-roles/{seg}/grants", self.list_grants, None, "GrantResources"),
            (f"PUT {m}/catalogs/{seg}/catalog-roles/{seg}/grants", self.add_grant, "AddGrantRequest", None),
            (f"POST {m}/catalogs/{seg}/catalog-roles/{seg}/grants", self.revoke_grant, "RevokeGrantRequest", None),
            (f"GET {c}/{seg}/namespaces", self.list_namespaces, None, "ListNamespacesResponse"),
            (f"POST {c}/{seg}/namespaces", self.create_namespace, "CreateNamespaceRequest",
             "CreateNamespaceResponse"),
            (f"GET {c}/{seg}/namespaces/{seg}", self.get_namespace, None, "GetNamespaceResponse"),
            (f"DELETE {c}/{seg}/namespaces/{seg}", self.delete_namespace, None, None),
            (f"POST {c}/{seg}/namespaces/{seg}/properties", self.update_namespace,
             "UpdateNamespacePropertiesRequest", "UpdateNamespacePropertiesResponse"),
            (f"GET {c}/{seg}/namespaces/{seg}/tables", self.list_tables, None, "ListTablesResponse"),
            (f"DELETE {c}/{seg}/namespaces/{seg}/tables/{seg}", self.drop_table, None, None),
        ]

    def _operation(self, method: str, path: str) -> tuple[Callable[..., Any], list[str], str | None,
                                                          str | None] | None:
        for pattern, handler, request_model, response_model in self._routes():
            verb, regex = pattern.split(" ", 1)
            match = re.fullmatch(regex, path)
            if verb == method and match:
                return handler, [unquote(g) for g in match.groups()], request_model, response_model
        return None

    # --- auth -----------------------------------------------------------------------------------

    def _token(self, raw: bytes) -> Any:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if self.clients.get(form.get("client_id", "")) != form.get("client_secret"):
            raise Reply(401, {"error": "invalid_client", "error_description": "bad client credentials"})
        token = f"token-{next(self._ids)}"
        self.tokens[token] = time.monotonic() + self.token_lifetime
        return {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}

    def expire_tokens(self) -> None:
        """Revoke every issued token (the next call gets a 401)."""
        self.tokens.clear()

    # --- catalogs -------------------------------------------------------------------------------

    def _catalog(self, name: str) -> dict[str, Any]:
        if name not in self.catalogs:
            raise error(404, f"Catalog {name} not found", "NotFoundException")
        return self.catalogs[name]

    def get_catalog(self, name: str, **_: Any) -> Any:
        return self._catalog(name)

    def create_catalog(self, *, body: Any, **_: Any) -> Any:
        catalog = dict(body["catalog"])
        if catalog["name"] in self.catalogs:
            raise error(409, f"Cannot create Catalog {catalog['name']}. Catalog already exists",
                        "AlreadyExistsException")
        catalog.update(entityVersion=1, createTimestamp=1, lastUpdateTimestamp=1)
        self.catalogs[catalog["name"]] = catalog
        raise Reply(201, catalog)

    def update_catalog(self, name: str, *, body: Any, **_: Any) -> Any:
        catalog = self._catalog(name)
        if body.get("currentEntityVersion") != catalog["entityVersion"]:
            raise error(409, "entity version mismatch", "CommitFailedException")
        catalog.update(properties=body.get("properties", catalog["properties"]),
                       storageConfigInfo=body.get("storageConfigInfo", catalog["storageConfigInfo"]),
                       entityVersion=catalog["entityVersion"] + 1)
        return catalog

    def delete_catalog(self, name: str, **_: Any) -> Any:
        self._catalog(name)
        if any(c == name for c, _ in self.namespaces):
            raise error(400, f"Catalog {name} is not empty", "BadRequestException")
        del self.catalogs[name]

    # --- principals and roles -------------------------------------------------------------------

    def _principal(self, name: str) -> dict[str, Any]:
        if name not in self.principals:
            raise error(404, f"Principal {name} not found", "NotFoundException")
        return self.principals[name]

    def _new_credentials(self, name: str) -> dict[str, str]:
        client_id, secret = f"{name}-id-{next(self._ids)}", f"{name}-secret-{next(self._ids)}"
        self.clients = {k: v for k, v in self.clients.items() if k != self.principals.get(name, {}).get("clientId")}
        self.clients[client_id] = secret
        return {"clientId": client_id, "clientSecret": secret}

    def create_principal(self, *, body: Any, **_: Any) -> Any:
        name = body["principal"]["name"]
        if name in self.principals:
            raise error(409, f"Principal {name} already exists", "AlreadyExistsException")
        creds = self._new_credentials(name)
        self.principals[name] = {"name": name, "clientId": creds["clientId"],
                                 "properties": body["principal"].get("properties", {}), "entityVersion": 1,
                                 "roles": set()}
        raise Reply(201, {"principal": self._public(name), "credentials": creds})

    def _public(self, name: str) -> dict[str, Any]:
        return {k: v for k, v in self.principals[name].items() if k != "roles"}

    def get_principal(self, name: str, **_: Any) -> Any:
        self._principal(name)
        return self._public(name)

    def delete_principal(self, name: str, **_: Any) -> Any:
        principal = self._principal(name)
        self.clients.pop(principal["clientId"], None)
        del self.principals[name]

    def rotate(self, name: str, **_: Any) -> Any:
        principal = self._principal(name)
        creds = self._new_credentials(name)
        principal.update(clientId=creds["clientId"], entityVersion=principal["entityVersion"] + 1)
        return {"principal": self._public(name), "credentials": creds}

    def reset(self, name: str, *, body: Any, **_: Any) -> Any:
        """Polaris' resetCredentials (enabled by default): the new secret is the caller's, if it gives one."""
        secret = (body or {}).get("clientSecret") or f"{name}-secret-{next(self._ids)}"
        if name == self.root_id:
            self.clients[self.root_id] = secret
            return {"principal": {"name": name, "clientId": self.root_id, "entityVersion": 1},
                    "credentials": {"clientId": self.root_id, "clientSecret": secret}}
        principal = self._principal(name)
        self.clients[principal["clientId"]] = secret
        principal["entityVersion"] += 1
        return {"principal": self._public(name), "credentials": {"clientId": principal["clientId"],
                                                                 "clientSecret": secret}}

    def list_principal_roles_of(self, name: str, **_: Any) -> Any:
        return {"roles": [{"name": r} for r in sorted(self._principal(name)["roles"])]}

    def assign_principal_role(self, name: str, *, body: Any, **_: Any) -> Any:
        role = body["principalRole"]["name"]
        if role not in self.principal_roles:
            raise error(404, f"Principal role {role} not found", "NotFoundException")
        self._principal(name)["roles"].add(role)
        raise Reply(201)

    def revoke_principal_role(self, name: str, role: str, **_: Any) -> Any:
        self._principal(name)["roles"].discard(role)

    def create_principal_role(self, *, body: Any, **_: Any) -> Any:
        name = body["principalRole"]["name"]
        if name in self.principal_roles:
            raise error(409, f"Principal role {name} already exists", "AlreadyExistsException")
        self.principal_roles[name] = {}
        raise Reply(201, {"name": name, "entityVersion": 1})

    def get_principal_role(self, name: str, **_: Any) -> Any:
        if name not in self.principal_roles:
            raise error(404, f"Principal role {name} not found", "NotFoundException")
        return {"name": name, "entityVersion": 1}

    def delete_principal_role(self, name: str, **_: Any) -> Any:
        self.get_principal_role(name)
        del self.principal_roles[name]
        for principal in self.principals.values():
            principal["roles"].discard(name)

    def list_catalog_roles_of(self, role: str, catalog: str, **_: Any) -> Any:
        self.get_principal_role(role)
        return {"roles": [{"name": r} for r in sorted(self.principal_roles[role].get(catalog, set()))]}

    def assign_catalog_role(self, role: str, catalog: str, *, body: Any, **_: Any) -> Any:
        self.get_principal_role(role)
        name = body["catalogRole"]["name"]
        if (catalog, name) not in self.catalog_roles:
            raise error(404, f"Catalog role {name} not found", "NotFoundException")
        self.principal_roles[role].setdefault(catalog, set()).add(name)
        raise Reply(201)

    def revoke_catalog_role(self, role: str, catalog: str, name: str, **_: Any) -> Any:
        self.get_principal_role(role)
        self.principal_roles[role].get(catalog, set()).discard(name)

    def create_catalog_role(self, catalog: str, *, body: Any, **_: Any) -> Any:
        self._catalog(catalog)
        name = body["catalogRole"]["name"]
        if (catalog, name) in self.catalog_roles:
            raise error(409, f"Catalog role {name} already exists", "AlreadyExistsException")
        self.catalog_roles[(catalog, name)] = []
        raise Reply(201, {"name": name, "entityVersion": 1})

    def get_catalog_role(self, catalog: str, name: str, **_: Any) -> Any:
        if (catalog, name) not in self.catalog_roles:
            raise error(404, f"Catalog role {name} not found", "NotFoundException")
        return {"name": name, "entityVersion": 1}

    def delete_catalog_role(self, catalog: str, name: str, **_: Any) -> Any:
        self.get_catalog_role(catalog, name)
        del self.catalog_roles[(catalog, name)]
        for roles in self.principal_roles.values():
            roles.get(catalog, set()).discard(name)

    def list_grants(self, catalog: str, name: str, **_: Any) -> Any:
        self.get_catalog_role(catalog, name)
        return {"grants": list(self.catalog_roles[(catalog, name)])}

    def add_grant(self, catalog: str, name: str, *, body: Any, **_: Any) -> Any:
        self.get_catalog_role(catalog, name)
        grants = self.catalog_roles[(catalog, name)]
        if body["grant"] not in grants:
            grants.append(body["grant"])
        raise Reply(201)

    def revoke_grant(self, catalog: str, name: str, *, body: Any, **_: Any) -> Any:
        self.get_catalog_role(catalog, name)
        grants = self.catalog_roles[(catalog, name)]
        if body["grant"] in grants:
            grants.remove(body["grant"])
        raise Reply(201)

    # --- namespaces and tables ------------------------------------------------------------------

    def _levels(self, catalog: str, encoded: str) -> tuple[str, ...]:
        self._catalog(catalog)
        return tuple(encoded.split(SEP))

    def list_namespaces(self, catalog: str, *, query: dict[str, list[str]], **_: Any) -> Any:
        self._catalog(catalog)
        parent = tuple(query["parent"][0].split(SEP)) if "parent" in query else ()
        children = sorted({levels[: len(parent) + 1] for c, levels in self.namespaces
                           if c == catalog and levels[: len(parent)] == parent and len(levels) > len(parent)})
        return {"namespaces": [list(ns) for ns in children]}

    def create_namespace(self, catalog: str, *, body: Any, **_: Any) -> Any:
        self._catalog(catalog)
        levels = tuple(body["namespace"])
        if (catalog, levels) in self.namespaces:
            raise error(409, f"Namespace {'.'.join(levels)} already exists", "AlreadyExistsException")
        if len(levels) > 1 and (catalog, levels[:-1]) not in self.namespaces:
            raise error(404, f"Parent namespace {'.'.join(levels[:-1])} does not exist", "NoSuchNamespaceException")
        self.namespaces[(catalog, levels)] = dict(body.get("properties") or {})
        return {"namespace": list(levels), "properties": self.namespaces[(catalog, levels)]}

    def get_namespace(self, catalog: str, encoded: str, **_: Any) -> Any:
        levels = self._levels(catalog, encoded)
        if (catalog, levels) not in self.namespaces:
            raise error(404, f"Namespace does not exist: {'.'.join(levels)}", "NoSuchNamespaceException")
        return {"namespace": list(levels), "properties": self.namespaces[(catalog, levels)]}

    def delete_namespace(self, catalog: str, encoded: str, **_: Any) -> Any:
        levels = self._levels(catalog, encoded)
        self.get_namespace(catalog, encoded)
        if self.tables.get((catalog, levels)) or any(
                c == catalog and lv[: len(levels)] == levels and lv != levels for c, lv in self.namespaces):
            raise error(400, f"Namespace {'.'.join(levels)} is not empty", "NamespaceNotEmptyException")
        del self.namespaces[(catalog, levels)]

    def update_namespace(self, catalog: str, encoded: str, *, body: Any, **_: Any) -> Any:
        levels = self._levels(catalog, encoded)
        self.get_namespace(catalog, encoded)
        props = self.namespaces[(catalog, levels)]
        removed = [k for k in body.get("removals", []) if props.pop(k, None) is not None]
        props.update(body.get("updates", {}))
        return {"updated": sorted(body.get("updates", {})), "removed": removed,
                "missing": [k for k in body.get("removals", []) if k not in removed]}

    def list_tables(self, catalog: str, encoded: str, **_: Any) -> Any:
        levels = self._levels(catalog, encoded)
        self.get_namespace(catalog, encoded)
        return {"identifiers": [{"namespace": list(levels), "name": t}
                                for t in sorted(self.tables.get((catalog, levels), set()))]}

    def drop_table(self, catalog: str, encoded: str, table: str, **_: Any) -> Any:
        levels = self._levels(catalog, encoded)
        tables = self.tables.get((catalog, levels), set())
        if table not in tables:
            raise error(404, f"Table does not exist: {table}", "NoSuchTableException")
        tables.discard(table)

    def add_table(self, catalog: str, levels: tuple[str, ...], name: str) -> None:
        """Test helper: a table appears in a namespace (as a pipeline would create it)."""
        self.tables.setdefault((catalog, levels), set()).add(name)
