"""Governance and pipeline tables against one real Iceberg REST catalog, behind the fake Polaris.

Catalog governance (the demo platform's plan, applied by floe_infra's Polaris providers as root)
creates the catalog, namespaces, roles and the tenant principal; the tenant then creates, evolves,
writes, reads and drops tables with floe_infra's own table engine and `IcebergTableProvider`, through
Polaris' URLs and its tenant credential. One Iceberg REST server serves the whole module; each test
has its own fake Polaris and catalog.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests
from pyiceberg.catalog.rest import RestCatalog

from floe_infra.config.loader import load_platform
from floe_infra.config.tables import TableConfig
from floe_infra.iceberg.catalogs import CatalogTarget, open_catalog
from floe_infra.iceberg.engine import apply_tables, plan_tables
from floe_infra.iceberg.plan import Action, DesiredTable
from floe_infra.iceberg.resource import IcebergTableProvider
from floe_infra.iceberg.table_set import TableSetProvider, table_entry
from floe_infra.polaris.client import PolarisClient, PolarisConnection
from floe_infra.polaris.grants import plan_governance
from floe_infra.polaris.resources import (
    CatalogProvider,
    CatalogRoleProvider,
    NamespaceProvider,
    PrincipalProvider,
    PrincipalRoleProvider,
)
from floe_infra.polaris.sealing import generate_keypair, unseal
from tests.conftest import DEMO_PLATFORM
from tests.e2e.catalog import IcebergRestPolaris
from tests.e2e.iceberg_rest import IcebergRestServer, iceberg_rest_server, missing_tools

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.skipif(bool(missing_tools()), reason=f"the Iceberg REST catalog needs {', '.join(missing_tools())} "
                                                    "on PATH (a JDK 17+ and Maven)"),
]

ROOT = "root:root-secret-for-tests"
STORAGE = {"storageType": "S3", "region": "us-east-1"}
COLUMNS = [{"name": "id", "type": "long", "required": True}, {"name": "qty", "type": "int"}]
CATALOG_NAMES = (f"lakehouse{n}" for n in itertools.count(1))


@dataclass(frozen=True)
class Tenant:
    """What the pipeline stack gets from the platform: where its tables go and its credential."""

    catalog: str
    namespace: tuple[str, ...]
    client_id: str
    credential: str
    principal_role: str

    def target(self, polaris_url: str) -> CatalogTarget:
        return CatalogTarget(uri=f"{polaris_url}/api/catalog", warehouse=self.catalog, credential=self.credential,
                             scope=f"PRINCIPAL_ROLE:{self.principal_role}")


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IcebergRestServer]:
    with iceberg_rest_server(tmp_path_factory.mktemp("iceberg-rest")) as server:
        yield server


@pytest.fixture
def polaris(backend: IcebergRestServer) -> Iterator[IcebergRestPolaris]:
    fake = IcebergRestPolaris(backend)
    fake.url = fake.start()  # type: ignore[attr-defined]
    yield fake
    fake.stop()
    assert fake.violations == [], "requests or responses the OpenAPI specs reject"


def govern(url: str, catalog: str) -> Tenant:
    """Apply the demo platform's governance plan as root, with its one catalog named `catalog`."""
    plan = plan_governance(load_platform(DEMO_PLATFORM).config)
    (planned,) = plan.catalogs
    root = {"connection": {"url": url, "realm": "POLARIS", "scope": "PRINCIPAL_ROLE:ALL"}, "credential": ROOT}
    spec = plan.catalogs[planned]
    CatalogProvider().create({**root, "name": catalog, "allow_delete_with_tables": False, "properties": spec.properties,
                              "storage": {**STORAGE, "allowedLocations": list(spec.allowed_locations)}})
    for ns in plan.namespaces:
        NamespaceProvider().create({**root, "catalog": catalog, "namespace": list(ns.levels),
                                    "properties": ns.properties, "allow_delete_with_tables": False})
    for role in plan.roles:
        CatalogRoleProvider().create({**root, "catalog": catalog, "name": role.name, "grants": list(role.grants)})
    (tenant_plan,) = plan.tenants
    tenant = tenant_plan.tenant
    PrincipalRoleProvider().create({**root, "name": tenant.principal_role, "catalog_roles": [
        {"catalog": catalog, "role": role} for _, role in tenant_plan.catalog_roles]})
    public, private = generate_keypair()
    principal = PrincipalProvider().create({**root, "name": tenant.service_account, "rotation": 0,
                                            "principal_roles": [tenant.principal_role], "public_key": public}).outs
    opened = unseal(private, principal["sealed_credentials"])  # the only form the credentials leave Polaris in
    bronze = next(ns.levels for ns in plan.namespaces if ns.levels[0] == "bronze" and len(ns.levels) == 2)
    return Tenant(catalog, bronze, opened["client_id"], f"{opened['client_id']}:{opened['client_secret']}",
                  tenant.principal_role)


