"""Pulumi dynamic resources owning Polaris' contents: catalogs, namespaces, roles, grants, principals.

Each resource reconciles: it reads Polaris first and writes only what differs, so re-running an
unchanged stack makes no write call. `read` (what `pulumi refresh` calls) reports what Polaris holds
now: an object deleted outside floe-infra reads as gone (the next `pulumi up` recreates it), and a
grant, role assignment or managed property changed outside it reads as drift that the next
`pulumi up` puts back; a refused root credential or a Polaris that is down neither locks the
platform out nor fails once per resource (`floe_infra.refresh`). Every provider is stateless (safe to pickle); the admin
credential arrives as a secret input and stays secret in state and outputs, and calls that work
from old state (deletes, refreshes) use the one the program declares now (`live_credentials`), so
they keep working after a rotation. A tenant principal's credentials are only ever kept sealed to
the tenant's public key: the platform's state (decrypted or not) holds ciphertext for them. Each
provider carries a `VERSION`, bumped on purpose when what it does with unchanged inputs changes;
every resource then updates once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
import pulumi.dynamic as dynamic

from floe_infra import live_credentials
from floe_infra.config.locations import LOCATION, same_location
from floe_infra.polaris.client import (
    NamespaceLocationError,
    NamespaceNotEmptyError,
    PolarisClient,
    PolarisConnection,
    PolarisError,
)
from floe_infra.polaris.sealing import seal
from floe_infra.providers import DynamicProvider
from floe_infra.refresh import read_back

CONNECTION_INPUTS = ("connection", "credential", "provider_version")

# One client per connection and credential in the provider process, which serves a whole deployment: its
# resources share one token (renewed before it expires, and once more on a 401) and one connection pool
# instead of asking Polaris for a token per resource. A rotated credential is another key, so another client.
_CLIENTS: dict[PolarisConnection, PolarisClient] = {}
_CLIENTS_LOCK = threading.Lock()


def _connection(connection: dict[str, str], credential: str) -> PolarisConnection:
    client_id, _, secret = str(credential).partition(":")
    return PolarisConnection(url=connection["url"], client_id=client_id, client_secret=secret,
                             realm=connection.get("realm", "POLARIS"),
                             scope=connection.get("scope", "PRINCIPAL_ROLE:ALL"))


def connect(connection: dict[str, str], credential: str) -> PolarisClient:
    """The client of `connection` authenticating with `credential` (`client_id:client_secret`), shared by every
    call of this process with the same connection and credential."""
    key = _connection(connection, credential)
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = PolarisClient(key)
        return _CLIENTS[key]


def forget(connection: dict[str, str], credential: str) -> None:
    """Drop the shared client of a credential that no longer works (and the token it holds)."""
    with _CLIENTS_LOCK:
        _CLIENTS.pop(_connection(connection, credential), None)


def forget_all() -> None:
    """Drop every shared client (a new deployment in the same process, and tests)."""
    with _CLIENTS_LOCK:
        _CLIENTS.clear()


def identity(connection: dict[str, str]) -> str:
    """Whose credential governance resources hold: the root principal of the connection's realm."""
    return f"root of realm {connection.get('realm', 'POLARIS')}"


def client_for(props: dict[str, Any]) -> PolarisClient:
    """A client from a resource's `connection` and the current `credential` (see `live_credentials`)."""
    connection = props["connection"]
    return connect(connection, str(live_credentials.current(connection["url"], identity(connection),
                                                            props.get("credential"))))


