"""An in-process Polaris: management API and Iceberg REST namespaces, with state and fault injection.

It behaves as Apache Polaris 1.7.0 does where floe-infra depends on it, each rule written from Polaris'
source and tested against it (`tests/polaris/test_polaris_rules.py`, `test_polaris_core.py`): principal
secrets (a client id with a main and a secondary secret; rotation keeps the client id and only the
principal itself may rotate; root resets), tokens bound to the principal, namespace locations, the purge
setting, and grant enforcement on every Iceberg REST call (`fake_catalog_rules.py`). Management calls are
root's: Polaris gives them to the `service_admin` role (SERVICE_MANAGE_ACCESS, and `catalog_admin` of every
catalog), and floe-infra grants no other principal anything outside its catalogs' namespaces.

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
import secrets
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
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
from tests.polaris import polaris_rules as rules
from tests.polaris.fake_catalog_rules import SEP, CatalogRules, Reply, error, grant_on

__all__ = ["FakePolaris", "Fault", "Reply", "error"]

SPECS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "specs"
MANAGEMENT_SPEC = SPECS / "polaris-management-service.yml"
ICEBERG_SPEC = SPECS / "iceberg-rest-catalog-open-api.yaml"


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


class ClientSecrets(MutableMapping[str, str]):
    """Client id -> current main secret, over the realm's principal secrets.

    Setting one stores fresh secrets for the principal holding that client id (root, when none does), as
    bootstrapping a realm or `resetCredentials` with a caller's secret does: that main secret and a random
    secondary one, so every older secret stops working.
    """

    def __init__(self, fake: FakePolaris) -> None:
        self._fake = fake

    def __getitem__(self, client_id: str) -> str:
        return self._fake.secrets[client_id].main

    def __setitem__(self, client_id: str, secret: str) -> None:
        owner = next((s.principal for s in self._fake.secrets.values() if s.client_id == client_id), "root")
        self._fake.store_secrets(owner, client_id, secret)

    def __delitem__(self, client_id: str) -> None:
        del self._fake.secrets[client_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fake.secrets)

    def __len__(self) -> int:
        return len(self._fake.secrets)


class FakePolaris(CatalogRules):
    """State of one realm plus the HTTP server exposing it."""

    _specs: tuple[OpenAPI, OpenAPI] | None = None

    def __init__(self, root_id: str = "root", root_secret: str = "root-secret-for-tests") -> None:
        self.root_id = root_id
        # Realm settings (FeatureConfiguration keys); unset ones take Polaris' defaults.
        self.features: dict[str, object] = {}
        self.secrets: dict[str, rules.PrincipalSecrets] = {}  # client id -> secrets
        self.clients = ClientSecrets(self)
        self.tokens: dict[str, float] = {}  # token -> expiry
        # token -> (principal, scope): a token names a principal, not a secret (JWTBroker), so a rotation or a
        # reset leaves tokens issued before it valid until they expire.
        self.token_principals: dict[str, tuple[str, str]] = {}
        self.token_lifetime = 3600
        self.catalogs: dict[str, dict[str, Any]] = {}
        # The bootstrapped realm: root holds service_admin.
        self.principals: dict[str, dict[str, Any]] = {"root": {
            "name": "root", "clientId": root_id, "properties": {}, "entityVersion": 1, "roles": {rules.SERVICE_ADMIN}}}
        self.principal_roles: dict[str, dict[str, set[str]]] = {rules.SERVICE_ADMIN: {}}  # role -> catalog -> roles
        self.catalog_roles: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.namespaces: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}
        self.tables: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}  # name -> location
        self.store_secrets("root", root_id, root_secret)
        self.faults: list[Fault] = []
        self.calls: list[str] = []
        self.violations: list[str] = []
        self._ids = itertools.count(1)
        self._headers: Any = {}  # of the request being routed (routing holds the lock)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def specs(cls) -> tuple[OpenAPI, OpenAPI]:
        if cls._specs is None:
            cls._specs = (OpenAPI.from_file_path(str(MANAGEMENT_SPEC)), OpenAPI.from_file_path(str(ICEBERG_SPEC)))
        return cls._specs

    def start(self, port: int = 0) -> str:
        """Serve on `port` (0: one the OS picks; the e2e restarts the fake where it was)."""
        fake = self
        self._stopped.clear()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            do_POST = do_PUT = do_DELETE = do_GET  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
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
                    self._headers = handler.headers
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
        principal, scope = self._caller(auth)
        body = json.loads(raw) if raw else None
        operation = self._operation(method, path)
        if operation is None:
            self.violations.append(f"request {method} {path}: no such operation in the Polaris APIs")
            raise error(404, f"no route for {method} {path}", "NotFoundException")
        handler, args, _, _ = operation
        if path.startswith("/api/management/"):
            self._authorize_management(principal, handler, args)
        else:
            catalog, rest = path.removeprefix("/api/catalog/v1/").split("/", 1)
            self._catalog(unquote(catalog))
            self.authorize_catalog_call(principal, scope, method, unquote(catalog), rest, query, self._headers, raw)
        return handler(*args, body=body, query=parse_qs(query))

    def _caller(self, auth: str) -> tuple[str, str]:
        """The principal and scope of a bearer token still valid, whose principal still exists and holds every
        principal role the scope names (DefaultAuthenticator.authenticate; 401 otherwise)."""
        token = auth.removeprefix("Bearer ")
        caller = self.token_principals.get(token)
        if self.tokens.get(token, 0) < time.monotonic() or caller is None or caller[0] not in self.principals:
            raise error(401, "the token is missing, invalid or expired", "NotAuthorizedException")
        requested = {s.removeprefix("PRINCIPAL_ROLE:") for s in caller[1].split(" ")} - {"ALL"}
        if "PRINCIPAL_ROLE:ALL" not in caller[1].split(" ") and not requested <= self.principals[caller[0]]["roles"]:
            raise error(401, "Unable to authenticate", "NotAuthorizedException")
        return caller

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

    # --- auth: runtime/service/.../auth/internal/broker/JWTBroker.java, PolarisAdminService.java -------------

    def _token(self, raw: bytes) -> Any:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        # TokenRequestValidator.validateForClientCredentialsFlow first: credentials, grant type, then a scope of
        # `PRINCIPAL_ROLE:<role>` entries only (a client's default scope `catalog` is refused).
        scope = form.get("scope", "")
        if not form.get("client_id") or not form.get("client_secret"):
            raise self._oauth_error(400, "invalid_client", "The Client is invalid")
        if form.get("grant_type") not in ("client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"):
            raise self._oauth_error(400, "invalid_grant", "The grant is invalid")
        if not scope or any(not s.startswith("PRINCIPAL_ROLE:") or s == "PRINCIPAL_ROLE:" for s in scope.split(" ")):
            raise self._oauth_error(400, "invalid_scope", "The scope is invalid")
        found = self.secrets.get(form["client_id"])
        # generateFromClientSecrets: an unknown client id or a secret matching neither the main nor the secondary
        # secret is `unauthorized_client` (OAuthUtils answers it with 401).
        if found is None or not found.matches(form["client_secret"]):
            raise self._oauth_error(401, "unauthorized_client", "The client is not authorized")
        token = f"token-{next(self._ids)}"
        self.tokens[token] = time.monotonic() + self.token_lifetime
        self.token_principals[token] = (found.principal, scope)
        return {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}

    @staticmethod
    def _oauth_error(status: int, kind: str, description: str) -> Reply:
        return Reply(status, {"error": kind, "error_description": description})

    def expire_tokens(self) -> None:
        """Revoke every issued token (the next call gets a 401)."""
        self.tokens.clear()

    def store_secrets(self, principal: str, client_id: str, secret: str | None = None) -> rules.PrincipalSecrets:
        """New secrets for a principal under `client_id` (its older ones deleted): `storePrincipalSecrets`."""
        for stale in [c for c, s in self.secrets.items() if s.principal == principal]:
            del self.secrets[stale]
        stored = rules.PrincipalSecrets(principal, client_id, secret)
        self.secrets[client_id] = stored
        if principal in self.principals:
            self.principals[principal]["clientId"] = client_id
        return stored

    def _authorize_management(self, principal: str, handler: Callable[..., Any], args: list[str]) -> None:
        """Management calls need service_admin's privileges (root's), except rotating one's own credentials: a
        privilege only the principal itself has, which not even root's SERVICE_MANAGE_ACCESS confers
        (`PolarisAdminService.authorizeBasicTopLevelEntityOperationOrThrow`, `isSelfOperation`). Resetting
        credentials is root's only (`PolarisAuthorizerImpl.authorizeOrThrow`, RESET_CREDENTIALS)."""
        if handler == self.rotate:
            if args[0] != principal:
                raise error(403, f"Principal '{principal}' is not authorized for op ROTATE_CREDENTIALS",
                            "ForbiddenException")
            return
        if handler == self.reset and principal != "root":
            raise error(403, "Only Root principal(service-admin) can perform RESET_CREDENTIALS", "ForbiddenException")
        if rules.SERVICE_ADMIN not in self.principals[principal]["roles"]:
            raise error(403, f"Principal '{principal}' is not authorized for this management operation",
                        "ForbiddenException")

    # --- catalogs ------------------------------------------------------------------------------------------

    def _catalog(self, name: str) -> dict[str, Any]:
        if name not in self.catalogs:
            raise error(404, f"Catalog {name} not found", "NotFoundException")
        return self.catalogs[name]

    def get_catalog(self, name: str, **_: Any) -> Any:
        return self._catalog(name)

    @staticmethod
    def _storage(storage: dict[str, Any], base: str | None) -> dict[str, Any]:
        """`CatalogEntity.Builder.setStorageConfigurationInfo`: a default base location is required, the allowed
        locations are a set (the default base location when none are given) that must contain it."""
        if not base:
            raise error(400, "Must specify default base location", "BadRequestException")
        allowed = set(storage.get("allowedLocations") or [base])
        if not any(rules.StorageLocation.of(base).is_child_of(rules.StorageLocation.of(a)) for a in allowed):
            raise error(400, f"default-base-location '{base}' is not within any of the allowed locations "
                             f"{sorted(allowed)}", "BadRequestException")
        # Polaris keeps a HashSet: clients may not rely on the order they sent (reversed here, so a client
        # comparing lists fails).
        return {**storage, "allowedLocations": sorted(allowed, reverse=True)}

    def create_catalog(self, *, body: Any, **_: Any) -> Any:
        catalog = dict(body["catalog"])
        if catalog["name"] in self.catalogs:
            raise error(409, f"Cannot create Catalog {catalog['name']}. Catalog already exists",
                        "AlreadyExistsException")
        catalog["storageConfigInfo"] = self._storage(catalog["storageConfigInfo"],
                                                     catalog.get("properties", {}).get("default-base-location"))
        catalog.update(entityVersion=1, createTimestamp=1, lastUpdateTimestamp=1)
        self.catalogs[catalog["name"]] = catalog
        # createCatalogAtomically: its catalog_admin role, granted to service_admin.
        self.catalog_roles[(catalog["name"], rules.CATALOG_ADMIN)] = [
            {"type": "catalog", "privilege": p} for p in rules.CATALOG_ADMIN_PRIVILEGES]
        self.principal_roles[rules.SERVICE_ADMIN][catalog["name"]] = {rules.CATALOG_ADMIN}
        raise Reply(201, catalog)

    def update_catalog(self, name: str, *, body: Any, **_: Any) -> Any:
        catalog = self._catalog(name)
        if body.get("currentEntityVersion") != catalog["entityVersion"]:
            raise error(409, "entity version mismatch", "CommitFailedException")
        properties = body.get("properties", catalog["properties"])
        storage = body.get("storageConfigInfo")
        catalog.update(properties=properties, entityVersion=catalog["entityVersion"] + 1,
                       storageConfigInfo=self._storage(storage, properties.get("default-base-location"))
                       if storage else catalog["storageConfigInfo"])
        return catalog

    def delete_catalog(self, name: str, **_: Any) -> Any:
        self._catalog(name)
        # dropEntityIfExists: no namespace left, and no catalog role but catalog_admin.
        if self._child_namespaces(name, ()) or any(
                c == name and r != rules.CATALOG_ADMIN for c, r in self.catalog_roles):
            raise error(400, f"Catalog {name} is not empty", "BadRequestException")
        del self.catalogs[name]
        self.catalog_roles.pop((name, rules.CATALOG_ADMIN), None)
        for roles in self.principal_roles.values():
            roles.pop(name, None)

    # --- principals: runtime/service/.../admin/PolarisAdminService.java --------------------------------------

    def _principal(self, name: str) -> dict[str, Any]:
        if name not in self.principals:
            raise error(404, f"Principal {name} not found", "NotFoundException")
        return self.principals[name]

    def create_principal(self, *, body: Any, **_: Any) -> Any:
        name = body["principal"]["name"]
        if name in self.principals:
            raise error(409, f"Principal {name} already exists", "AlreadyExistsException")
        self.principals[name] = {"name": name, "properties": body["principal"].get("properties", {}),
                                 "entityVersion": 1, "roles": set()}
        # PolarisPrincipalSecrets(principalId): a random client id and main secret, shown this once.
        stored = self.store_secrets(name, secrets.token_hex(8))
        raise Reply(201, {"principal": self._public(name), "credentials": self._credentials(stored)})

    @staticmethod
    def _credentials(stored: rules.PrincipalSecrets) -> dict[str, str]:
        return {"clientId": stored.client_id, "clientSecret": stored.main}

    def _public(self, name: str) -> dict[str, Any]:
        return {k: v for k, v in self.principals[name].items() if k != "roles"}

    def get_principal(self, name: str, **_: Any) -> Any:
        self._principal(name)
        return self._public(name)

    def delete_principal(self, name: str, **_: Any) -> Any:
        if name == "root":
            raise error(400, "Root principal cannot be dropped", "BadRequestException")
        principal = self._principal(name)
        self.secrets.pop(principal["clientId"], None)
        del self.principals[name]

    def rotate(self, name: str, **_: Any) -> Any:
        """`rotateOrResetCredentialsHelper`: same client id; the old main secret's hash becomes the secondary."""
        principal = self._principal(name)
        stored = self.secrets[principal["clientId"]]
        stored.rotate(stored.main_hash)
        return {"principal": self._public(name), "credentials": self._credentials(stored)}

    def reset(self, name: str, *, body: Any, **_: Any) -> Any:
        """`resetCredentialsHelper`: the current secrets are deleted; new ones (the caller's secret or a random
        one, with a random secondary) are stored for the caller's client id, if it gives one, else the current."""
        if not rules.resolve(rules.ENABLE_CREDENTIAL_RESET, self.features):
            raise error(406, "Feature not enabled: ENABLE_CREDENTIAL_RESET", "UnsupportedOperationException")
        principal = self._principal(name)
        body = body or {}
        client_id = body.get("clientId") or principal["clientId"]
        taken = self.secrets.get(client_id)
        if taken is not None and taken.principal != name:
            raise error(409, f"Client ID already in use: {client_id}", "AlreadyExistsException")
        stored = self.store_secrets(name, client_id, body.get("clientSecret"))
        return {"principal": self._public(name), "credentials": self._credentials(stored)}

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
        if name == rules.SERVICE_ADMIN:
            raise error(400, "Polaris service admin principal role cannot be dropped", "BadRequestException")
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
        if name == rules.CATALOG_ADMIN:
            raise error(400, "Catalog admin role cannot be dropped", "BadRequestException")
        del self.catalog_roles[(catalog, name)]
        for roles in self.principal_roles.values():
            roles.get(catalog, set()).discard(name)

    def list_grants(self, catalog: str, name: str, **_: Any) -> Any:
        self.get_catalog_role(catalog, name)
        return {"grants": list(self.catalog_roles[(catalog, name)])}

    def add_grant(self, catalog: str, name: str, *, body: Any, **_: Any) -> Any:
        self.get_catalog_role(catalog, name)
        self._grant_target_exists(catalog, body["grant"])
        grants = self.catalog_roles[(catalog, name)]
        if body["grant"] not in grants:
            grants.append(body["grant"])
        raise Reply(201)

    def revoke_grant(self, catalog: str, name: str, *, body: Any, **_: Any) -> Any:
        self.get_catalog_role(catalog, name)
        self._grant_target_exists(catalog, body["grant"])
        grants = self.catalog_roles[(catalog, name)]
        if body["grant"] in grants:
            grants.remove(body["grant"])
        raise Reply(201)

    def _grant_target_exists(self, catalog: str, grant: dict[str, Any]) -> None:
        """`grantPrivilegeOn{Namespace,Table}ToRole` resolve the securable first: a grant on a namespace or table
        that does not exist is refused (404)."""
        if grant["type"] == "namespace" and not self._exists(catalog, ("namespace", tuple(grant["namespace"]))):
            raise error(404, f"Namespace {'.'.join(grant['namespace'])} not found", "NoSuchNamespaceException")
        if grant["type"] == "table" and not self._exists(
                catalog, ("table", tuple(grant["namespace"]), grant["tableName"])):
            raise error(404, f"Table {grant['tableName']} not found", "NoSuchTableException")

    def _drop_grants_on(self, catalog: str, securable: tuple[Any, ...]) -> None:
        """`dropEntity`: the grants on a dropped namespace or table go with it."""
        for (c, _), grants in self.catalog_roles.items():
            if c == catalog:
                grants[:] = [g for g in grants if not grant_on(g, securable)]

    # --- namespaces and tables: LocalIcebergCatalog.java ---------------------------------------------------

    def _namespace_properties(self, catalog: str, levels: tuple[str, ...]) -> dict[str, str] | None:
        return self.namespaces.get((catalog, levels))

    def _child_namespaces(self, catalog: str, parent: tuple[str, ...]) -> list[tuple[str, ...]]:
        return sorted(levels for c, levels in self.namespaces
                      if c == catalog and len(levels) == len(parent) + 1 and levels[:-1] == parent)

    def _table_locations(self, catalog: str, levels: tuple[str, ...]) -> dict[str, str]:
        return dict(self.tables.get((catalog, levels), {}))

    @staticmethod
    def _levels(encoded: str) -> tuple[str, ...]:
        return tuple(encoded.split(SEP))

    def list_namespaces(self, catalog: str, *, query: dict[str, list[str]], **_: Any) -> Any:
        parent = self._levels(query["parent"][0]) if "parent" in query else ()
        return {"namespaces": [list(ns) for ns in self._child_namespaces(catalog, parent)]}

    def create_namespace(self, catalog: str, *, body: Any, **_: Any) -> Any:
        levels = tuple(body["namespace"])
        # The location rules run before the entity is written, so they answer first (createNamespaceInternal).
        properties = self.new_namespace_properties(catalog, levels, body.get("properties") or {})
        if (catalog, levels) in self.namespaces:
            raise error(409, f"Cannot create namespace {'.'.join(levels)}. Namespace already exists",
                        "AlreadyExistsException")
        self.namespaces[(catalog, levels)] = properties
        return {"namespace": list(levels), "properties": self.namespaces[(catalog, levels)]}

    def get_namespace(self, catalog: str, encoded: str, **_: Any) -> Any:
        levels = self._levels(encoded)
        return {"namespace": list(levels), "properties": self.namespaces[(catalog, levels)]}

    def delete_namespace(self, catalog: str, encoded: str, **_: Any) -> Any:
        levels = self._levels(encoded)
        if self.tables.get((catalog, levels)) or self._child_namespaces(catalog, levels):
            raise error(400, f"Namespace {'.'.join(levels)} is not empty", "NamespaceNotEmptyException")
        del self.namespaces[(catalog, levels)]
        self._drop_grants_on(catalog, ("namespace", levels))

    def update_namespace(self, catalog: str, encoded: str, *, body: Any, **_: Any) -> Any:
        levels = self._levels(encoded)
        self.check_namespace_update(catalog, levels, body.get("updates", {}))
        props = self.namespaces[(catalog, levels)]
        removed = [k for k in body.get("removals", []) if props.pop(k, None) is not None]
        props.update(body.get("updates", {}))
        return {"updated": sorted(body.get("updates", {})), "removed": removed,
                "missing": [k for k in body.get("removals", []) if k not in removed]}

    def list_tables(self, catalog: str, encoded: str, **_: Any) -> Any:
        levels = self._levels(encoded)
        return {"identifiers": [{"namespace": list(levels), "name": t}
                                for t in sorted(self.tables.get((catalog, levels), {}))]}

    def drop_table(self, catalog: str, encoded: str, table: str, **_: Any) -> Any:
        levels = self._levels(encoded)
        del self.tables[(catalog, levels)][table]
        self._drop_grants_on(catalog, ("table", levels, table))

    def add_table(self, catalog: str, levels: tuple[str, ...], name: str) -> None:
        """Test helper: a table appears in a namespace at its default location (as a pipeline would create it;
        `LocalIcebergCatalog.defaultWarehouseLocation`)."""
        self.tables.setdefault((catalog, levels), {})[name] = f"{self._location_of(catalog, levels)}/{name}"