@pytest.fixture
def tenant(polaris: IcebergRestPolaris) -> Tenant:
    return govern(polaris.url, next(CATALOG_NAMES))  # type: ignore[attr-defined]


def root_client(polaris: IcebergRestPolaris) -> PolarisClient:
    return PolarisClient(PolarisConnection(url=polaris.url, client_id="root",  # type: ignore[attr-defined]
                                           client_secret="root-secret-for-tests"))


def tenant_token(polaris: IcebergRestPolaris, tenant: Tenant) -> str:
    client_id, _, secret = tenant.credential.partition(":")
    return PolarisClient(PolarisConnection(url=polaris.url, client_id=client_id,  # type: ignore[attr-defined]
                                           client_secret=secret)).token()


def provider_props(tenant: Tenant, polaris: IcebergRestPolaris, **table: Any) -> dict[str, Any]:
    target = tenant.target(polaris.url)  # type: ignore[attr-defined]
    return {"catalog": {"uri": target.uri, "warehouse": target.warehouse, "scope": target.scope},
            "credential": tenant.credential, "namespace": list(tenant.namespace), "provider_version": "test",
            "table": {"name": "orders", "layer": "bronze", "columns": COLUMNS, **table}}


def checked(provider: IcebergTableProvider, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    result = provider.check(olds, news)
    assert result.failures == [], [f.reason for f in result.failures]
    return result.inputs


def test_governance_namespaces_live_in_the_real_iceberg_catalog(polaris, tenant):
    # Polaris takes scopes of principal roles only, and only root may list the catalog's top level.
    root = RestCatalog("floe", uri=f"{polaris.url}/api/catalog", warehouse=tenant.catalog, credential=ROOT,
                       scope="PRINCIPAL_ROLE:ALL")
    assert set(root.list_namespaces()) == {("bronze",), ("silver",), ("gold",)}
    pyiceberg = RestCatalog("floe", uri=f"{polaris.url}/api/catalog", warehouse=tenant.catalog,
                            credential=tenant.credential, scope=f"PRINCIPAL_ROLE:{tenant.principal_role}")
    assert pyiceberg.load_namespace_properties(tenant.namespace)["owner"] == "ecommerce-analytics"
    assert [c.method for c in polaris.forwarded if c.client_id == "root"].count("POST") == 6


def test_engine_plans_creates_evolves_and_drops_a_table_through_polaris(polaris, tenant):
    catalog = open_catalog(tenant.target(polaris.url))
    desired = DesiredTable(tenant.namespace, TableConfig.model_validate(
        {"name": "orders", "layer": "bronze", "columns": COLUMNS, "identifier_fields": ["id"],
         "partition_by": [{"column": "id", "transform": "bucket[4]"}]}))
    assert [p.action for p in plan_tables(catalog, [desired], create_namespaces=False)] == [Action.CREATE]
    created = apply_tables(catalog, [desired], create_namespaces=False)
    assert created.applied == [".".join(desired.identifier)]

    evolved = DesiredTable(tenant.namespace, desired.config.model_copy(
        update={"columns": [*desired.config.columns, *TableConfig.model_validate(
            {"name": "x", "layer": "bronze", "columns": [{"name": "note", "type": "string"}]}).columns]}))
    (plan,) = plan_tables(catalog, [evolved], create_namespaces=False)
    assert (plan.action, [c.describe() for c in plan.changes]) == (Action.EVOLVE, ["add column note: string"])
    apply_tables(catalog, [evolved], create_namespaces=False)
    assert [p.action for p in plan_tables(catalog, [evolved], create_namespaces=False)] == [Action.UNCHANGED]

    # Rows written and read back by a plain pyiceberg client, through the same catalog.
    table = RestCatalog("reader", uri=f"{polaris.url}/api/catalog", warehouse=tenant.catalog,
                        credential=tenant.credential, scope=f"PRINCIPAL_ROLE:{tenant.principal_role}",
                        ).load_table(desired.identifier)
    assert [f.name for f in table.schema().fields] == ["id", "qty", "note"]
    table.append(pa.Table.from_pylist([{"id": 1, "qty": 2, "note": "first"}], schema=table.schema().as_arrow()))
    assert catalog.load_table(desired.identifier).scan().to_arrow().to_pylist() == [
        {"id": 1, "qty": 2, "note": "first"}]

    catalog.purge_table(desired.identifier)
    assert root_client(polaris).list_tables(tenant.catalog, tenant.namespace) == []


def test_provider_creates_evolves_renames_and_its_table_set_drops_a_table_it_was_allowed_to_drop(polaris, tenant):
    provider = IcebergTableProvider()
    created = provider.create(checked(provider, {}, provider_props(tenant, polaris, drop_when_removed=True)))
    assert created.id == ".".join((*tenant.namespace, "orders"))
    assert root_client(polaris).list_tables(tenant.catalog, tenant.namespace) == ["orders"]
    metadata = Path(created.outs["metadata_location"].removeprefix("file://"))
    assert metadata.is_file()
    assert metadata.is_relative_to(polaris.backend.warehouse)

    columns = [*COLUMNS, {"name": "note", "type": "string"}]
    news = checked(provider, created.outs, provider_props(tenant, polaris, columns=columns, drop_when_removed=True))
    assert news["plan"] == ["add column note: string"]
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs["applied"] == ["add column note: string"]
    assert updated.outs["table_uuid"] == created.outs["table_uuid"]
    loaded = open_catalog(tenant.target(polaris.url)).load_table((*tenant.namespace, "orders"))
    assert [f.name for f in loaded.schema().fields] == ["id", "qty", "note"]

    renamed = checked(provider, updated.outs, provider_props(tenant, polaris, name="purchases", renamed_from="orders",
                                                             columns=columns, drop_when_removed=True))
    moved = provider.update(created.id, updated.outs, renamed)
    assert moved.outs["table_uuid"] == created.outs["table_uuid"]
    assert root_client(polaris).list_tables(tenant.catalog, tenant.namespace) == ["purchases"]

    provider.delete(created.id, moved.outs)  # a deleted resource leaves its table; TableSet drops removed ones
    assert root_client(polaris).list_tables(tenant.catalog, tenant.namespace) == ["purchases"]
    declared = {"credential": tenant.credential, "provider_version": "test", "tables": [table_entry(
        tenant.target(polaris.url), DesiredTable(tenant.namespace, TableConfig.model_validate(renamed["table"])))]}
    TableSetProvider().update("tables", declared, {**declared, "tables": []})
    assert root_client(polaris).list_tables(tenant.catalog, tenant.namespace) == []
    assert not metadata.exists(), "a purged table's files stay behind"


def test_every_forwarded_call_carried_a_token_the_fake_issued(polaris, tenant):
    provider = IcebergTableProvider()
    provider.create(checked(provider, {}, provider_props(tenant, polaris)))
    tenant_calls = [c for c in polaris.forwarded if c.client_id == tenant.client_id]
    assert {c.method for c in tenant_calls} >= {"GET", "POST"}
    assert any(c.path.endswith("/tables") and c.method == "POST" for c in tenant_calls)
    assert {c.client_id for c in polaris.forwarded} == {"root", tenant.client_id}

    url = f"{polaris.url}/api/catalog/v1/{tenant.catalog}/namespaces"
    stale = {"Authorization": f"Bearer {tenant_token(polaris, tenant)}"}
    polaris.expire_tokens()
    forwarded = len(polaris.forwarded)
    for headers in ({}, {"Authorization": "Bearer forged"}, stale):
        assert requests.get(url, headers=headers, timeout=10).status_code == 401
    assert len(polaris.forwarded) == forwarded, "an unauthenticated call reached the Iceberg catalog"


def test_polaris_rules_hold_over_the_real_catalog(polaris, tenant):
    auth = {"Authorization": f"Bearer {tenant_token(polaris, tenant)}"}
    config = requests.get(f"{polaris.url}/api/catalog/v1/config", params={"warehouse": tenant.catalog},
                          headers=auth, timeout=10).json()
    assert config["overrides"] == {"prefix": tenant.catalog}
    assert requests.get(f"{polaris.url}/api/catalog/v1/config", params={"warehouse": "nowhere"}, headers=auth,
                        timeout=10).status_code == 404
    orphan = requests.post(f"{polaris.url}/api/catalog/v1/{tenant.catalog}/namespaces", headers=auth, timeout=10,
                           json={"namespace": ["platinum", "team"], "properties": {}})
    assert orphan.status_code == 404
    assert orphan.json()["error"]["message"] == "Namespace does not exist: platinum"
    assert requests.get(f"{polaris.url}/api/catalog/v1/nowhere/namespaces", headers=auth, timeout=10
                        ).status_code == 404
    with pytest.raises(Exception, match="not empty"):
        root_client(polaris).delete_catalog(tenant.catalog)


def listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net shows them) of the sockets listening on `port`."""
    found = []
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads listening sockets from Linux' /proc/net")
def test_the_iceberg_catalog_listens_on_loopback_only(backend):
    addresses = listening_addresses(int(backend.url.rsplit(":", 1)[1]))
    assert addresses, "no listening socket found"
    # 127.0.0.1 is 0100007F; as an IPv4-mapped IPv6 address ...FFFF00000100007F. All zeros is every interface.
    assert all(address.endswith("0100007F") for address in addresses), addresses


def fail_while_serving(workdir: Path) -> None:
    with iceberg_rest_server(workdir) as server:
        requests.get(f"{server.catalog_url('probe')}/v1/config", timeout=10).raise_for_status()
        raise RuntimeError(server.catalog_url("probe"))


def test_the_iceberg_catalog_is_stopped_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError) as failed:
        fail_while_serving(tmp_path)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{failed.value}/v1/config", timeout=10)
