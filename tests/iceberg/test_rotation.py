"""Table providers after the platform rotates the tenant's credential, and while the catalog is down.

The catalog here is the loopback REST catalog as its own OAuth2 server (as Polaris is), so a
rotated secret is really refused. Each test is one deployment as the engine runs it: the refresh
that starts every operation (`read`, before the program runs: only old state), then `check` of each
declared resource (the credential declared now), then updates and deletes.
"""

from __future__ import annotations

import re
import socket
import time
import traceback
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from floe_infra.config.tables import TableConfig
from floe_infra.errors import CatalogCredentialError, CatalogUnreachableError
from floe_infra.iceberg import resource
from floe_infra.iceberg.catalogs import CatalogTarget, open_catalog
from floe_infra.iceberg.plan import DesiredTable
from floe_infra.iceberg.resource import IcebergTableProvider
from floe_infra.iceberg.table_set import TableSetProvider, table_entry
from tests.iceberg.conftest import NAMESPACE
from tests.iceberg.rest_catalog import RestCatalogServer
from tests.loopback import FAST, SHORT

SCOPE = "PRINCIPAL_ROLE:ecommerce_analytics_role"
CLIENT, OLD, NEW = "sales-client", "first-fake-secret-for-tests", "rotated-fake-secret-for-tests"
COLUMNS = [{"name": "id", "type": "long", "required": True}, {"name": "qty", "type": "int"}]


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[RestCatalogServer]:
    server = RestCatalogServer(tmp_path, credentials={CLIENT: OLD})
    server.start()
    setup = open_catalog(CatalogTarget(server.url, "lakehouse", f"{CLIENT}:{OLD}"), policy=FAST)
    setup.create_namespace(NAMESPACE[:1])
    setup.create_namespace(NAMESPACE)
    yield server
    server.stop()


def declared(server: RestCatalogServer | str, credential: str, **table: Any) -> dict[str, Any]:
    uri = server if isinstance(server, str) else server.url
    return {"catalog": {"uri": uri, "warehouse": "lakehouse", "scope": SCOPE}, "credential": credential,
            "namespace": list(NAMESPACE), "provider_version": 1, "owner": "floe-pipeline/dev",
            "table": {"name": "orders", "layer": "bronze", "columns": COLUMNS, **table}}


def created(server: RestCatalogServer, credential: str) -> tuple[str, dict[str, Any]]:
    provider = IcebergTableProvider()
    result = provider.create(provider.check({}, declared(server, credential)).inputs)
    return result.id, result.outs


@pytest.mark.parametrize("client_after", [CLIENT, "sales-client-2"], ids=["same client id", "new client id"])
def test_after_a_rotation_the_refresh_keeps_the_table_and_the_next_up_reconciles_it_with_the_new_credential(
        catalog: RestCatalogServer, client_after: str, provider_warnings: list[str]):
    id_, state = created(catalog, f"{CLIENT}:{OLD}")
    catalog.credentials = {client_after: NEW}  # the platform rotated the tenant: the old secret is refused
    provider = IcebergTableProvider()
    # The refresh of the next `pulumi preview` or `pulumi up` runs first, with nothing but the state.
    refreshed = provider.read(id_, state)
    assert refreshed.id == id_
    assert refreshed.outs["drift"] == ["not read: the catalog refused the credential in state (rotated since the "
                                       "last `pulumi up`?); `pulumi up` reconciles it with the current one"]
    [warning] = provider_warnings
    assert warning.startswith(f"{catalog.url} refused the credential this stack's state holds for {SCOPE}, "
                              "probably rotated since the last `pulumi up`: what it manages there is not read back")
    assert f"{catalog.url}/v1/oauth/tokens refused the credential (HTTP 401: invalid_client" in warning
    # Then the program declares the credential the platform publishes now: the table updates with it.
    news = provider.check(state, declared(catalog, f"{client_after}:{NEW}")).inputs
    assert provider.diff(id_, refreshed.outs, news).changes is True
    updated = provider.update(id_, refreshed.outs, news)
    assert updated.outs["drift"] == []
    assert updated.outs["table_uuid"] == state["table_uuid"]
    # The next refresh in the same process reads the live table with the credential declared now.
    assert provider.read(id_, state).outs["drift"] == []


