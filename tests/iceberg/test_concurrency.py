"""Two writers on one REST catalog: a commit that lost the race is re-planned and applied (optimistic)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.types import StringType

from floe_infra.errors import ConcurrentChangeError
from floe_infra.iceberg import engine
from floe_infra.iceberg.catalogs import CatalogTarget, open_catalog
from floe_infra.iceberg.engine import apply_tables, plan_tables
from floe_infra.iceberg.plan import Action
from tests.iceberg.conftest import NAMESPACE, table
from tests.iceberg.rest_catalog import RestCatalogServer
from tests.loopback import FAST

ID = {"name": "id", "type": "long", "required": True}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RestCatalogServer]:
    server = RestCatalogServer(tmp_path / "catalog")
    server.start()
    yield server
    server.stop()
    assert server.errors == []


def connect(server: RestCatalogServer) -> Catalog:
    catalog = open_catalog(CatalogTarget(uri=server.url, warehouse="lakehouse"), policy=FAST)
    catalog.create_namespace_if_not_exists(NAMESPACE[:1])
    catalog.create_namespace_if_not_exists(NAMESPACE)
    return catalog


def test_a_commit_that_lost_the_race_is_replanned_and_applied(server, monkeypatch):
    ours, theirs = connect(server), connect(server)
    apply_tables(ours, [table(columns=[ID])], create_namespaces=False)
    commit = ours.commit_table
    raced = []

    def after_another_writer(*args):
        if not raced:  # between our read and our commit, another writer changes the schema
            raced.append(True)
            with theirs.load_table((*NAMESPACE, "orders")).update_schema() as update:
                update.add_column("theirs", StringType())
        return commit(*args)

    monkeypatch.setattr(ours, "commit_table", after_another_writer)
    declared = table(columns=[ID, {"name": "ours", "type": "string"}])
    result = apply_tables(ours, [declared], create_namespaces=False)
    assert result.applied == ["bronze.sales.orders"]
    assert server.calls.count("POST /v1/namespaces/bronze.sales/tables/orders") == 3  # theirs, ours (409), ours
    names = [f.name for f in ours.load_table((*NAMESPACE, "orders")).schema().fields]
    assert names == ["id", "theirs", "ours"]  # both writers' columns; theirs is drift to us
    [planned] = plan_tables(ours, [declared], create_namespaces=False)
    assert (planned.action, planned.drift) == (Action.UNCHANGED, (
        "column theirs: string (added outside floe-infra; left as is)",))


def test_a_table_created_by_another_apply_meanwhile_is_planned_again_and_left_as_it_is(server, monkeypatch):
    ours, theirs = connect(server), connect(server)
    declared = table(columns=[ID])
    create = ours.create_table

    def after_another_apply(*args, **kwargs):
        if not theirs.table_exists(declared.identifier):  # the other apply creates it first
            theirs.create_table(*args, **kwargs)
        return create(*args, **kwargs)

    monkeypatch.setattr(ours, "create_table", after_another_apply)
    result = apply_tables(ours, [declared], create_namespaces=False)
    assert [p.action for p in result.plans] == [Action.UNCHANGED]
    assert result.applied == []


def test_a_table_that_keeps_changing_fails_clearly_after_a_few_attempts(server, monkeypatch):
    catalog = connect(server)
    apply_tables(catalog, [table(columns=[ID])], create_namespaces=False)
    attempts = []

    def always_stale(*_args):
        attempts.append(True)
        raise CommitFailedException("Requirement failed: current schema id has changed")

    monkeypatch.setattr(engine, "apply_plan", always_stale)
    with pytest.raises(ConcurrentChangeError, match=r"table bronze\.sales\.orders kept changing while it was applied "
                                                    r"\(4 attempts: Requirement failed.*\); another writer is busy"):
        apply_tables(catalog, [table(columns=[ID, {"name": "x", "type": "string"}])], create_namespaces=False)
    assert len(attempts) == engine.CONFLICT_ATTEMPTS
