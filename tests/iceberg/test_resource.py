"""The IcebergTable dynamic resource: its provider's methods against a real SqlCatalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dill
import pytest

from floe_infra.errors import FloeError
from floe_infra.iceberg.catalogs import embedded_target
from floe_infra.iceberg.resource import IcebergTableProvider
from tests.iceberg.conftest import NAMESPACE

COLUMNS = [{"name": "id", "type": "long", "required": True}, {"name": "qty", "type": "int"}]


def props(tmp_path: Path, **table: Any) -> dict[str, Any]:
    target = embedded_target(tmp_path)
    return {"catalog": {"uri": target.uri, "warehouse": target.warehouse, "scope": None}, "credential": None,
            "namespace": list(NAMESPACE), "provider_version": "test",
            "table": {"name": "orders", "layer": "bronze", "columns": COLUMNS, **table}}


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


def test_rename_through_renamed_from_is_an_update_not_a_replacement(provider, tmp_path):
    created = provider.create(checked(provider, {}, props(tmp_path)))
    renamed = checked(provider, created.outs, props(tmp_path, name="purchases", renamed_from="orders"))
    assert renamed["plan"] == ["rename table bronze.sales.orders: -> purchases"]
    assert provider.diff(created.id, created.outs, renamed).replaces == []
    updated = provider.update(created.id, created.outs, renamed)
    assert updated.outs["identifier"] == ["bronze", "sales", "purchases"]
    assert updated.outs["table_uuid"] == created.outs["table_uuid"]


def test_name_change_without_renamed_from_replaces_and_moving_layers_replaces(provider, tmp_path):
    created = provider.create(checked(provider, {}, props(tmp_path)))
    assert provider.diff(created.id, created.outs, props(tmp_path, name="purchases")).replaces == ["table"]
    moved = {**props(tmp_path), "namespace": ["silver", "sales"]}
    assert provider.diff(created.id, created.outs, moved).replaces == ["namespace"]


def test_delete_leaves_the_table_unless_it_was_declared_droppable(provider, tmp_path):
    from floe_infra.iceberg.catalogs import open_catalog

    catalog = open_catalog(embedded_target(tmp_path))
    kept = provider.create(checked(provider, {}, props(tmp_path)))
    provider.delete(kept.id, kept.outs)
    assert catalog.table_exists((*NAMESPACE, "orders"))
    droppable = provider.create(checked(provider, {}, props(tmp_path, name="scratch", drop_when_removed=True)))
    provider.delete(droppable.id, droppable.outs)
    assert not catalog.table_exists((*NAMESPACE, "scratch"))


def test_update_refuses_when_the_live_table_drifted_into_a_breaking_change(provider, tmp_path):
    created = provider.create(checked(provider, {}, props(tmp_path)))
    from floe_infra.iceberg.catalogs import open_catalog

    table = open_catalog(embedded_target(tmp_path)).load_table((*NAMESPACE, "orders"))
    with table.update_schema() as update:
        update.add_column("extra", __import__("pyiceberg.types", fromlist=["StringType"]).StringType())
    with pytest.raises(FloeError, match="drop column extra is refused"):
        provider.update(created.id, created.outs, created.outs)


def test_the_pickled_provider_carries_no_credential(provider):
    pickled = dill.dumps(provider, recurse=True)
    assert b"client_secret" not in pickled
    assert len(pickled) < 2000