def test_a_refresh_after_a_rotation_still_sees_a_table_dropped_outside_once_the_program_declared_it(
        catalog: RestCatalogServer):
    id_, state = created(catalog, f"{CLIENT}:{OLD}")
    catalog.credentials = {CLIENT: NEW}
    open_catalog(CatalogTarget(catalog.url, "lakehouse", f"{CLIENT}:{NEW}"), policy=FAST).drop_table(
        (*NAMESPACE, "orders"))
    provider = IcebergTableProvider()
    provider.check(state, declared(catalog, f"{CLIENT}:{NEW}"))
    assert provider.read(id_, state).id is None  # gone: `pulumi up` creates it again


def test_with_no_newer_credential_anywhere_an_update_fails_with_the_refusal(catalog: RestCatalogServer):
    id_, state = created(catalog, f"{CLIENT}:{OLD}")
    catalog.credentials = {CLIENT: NEW}
    provider = IcebergTableProvider()
    news = provider.check(state, declared(catalog, f"{CLIENT}:{OLD}", columns=[*COLUMNS, {
        "name": "note", "type": "string"}])).inputs
    with pytest.raises(CatalogCredentialError, match="refused the credential"):
        provider.update(id_, state, news)


def test_a_table_set_drops_from_old_state_with_the_credential_declared_now_whatever_its_client_id(
        catalog: RestCatalogServer):
    created(catalog, f"{CLIENT}:{OLD}")
    place = CatalogTarget(catalog.url, "lakehouse", scope=SCOPE)
    entry = table_entry(place, DesiredTable(NAMESPACE, TableConfig.model_validate(
        {"name": "orders", "layer": "bronze", "columns": COLUMNS, "drop_when_removed": True})))
    old_set = {"credential": f"{CLIENT}:{OLD}", "tables": [entry], "provider_version": 1}
    catalog.credentials = {"sales-client-2": NEW}
    provider = TableSetProvider()
    provider.check(old_set, {"credential": f"sales-client-2:{NEW}", "tables": [entry], "provider_version": 1})
    provider.delete("tables", old_set)  # the set removed in the same `pulumi up`: from its old state
    assert not open_catalog(CatalogTarget(catalog.url, "lakehouse", f"sales-client-2:{NEW}"), policy=FAST
                            ).table_exists((*NAMESPACE, "orders"))


def test_a_catalog_that_is_down_fails_the_first_read_once_with_what_to_do_and_skips_the_others(monkeypatch):
    monkeypatch.setattr(resource, "open_catalog", partial(open_catalog, policy=SHORT))
    with socket.socket() as probe:  # a port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        uri = f"http://127.0.0.1:{probe.getsockname()[1]}/api/catalog"
    provider = IcebergTableProvider()
    state = {**declared(uri, f"{CLIENT}:{OLD}"), "table_uuid": "x", "drift": []}
    with pytest.raises(CatalogUnreachableError, match=(
            rf"^get a token from the catalog: cannot connect to {re.escape(uri)}/v1/oauth/tokens \(tried 5 times, "
            r"1 s each\): .*; this project reads back what exists before every operation \(`refresh: always`\); "
            r"`pulumi preview --refresh=false` previews from state without reaching it$")) as failed:
        provider.read("bronze.sales.orders", state)
    assert failed.value.__cause__ is None
    assert failed.value.__suppress_context__
    # What the SDK sends the engine for it: the one line, without frames.
    assert traceback.format_exception(failed.value) == [f"floe_infra.errors.CatalogUnreachableError: {failed.value}\n"]
    started = time.monotonic()
    for name in ("customers", "products", "payments"):
        other = provider.read(f"bronze.sales.{name}", {**state, "table": {**state["table"], "name": name}})
        assert other.outs["drift"][0].startswith("not read: get a token from the catalog: cannot connect to")
    assert time.monotonic() - started < 0.1  # not attempted again
