"""An in-process Polaris: management API and Iceberg REST namespaces, with state and fault injection.

Every request and every response is validated against the official OpenAPI specs
(`../shared/reference/specs/`); a violation is recorded and answered with HTTP 500, so a test that
sends (or expects) anything the specs reject fails.
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
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_schema_validator import OAS30Validator

from tests.loopback import BEFORE, Fault, answer_instead, send, spoil_answer, take

__all__ = ["FakePolaris", "Fault"]

SPECS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "specs"
MANAGEMENT_SPEC = SPECS / "polaris-management-service.yml"
ICEBERG_SPEC = SPECS / "iceberg-rest-catalog-open-api.yaml"
SEP = "\x1f"


def _inline(node: Any, components: dict[str, Any]) -> Any:
    """A schema with its local `$ref`s replaced by the referenced schemas."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(components[node["$ref"].rsplit("/", 1)[-1]], components)
        return {k: _inline(v, components) for k, v in node.items() if k != "discriminator"}
    if isinstance(node, list):
        return [_inline(v, components) for v in node]
    return node


class SubtypeValidator:
    """Validates discriminated objects against their mapped subtype schema.

    openapi-core checks a discriminated base schema only (the discriminator is not a JSON Schema
    keyword), so a grant with an unknown privilege would pass; this checks the concrete subtype.
    """

    def __init__(self) -> None:
        spec = yaml.safe_load(MANAGEMENT_SPEC.read_text())
        self.components = spec["components"]["schemas"]

    def check(self, schema_name: str, discriminator: str, instance: Any) -> list[str]:
        base = self.components[schema_name]
        mapping = base["discriminator"]["mapping"]
        target = mapping.get(str(instance.get(discriminator)) if isinstance(instance, dict) else "")
        if target is None:
            return [f"{schema_name}: unknown {discriminator} {instance!r}"]
        schema = _inline({"$ref": target}, self.components)
        return [f"{schema_name} as {target.rsplit('/', 1)[-1]}: {e.message}"
                for e in OAS30Validator(schema).iter_errors(instance)]


class Reply(Exception):  # noqa: N818 - control flow inside the fake server, not an error of the product
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def error(status: int, message: str, kind: str) -> Reply:
    return Reply(status, {"error": {"message": message, "type": kind, "code": status}})


