"""The fake Polaris authorizes Iceberg REST calls as Apache Polaris 1.7.0 does.

Each test names what it mirrors: `PolarisAuthorizerImpl` (grants on the target or any parent,
privileges conferring others), `RbacOperationSemantics` (the privileges of each operation),
`IcebergCatalogHandler` and `CatalogHandler` (which operation a call is, its target, 404 before 403),
`DefaultAuthenticator` (which roles a token activates). Table calls are checked on the rules
themselves (`CatalogRules.authorize_catalog_call`, what the fake runs before a call reaches a
catalog); namespace calls also over HTTP.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from floe_infra.polaris.client import PolarisClient
from tests.polaris.fake_catalog_rules import Reply
from tests.polaris.fake_polaris import FakePolaris
from tests.polaris.test_polaris_rules import as_bearer, new_catalog, token

DELEGATED = {"X-Iceberg-Access-Delegation": "vended-credentials"}


@pytest.fixture
def lake(polaris: FakePolaris, client: PolarisClient) -> FakePolaris:
    """lakehouse: bronze (table bronze.raw), bronze.sales (table orders), bronze.ops (table jobs), silver (table x)."""
    new_catalog(client)
    for levels in (("bronze",), ("bronze", "sales"), ("bronze", "ops"), ("silver",)):
        client.create_namespace("lakehouse", levels, {"location": f"s3://bucket/{'/'.join(levels)}/"})
    for levels, table in ((("bronze",), "raw"), (("bronze", "sales"), "orders"), (("bronze", "ops"), "jobs"),
                          (("silver",), "x")):
        polaris.add_table("lakehouse", levels, table)
    return polaris


def grant(client: PolarisClient, role: str, privileges: tuple[str, ...], levels: tuple[str, ...] | None,
          principal: str = "svc") -> None:
    """`principal` (created once) holds principal role `principal`, which holds catalog role `role` with
    `privileges` on the namespace `levels` (on the catalog when None)."""
    if client.get_principal(principal) is None:
        client.create_principal(principal)
        client.create_principal_role(principal)
        client.assign_principal_role(principal, principal)
    client.create_catalog_role("lakehouse", role)
    for privilege in privileges:
        client.add_grant("lakehouse", role, {"type": "catalog", "privilege": privilege} if levels is None else
                         {"type": "namespace", "namespace": list(levels), "privilege": privilege})
    client.assign_catalog_role(principal, "lakehouse", role)


def status(polaris: FakePolaris, method: str, rest: str, body: Any = None, headers: dict[str, str] | None = None,
           query: str = "", principal: str = "svc", scope: str = "PRINCIPAL_ROLE:ALL") -> int:
    """What Polaris answers before the call reaches the catalog: 200 when it lets it through."""
    try:
        polaris.authorize_catalog_call(principal, scope, method, "lakehouse", rest, query, headers or {},
                                       json.dumps(body).encode() if body is not None else b"")
    except Reply as reply:
        return reply.status
    return 200


def test_PolarisAuthorizerImpl_hasTransitivePrivilege_reaches_every_namespace_and_table_below_a_grant(lake, client):
    # mirrors PolarisAuthorizerImpl.hasTransitivePrivilege: a grant on any entity of the resolved path counts
    grant(client, "reader", ("TABLE_READ_DATA",), ("bronze",))
    assert status(lake, "GET", "namespaces/bronze%1Fsales/tables/orders", headers=DELEGATED) == 200
    assert status(lake, "GET", "namespaces/bronze/tables/raw", headers=DELEGATED) == 200
    assert status(lake, "GET", "namespaces/silver/tables/x", headers=DELEGATED) == 403


def test_PolarisAuthorizerImpl_hasTransitivePrivilege_never_reaches_up_or_sideways(lake, client):
    # mirrors PolarisAuthorizerImpl.hasTransitivePrivilege: only the target's own path is searched
    grant(client, "writer", ("TABLE_READ_DATA", "TABLE_WRITE_DATA"), ("bronze", "sales"))
    assert status(lake, "GET", "namespaces/bronze%1Fsales/tables/orders", headers=DELEGATED) == 200
    assert status(lake, "GET", "namespaces/bronze%1Fops/tables/jobs", headers=DELEGATED) == 403
    assert status(lake, "GET", "namespaces/bronze/tables/raw", headers=DELEGATED) == 403


def test_PolarisAuthorizerImpl_a_catalog_grant_reaches_every_namespace(lake, client):
    # mirrors PolarisAuthorizerImpl.hasTransitivePrivilege (the catalog heads every path)
    grant(client, "all", ("CATALOG_MANAGE_CONTENT",), None)
    for rest in ("namespaces/silver/tables/x", "namespaces/bronze%1Fops/tables/jobs"):
        assert status(lake, "DELETE", rest, query="purgeRequested=false") == 200


def test_PolarisAuthorizerImpl_SUPER_PRIVILEGES_decide_which_grant_confers_which(lake, client):
    # mirrors PolarisAuthorizerImpl.matchesOrIsSubsumedBy: TABLE_WRITE_DATA confers TABLE_READ_DATA;
    # CATALOG_MANAGE_METADATA (what a catalog's catalog_admin holds) confers TABLE_DROP, not TABLE_READ_DATA
    grant(client, "writer", ("TABLE_WRITE_DATA",), ("bronze", "sales"))
    assert status(lake, "GET", "namespaces/bronze%1Fsales/tables/orders", headers=DELEGATED) == 200
    grant(client, "meta", ("CATALOG_MANAGE_METADATA",), None, principal="admin")
    assert status(lake, "GET", "namespaces/silver/tables/x", headers=DELEGATED, principal="admin") == 403
    assert status(lake, "GET", "namespaces/silver/tables/x", principal="admin") == 200
    assert status(lake, "DELETE", "namespaces/silver/tables/x", principal="admin") == 200


def test_CatalogHandler_answers_404_for_a_missing_target_before_403(lake, client):
    # mirrors CatalogHandler.authorizeBasicNamespaceOperationOrThrow and resolveAndAuthorizeBasicTableLikeOperation:
    # the target is resolved first (NoSuchNamespace / NoSuchTable), then authorized
    grant(client, "none", (), ("bronze",))
    assert status(lake, "GET", "namespaces/bronze%1Fsales/tables/missing") == 404
    assert status(lake, "GET", "namespaces/gold") == 404
    assert status(lake, "GET", "namespaces/gold/tables/x") == 404
    assert status(lake, "GET", "namespaces/bronze%1Fsales/tables/orders") == 403


def test_IcebergCatalogHandler_loadTable_needs_TABLE_READ_PROPERTIES_and_delegation_TABLE_READ_DATA(lake, client):
    # mirrors IcebergCatalogHandler.authorizeLoadTable and RbacOperationSemantics (LOAD_TABLE: TABLE_READ_PROPERTIES;
    # delegated: LOAD_TABLE_WITH_WRITE_DELEGATION, else LOAD_TABLE_WITH_READ_DELEGATION: TABLE_READ_DATA)
    grant(client, "props", ("TABLE_READ_PROPERTIES",), ("bronze",))
    assert status(lake, "GET", "namespaces/bronze/tables/raw") == 200
    assert status(lake, "GET", "namespaces/bronze/tables/raw", headers=DELEGATED) == 403
    assert status(lake, "GET", "namespaces/bronze/tables/raw", headers={"X-Iceberg-Access-Delegation": "bogus"}) == 200
    grant(client, "data", ("TABLE_READ_DATA",), ("bronze",))
    assert status(lake, "GET", "namespaces/bronze/tables/raw", headers=DELEGATED) == 200
    assert status(lake, "HEAD", "namespaces/bronze/tables/raw") == 200  # TABLE_EXISTS: TABLE_LIST


def test_IcebergCatalogHandler_createTable_needs_TABLE_CREATE_on_the_namespace(lake, client):
    # mirrors IcebergCatalogHandler.authorizeCreateTableDirect/createTableStaged and RbacOperationSemantics
    # (CREATE_TABLE_DIRECT: TABLE_CREATE; with write delegation also TABLE_WRITE_DATA)
    table = {"name": "new", "schema": {"type": "struct", "fields": []}}
    grant(client, "reader", ("TABLE_READ_DATA", "TABLE_LIST"), ("bronze", "sales"))
    assert status(lake, "POST", "namespaces/bronze%1Fsales/tables", table) == 403
    grant(client, "creator", ("TABLE_CREATE",), ("bronze", "sales"))
    assert status(lake, "POST", "namespaces/bronze%1Fsales/tables", table) == 200
    assert status(lake, "POST", "namespaces/bronze%1Fsales/tables", {**table, "stage-create": True}) == 200
    assert status(lake, "POST", "namespaces/bronze%1Fsales/tables", table, headers=DELEGATED) == 403
    assert status(lake, "POST", "namespaces/bronze%1Fops/tables", table) == 403


def test_IcebergCatalogHandler_updateTable_needs_the_privilege_of_each_update(lake, client):
    # mirrors IcebergCatalogHandler.getUpdateTableAuthorizableOperations (fine-grained update privileges, on by
    # default) and updateTableForStagedCreate (an assert-create requirement: TABLE_CREATE on the namespace)
    add_schema = {"requirements": [], "updates": [{"action": "add-schema", "schema": {"type": "struct", "fields": []}}]}
    append = {"requirements": [], "updates": [{"action": "set-snapshot-ref", "ref-name": "main", "type": "branch",
                                               "snapshot-id": 1}]}
    orders = "namespaces/bronze%1Fsales/tables/orders"
    grant(client, "reader", ("TABLE_READ_DATA", "TABLE_LIST"), ("bronze", "sales"))
    assert (status(lake, "POST", orders, append), status(lake, "POST", orders, add_schema)) == (403, 403)
    grant(client, "snapshots", ("TABLE_SET_SNAPSHOT_REF",), ("bronze", "sales"))
    assert (status(lake, "POST", orders, append), status(lake, "POST", orders, add_schema)) == (200, 403)
    assert status(lake, "POST", orders, {"requirements": [], "updates": [*append["updates"], *add_schema["updates"]]}
                  ) == 403, "every update's privilege is needed"
    grant(client, "writer", ("TABLE_WRITE_DATA",), ("bronze", "sales"))  # confers both (SUPER_PRIVILEGES)
    assert status(lake, "POST", orders, add_schema) == 200
    created = {"requirements": [{"type": "assert-create"}], "updates": []}
    assert status(lake, "POST", "namespaces/bronze%1Fsales/tables/later", created) == 403
    grant(client, "creator", ("TABLE_CREATE",), ("bronze", "sales"))
    assert status(lake, "POST", "namespaces/bronze%1Fsales/tables/later", created) == 200


def test_CatalogHandler_renameTable_needs_TABLE_DROP_on_the_source_and_TABLE_CREATE_at_the_destination(lake, client):
    # mirrors CatalogHandler.authorizeRenameTableLikeOperationOrThrow and RbacOperationSemantics (RENAME_TABLE)
    def rename(to: list[str]) -> int:
        return status(lake, "POST", "tables/rename", {"source": {"namespace": ["bronze", "sales"], "name": "orders"},
                                                      "destination": {"namespace": to, "name": "renamed"}})

    grant(client, "writer", ("TABLE_DROP", "TABLE_LIST", "TABLE_CREATE"), ("bronze", "sales"))
    assert rename(["bronze", "sales"]) == 200
    assert rename(["bronze", "ops"]) == 403
    assert rename(["gold"]) == 404


def test_DefaultAuthenticator_activates_only_the_principal_roles_the_scope_names(lake, client):
    # mirrors DefaultAuthenticator.resolvePrincipalRoles (PRINCIPAL_ROLE:ALL, or the named ones)
    grant(client, "reader", ("TABLE_READ_DATA",), ("bronze",))
    client.create_principal_role("other")
    client.assign_principal_role("svc", "other")
    rest = "namespaces/bronze/tables/raw"
    assert status(lake, "GET", rest, headers=DELEGATED, scope="PRINCIPAL_ROLE:svc") == 200
    assert status(lake, "GET", rest, headers=DELEGATED, scope="PRINCIPAL_ROLE:other") == 403


def test_IcebergCatalogHandler_namespace_calls_are_authorized_over_http(lake, client):
    # mirrors IcebergCatalogHandler.listNamespaces/createNamespace/loadNamespaceMetadata/dropNamespace
    # (LIST_NAMESPACES, CREATE_NAMESPACE on the parent, LOAD_NAMESPACE_METADATA, DROP_NAMESPACE)
    grant(client, "reader", ("NAMESPACE_LIST", "NAMESPACE_READ_PROPERTIES"), ("bronze",))
    svc = client.reset_credentials("svc")
    bearer = token(lake, svc["client_id"], svc["client_secret"])
    base = "/api/catalog/v1/lakehouse/namespaces"
    assert as_bearer(lake, bearer, "GET", base, params={"parent": "bronze"}).json()["namespaces"] == [
        ["bronze", "ops"], ["bronze", "sales"]]
    assert as_bearer(lake, bearer, "GET", base).status_code == 403
    assert as_bearer(lake, bearer, "GET", f"{base}/bronze%1Fsales").status_code == 200
    assert as_bearer(lake, bearer, "GET", f"{base}/silver").status_code == 403
    assert as_bearer(lake, bearer, "POST", base, json={"namespace": ["bronze", "new"], "properties": {}}
                     ).status_code == 403
    assert as_bearer(lake, bearer, "DELETE", f"{base}/bronze%1Fops").status_code == 403
    assert ("lakehouse", ("bronze", "ops")) in lake.namespaces


def test_PolarisAdminService_management_is_service_admins_not_a_tenants(lake, client):
    # mirrors PolarisAdminService: every management operation needs a privilege on the root container or a catalog
    # (SERVICE_MANAGE_ACCESS, CATALOG_MANAGE_ACCESS) that only service_admin and catalog_admin hold here
    grant(client, "writer", ("TABLE_FULL_METADATA", "TABLE_WRITE_DATA"), ("bronze",))
    svc = client.reset_credentials("svc")
    bearer = token(lake, svc["client_id"], svc["client_secret"])
    management = "/api/management/v1"
    for method, path in (("GET", "/catalogs/lakehouse"), ("GET", "/principals/svc"),
                         ("GET", "/catalogs/lakehouse/catalog-roles/writer/grants")):
        assert as_bearer(lake, bearer, method, f"{management}{path}").status_code == 403, path
    answer = as_bearer(lake, bearer, "PUT", f"{management}/catalogs/lakehouse/catalog-roles/writer/grants",
                       json={"grant": {"type": "catalog", "privilege": "CATALOG_MANAGE_CONTENT"}})
    assert answer.status_code == 403
    assert len(client.grants("lakehouse", "writer")) == 2


def test_the_fake_refuses_a_call_it_does_not_mirror(lake, client):
    grant(client, "all", ("CATALOG_MANAGE_CONTENT",), None)
    assert status(lake, "GET", "namespaces/bronze/views") == 501
