"""The IcebergTable dynamic resource: its provider's methods against a real SqlCatalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dill
import pyarrow as pa
import pytest
import yaml
from pyiceberg.catalog import Catalog
from pyiceberg.schema import Schema
from pyiceberg.types import IntegerType, LongType, NestedField, StringType

from floe_infra.config.tables import TableConfig
from floe_infra.errors import FloeError
from floe_infra.iceberg.catalogs import CatalogTarget, embedded_target, open_catalog
from floe_infra.iceberg.engine import plan_table
from floe_infra.iceberg.plan import Action, DesiredTable
from floe_infra.iceberg.resource import IcebergTableProvider, _desired, evolution_from
from floe_infra.iceberg.table_set import TableSetProvider, table_entry
from floe_infra.preview.offline import without_nulls as as_the_engine_sends  # the engine drops nulls
from tests.conftest import DEMO_PIPELINE
from tests.iceberg.conftest import NAMESPACE
from tests.iceberg.rest_catalog import RestCatalogServer
from tests.loopback import FAST

COLUMNS = [{"name": "id", "type": "long", "required": True}, {"name": "qty", "type": "int"}]


def props(tmp_path: Path, **table: Any) -> dict[str, Any]:
    target = embedded_target(tmp_path)
    return {"catalog": {"uri": target.uri, "warehouse": target.warehouse, "scope": None}, "credential": None,
            "namespace": list(NAMESPACE), "provider_version": "test", "owner": "floe-pipeline/dev",
            "table": {"name": "orders", "layer": "bronze", "columns": COLUMNS, **table}}


def table_set(tmp_path: Path, *tables: dict[str, Any], namespace: tuple[str, ...] = NAMESPACE) -> dict[str, Any]:
    """TableSet inputs declaring these tables (name, renamed_from, drop_when_removed)."""
    target = embedded_target(tmp_path)
    place = CatalogTarget(uri=target.uri, warehouse="lakehouse")
    entries = [table_entry(place, DesiredTable(namespace, TableConfig.model_validate(
        {"layer": "bronze", "columns": COLUMNS, **t}))) for t in tables]
    for entry in entries:
        entry["catalog"]["warehouse"] = target.warehouse  # the embedded catalog's, to reach it
    return {"credential": None, "tables": entries, "provider_version": "test"}


def write_rows(catalog: Catalog, count: int) -> None:
    live = catalog.load_table((*NAMESPACE, "orders"))
    live.append(pa.Table.from_pylist([{"id": i, "qty": i} for i in range(count)], schema=live.schema().as_arrow()))


@pytest.fixture
def provider() -> IcebergTableProvider:
    return IcebergTableProvider()


def checked(provider, olds, news):
    result = provider.check(olds, news)
    assert result.failures == [], [f.reason for f in result.failures]
    return result.inputs


def test_check_puts_the_declared_plan_in_the_inputs_so_preview_shows_it(provider, tmp_path):
    old = checked(provider, {}, props(tmp_path))
    assert old["plan"][:2] == ["add column id: long required", "add column qty: int"]
    new = props(tmp_path, columns=[{**COLUMNS[0]}, {"name": "qty", "type": "long"}, {"name": "note", "type": "string"}])
    assert checked(provider, old, new)["plan"] == ["widen type qty: int -> long", "add column note: string"]


def test_check_fails_a_refused_change_with_its_reason(provider, tmp_path):
    old = checked(provider, {}, props(tmp_path))
    result = provider.check(old, props(tmp_path, columns=COLUMNS[:1]))
    assert [(f.property, f.reason) for f in result.failures] == [
        ("table", "drop column qty is refused: it breaks readers or loses data; allow it with "
                  "`allow_breaking_changes: [drop_columns]`")]


def test_check_reports_an_invalid_declaration_by_property(provider, tmp_path):
    result = provider.check({}, props(tmp_path, columns=[{"name": "id", "type": "varchar"}]))
    assert result.failures[0].property == "table.columns.0.type"
    assert "'varchar' is not an Iceberg type" in result.failures[0].reason


def test_create_update_and_unchanged_rerun(provider, tmp_path):
    first = checked(provider, {}, props(tmp_path))
    created = provider.create(first)
    assert created.id == "bronze.sales.orders"
    assert created.outs["applied"][0] == "add column id: long required"
    evolved = checked(provider, created.outs, props(tmp_path, columns=[COLUMNS[0], {"name": "qty", "type": "long"}]))
    diff = provider.diff(created.id, created.outs, evolved)
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update(created.id, created.outs, evolved)
    assert updated.outs["applied"] == ["widen type qty: int -> long"]
    assert updated.outs["table_uuid"] == created.outs["table_uuid"]
    again = checked(provider, updated.outs, props(tmp_path, columns=[COLUMNS[0], {"name": "qty", "type": "long"}]))
    assert provider.diff(created.id, updated.outs, again).changes is False
    assert provider.update(created.id, updated.outs, again).outs["applied"] == []


# Declarations of every kind of column and table setting floe.yaml has, for the unchanged-declaration check below.
DECLARATIONS = [
    *yaml.safe_load(DEMO_PIPELINE.read_text())["tables"],
    {"name": "orders", "layer": "bronze", "columns": COLUMNS},
    {"name": "events", "layer": "silver", "doc": "events", "renamed_from": "raw_events", "drop_when_removed": True,
     "columns": [
         {"name": "id", "type": "long", "required": True, "doc": "key"},
         {"name": "amount", "type": "decimal(12,2)"}, {"name": "digest", "type": "fixed[16]"},
         {"name": "at", "type": "timestamptz", "required": True}, {"name": "day", "type": "date"},
         {"name": "seen", "type": "boolean", "renamed_from": "visible"},
         {"name": "address", "type": "struct", "fields": [{"name": "street", "type": "string"},
                                                           {"name": "zip", "type": "int", "required": True}]},
         {"name": "tags", "type": "list", "element": {"type": "string", "required": True}},
         {"name": "scores", "type": "map", "key": {"type": "string"}, "value": {"type": "double"}}],
     "identifier_fields": ["id"],
     "partition_by": [{"column": "at", "transform": "day"}, {"column": "id", "transform": "bucket[8]", "name": "b"}],
     "sort_by": [{"column": "at", "direction": "desc"}, {"column": "id", "nulls": "last"}],
     "properties": {"write.format.default": "parquet"}, "allow_breaking_changes": ["drop_columns"]},
]


@pytest.mark.parametrize("declaration", DECLARATIONS, ids=lambda d: d["name"])
def test_an_unchanged_declaration_plans_nothing_as_the_full_plan_would(provider, tmp_path, declaration):
    # check() skips planning (and pyiceberg) when the declaration is the one in state; planning it in full says
    # the same, so no-op previews show exactly what they showed before.
    inputs = {**props(tmp_path), "table": declaration}
    desired = _desired(inputs)
    full = evolution_from(desired, desired)
    assert (full.action, full.changes, full.reasons) == (Action.UNCHANGED, (), ())
    stored = checked(provider, {}, inputs)
    again = provider.check(stored, inputs)
    assert (again.inputs["plan"], again.failures) == ([], [])
    assert provider.diff("id", stored, again.inputs).changes is False


def test_rename_through_renamed_from_is_an_update_not_a_replacement(provider, tmp_path):
    created = provider.create(checked(provider, {}, props(tmp_path)))
    renamed = checked(provider, created.outs, props(tmp_path, name="purchases", renamed_from="orders"))
    assert renamed["plan"] == ["rename table bronze.sales.orders: -> purchases"]
    assert provider.diff(created.id, created.outs, renamed).replaces == []
    updated = provider.update(created.id, created.outs, renamed)
    assert updated.outs["identifier"] == ["bronze", "sales", "purchases"]
    assert updated.outs["table_uuid"] == created.outs["table_uuid"]


def test_no_change_ever_replaces_a_table_and_the_ones_that_would_are_refused(provider, tmp_path):
    created = provider.create(checked(provider, {}, props(tmp_path)))
    renamed = props(tmp_path, name="purchases")
    moved = {**props(tmp_path), "namespace": ["silver", "sales"]}
    assert provider.diff(created.id, created.outs, renamed).replaces == []
    assert provider.diff(created.id, created.outs, moved).replaces == []
    assert [f.reason for f in provider.check(created.outs, renamed).failures] == [
        "table bronze.sales.orders would be replaced by a new table purchases: to rename it with its data, declare "
        "`renamed_from: orders`; to start a new table, give it its own declaration"]
    [failure] = provider.check(created.outs, moved).failures
    assert failure.reason.startswith("table bronze.sales.orders would become silver.sales.orders in ")
    assert "floe-infra never moves or replaces a table" in failure.reason
    assert "set `adopt: true` to take it over where it is now" in failure.reason


def test_a_namespace_move_with_adopt_takes_over_the_table_already_moved_in_the_catalog(provider, tmp_path):
    created = provider.create(checked(provider, {}, props(tmp_path)))
    catalog = open_catalog(embedded_target(tmp_path))
    catalog.create_namespace(("silver", "sales"))
    catalog.rename_table((*NAMESPACE, "orders"), ("silver", "sales", "orders"))  # the platform team moved it
    moved = {**props(tmp_path, adopt=True), "namespace": ["silver", "sales"]}
    updated = provider.update(created.id, created.outs, checked(provider, created.outs, moved))
    assert updated.outs["table_uuid"] == created.outs["table_uuid"]


def test_delete_never_drops_the_table_even_when_declared_droppable(provider, tmp_path):
    catalog = open_catalog(embedded_target(tmp_path))
    droppable = provider.create(checked(provider, {}, props(tmp_path, drop_when_removed=True)))
    write_rows(catalog, 3)
    provider.delete(droppable.id, droppable.outs)
    assert len(catalog.load_table((*NAMESPACE, "orders")).scan().to_arrow()) == 3


def test_a_rename_without_renamed_from_keeps_the_data_of_a_droppable_table(tmp_path):
    """What `pulumi up` does when a droppable table is renamed but renamed_from is forgotten."""
    tables, sets = IcebergTableProvider(), TableSetProvider()
    catalog = open_catalog(embedded_target(tmp_path))
    before = table_set(tmp_path, {"name": "orders", "drop_when_removed": True})
    sets.create(before)
    orders = tables.create(checked(tables, {}, props(tmp_path, drop_when_removed=True)))
    write_rows(catalog, 3)
    after = table_set(tmp_path, {"name": "purchases", "drop_when_removed": True})
    [failure] = sets.check(before, after).failures
    assert failure.reason.startswith("lakehouse.bronze.sales.orders (drop_when_removed) would be dropped with its "
                                     "data while lakehouse.bronze.sales.purchases is new in the same change")
    # Even if the deployment went on (the engine stops at a failed check), nothing would drop the data:
    tables.create(checked(tables, {}, props(tmp_path, name="purchases", drop_when_removed=True)))
    tables.delete(orders.id, orders.outs)
    assert len(catalog.load_table((*NAMESPACE, "orders")).scan().to_arrow()) == 3


def test_a_table_removed_on_its_own_is_dropped_only_when_declared_droppable(tmp_path):
    sets = TableSetProvider()
    catalog = open_catalog(embedded_target(tmp_path))
    catalog.create_namespace(NAMESPACE)
    for name in ("scratch", "kept"):
        catalog.create_table((*NAMESPACE, name), Schema(NestedField(1, "id", LongType())))
    before = table_set(tmp_path, {"name": "scratch", "drop_when_removed": True}, {"name": "kept"},
                       {"name": "orders"})
    after = table_set(tmp_path, {"name": "orders"})
    assert sets.check(before, after).failures == []
    sets.update("tables", before, after)
    assert not catalog.table_exists((*NAMESPACE, "scratch"))
    assert catalog.table_exists((*NAMESPACE, "kept"))


def test_renames_and_layer_moves_of_droppable_tables_are_told_apart(tmp_path):
    sets = TableSetProvider()
    before = table_set(tmp_path, {"name": "orders", "drop_when_removed": True})
    renamed = table_set(tmp_path, {"name": "purchases", "renamed_from": "orders", "drop_when_removed": True})
    assert sets.check(before, renamed).failures == []
    moved = table_set(tmp_path, {"name": "orders", "drop_when_removed": True}, namespace=("silver", "sales"))
    assert "lakehouse.silver.sales.orders is new in the same change" in sets.check(before, moved).failures[0].reason


def test_the_set_takes_entries_as_the_engine_sends_them_without_null_fields(tmp_path):
    # Found by the real engine: entries without a rename carry no `renamed_from` key at all.
    sets = TableSetProvider()
    before = as_the_engine_sends(table_set(tmp_path, {"name": "orders"}))
    after = as_the_engine_sends(table_set(tmp_path, {"name": "orders"}, {"name": "customers"}))
    assert "renamed_from" not in after["tables"][0]
    assert sets.check(before, after).failures == []
    assert sets.update("tables", before, after).outs["tables"] == after["tables"]


def test_destroying_the_set_drops_only_the_droppable_tables(tmp_path):
    catalog = open_catalog(embedded_target(tmp_path))
    catalog.create_namespace(NAMESPACE)
    for name in ("scratch", "kept"):
        catalog.create_table((*NAMESPACE, name), Schema(NestedField(1, "id", LongType())))
    declared = table_set(tmp_path, {"name": "scratch", "drop_when_removed": True}, {"name": "kept"},
                         {"name": "gone_already", "drop_when_removed": True})
    TableSetProvider().delete("tables", declared)
    assert [t[-1] for t in catalog.list_tables(NAMESPACE)] == ["kept"]


def test_a_column_added_outside_floe_infra_is_drift_and_updates_still_apply(provider, tmp_path):
    created = provider.create(checked(provider, {}, props(tmp_path)))
    catalog = open_catalog(embedded_target(tmp_path))
    with catalog.load_table((*NAMESPACE, "orders")).update_schema() as update:
        update.add_column("extra", StringType())
    widened = props(tmp_path, columns=[COLUMNS[0], {"name": "qty", "type": "long"}])
    updated = provider.update(created.id, created.outs, checked(provider, created.outs, widened))
    assert updated.outs["applied"] == ["widen type qty: int -> long"]
    live = catalog.load_table((*NAMESPACE, "orders"))
    assert [f.name for f in live.schema().fields] == ["id", "qty", "extra"]
    planned = plan_table(catalog, _desired(widened))
    assert (planned.action, planned.drift) == (Action.UNCHANGED, (
        "column extra: string (added outside floe-infra; left as is)",))


def test_create_refuses_a_table_floe_infra_did_not_create_unless_adopted(provider, tmp_path):
    catalog = open_catalog(embedded_target(tmp_path))
    catalog.create_namespace(NAMESPACE)
    existing = catalog.create_table((*NAMESPACE, "orders"), Schema(
        NestedField(1, "id", LongType(), required=True), NestedField(2, "qty", IntegerType())))
    with pytest.raises(FloeError, match=r"table bronze\.sales\.orders refused: it already exists and was not "
                                        r"created by floe-infra; to take it over, declare it as it is and set "
                                        r"`adopt: true`"):
        provider.create(checked(provider, {}, props(tmp_path)))
    adopted = provider.create(checked(provider, {}, props(tmp_path, adopt=True)))
    assert adopted.outs["table_uuid"] == str(existing.metadata.table_uuid)
    assert catalog.load_table((*NAMESPACE, "orders")).properties["floe.managed-by"] == "floe-pipeline/dev"


def test_adopting_refuses_a_table_that_differs_from_its_declaration(provider, tmp_path):
    catalog = open_catalog(embedded_target(tmp_path))
    catalog.create_namespace(NAMESPACE)
    catalog.create_table((*NAMESPACE, "orders"), Schema(NestedField(1, "id", LongType(), required=True),
                                                        NestedField(2, "qty", LongType())))
    with pytest.raises(FloeError, match=r"table bronze\.sales\.orders refused: it was not created by floe-infra "
                                        r"and differs from its declaration \(change type qty: long -> int\), so it "
                                        r"is not adopted"):
        provider.create(checked(provider, {}, props(tmp_path, adopt=True)))


def test_create_takes_over_only_its_own_stacks_tables_without_adopt(provider, tmp_path):
    ours = provider.create(checked(provider, {}, props(tmp_path)))
    # An interrupted `pulumi up` created the table but never recorded it: the next create carries on.
    again = provider.create(checked(provider, {}, props(tmp_path)))
    assert again.outs["table_uuid"] == ours.outs["table_uuid"]
    with pytest.raises(FloeError, match=r"already exists and is managed by floe-pipeline/dev; to take it over"):
        provider.create(checked(provider, {}, {**props(tmp_path), "owner": "floe-pipeline/prod"}))


def test_the_pickled_provider_carries_no_credential(provider):
    pickled = dill.dumps(provider, recurse=True)
    assert b"client_secret" not in pickled
    assert len(pickled) < 2000


def test_refresh_reads_a_table_dropped_outside_as_gone(provider, tmp_path):
    created = provider.create(checked(provider, {}, props(tmp_path)))
    assert provider.read(created.id, created.outs).id == created.id
    open_catalog(embedded_target(tmp_path)).drop_table((*NAMESPACE, "orders"))
    assert not provider.read(created.id, created.outs).id


def test_a_refresh_opens_the_catalog_once_and_loads_each_table_once(provider, tmp_path):
    # Every operation refreshes every table first: one opened catalog (config request, token) for all of them,
    # and one load of each answers both "is it there" and "how does it differ".
    server = RestCatalogServer(tmp_path / "rest")
    server.start()
    try:
        place = {"uri": server.url, "warehouse": "lakehouse", "scope": None}
        catalog = open_catalog(CatalogTarget(uri=server.url, warehouse="lakehouse"), policy=FAST)
        catalog.create_namespace_if_not_exists(NAMESPACE[:1])
        catalog.create_namespace_if_not_exists(NAMESPACE)
        tables = [provider.create(checked(provider, {}, {**props(tmp_path, name=name), "catalog": place}))
                  for name in ("orders", "refunds")]
        server.calls.clear()
        assert [provider.read(t.id, t.outs).outs["drift"] for t in tables] == [[], []]
        assert server.calls == ["GET /v1/config", "GET /v1/namespaces/bronze.sales/tables/orders",
                                "GET /v1/namespaces/bronze.sales/tables/refunds"]
        catalog.drop_table((*NAMESPACE, "orders"))
        assert not provider.read(tables[0].id, tables[0].outs).id
    finally:
        server.stop()
    assert server.errors == []


def test_refresh_reports_a_property_changed_outside_and_the_next_update_puts_it_back(provider, tmp_path):
    created = provider.create(checked(provider, {}, props(tmp_path, properties={"write.format.default": "parquet"})))
    catalog = open_catalog(embedded_target(tmp_path))
    with catalog.load_table((*NAMESPACE, "orders")).transaction() as change:
        change.set_properties({"write.format.default": "avro"})
    read = provider.read(created.id, created.outs)
    assert read.outs["drift"], "the refresh shows the property that differs"
    declared = checked(provider, read.outs, props(tmp_path, properties={"write.format.default": "parquet"}))
    assert provider.diff(created.id, read.outs, declared).changes is True
    provider.update(created.id, read.outs, declared)
    assert catalog.load_table((*NAMESPACE, "orders")).properties["write.format.default"] == "parquet"
    assert provider.read(created.id, created.outs).outs["drift"] == []