class FakePolaris:
    """State of one realm plus the HTTP server exposing it."""

    _specs: tuple[OpenAPI, OpenAPI] | None = None
    _subtypes: SubtypeValidator | None = None

    def __init__(self, root_id: str = "root", root_secret: str = "root-secret-for-tests") -> None:
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
            spec, spec_url = self._spec_for(path)
            self._validate_request(spec, handler, spec_url, query, raw)
            fault = take(self.faults, call)
            if fault is None or fault.kind not in BEFORE:
                try:
                    body = self._route(handler.command, path, query, raw, handler.headers.get("Authorization", ""))
                    reply = Reply(200 if body is not None else 204, body)
                except Reply as r:
                    reply = r
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

    def _validate_request(self, spec: OpenAPI | None, handler: BaseHTTPRequestHandler, url: str, query: str,
                          raw: bytes) -> None:
        if spec is None:
            self.violations.append(f"unknown API path {handler.path}")
            return
        try:
            spec.validate_request(self._openapi_request(handler, url, query, raw))
        except Exception as exc:  # openapi-core raises many types; all mean "the spec rejects it"
            self.violations.append(f"request {handler.command} {handler.path}: {exc}")
        if raw and "/api/management/" in handler.path:
            self.violations += [f"request {handler.command} {handler.path}: {v}" for v in self._subtype_errors(
                json.loads(raw))]

    def _subtype_errors(self, body: Any) -> list[str]:
        if FakePolaris._subtypes is None:
            FakePolaris._subtypes = SubtypeValidator()
        checker, errors = FakePolaris._subtypes, []
        if isinstance(body, dict) and isinstance(body.get("grant"), dict):
            errors += checker.check("GrantResource", "type", body["grant"])
        storage = (body.get("catalog") or {}).get("storageConfigInfo") if isinstance(body, dict) else None
        storage = storage or (body.get("storageConfigInfo") if isinstance(body, dict) else None)
        if storage is not None:
            errors += checker.check("StorageConfigInfo", "storageType", storage)
        return errors

    def _validate_response(self, spec: OpenAPI | None, handler: BaseHTTPRequestHandler, url: str, query: str,
                           raw: bytes, reply: Reply) -> None:
        if spec is None or reply.status >= 400:
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
        for pattern, handler in self._routes():
            verb, regex = pattern.split(" ", 1)
            match = re.fullmatch(regex, path)
            if verb == method and match:
                args = [unquote(g) for g in match.groups()]
                return handler(*args, body=body, query=parse_qs(query))
        raise error(404, f"no route for {method} {path}", "NotFoundException")

    def _routes(self) -> list[tuple[str, Callable[..., Any]]]:
        m, c = "/api/management/v1", "/api/catalog/v1"
        seg = r"([^/]+)"
        return [
            (f"GET {m}/catalogs/{seg}", self.get_catalog),
            (f"POST {m}/catalogs", self.create_catalog),
            (f"PUT {m}/catalogs/{seg}", self.update_catalog),
            (f"DELETE {m}/catalogs/{seg}", self.delete_catalog),
            (f"POST {m}/principals", self.create_principal),
            (f"GET {m}/principals/{seg}", self.get_principal),
            (f"DELETE {m}/principals/{seg}", self.delete_principal),
            (f"POST {m}/principals/{seg}/rotate", self.rotate),
            (f"GET {m}/principals/{seg}/principal-roles", self.list_principal_roles_of),
            (f"PUT {m}/principals/{seg}/principal-roles", self.assign_principal_role),
            (f"DELETE {m}/principals/{seg}/principal-roles/{seg}", self.revoke_principal_role),
            (f"POST {m}/principal-roles", self.create_principal_role),
            (f"GET {m}/principal-roles/{seg}", self.get_principal_role),
            (f"DELETE {m}/principal-roles/{seg}", self.delete_principal_role),
            (f"GET {m}/principal-roles/{seg}/catalog-roles/{seg}", self.list_catalog_roles_of),
            (f"PUT {m}/principal-roles/{seg}/catalog-roles/{seg}", self.assign_catalog_role),
            (f"DELETE {m}/principal-roles/{seg}/catalog-roles/{seg}/{seg}", self.revoke_catalog_role),
            (f"POST {m}/catalogs/{seg}/catalog-roles", self.create_catalog_role),
            (f"GET {m}/catalogs/{seg}/catalog-roles/{seg}", self.get_catalog_role),
            (f"DELETE {m}/catalogs/{seg}/catalog-roles/{seg}", self.delete_catalog_role),
            (f"GET {m}/catalogs/{seg}/catalog-roles/{seg}/grants", self.list_grants),
            (f"PUT {m}/catalogs/{seg}/catalog-roles/{seg}/grants", self.add_grant),
            (f"POST {m}/catalogs/{seg}/catalog-roles/{seg}/grants", self.revoke_grant),
            (f"GET {c}/{seg}/namespaces", self.list_namespaces),
            (f"POST {c}/{seg}/namespaces", self.create_namespace),
            (f"GET {c}/{seg}/namespaces/{seg}", self.get_namespace),
            (f"DELETE {c}/{seg}/namespaces/{seg}", self.delete_namespace),
            (f"POST {c}/{seg}/namespaces/{seg}/properties", self.update_namespace),
            (f"GET {c}/{seg}/namespaces/{seg}/tables", self.list_tables),
            (f"DELETE {c}/{seg}/namespaces/{seg}/tables/{seg}", self.drop_table),
        ]

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