class _Provider(DynamicProvider):
    """Shared check and diff logic: `identity` inputs replace, the rest update."""

    identity: ClassVar[tuple[str, ...]] = ()
    inputs: ClassVar[tuple[str, ...]] = ()
    VERSION: ClassVar[int] = 1

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        connection = news.get("connection") or {}
        live_credentials.remember(connection.get("url"), identity(connection), news.get("credential"))
        return dynamic.CheckResult(news, self.failures(news))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        """What Polaris holds now (`read_live`), read with the credential in effect now (`refresh.read_back`)."""
        connection = props["connection"]
        return read_back(connection["url"], identity(connection), props.get("credential"),
                         lambda credential: self.read_live(id_, props, connect(connection, str(credential))),
                         lambda _reason: dynamic.ReadResult(id_, props))

    def read_live(self, id_: str, props: dict[str, Any], _client: PolarisClient) -> dynamic.ReadResult:
        """The resource as Polaris holds it (None: gone); by default, as declared (nothing to read back)."""
        return dynamic.ReadResult(id_, props)

    def failures(self, _news: dict[str, Any]) -> list[dynamic.CheckFailure]:
        """What is wrong with the declared inputs (nothing, unless a provider says otherwise)."""
        return []

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        replaces = [key for key in self.identity if olds.get(key) != news.get(key)]
        changed = [key for key in (*self.identity, *self.inputs, *CONNECTION_INPUTS) if olds.get(key) != news.get(key)]
        return dynamic.DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def outputs(self, props: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {**{k: props.get(k) for k in (*self.identity, *self.inputs, *CONNECTION_INPUTS)}, **extra}


class CatalogProvider(_Provider):
    """A Polaris catalog (Iceberg warehouse) with its S3 storage configuration."""

    identity = ("name",)
    inputs = ("properties", "storage", "allow_delete_with_tables")

    def failures(self, news: dict[str, Any]) -> list[dynamic.CheckFailure]:
        failures = []
        if not news.get("properties", {}).get("default-base-location"):
            failures.append(dynamic.CheckFailure("properties", "default-base-location is required"))
        if not news.get("storage", {}).get("storageType"):
            failures.append(dynamic.CheckFailure("storage", "storageType is required"))
        return failures

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(props["name"], self._reconcile(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._reconcile(news))

    def _reconcile(self, props: dict[str, Any]) -> dict[str, Any]:
        client = client_for(props)
        name = props["name"]
        current = client.get_catalog(name)
        if current is None:
            try:
                current = client.create_catalog({"name": name, "type": "INTERNAL", "properties": props["properties"],
                                                 "storageConfigInfo": props["storage"]})
            except PolarisError as exc:
                if exc.status != 409:
                    raise
                current = client.get_catalog(name)  # created concurrently: converge below
        assert current is not None
        have_props, have_storage = _managed(current, props)
        if have_props != props["properties"] or have_storage != props["storage"]:
            current = client.update_catalog(name, current["entityVersion"], props["properties"], props["storage"])
        return self.outputs(props, entity_version=current.get("entityVersion"))

    def read_live(self, id_: str, props: dict[str, Any], client: PolarisClient) -> dynamic.ReadResult:
        current = client.get_catalog(props["name"])
        if current is None:
            return dynamic.ReadResult(None, {})
        properties, storage = _managed(current, props)
        return dynamic.ReadResult(id_, {**props, "properties": properties, "storage": storage,
                                        "entity_version": current.get("entityVersion")})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        client = client_for(props)
        name = props["name"]
        if client.get_catalog(name) is None:
            return
        top = client.list_namespaces(name)
        tables = [t for ns in top for t in client.tables_under(name, ns)]
        if tables and not props.get("allow_delete_with_tables"):
            raise NamespaceNotEmptyError(
                f"catalog {name} holds {len(tables)} tables ({', '.join(tables[:5])}); refusing to delete it. "
                "Set deployment.allow_table_deletion: true in platform.yaml to allow it")
        for ns in top:
            _delete_tree(client, name, ns)
        client.delete_catalog(name)


def _managed(current: dict[str, Any], props: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A catalog's properties and storage configuration as floe-infra declares them: only the keys it manages
    (keys Polaris adds on its own are not drift), and the allowed locations in the declared order when they are
    the same set (Polaris keeps a set, and answers in its own order)."""
    properties = {k: v for k, v in current.get("properties", {}).items() if k in props["properties"]}
    storage = {k: v for k, v in current.get("storageConfigInfo", {}).items() if k in props["storage"]}
    declared = props["storage"].get("allowedLocations")
    if declared is not None and set(storage.get("allowedLocations") or []) == set(declared):
        storage["allowedLocations"] = declared
    return properties, storage


def _delete_tree(client: PolarisClient, catalog: str, levels: list[str]) -> None:
    """Drop every table and namespace under `levels` (only ever called when deletion was allowed); the tables'
    files stay in their bucket (see `PolarisClient.drop_table`)."""
    for child in client.list_namespaces(catalog, levels):
        _delete_tree(client, catalog, child)
    for table in client.list_tables(catalog, levels):
        client.drop_table(catalog, levels, table)
    client.delete_namespace(catalog, levels)


class NamespaceProvider(_Provider):
    """An Iceberg namespace in a catalog, with the properties floe-infra manages."""

    identity = ("catalog", "namespace")
    inputs = ("properties", "allow_delete_with_tables")

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(f"{props['catalog']}.{'.'.join(props['namespace'])}", self._reconcile({}, props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._reconcile(olds, news))

    def _reconcile(self, olds: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
        client = client_for(props)
        catalog, levels, want = props["catalog"], props["namespace"], dict(props["properties"])
        have = client.get_namespace(catalog, levels)
        if have is None:
            try:
                client.create_namespace(catalog, levels, want)
                return self.outputs(props)
            except PolarisError as exc:
                if exc.status != 409:
                    raise
                have = client.get_namespace(catalog, levels) or {}
        if LOCATION in want and LOCATION in have and not same_location(have[LOCATION], want[LOCATION]):
            raise NamespaceLocationError(
                f"namespace {catalog}.{'.'.join(levels)} is at {have[LOCATION]} in Polaris, but platform.yaml places "
                f"it at {want[LOCATION]}: Polaris keeps a namespace where it was created (it refuses a new location "
                "unless the catalog allows custom locations). Move its tables out and delete the namespace (or put "
                "back the layer's namespace and storage profile), then run `pulumi up` again")
        # Never `location` itself: Polaris 1.7.0 refuses every update that sets it (see the check above).
        updates = {k: v for k, v in want.items() if k != LOCATION and have.get(k) != v}
        removals = [k for k in (olds.get("properties") or {}) if k not in want and k in have and k != LOCATION]
        if updates or removals:
            client.update_namespace_properties(catalog, levels, updates, removals)
        return self.outputs(props)

    def read_live(self, id_: str, props: dict[str, Any], client: PolarisClient) -> dynamic.ReadResult:
        have = client.get_namespace(props["catalog"], props["namespace"])
        if have is None:
            return dynamic.ReadResult(None, {})
        managed = {k: v for k, v in have.items() if k in props["properties"]}
        declared = props["properties"].get(LOCATION)
        if declared is not None and same_location(managed.get(LOCATION, ""), declared):
            managed[LOCATION] = declared  # the place declared, written as Polaris writes it (a trailing '/')
        return dynamic.ReadResult(id_, {**props, "properties": managed})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        client = client_for(props)
        catalog, levels = props["catalog"], props["namespace"]
        if client.get_namespace(catalog, levels) is None:
            return
        tables = client.tables_under(catalog, levels)
        if tables and not props.get("allow_delete_with_tables"):
            raise NamespaceNotEmptyError(
                f"namespace {catalog}.{'.'.join(levels)} holds {len(tables)} tables ({', '.join(tables[:5])}); "
                "refusing to delete it. Set deployment.allow_table_deletion: true in platform.yaml to allow it")
        _delete_tree(client, catalog, levels)


def _grant_key(grant: dict[str, Any]) -> tuple[Any, ...]:
    return (grant.get("type"), tuple(grant.get("namespace", [])), grant.get("tableName"), grant.get("privilege"))


class CatalogRoleProvider(_Provider):
    """A catalog role holding exactly the declared grants."""

    identity = ("catalog", "name")
    inputs = ("grants",)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(f"{props['catalog']}.{props['name']}", self._reconcile(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._reconcile(news))

    def _reconcile(self, props: dict[str, Any]) -> dict[str, Any]:
        client = client_for(props)
        catalog, role = props["catalog"], props["name"]
        if client.get_catalog_role(catalog, role) is None:
            try:
                client.create_catalog_role(catalog, role)
            except PolarisError as exc:
                if exc.status != 409:
                    raise
        have = {_grant_key(g): g for g in client.grants(catalog, role)}
        want = {_grant_key(g): g for g in props["grants"]}
        for key in sorted(set(want) - set(have), key=str):
            client.add_grant(catalog, role, want[key])
        for key in sorted(set(have) - set(want), key=str):
            client.revoke_grant(catalog, role, have[key])
        return self.outputs(props)

    def read_live(self, id_: str, props: dict[str, Any], client: PolarisClient) -> dynamic.ReadResult:
        if client.get_catalog_role(props["catalog"], props["name"]) is None:
            return dynamic.ReadResult(None, {})
        grants = sorted(client.grants(props["catalog"], props["name"]), key=lambda g: str(_grant_key(g)))
        return dynamic.ReadResult(id_, {**props, "grants": grants})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # Grants are a set: the same grants in another order are no change.
        same = {_grant_key(g) for g in olds.get("grants", [])} == {_grant_key(g) for g in news.get("grants", [])}
        return super().diff(id_, {**olds, "grants": news.get("grants")} if same else olds, news)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        client_for(props).delete_catalog_role(props["catalog"], props["name"])


class PrincipalRoleProvider(_Provider):
    """A principal role holding exactly the declared catalog roles."""

    identity = ("name",)
    inputs = ("catalog_roles",)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(props["name"], self._reconcile({}, props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._reconcile(olds, news))

    def _reconcile(self, olds: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
        client = client_for(props)
        name = props["name"]
        if client.get_principal_role(name) is None:
            try:
                client.create_principal_role(name)
            except PolarisError as exc:
                if exc.status != 409:
                    raise
        want: dict[str, set[str]] = {}
        for entry in props["catalog_roles"]:
            want.setdefault(entry["catalog"], set()).add(entry["role"])
        catalogs = set(want) | {e["catalog"] for e in olds.get("catalog_roles") or []}
        for catalog in sorted(catalogs):
            have = client.catalog_roles_of(name, catalog)
            for role in sorted(want.get(catalog, set()) - have):
                client.assign_catalog_role(name, catalog, role)
            for role in sorted(have - want.get(catalog, set())):
                client.revoke_catalog_role(name, catalog, role)
        return self.outputs(props)

    def read_live(self, id_: str, props: dict[str, Any], client: PolarisClient) -> dynamic.ReadResult:
        name = props["name"]
        if client.get_principal_role(name) is None:
            return dynamic.ReadResult(None, {})
        catalogs = sorted({entry["catalog"] for entry in props["catalog_roles"]})
        live = [{"catalog": c, "role": r} for c in catalogs for r in sorted(client.catalog_roles_of(name, c))]
        return dynamic.ReadResult(id_, {**props, "catalog_roles": live})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        def assigned(props: dict[str, Any]) -> set[tuple[str, str]]:
            return {(e["catalog"], e["role"]) for e in props.get("catalog_roles") or []}

        same = assigned(olds) == assigned(news)
        return super().diff(id_, {**olds, "catalog_roles": news.get("catalog_roles")} if same else olds, news)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        client_for(props).delete_principal_role(props["name"])


class PrincipalProvider(_Provider):
    """A principal with its principal roles; its credentials exist in plain text only inside the create or
    reset call that seals them to the tenant's public key: state keeps the client id and the sealed box."""

    identity = ("name",)
    inputs = ("principal_roles", "rotation", "public_key")
    # 2: credentials kept sealed only; the one update drops the plain client secret of older state.
    VERSION = 2

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        client = client_for(props)
        try:
            credentials = client.create_principal(props["name"], {"managed-by": "floe-infra"})
        except PolarisError as exc:
            if exc.status != 409:
                raise
            # It exists and Polaris never shows a secret twice: reset it to know the credentials.
            credentials = client.reset_credentials(props["name"])
        return dynamic.CreateResult(props["name"], self._sealed(client, props, credentials))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        client = client_for(news)
        # The secret is not kept, so a new key (or a first one) gets new credentials: the old key may be lost.
        # A reset, not a rotation: Polaris lets only the principal itself rotate, and a rotated-out secret keeps
        # working (as the secondary) until the next rotation; after a reset only the new secret works.
        if (olds.get("rotation") != news.get("rotation") or olds.get("public_key") != news.get("public_key")
                or (news.get("public_key") and not olds.get("sealed_credentials"))):
            return dynamic.UpdateResult(self._sealed(client, news, client.reset_credentials(news["name"])))
        self._assign_roles(client, news)
        return dynamic.UpdateResult(self.outputs(news, client_id=olds.get("client_id"),
                                                 sealed_credentials=olds.get("sealed_credentials")))

    def _sealed(self, client: PolarisClient, props: dict[str, Any], credentials: dict[str, str]) -> dict[str, Any]:
        """Outputs holding new credentials sealed to the public key; without a key nobody could open them, so
        they are dropped here (the tenant gets none until it has a key)."""
        self._assign_roles(client, props)
        sealed = seal(props["public_key"], credentials) if props.get("public_key") else None
        return self.outputs(props, client_id=credentials["client_id"], sealed_credentials=sealed)

    @staticmethod
    def _assign_roles(client: PolarisClient, props: dict[str, Any]) -> None:
        name = props["name"]
        have = client.principal_roles_of(name)
        want = set(props["principal_roles"])
        for role in sorted(want - have):
            client.assign_principal_role(name, role)
        for role in sorted(have - want):
            client.revoke_principal_role(name, role)

    def read_live(self, id_: str, props: dict[str, Any], client: PolarisClient) -> dynamic.ReadResult:
        if client.get_principal(props["name"]) is None:
            return dynamic.ReadResult(None, {})
        # Credentials cannot be read back (Polaris shows a secret once); roles can.
        return dynamic.ReadResult(id_, {**props, "principal_roles": sorted(client.principal_roles_of(props["name"]))})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        same = set(olds.get("principal_roles") or []) == set(news.get("principal_roles") or [])
        return super().diff(id_, {**olds, "principal_roles": news.get("principal_roles")} if same else olds, news)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        client_for(props).delete_principal(props["name"])


def _accepted(connection: dict[str, str], credential: str) -> bool:
    """Whether Polaris gives `credential` a token."""
    try:
        # A client of its own: a shared one may hold a token from before, and this must ask Polaris now.
        PolarisClient(_connection(connection, credential)).token()
    except PolarisError as exc:
        if exc.status in (400, 401):
            return False
        raise
    return True


class RootCredentialProvider(_Provider):
    """The realm's root credential: what Polaris accepts is what the platform declares.

    Polaris takes its root credential once, when a realm is bootstrapped; afterwards a new value
    reaches it only through `resetCredentials`, called with the credential in effect before (this
    resource's state). A realm re-bootstrapped with the new value already (an in-memory Polaris that
    restarted) needs nothing. Other governance resources depend on this one, so they only use a
    new root credential once Polaris has it.
    """

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        if not _accepted(props["connection"], props["credential"]):
            raise PolarisError("authenticate as root", 401, (
                f"Polaris at {props['connection']['url']} does not accept the root credential of the Secret the "
                "platform generated: was the realm bootstrapped with another one? Reset root's credentials to the "
                "Secret's value (polaris-admin-tool, or resetCredentials as root), then run `pulumi up` again"))
        return dynamic.CreateResult(props["connection"]["url"], self.outputs(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        connection, new = news["connection"], news["credential"]
        if olds.get("credential") != new and not _accepted(connection, new):
            root, _, secret = new.partition(":")
            connect(connection, olds["credential"]).reset_credentials(root, secret)
            # The old secret is revoked: nothing in this process goes on with a token it got before.
            forget(connection, olds["credential"])
        return dynamic.UpdateResult(self.outputs(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """The realm keeps its root principal."""


class _Resource(dynamic.Resource):
    """A Polaris object managed through the management API as the platform's root principal."""

    def __init__(self, provider: _Provider, name: str, connection: dict[str, str],
                 credential: pulumi.Input[str], props: dict[str, Any], opts: pulumi.ResourceOptions | None,
                 secret_outputs: tuple[str, ...] = ()) -> None:
        inputs = {"connection": connection, "credential": pulumi.Output.secret(credential),
                  "provider_version": provider.VERSION, **props}
        secret = pulumi.ResourceOptions(additional_secret_outputs=["credential", *secret_outputs])
        super().__init__(provider, name, inputs, pulumi.ResourceOptions.merge(secret, opts))


class RootCredential(_Resource, module="polaris", name="RootCredential"):
    """The realm's root credential, rotated in Polaris when the declared one changes."""

    if TYPE_CHECKING:
        # For type checkers only (see iceberg/resource.py): the SDK evaluates class annotations per registration.
        credential: pulumi.Output[str]

    def __init__(self, name: str, *, connection: dict[str, str], credential: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(RootCredentialProvider(), name, connection, credential, {}, opts)


class Catalog(_Resource, module="polaris", name="Catalog"):
    """A Polaris catalog."""

    def __init__(self, name: str, *, connection: dict[str, str], credential: pulumi.Input[str], catalog: str,
                 properties: dict[str, str], storage: dict[str, Any], allow_delete_with_tables: bool,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(CatalogProvider(), name, connection, credential, {
            "name": catalog, "properties": properties, "storage": storage,
            "allow_delete_with_tables": allow_delete_with_tables, "entity_version": None}, opts)


class Namespace(_Resource, module="polaris", name="Namespace"):
    """An Iceberg namespace in a Polaris catalog."""

    def __init__(self, name: str, *, connection: dict[str, str], credential: pulumi.Input[str], catalog: str,
                 namespace: list[str], properties: dict[str, str], allow_delete_with_tables: bool,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(NamespaceProvider(), name, connection, credential, {
            "catalog": catalog, "namespace": namespace, "properties": properties,
            "allow_delete_with_tables": allow_delete_with_tables}, opts)


class CatalogRole(_Resource, module="polaris", name="CatalogRole"):
    """A catalog role with its exact grants."""

    def __init__(self, name: str, *, connection: dict[str, str], credential: pulumi.Input[str], catalog: str,
                 role: str, grants: list[dict[str, Any]], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(CatalogRoleProvider(), name, connection, credential,
                         {"catalog": catalog, "name": role, "grants": grants}, opts)


class PrincipalRole(_Resource, module="polaris", name="PrincipalRole"):
    """A principal role with its exact catalog roles."""

    def __init__(self, name: str, *, connection: dict[str, str], credential: pulumi.Input[str], role: str,
                 catalog_roles: list[dict[str, str]], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(PrincipalRoleProvider(), name, connection, credential,
                         {"name": role, "catalog_roles": catalog_roles}, opts)


class Principal(_Resource, module="polaris", name="Principal"):
    """A principal; `client_id` is its public identifier, `sealed_credentials` the only form its credentials take
    outside Polaris (ciphertext only the tenant's private key opens)."""

    if TYPE_CHECKING:
        # For type checkers only (see iceberg/resource.py): the SDK evaluates class annotations per registration.
        client_id: pulumi.Output[str]
        sealed_credentials: pulumi.Output[str | None]

    def __init__(self, name: str, *, connection: dict[str, str], credential: pulumi.Input[str], principal: str,
                 principal_roles: list[str], rotation: int, public_key: str | None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(PrincipalProvider(), name, connection, credential, {
            "name": principal, "principal_roles": principal_roles, "rotation": rotation, "public_key": public_key,
            "client_id": None, "sealed_credentials": None}, opts)
