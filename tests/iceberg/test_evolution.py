"""Table evolution against a real SqlCatalog: safe changes apply, breaking ones are refused."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError as PydanticValidationError
from pyiceberg.catalog import Catalog
from pyiceberg.table.sorting import SortDirection

from floe_infra.errors import CatalogError
from floe_infra.iceberg.plan import Action
from tests.iceberg.conftest import NAMESPACE, apply, described, metadata_files, plan, table

BASE = [
    {"name": "id", "type": "long", "required": True},
    {"name": "qty", "type": "int"},
    {"name": "price", "type": "float"},
    {"name": "amount", "type": "decimal(10,2)"},
    {"name": "note", "type": "string"},
]


def with_columns(columns, **extra):
    return table(columns=columns, **extra)


def row(number: int) -> dict[str, Any]:
    """A row of BASE (plus its struct, when the table has one)."""
    return {"id": number, "qty": 3, "price": 1.5, "amount": Decimal("9.99"), "note": "web", "ship": {"city": "Lyon"}}


def write(catalog: Catalog, rows: list[dict[str, Any]]) -> None:
    """Append rows through pyiceberg, shaped by the table's current schema."""
    live = catalog.load_table((*NAMESPACE, "orders"))
    names = live.schema().column_names
    shaped = [{("remark" if k == "note" and "remark" in names else k): v for k, v in r.items()} for r in rows]
    schema = live.schema().as_arrow()
    live.append(pa.Table.from_pylist([{k: v for k, v in r.items() if k in schema.names} for r in shaped],
                                     schema=schema))


def read(catalog: Catalog) -> list[dict[str, Any]]:
    """Every row of the table, by id."""
    return catalog.load_table((*NAMESPACE, "orders")).scan().to_arrow().sort_by("id").to_pylist()


def replace(columns, column, **changes):
    return [{**c, **changes} if c["name"] == column else c for c in columns]


def test_new_table_is_created_with_schema_partitioning_sorting_and_properties(catalog):
    desired = table(columns=[*BASE, {"name": "ordered_at", "type": "timestamptz"}], identifier_fields=["id"],
                    partition_by=[{"column": "ordered_at", "transform": "day"},
                                  {"column": "id", "transform": "bucket[8]"}],
                    sort_by=[{"column": "ordered_at", "direction": "desc"}],
                    properties={"write.format.default": "parquet"}, doc="Orders")
    result = apply(catalog, desired)
    assert [p.action for p in result.plans] == [Action.CREATE]
    loaded = catalog.load_table((*NAMESPACE, "orders"))
    assert [f.name for f in loaded.schema().fields] == ["id", "qty", "price", "amount", "note", "ordered_at"]
    assert loaded.schema().identifier_field_names() == {"id"}
    assert [(f.name, str(f.transform)) for f in loaded.spec().fields] == [
        ("ordered_at_day", "day"), ("id_bucket_8", "bucket[8]")]
    assert loaded.sort_order().fields[0].direction == SortDirection.DESC
    assert loaded.properties["comment"] == "Orders"
    assert loaded.properties["floe.managed-properties"] == "comment,write.format.default"


def test_second_apply_plans_unchanged_and_writes_no_metadata(catalog, tmp_path: Path):
    desired = table(columns=BASE, identifier_fields=["id"], partition_by=[{"column": "id", "transform": "bucket[4]"}],
                    sort_by=[{"column": "id"}], properties={"a": "1"}, doc="d")
    apply(catalog, desired)
    before = metadata_files(tmp_path)
    result = apply(catalog, desired)
    assert [p.action for p in result.plans] == [Action.UNCHANGED]
    assert result.applied == []
    assert metadata_files(tmp_path) == before


@pytest.mark.parametrize(("change", "expected"), [
    (lambda c: [*c, {"name": "coupon", "type": "string", "doc": "code"}], ["add column coupon: string"]),
    (lambda c: replace(c, "qty", type="long"), ["widen type qty: int -> long"]),
    (lambda c: replace(c, "price", type="double"), ["widen type price: float -> double"]),
    (lambda c: replace(c, "amount", type="decimal(14,2)"), ["widen type amount: decimal(10,2) -> decimal(14,2)"]),
    (lambda c: replace(c, "id", required=False), ["make optional id"]),
    (lambda c: replace(c, "note", doc="free text"), ["update doc note: 'free text'"]),
    (lambda c: replace(c, "note", name="remark", renamed_from="note"), ["rename column note: -> remark"]),
])
def test_safe_change_is_planned_and_applied(catalog, change, expected):
    apply(catalog, with_columns(BASE))
    evolved = with_columns(change(BASE))
    planned = plan(catalog, evolved)
    assert planned.action is Action.EVOLVE
    assert described(planned) == expected
    apply(catalog, evolved)
    assert plan(catalog, evolved).action is Action.UNCHANGED


