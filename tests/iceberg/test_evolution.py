"""Table evolution against a real SqlCatalog: safe changes apply, breaking ones are refused."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
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
    (lambda c: replace(c, "qty", type="string"), "change type qty: int -> string", "change_types"),
    (lambda c: replace(c, "id", type="int"), "change type id: long -> int", "change_types"),
    (lambda c: replace(c, "amount", type="decimal(10,3)"),
     "change type amount: decimal(10,2) -> decimal(10,3) (decimal scale changes)", "change_types"),
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


def test_type_change_and_make_required_apply_with_their_opt_ins(catalog):
    apply(catalog, with_columns(BASE))
    changed = with_columns(replace(replace(BASE, "qty", type="string"), "note", required=True),
                           allow_breaking_changes=["change_types", "make_required"])
    apply(catalog, changed)
    schema = catalog.load_table((*NAMESPACE, "orders")).schema()
    assert str(schema.find_field("qty").field_type) == "string"
    assert schema.find_field("note").required


def test_new_required_column_is_refused_whatever_the_opt_ins(catalog):
    apply(catalog, with_columns(BASE))
    planned = plan(catalog, with_columns([*BASE, {"name": "region", "type": "string", "required": True}],
                                         allow_breaking_changes=["make_required", "change_types"]))
    assert planned.action is Action.REFUSED
    assert planned.reasons == ("new column region is required, and existing rows have no value for it; "
                               "add it as optional",)


def test_data_written_before_an_evolution_is_readable_after_it(catalog):
    apply(catalog, with_columns(BASE))
    orders = catalog.load_table((*NAMESPACE, "orders"))
    orders.append(pa.table({
        "id": pa.array([1, 2], pa.int64()), "qty": pa.array([3, 4], pa.int32()),
        "price": pa.array([1.5, 2.5], pa.float32()),
        "amount": pa.array([__import__("decimal").Decimal("9.99")] * 2, pa.decimal128(10, 2)),
        "note": pa.array(["a", "b"]),
    }, schema=orders.schema().as_arrow()))
    evolved = with_columns([*replace(replace(BASE, "qty", type="long"), "note", name="remark", renamed_from="note"),
                            {"name": "coupon", "type": "string"}])
    apply(catalog, evolved)
    rows = catalog.load_table((*NAMESPACE, "orders")).scan().to_arrow().sort_by("id").to_pylist()
    assert rows == [
        {"id": 1, "qty": 3, "price": 1.5, "amount": rows[0]["amount"], "remark": "a", "coupon": None},
        {"id": 2, "qty": 4, "price": 2.5, "amount": rows[1]["amount"], "remark": "b", "coupon": None},
    ]
    assert str(rows[0]["amount"]) == "9.99"


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
                                         allow_breaking_changes=["change_types"]))
    assert planned.action is Action.REFUSED
    assert planned.reasons == ("address cannot change between struct and string; add a new column instead",)


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
    desired = with_columns(replace(BASE, "qty", type="string"), allow_breaking_changes=["change_types"])
    planned = plan(catalog, desired)

    def refuse(*args, **kwargs):
        raise ValueError("Cannot change column type: qty: int -> string")

    monkeypatch.setattr(apply_module, "primitive", refuse)
    with pytest.raises(CatalogError, match=r"table bronze\.sales\.orders: the catalog refused the change: Cannot"):
        apply_module.apply_plan(catalog, planned, desired)
