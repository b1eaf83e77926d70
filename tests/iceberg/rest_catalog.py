"""An Iceberg REST catalog on loopback, backed by a real pyiceberg SqlCatalog, with fault injection.

pyiceberg has no REST server. This one speaks the REST endpoints `floe-infra tables` uses
(config, namespaces, tables: create, load, exists, commit, rename, drop) and does the work with a
SqlCatalog on a temporary SQLite file and file:// warehouse, so commits are checked against their
requirements exactly as a catalog does (a stale commit is a 409). Given `credentials`, it is an
OAuth2 server as well, as Polaris is: `POST /v1/oauth/tokens` (client credentials, form-encoded,
RFC 6749 errors) issues tokens and every other request needs one. Requests are served one at a
time; faults (`tests.loopback`) answer in place of the catalog or spoil its answer.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pyiceberg.catalog.rest import CreateTableRequest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.table import CommitTableRequest, Table

from tests.loopback import BEFORE, Fault, answer_instead, send, spoil_answer, take

SEP = "\x1f"
TOKEN_PATH = "/v1/oauth/tokens"


class Reply(Exception):  # noqa: N818 - control flow inside the fake server, not an error of the product
    def __init__(self, status: int, body: Any = None) -> None:
        self.status, self.body = status, body


def error(status: int, kind: str, message: str) -> Reply:
    return Reply(status, {"error": {"message": message, "type": kind, "code": status}})


def _table_result(table: Table) -> dict[str, Any]:
    return {"metadata-location": table.metadata_location, "metadata": json.loads(table.metadata.model_dump_json()),
            "config": {}}


class RestCatalogServer:
    """The catalog's state (a SqlCatalog) plus the HTTP server exposing it."""

    def __init__(self, root: Path, credentials: dict[str, str] | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.credentials = credentials
        self.tokens: dict[str, str] = {}  # issued token -> client id
        self.token_lifetime = 3600
        (root / "warehouse").mkdir(exist_ok=True)
        self.backing = SqlCatalog("backing", uri=f"sqlite:///{root / 'rest.db'}",
                                  warehouse=f"file://{root / 'warehouse'}")
        self.faults: list[Fault] = []
        self.calls: list[str] = []
        self.errors: list[str] = []
        self.url = ""
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real catalogs: resets hit reused connections too

            def do_GET(self) -> None:
                server._handle(self)

            do_POST = do_DELETE = do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a reset or cut connection is the point of the fault, not a server error

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self.url

    def stop(self) -> None:
        self._stopped.set()  # releases hanging requests
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- HTTP plumbing --------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        call = f"{handler.command} {unquote(parts.path).replace(SEP, '.')}"
        with self._lock:
            self.calls.append(call)
            fault = take(self.faults, call)
            if fault is None or fault.kind not in BEFORE:
                try:
                    self._authorize(parts.path, handler.headers.get("Authorization", ""))
                    reply = Reply(200, self._route(handler.command, parts.path, parts.query, raw))
                except Reply as r:
                    reply = r
                except Exception as exc:  # a bug of this fake or a request it cannot serve: the test must see it
                    self.errors.append(f"{call}: {type(exc).__name__}: {exc}")
                    reply = error(500, "ServerError", f"{type(exc).__name__}: {exc}")
        if fault is not None and fault.kind in BEFORE:
            answer_instead(handler, fault, self._stopped)
            return
        status = reply.status if reply.body is not None or reply.status != 200 else 204
        payload = b"" if reply.body is None or handler.command == "HEAD" else json.dumps(reply.body).encode()
        if fault is not None:
            spoil_answer(handler, fault, status, payload)
        else:
            send(handler, status, payload)

    def _authorize(self, path: str, header: str) -> None:
        if self.credentials is not None and path != TOKEN_PATH and header.removeprefix("Bearer ") not in self.tokens:
            raise error(401, "NotAuthorizedException", "the request carries no valid bearer token")

    def _token(self, raw: bytes) -> Any:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            raise Reply(400, {"error": "unsupported_grant_type"})
        client = form.get("client_id", "")
        if (self.credentials or {}).get(client) != form.get("client_secret"):
            raise Reply(401, {"error": "invalid_client", "error_description": "bad client credentials"})
        token = secrets.token_hex(16)
        self.tokens[token] = client
        return {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}

    def _route(self, method: str, path: str, query: str, raw: bytes) -> Any:
        if self.credentials is not None and f"{method} {path}" == f"POST {TOKEN_PATH}":
            return self._token(raw)
        body = json.loads(raw) if raw else None
        params = {k: v[0] for k, v in parse_qs(query).items()}
        seg = r"([^/]+)"
        routes: list[tuple[str, Callable[..., Any]]] = [
            ("GET /v1/config", self.config),
            ("GET /v1/namespaces", self.list_namespaces),
            ("POST /v1/namespaces", self.create_namespace),
            (f"(?:GET|HEAD) /v1/namespaces/{seg}", self.load_namespace),
            (f"GET /v1/namespaces/{seg}/tables", self.list_tables),
            (f"POST /v1/namespaces/{seg}/tables", self.create_table),
            (f"(?:GET|HEAD) /v1/namespaces/{seg}/tables/{seg}", self.load_table),
            (f"POST /v1/namespaces/{seg}/tables/{seg}", self.commit),
            (f"DELETE /v1/namespaces/{seg}/tables/{seg}", self.drop_table),
            ("POST /v1/tables/rename", self.rename),
        ]
        for pattern, route in routes:
            if match := re.fullmatch(pattern, f"{method} {path}"):
                args = [tuple(unquote(g).split(SEP)) if i == 0 else unquote(g) for i, g in enumerate(match.groups())]
                try:
                    return route(*args, body=body, params=params)
                except (NoSuchTableError, NoSuchNamespaceError) as exc:
                    raise error(404, type(exc).__name__, str(exc)) from exc
                except (TableAlreadyExistsError, NamespaceAlreadyExistsError) as exc:
                    raise error(409, "AlreadyExistsException", str(exc)) from exc
                except CommitFailedException as exc:
                    raise error(409, "CommitFailedException", str(exc)) from exc
        raise error(404, "NotFoundException", f"no route for {method} {path}")

    # --- endpoints ------------------------------------------------------------------------------

    def config(self, **_: Any) -> Any:
        return {"defaults": {}, "overrides": {}}

    def list_namespaces(self, *, params: dict[str, str], **_: Any) -> Any:
        parent = tuple(params["parent"].split(SEP)) if params.get("parent") else ()
        return {"namespaces": [list(ns) for ns in self.backing.list_namespaces(parent)]}

    def create_namespace(self, *, body: Any, **_: Any) -> Any:
        self.backing.create_namespace(tuple(body["namespace"]), body.get("properties") or {})
        return {"namespace": body["namespace"], "properties": body.get("properties") or {}}

    def load_namespace(self, namespace: tuple[str, ...], **_: Any) -> Any:
        return {"namespace": list(namespace), "properties": self.backing.load_namespace_properties(namespace)}

    def list_tables(self, namespace: tuple[str, ...], **_: Any) -> Any:
        return {"identifiers": [{"namespace": list(t[:-1]), "name": t[-1]}
                                for t in self.backing.list_tables(namespace)]}

    def create_table(self, namespace: tuple[str, ...], *, body: Any, **_: Any) -> Any:
        request = CreateTableRequest.model_validate({"location": None, **body})
        table = self.backing.create_table(
            (*namespace, request.name), request.table_schema, location=request.location,
            partition_spec=request.partition_spec, sort_order=request.write_order, properties=request.properties)
        return _table_result(table)

    def load_table(self, namespace: tuple[str, ...], name: str, **_: Any) -> Any:
        return _table_result(self.backing.load_table((*namespace, name)))

    def commit(self, namespace: tuple[str, ...], name: str, *, body: Any, **_: Any) -> Any:
        request = CommitTableRequest.model_validate(body)
        table = self.backing.load_table((*namespace, name))
        response = self.backing.commit_table(table, request.requirements, request.updates)
        return json.loads(response.model_dump_json())

    def drop_table(self, namespace: tuple[str, ...], name: str, *, params: dict[str, str], **_: Any) -> Any:
        if params.get("purgeRequested") == "true":
            self.backing.purge_table((*namespace, name))
        else:
            self.backing.drop_table((*namespace, name))

    def rename(self, *, body: Any, **_: Any) -> Any:
        source, destination = body["source"], body["destination"]
        self.backing.rename_table((*source["namespace"], source["name"]),
                                  (*destination["namespace"], destination["name"]))

    # --- inspection -----------------------------------------------------------------------------

    @property
    def writes(self) -> list[str]:
        """Requests that change state."""
        return [c for c in self.calls if c.startswith(("POST", "DELETE"))]