@pytest.mark.parametrize(("change", "refused", "opt_in"), [
    (lambda c: [x for x in c if x["name"] != "note"], "drop column note", "drop_columns"),
    (lambda c: replace(c, "note", required=True), "make required note", "make_required"),
])
def test_breaking_change_is_refused_with_the_opt_in_that_allows_it(catalog, change, refused, opt_in):
    apply(catalog, with_columns(BASE))
    planned = plan(catalog, with_columns(change(BASE)))
    assert planned.action is Action.REFUSED
    assert planned.reasons == (f"{refused} is refused: it breaks readers or loses data; allow it with "
                               f"`allow_breaking_changes: [{opt_in}]`",)
    result = apply(catalog, with_columns(change(BASE)))
    assert result.applied == []
    assert plan(catalog, with_columns(BASE)).action is Action.UNCHANGED  # the table was left alone


EVERY_OPT_IN = ["drop_columns", "make_required", "replace_partitioning"]


@pytest.mark.parametrize(("column", "old", "new", "value"), [
    ("note", "string", "int", "web"),
    ("id", "long", "int", 1),
    ("qty", "int", "string", 3),
    ("price", "float", "long", 1.5),
    ("amount", "decimal(10,2)", "decimal(10,3)", Decimal("9.99")),
    ("amount", "decimal(10,2)", "decimal(8,2)", Decimal("9.99")),
])
def test_type_change_that_is_no_promotion_is_refused_whatever_the_opt_ins_and_data_stays_readable(
        catalog, column, old, new, value):
    apply(catalog, with_columns(BASE))
    write(catalog, [row(1)])
    planned = plan(catalog, with_columns(replace(BASE, column, type=new), allow_breaking_changes=EVERY_OPT_IN))
    assert planned.action is Action.REFUSED
    assert planned.reasons == (
        f"change type {column}: {old} -> {new} is never applied, whatever the opt-ins: Iceberg only promotes "
        "int -> long, float -> double and a decimal's precision (same scale), and retyping a column in place would "
        "leave its existing data unreadable. To change it without losing data: add a new column (for example "
        f"{column}_{new.split('(')[0]}: {new}), backfill it from {column}, move readers to it, then remove {column} "
        "in a later change with `allow_breaking_changes: [drop_columns]`",)
    assert apply(catalog, with_columns(replace(BASE, column, type=new), allow_breaking_changes=EVERY_OPT_IN)
                 ).applied == []
    assert read(catalog)[0][column] == value


def test_change_types_is_no_longer_an_opt_in():
    with pytest.raises(PydanticValidationError, match=r"change_types is not an opt-in any more: Iceberg can only "
                                                      r"promote int -> long.*add a new column of the new type"):
        table(columns=BASE, allow_breaking_changes=["change_types"])


def test_the_data_preserving_path_for_a_type_change_keeps_every_row(catalog):
    apply(catalog, with_columns(BASE))
    write(catalog, [row(1), row(2)])
    # Step 1: a new column of the new type next to the old one; backfill it.
    apply(catalog, with_columns([*BASE, {"name": "note_int", "type": "int"}]))
    live = catalog.load_table((*NAMESPACE, "orders"))
    backfilled = live.scan().to_arrow().to_pylist()
    live.overwrite(pa.Table.from_pylist([{**r, "note_int": len(r["note"])} for r in backfilled],
                                        schema=live.schema().as_arrow()))
    # Step 2, later: retire the old column, explicitly.
    apply(catalog, with_columns([c for c in BASE if c["name"] != "note"] + [{"name": "note_int", "type": "int"}],
                                allow_breaking_changes=["drop_columns"]))
    assert [(r["id"], r["note_int"]) for r in read(catalog)] == [(1, 3), (2, 3)]


def test_refusal_covers_the_whole_table_even_when_other_changes_are_safe(catalog):
    apply(catalog, with_columns(BASE))
    planned = plan(catalog, with_columns([*replace(BASE, "qty", type="long")[:-1]]))
    assert planned.action is Action.REFUSED
    assert "widen type qty: int -> long" in described(planned)


def test_drop_column_applies_with_its_opt_in(catalog):
    apply(catalog, with_columns(BASE))
    dropped = with_columns(BASE[:-1], allow_breaking_changes=["drop_columns"])
    assert apply(catalog, dropped).applied == ["bronze.sales.orders"]
    assert "note" not in [f.name for f in catalog.load_table((*NAMESPACE, "orders")).schema().fields]


