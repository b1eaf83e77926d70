"""What Apache Polaris 1.7.0 checks on every Iceberg REST call, for the fake and the fakes built on it.

`CatalogRules` is a mixin of `FakePolaris`: it names the operation a call is (the way
`IcebergCatalogHandler` does), answers 404 when its target does not exist and 403 when the caller's
activated grants do not confer the operation's privileges on the target or any of its parents
(`CatalogHandler`, `PolarisAuthorizerImpl.hasTransitivePrivilege`), refuses a purge the catalog does not
allow (`LocalIcebergCatalog.dropTableLike`), and decides a new namespace's location as
`LocalIcebergCatalog.createNamespaceInternal` does (`resolveNamespaceLocation`, `validateNamespaceLocation`,
`validateNoLocationOverlap`). Where namespaces and tables live is left to the `_namespace_properties`,
`_child_namespaces`, `_table_locations` and `_table_exists` hooks, so a fake that keeps them in a real
Iceberg REST catalog (`tests/e2e/catalog.py`) applies the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.polaris import polaris_rules as rules

SEP = "\x1f"
Securable = tuple[Any, ...]  # ("catalog",) | ("namespace", levels) | ("table", levels, name)
DELEGATION_HEADER = "X-Iceberg-Access-Delegation"
DELEGATION_MODES = ("vended-credentials", "remote-signing")


class Reply(Exception):  # noqa: N818 - control flow inside the fake server, not an error of the product
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def error(status: int, message: str, kind: str) -> Reply:
    return Reply(status, {"error": {"message": message, "type": kind, "code": status}})


def no_such_namespace(levels: Iterable[str]) -> Reply:
    return error(404, f"Namespace does not exist: {'.'.join(levels)}", "NoSuchNamespaceException")


def no_such_table(levels: Iterable[str], name: str) -> Reply:
    return error(404, f"Table does not exist: {'.'.join([*levels, name])}", "NoSuchTableException")


@dataclass(frozen=True)
class CatalogCall:
    """An Iceberg REST call as Polaris authorizes it: operations on a target (and a secondary, for renames).

    `fallback` is tried when the first operation is refused (a delegated load: write, else read).
    """

    operations: tuple[str, ...]
    targets: tuple[Securable, ...]
    secondary: Securable | None = None
    fallback: str | None = None

    @property
    def target(self) -> Securable:
        return self.targets[0]


def delegation_requested(header: str | None) -> bool:
    """`AccessDelegationMode.fromProtocolValuesList`: `true`, or any known mode in the comma-separated list."""
    if not header:
        return False
    if header.strip().lower() == "true":
        return True
    return any(part.strip() in DELEGATION_MODES for part in header.split(","))


def _levels(encoded: str) -> tuple[str, ...]:
    return tuple(unquote(encoded).split(SEP))


class CatalogRules:
    """Polaris' catalog-side rules over the state of a `FakePolaris` (see the module docstring)."""

    # From FakePolaris.
    catalogs: dict[str, dict[str, Any]]
    principals: dict[str, dict[str, Any]]
    principal_roles: dict[str, dict[str, set[str]]]
    catalog_roles: dict[tuple[str, str], list[dict[str, Any]]]
    features: dict[str, object]

    # --- where namespaces and tables are (FakePolaris keeps them in memory) ----------------------------------

    def _namespace_properties(self, catalog: str, levels: tuple[str, ...]) -> dict[str, str] | None:
        raise NotImplementedError

    def _child_namespaces(self, catalog: str, parent: tuple[str, ...]) -> list[tuple[str, ...]]:
        raise NotImplementedError

    def _table_locations(self, catalog: str, levels: tuple[str, ...]) -> dict[str, str]:
        """Tables of a namespace and their locations."""
        raise NotImplementedError

    def _table_exists(self, catalog: str, levels: tuple[str, ...], name: str) -> bool:
        return name in self._table_locations(catalog, levels)

    def _exists(self, catalog: str, securable: Securable) -> bool:
        if securable[0] == "catalog":
            return catalog in self.catalogs
        if securable[0] == "namespace":
            return not securable[1] or self._namespace_properties(catalog, securable[1]) is not None
        return self._exists(catalog, ("namespace", securable[1])) and self._table_exists(catalog, *securable[1:])

    # --- authorization: runtime/service/.../catalog/common/CatalogHandler.java, PolarisAuthorizerImpl.java -------

    def activated_principal_roles(self, principal: str, scope: str) -> set[str]:
        """The principal roles a token activates (`DefaultAuthenticator.resolvePrincipalRoles`: `PRINCIPAL_ROLE:ALL`
        activates every principal role the principal holds, else those the scope names)."""
        held: set[str] = self.principals[principal]["roles"]
        requested = set(scope.split())
        return held if "PRINCIPAL_ROLE:ALL" in requested else {r for r in held if f"PRINCIPAL_ROLE:{r}" in requested}

    def activated_catalog_roles(self, principal: str, scope: str, catalog: str) -> set[str]:
        """The catalog roles of `catalog` held by the principal roles a token activates."""
        return {role for pr in self.activated_principal_roles(principal, scope)
                for role in self.principal_roles.get(pr, {}).get(catalog, set())}

    def has_privilege(self, roles: set[str], catalog: str, securable: Securable, privilege: str) -> bool:
        """`hasTransitivePrivilege`: a grant of a privilege that confers `privilege`, held by an activated role,
        on the securable or any entity above it (the catalog, each parent namespace)."""
        path: list[Securable] = [("catalog",)]
        if securable[0] != "catalog":
            levels = securable[1]
            path += [("namespace", levels[:i]) for i in range(1, len(levels) + 1)]
        if securable[0] == "table":
            path.append(securable)
        conferring = rules.subsuming(privilege)
        return any(grant["privilege"] in conferring and grant_on(grant, entity)
                   for role in roles for grant in self.catalog_roles.get((catalog, role), [])
                   for entity in path)

    def authorize(self, principal: str, scope: str, catalog: str, call: CatalogCall) -> None:
        """Refuse a call the caller may not make (403), after its target was found (404 before)."""
        roles = self.activated_catalog_roles(principal, scope, catalog)

        def allowed(operation: str) -> bool:
            on_target, on_secondary = rules.OPERATIONS[operation]
            return all(self.has_privilege(roles, catalog, t, p) for t in call.targets for p in on_target) and all(
                call.secondary is not None and self.has_privilege(roles, catalog, call.secondary, p)
                for p in on_secondary)

        refused = [op for op in call.operations if not allowed(op)]
        if refused and not (call.fallback is not None and allowed(call.fallback)):
            active = sorted(self.activated_principal_roles(principal, scope))
            raise error(403, f"Principal '{principal}' with activated PrincipalRoles '{active}' and activated grants "
                             f"via '{sorted({*active, *roles})}' is not authorized for op {refused[0]}",
                        "ForbiddenException")

    def authorize_catalog_call(self, principal: str, scope: str, method: str, catalog: str, rest: str,
                               query: str, headers: Mapping[str, str], raw: bytes) -> None:
        """Everything Polaris checks before an Iceberg REST call reaches the catalog: the target exists (404),
        the caller holds the operation's privileges (403), a purge is allowed (403)."""
        call = self.catalog_call(method, catalog, rest, parse_qs(query), headers, json.loads(raw) if raw else None)
        self.authorize(principal, scope, catalog, call)
        if call.operations == ("DROP_TABLE_WITH_PURGE",):
            self.check_purge(catalog, call.target[2])

    def catalog_call(self, method: str, catalog: str, rest: str, query: dict[str, list[str]],
                     headers: Mapping[str, str], body: Any) -> CatalogCall:
        """The operation and target of an Iceberg REST call (`IcebergCatalogHandler`), its target found first."""
        parts = rest.split("/")
        delegated = delegation_requested(headers.get(DELEGATION_HEADER))
        if parts == ["namespaces"]:
            if method == "GET":
                parent = _levels(query["parent"][0]) if query.get("parent") else ()
                return self._found(catalog, CatalogCall(("LIST_NAMESPACES",), (("namespace", parent),)))
            # authorizeCreateNamespaceUnderNamespaceOperationOrThrow: the parent is the target.
            parent = tuple(body["namespace"][:-1])
            return self._found(catalog, CatalogCall(("CREATE_NAMESPACE",), (("namespace", parent),)))
        if parts == ["tables", "rename"]:
            return self._rename(catalog, body)
        if parts == ["transactions", "commit"]:
            # authorizeCollectionOfTableLikeOperationOrThrow: every table must exist, and each is a target.
            tables = tuple(("table", tuple(c["identifier"]["namespace"]), c["identifier"]["name"])
                           for c in body["table-changes"])
            for table in tables:
                self._found(catalog, CatalogCall((), (table,)))
            return CatalogCall(("COMMIT_TRANSACTION",), tables)
        levels = _levels(parts[1])
        namespace: tuple[Securable, ...] = (("namespace", levels),)
        tail = parts[2:]
        if not tail:
            operation = {"GET": "LOAD_NAMESPACE_METADATA", "HEAD": "NAMESPACE_EXISTS",
                         "DELETE": "DROP_NAMESPACE"}[method]
            return self._found(catalog, CatalogCall((operation,), namespace))
        if tail == ["properties"]:
            return self._found(catalog, CatalogCall(("UPDATE_NAMESPACE_PROPERTIES",), namespace))
        if tail == ["tables"] and method == "GET":
            return self._found(catalog, CatalogCall(("LIST_TABLES",), namespace))
        if tail == ["tables"]:
            staged = "STAGED" if body.get("stage-create") else "DIRECT"
            suffix = "_WITH_WRITE_DELEGATION" if delegated else ""
            return self._found(catalog, CatalogCall((f"CREATE_TABLE_{staged}{suffix}",), namespace))
        if tail == ["register"] and not delegated and not body.get("overwrite"):
            return self._found(catalog, CatalogCall(("REGISTER_TABLE",), namespace))
        if len(tail) >= 2 and tail[0] == "tables":
            table: Securable = ("table", levels, unquote(tail[1]))
            return self._found(catalog, self._table_call(method, catalog, table, tail[2:], query, body, delegated))
        raise error(501, f"the fake Polaris does not mirror {method} .../{rest}", "NotImplementedException")

    def _table_call(self, method: str, catalog: str, table: Securable, tail: list[str],
                    query: dict[str, list[str]], body: Any, delegated: bool) -> CatalogCall:
        if tail == ["metrics"]:
            read = body.get("report-type") == "scan-report"
            return CatalogCall(("REPORT_READ_METRICS" if read else "REPORT_WRITE_METRICS",), (table,))
        if tail:
            raise error(501, f"the fake Polaris does not mirror {method} a table's {'/'.join(tail)}",
                        "NotImplementedException")
        if method == "POST" and any(r.get("type") == "assert-create" for r in body.get("requirements", [])):
            # updateTableForStagedCreate: authorized as a creation under the namespace.
            return CatalogCall(("UPDATE_TABLE_FOR_STAGED_CREATE",), (("namespace", table[1]),))
        if method == "POST":
            fine = rules.resolve(rules.ENABLE_FINE_GRAINED_UPDATE_TABLE_PRIVILEGES, self.features,
                                 self.catalogs[catalog].get("properties", {}))
            operations = sorted({rules.UPDATE_OPERATIONS.get(u.get("action"), "UPDATE_TABLE")
                                 for u in body.get("updates", [])}) if fine else []
            return CatalogCall(tuple(operations or ["UPDATE_TABLE"]), (table,))
        if method == "GET" and delegated:
            # authorizeLoadTable: write delegation if the caller may write, else read delegation.
            return CatalogCall(("LOAD_TABLE_WITH_WRITE_DELEGATION",), (table,),
                               fallback="LOAD_TABLE_WITH_READ_DELEGATION")
        if method == "DELETE":
            purge = query.get("purgeRequested", ["false"])[0].lower() == "true"
            return CatalogCall(("DROP_TABLE_WITH_PURGE" if purge else "DROP_TABLE_WITHOUT_PURGE",), (table,))
        return CatalogCall(({"GET": "LOAD_TABLE", "HEAD": "TABLE_EXISTS"}[method],), (table,))

    def _found(self, catalog: str, call: CatalogCall) -> CatalogCall:
        kind, *rest = call.target
        if not self._exists(catalog, call.target):
            raise no_such_table(rest[0], rest[1]) if kind == "table" else no_such_namespace(rest[0])
        return call

    def _rename(self, catalog: str, body: Any) -> CatalogCall:
        """authorizeRenameTableLikeOperationOrThrow: the destination namespace, then the source, must exist, and
        the destination must not; the source is the target, the destination namespace the secondary."""
        source = ("table", tuple(body["source"]["namespace"]), body["source"]["name"])
        destination = ("table", tuple(body["destination"]["namespace"]), body["destination"]["name"])
        if not self._exists(catalog, ("namespace", destination[1])):
            raise no_such_namespace(destination[1])
        if not self._exists(catalog, source):
            raise no_such_table(source[1], source[2])
        if self._exists(catalog, destination):
            raise error(409, f"Cannot rename {'.'.join([*source[1], source[2]])} to "
                             f"{'.'.join([*destination[1], destination[2]])}. Table already exists",
                        "AlreadyExistsException")
        return CatalogCall(("RENAME_TABLE",), (source,), ("namespace", destination[1]))

    # --- purge: runtime/service/.../catalog/iceberg/LocalIcebergCatalog.java dropTableLike ---------------------

    def check_purge(self, catalog: str, table: str) -> None:
        """A purge needs DROP_WITH_PURGE_ENABLED, for the realm or in the catalog's properties."""
        if not rules.resolve(rules.DROP_WITH_PURGE_ENABLED, self.features, self.catalogs[catalog].get("properties",
                                                                                                       {})):
            setting = rules.DROP_WITH_PURGE_ENABLED
            raise error(403, f"Unable to purge entity: {table}. To enable this feature, set the Polaris configuration "
                             f"{setting.key} or the catalog configuration {setting.catalog_key}", "ForbiddenException")

    # --- namespace locations: LocalIcebergCatalog.java createNamespaceInternal, setProperties ------------------

    def _location_of(self, catalog: str, levels: tuple[str, ...]) -> str:
        """`resolveLocationForPath` of a namespace: from the nearest entity with a `location` (the namespace or an
        ancestor, else the catalog's default-base-location), each part stripped of slashes, joined by '/'."""
        parts: list[str] = []
        for depth in range(len(levels), 0, -1):
            props = self._namespace_properties(catalog, levels[:depth]) or {}
            if "location" in props:
                parts.insert(0, props["location"])
                break
            parts.insert(0, levels[depth - 1])
        else:
            parts.insert(0, self.catalogs[catalog]["properties"]["default-base-location"])
        return "/".join(rules.strip_slashes(p) for p in parts)

    def _resolve_namespace_location(self, catalog: str, levels: tuple[str, ...], properties: Mapping[str, str]) -> str:
        """`resolveNamespaceLocation`: the `location` property, else the parent's location plus the name."""
        if "location" in properties:
            return properties["location"]
        return f"{self._location_of(catalog, levels[:-1]) if len(levels) > 1 else self._catalog_base(catalog)}" \
               f"/{levels[-1]}"

    def _catalog_base(self, catalog: str) -> str:
        return rules.strip_slashes(self.catalogs[catalog]["properties"]["default-base-location"])

    def new_namespace_properties(self, catalog: str, levels: tuple[str, ...], properties: Mapping[str, str]
                                 ) -> dict[str, str]:
        """The properties Polaris stores for a new namespace, its `location` included; refuses a location the
        catalog does not allow (400) or one overlapping a sibling's (403)."""
        location = self._resolve_namespace_location(catalog, levels, properties)
        if rules.resolve(rules.ADD_TRAILING_SLASH_TO_LOCATION, self.features):
            location = rules.ensure_trailing_slash(location)
        if not rules.resolve(rules.ALLOW_NAMESPACE_LOCATION_OVERLAP, self.features):
            self.check_no_location_overlap(catalog, levels, location)
        if not rules.resolve(rules.ALLOW_NAMESPACE_CUSTOM_LOCATION, self.features,
                             self.catalogs[catalog].get("properties", {})):
            self.check_namespace_location(catalog, levels, location)
        return {**properties, "location": location}

    def check_namespace_location(self, catalog: str, levels: tuple[str, ...], location: str) -> None:
        """`validateNamespaceLocation`: a top-level namespace exactly at `<an allowed location>/<name>/`, a nested
        one exactly at `<its parent's location>/<name>/` (S3 locations compared without their scheme)."""
        got = rules.StorageLocation.of(rules.ensure_trailing_slash(location))
        name = levels[-1]
        if len(levels) == 1:
            allowed = self.catalogs[catalog]["storageConfigInfo"].get("allowedLocations") or []
            expected = [rules.ensure_trailing_slash(rules.ensure_trailing_slash(a) + name) for a in allowed]
            if got not in [rules.StorageLocation.of(e) for e in expected]:
                raise error(400, f"Namespace {name} has a custom location, which is not enabled. Expected a location "
                                 f"in: [{', '.join(expected)}]. Got location: {rules.ensure_trailing_slash(location)}]",
                            "IllegalArgumentException")
            return
        parent = (self._namespace_properties(catalog, levels[:-1]) or {}).get("location") or \
            self._resolve_namespace_location(catalog, levels[:-1], {})
        expected_one = rules.ensure_trailing_slash(rules.ensure_trailing_slash(parent) + name)
        if got != rules.StorageLocation.of(expected_one):
            raise error(400, f"Namespace {name} has a custom location, which is not enabled. Expected location: "
                             f"[{expected_one}]. Got location: [{rules.ensure_trailing_slash(location)}]",
                        "IllegalArgumentException")

    def check_no_location_overlap(self, catalog: str, levels: tuple[str, ...], location: str) -> None:
        """`validateNoLocationOverlap`: no sibling namespace (nor, below a namespace, sibling table) may lie inside
        the new location or contain it."""
        parent = levels[:-1]
        siblings: list[str] = []
        for child in self._child_namespaces(catalog, parent):
            if child[-1] != levels[-1]:
                props = self._namespace_properties(catalog, child) or {}
                if "location" in props:
                    siblings.append(props["location"])
        if parent:
            siblings += [loc for name, loc in self._table_locations(catalog, parent).items() if name != levels[-1]]
        target = rules.StorageLocation.of(location)
        for sibling in siblings:
            other = rules.StorageLocation.of(sibling)
            if target.is_child_of(other) or other.is_child_of(target):
                raise error(403, f"Unable to create entity at location '{location}' because it conflicts with "
                                 f"existing table or namespace at location '{sibling}'", "ForbiddenException")

    def check_namespace_update(self, catalog: str, levels: tuple[str, ...], updates: Mapping[str, str]) -> None:
        """`setProperties`: the overlap rule on the updated location; and with `location` among the updates,
        `validateNamespaceLocation` of the stored namespace given the namespace's own path as its "parent" (what
        1.7.0 passes), which expects `<its location>/<its name>/` and so refuses every such update."""
        current = self._namespace_properties(catalog, levels) or {}
        merged = {**current, **updates}
        if not rules.resolve(rules.ALLOW_NAMESPACE_LOCATION_OVERLAP, self.features) and "location" in merged:
            self.check_no_location_overlap(catalog, levels, merged["location"])
        if "location" in updates and not rules.resolve(rules.ALLOW_NAMESPACE_CUSTOM_LOCATION, self.features,
                                                       self.catalogs[catalog].get("properties", {})):
            stored = rules.ensure_trailing_slash(current.get("location") or
                                                 self._resolve_namespace_location(catalog, levels, {}))
            expected = rules.ensure_trailing_slash(stored + levels[-1])
            if rules.StorageLocation.of(stored) != rules.StorageLocation.of(expected):
                raise error(400, f"Namespace {levels[-1]} has a custom location, which is not enabled. Expected "
                                 f"location: [{expected}]. Got location: [{stored}]", "IllegalArgumentException")


def grant_on(grant: Mapping[str, Any], securable: Securable) -> bool:
    """Whether a grant (as the management API lists it) is on `securable`."""
    if securable[0] == "catalog":
        return grant["type"] == "catalog"
    if securable[0] == "namespace":
        return grant["type"] == "namespace" and tuple(grant["namespace"]) == securable[1]
    return grant["type"] == "table" and tuple(grant["namespace"]) == securable[1] and \
        grant.get("tableName") == securable[2]
