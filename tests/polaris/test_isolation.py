"""Tenant isolation at the catalog: a tenant's principal, with exactly the grants governance gives it.

The platform's governance plan (two tenants, each writing one layer and reading it) is applied as
root to the fake Polaris, which enforces grants as Polaris 1.7.0 does (`fake_catalog_rules.py`),
in front of Apache Iceberg's own REST catalog (real tables, real files). Each tenant then works as
its pipeline does, with pyiceberg and the credentials only its private key opens.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.exceptions import ForbiddenError
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField

from floe_infra.config.loader import load_platform
from floe_infra.polaris.client import PolarisClient, PolarisConnection
from floe_infra.polaris.grants import plan_governance
from floe_infra.polaris.sealing import generate_keypair, unseal
from tests.e2e.catalog import IcebergRestPolaris
from tests.e2e.iceberg_rest import IcebergRestServer, iceberg_rest_server, missing_tools
from tests.polaris.conftest import apply_governance

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.skipif(bool(missing_tools()), reason=f"the Iceberg REST catalog needs {', '.join(missing_tools())} "
                                                    "on PATH (a JDK 17+ and Maven)"),
]

PLATFORM = """\
version: "1.2.0"
storage:
  default: {bucket: floe-data, endpoint: http://minio:9000}
catalogs:
  default: {uri: http://polaris:8181/api/catalog, warehouse: WAREHOUSE}
compute:
  default: {type: duckdb}
layers:
  bronze: {name: bronze, storage_ref: default, namespace: WAREHOUSE.bronze}
  gold: {name: gold, storage_ref: default, namespace: WAREHOUSE.gold}
deployment:
  services:
    object_storage: {deploy: true}
  tenants:
    sales: {writes: [bronze], reads: [bronze], public_key: SALES_KEY}
    finance: {writes: [gold], reads: [gold], public_key: FINANCE_KEY}
"""
SCHEMA = Schema(NestedField(1, "id", LongType(), required=True))
WAREHOUSES = (f"isolation{n}" for n in itertools.count(1))


class Root:
    """The platform's root principal, creating a table as a platform job would: without asking for storage
    credentials (its catalog_admin role holds no TABLE_WRITE_DATA to vend them), as pyiceberg always asks."""

    def __init__(self, url: str, warehouse: str) -> None:
        self.url, self.warehouse = url, warehouse
        self.token = PolarisClient(PolarisConnection(url=url, client_id="root",
                                                     client_secret="root-secret-for-tests")).token()

    def create_table(self, identifier: tuple[str, ...], schema: Schema) -> None:
        *namespace, name = identifier
        answer = requests.post(f"{self.url}/api/catalog/v1/{self.warehouse}/namespaces/{'%1F'.join(namespace)}/tables",
                               json={"name": name, "schema": json.loads(schema.model_dump_json())}, timeout=30,
                               headers={"Authorization": f"Bearer {self.token}"})
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IcebergRestServer]:
    with iceberg_rest_server(tmp_path_factory.mktemp("iceberg-rest")) as server:
        yield server


@pytest.fixture
def tenants(backend: IcebergRestServer, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Each tenant's catalog client, as its pipeline opens it; and `root`, the platform's."""
    warehouse = next(WAREHOUSES)
    keys = {name: generate_keypair() for name in ("sales", "finance")}
    text = PLATFORM.replace("WAREHOUSE", warehouse).replace("SALES_KEY", keys["sales"][0]).replace(
        "FINANCE_KEY", keys["finance"][0])
    (tmp_path / "platform.yaml").write_text(text)
    plan = plan_governance(load_platform(tmp_path / "platform.yaml", env={}).config)
    fake = IcebergRestPolaris(backend)
    url = fake.start()
    try:
        principals = apply_governance(url, plan, public_keys={name: public for name, (public, _) in keys.items()})
        clients: dict[str, Any] = {"root": Root(url, warehouse)}
        for tenant in plan.tenants:
            name = tenant.tenant.name
            opened = unseal(keys[name][1], str(principals[name]["sealed_credentials"]))
            clients[name] = RestCatalog(name, uri=f"{url}/api/catalog", warehouse=warehouse,
                                        credential=f"{opened['client_id']}:{opened['client_secret']}",
                                        scope=f"PRINCIPAL_ROLE:{tenant.tenant.principal_role}")
        yield clients
    finally:
        fake.stop()
    assert fake.violations == []


def test_a_tenant_reads_and_writes_its_own_namespace(tenants):
    sales = tenants["sales"]
    table = sales.create_table(("bronze", "sales", "orders"), SCHEMA)
    table.append(pa.Table.from_pylist([{"id": 1}], schema=SCHEMA.as_arrow()))
    assert sales.load_table(("bronze", "sales", "orders")).scan().to_arrow().to_pylist() == [{"id": 1}]
    assert sales.list_tables(("bronze", "sales")) == [("bronze", "sales", "orders")]
    sales.rename_table(("bronze", "sales", "orders"), ("bronze", "sales", "purchases"))
    sales.purge_table(("bronze", "sales", "purchases"))  # drop_when_removed: allowed by the catalog's setting
    assert sales.list_tables(("bronze", "sales")) == []


def test_a_tenant_gets_403_on_another_tenants_namespace(tenants):
    tenants["finance"].create_table(("gold", "finance", "ledger"), SCHEMA)
    sales = tenants["sales"]
    for attempt in (lambda: sales.load_table(("gold", "finance", "ledger")),
                    lambda: sales.create_table(("gold", "finance", "stolen"), SCHEMA),
                    lambda: sales.list_tables(("gold", "finance")),
                    lambda: sales.purge_table(("gold", "finance", "ledger")),
                    lambda: sales.rename_table(("bronze", "sales", "x"), ("gold", "finance", "x"))):
        with pytest.raises(ForbiddenError):
            attempt()
    assert tenants["finance"].list_tables(("gold", "finance")) == [("gold", "finance", "ledger")]


def test_a_tenant_gets_403_on_the_platforms_namespaces(tenants):
    sales = tenants["sales"]
    tenants["root"].create_table(("bronze", "platform_owned"), SCHEMA)
    for attempt in (lambda: sales.create_table(("bronze", "mine_now"), SCHEMA),
                    lambda: sales.drop_table(("bronze", "platform_owned")),
                    lambda: sales.create_namespace(("bronze", "another")),
                    lambda: sales.drop_namespace(("bronze", "sales")),
                    lambda: sales.update_namespace_properties(("bronze", "sales"), updates={"owner": "me"}),
                    lambda: sales.list_namespaces(),
                    lambda: sales.load_namespace_properties(("gold",))):
        with pytest.raises(ForbiddenError):
            attempt()
    # What its reader role grants: the layer it reads, the platform's tables in it included.
    assert sales.load_table(("bronze", "platform_owned")).schema() == SCHEMA
    assert ("bronze", "sales") in sales.list_namespaces(("bronze",))