def test_make_required_applies_with_its_opt_in(catalog):
    apply(catalog, with_columns(BASE))
    apply(catalog, with_columns(replace(BASE, "note", required=True), allow_breaking_changes=["make_required"]))
    assert catalog.load_table((*NAMESPACE, "orders")).schema().find_field("note").required


def test_new_required_column_is_refused_whatever_the_opt_ins(catalog):
    apply(catalog, with_columns(BASE))
    planned = plan(catalog, with_columns([*BASE, {"name": "region", "type": "string", "required": True}],
                                         allow_breaking_changes=EVERY_OPT_IN))
    assert planned.action is Action.REFUSED
    assert planned.reasons == ("new column region is required, and existing rows have no value for it; "
                               "add it as optional",)


ALLOWED_CHANGES = [
    ("add an optional column", lambda c: [*c, {"name": "coupon", "type": "string"}], {}),
    ("widen int to long", lambda c: replace(c, "qty", type="long"), {}),
    ("widen float to double", lambda c: replace(c, "price", type="double"), {}),
    ("widen a decimal's precision", lambda c: replace(c, "amount", type="decimal(14,2)"), {}),
    ("rename a column", lambda c: replace(c, "note", name="remark", renamed_from="note"), {}),
    ("make a column optional", lambda c: replace(c, "id", required=False), {}),
    ("add a struct field", lambda c: replace(c, "ship", fields=[{"name": "city", "type": "string"},
                                                                {"name": "zip", "type": "string"}]), {}),
    ("change a doc", lambda c: replace(c, "qty", doc="units ordered"), {}),
    ("add a partition field", lambda c: c, {"partition_by": [{"column": "id", "transform": "bucket[4]"}]}),
    ("change the sort order", lambda c: c, {"partition_by": [{"column": "id", "transform": "bucket[4]"}],
                                            "sort_by": [{"column": "id", "direction": "desc"}]}),
    ("set a property", lambda c: c, {"partition_by": [{"column": "id", "transform": "bucket[4]"}],
                                     "sort_by": [{"column": "id", "direction": "desc"}],
                                     "properties": {"owner": "sales"}}),
]


def test_every_row_reads_back_after_each_allowed_change(catalog):
    columns = [*BASE, {"name": "ship", "type": "struct", "fields": [{"name": "city", "type": "string"}]}]
    apply(catalog, with_columns(columns))
    write(catalog, [row(1), row(2)])
    written = 2
    for what, change, extra in ALLOWED_CHANGES:
        columns = change(columns)
        result = apply(catalog, with_columns(columns, **extra))
        assert result.applied == ["bronze.sales.orders"], what
        rows = read(catalog)
        assert [r["id"] for r in rows] == list(range(1, written + 1)), what
        assert all(r["qty"] == 3 and r["price"] == 1.5 and r["amount"] == Decimal("9.99") for r in rows), what
        assert all((r.get("note") or r.get("remark")) == "web" for r in rows), what
        assert all(r["ship"]["city"] == "Lyon" for r in rows), what
        written += 1
        write(catalog, [row(written)])  # and the evolved table takes new rows
    assert [r["id"] for r in read(catalog)] == list(range(1, written + 1))


def test_table_rename_keeps_its_data_and_history(catalog):
    apply(catalog, with_columns(BASE))
    old = catalog.load_table((*NAMESPACE, "orders"))
    renamed = table(name="purchases", renamed_from="orders", columns=BASE)
    planned = plan(catalog, renamed)
    assert planned.action is Action.EVOLVE
    assert described(planned) == ["rename table bronze.sales.orders: -> purchases"]
    apply(catalog, renamed)
    assert catalog.load_table((*NAMESPACE, "purchases")).metadata.table_uuid == old.metadata.table_uuid
    assert not catalog.table_exists((*NAMESPACE, "orders"))
    assert plan(catalog, renamed).action is Action.UNCHANGED


def test_nested_struct_list_and_map_evolve(catalog):
    nested = [
        {"name": "id", "type": "long", "required": True},
        {"name": "address", "type": "struct", "fields": [{"name": "street", "type": "string"},
                                                         {"name": "zip", "type": "int"}]},
        {"name": "scores", "type": "list", "element": "int"},
        {"name": "attrs", "type": "map", "key": "string", "value": "float"},
    ]
    apply(catalog, with_columns(nested))
    evolved = [
        nested[0],
        {"name": "address", "type": "struct", "fields": [
            {"name": "line1", "type": "string", "renamed_from": "street"}, {"name": "zip", "type": "long"},
            {"name": "country", "type": "string"}]},
        {"name": "scores", "type": "list", "element": "long"},
        {"name": "attrs", "type": "map", "key": "string", "value": "double"},
    ]
    planned = plan(catalog, with_columns(evolved))
    assert described(planned) == [
        "rename column address.street: -> line1", "widen type address.zip: int -> long",
        "add column address.country: string", "widen type scores.element: int -> long",
        "widen type attrs.value: float -> double"]
    apply(catalog, with_columns(evolved))
    schema = catalog.load_table((*NAMESPACE, "orders")).schema()
    assert [f.name for f in schema.find_field("address").field_type.fields] == ["line1", "zip", "country"]
    assert str(schema.find_field("scores").field_type) == "list<long>"
    assert plan(catalog, with_columns(evolved)).action is Action.UNCHANGED


def test_struct_cannot_become_a_primitive_even_with_the_opt_in(catalog):
    columns = [{"name": "id", "type": "long"}, {"name": "address", "type": "struct",
                                                "fields": [{"name": "street", "type": "string"}]}]
    apply(catalog, with_columns(columns))
    planned = plan(catalog, with_columns([columns[0], {"name": "address", "type": "string"}],
                                         allow_breaking_changes=EVERY_OPT_IN))
    assert planned.action is Action.REFUSED
    assert planned.reasons[0].startswith("change type address: struct -> string is never applied, whatever the "
                                         "opt-ins")
    assert "add a new column (for example address_string: string)" in planned.reasons[0]


def test_partition_fields_can_be_added_but_not_removed_without_opt_in(catalog):
    columns = [*BASE, {"name": "ordered_at", "type": "timestamptz"}]
    apply(catalog, with_columns(columns, partition_by=[{"column": "ordered_at", "transform": "month"}]))
    added = with_columns(columns, partition_by=[{"column": "ordered_at", "transform": "month"},
                                                {"column": "id", "transform": "bucket[16]"}])
    assert described(plan(catalog, added)) == ["add partition field bucket[16](id)"]
    apply(catalog, added)
    assert [f.name for f in catalog.load_table((*NAMESPACE, "orders")).spec().fields] == [
        "ordered_at_month", "id_bucket_16"]
    replaced = with_columns(columns, partition_by=[{"column": "ordered_at", "transform": "day"},
                                                   {"column": "id", "transform": "bucket[16]"}])
    planned = plan(catalog, replaced)
    assert planned.action is Action.REFUSED
    assert "remove partition field month(ordered_at): field ordered_at_month is refused" in planned.reasons[0]
    apply(catalog, with_columns(columns, partition_by=replaced.config.model_dump()["partition_by"],
                                allow_breaking_changes=["replace_partitioning"]))
    spec = catalog.load_table((*NAMESPACE, "orders")).spec()
    assert sorted(str(f.transform) for f in spec.fields if str(f.transform) != "void") == ["bucket[16]", "day"]


def test_sort_order_and_properties_evolve_and_only_managed_properties_are_removed(catalog):
    apply(catalog, with_columns(BASE, properties={"owner": "sales", "tier": "gold"}))
    catalog.load_table((*NAMESPACE, "orders")).transaction().set_properties(external="kept").commit_transaction()
    evolved = with_columns(BASE, properties={"owner": "finance"}, sort_by=[{"column": "id", "direction": "desc"}])
    assert described(plan(catalog, evolved)) == [
        "replace sort order sort order: identity(id) desc nulls last",
        "set property owner: 'sales' -> 'finance'", "remove property tier",
        "set property floe.managed-properties: 'owner'"]
    apply(catalog, evolved)
    props = catalog.load_table((*NAMESPACE, "orders")).properties
    assert props["owner"] == "finance"
    assert "tier" not in props
    assert props["external"] == "kept"


def test_missing_namespace_refuses_when_the_engine_may_not_create_it(catalog):
    from floe_infra.iceberg.engine import plan_tables

    planned = plan_tables(catalog, [table(columns=BASE)], create_namespaces=False)[0]
    assert planned.action is Action.REFUSED
    assert "namespace bronze.sales does not exist" in planned.reasons[0]


def test_catalog_errors_name_the_table(catalog, monkeypatch):
    from floe_infra.iceberg import apply as apply_module

    apply(catalog, with_columns(BASE))
    desired = with_columns(replace(BASE, "qty", type="long"))
    planned = plan(catalog, desired)

    def refuse(*args, **kwargs):
        raise ValueError("Cannot change column type: qty: int -> long")

    monkeypatch.setattr(apply_module, "primitive", refuse)
    with pytest.raises(CatalogError, match=r"table bronze\.sales\.orders: the catalog refused the change: Cannot"):
        apply_module.apply_plan(catalog, planned, desired)
