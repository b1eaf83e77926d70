"""Apply table plans with pyiceberg: one `create_table`, or one transaction per evolved table.

An unchanged plan commits nothing; a refused plan is never applied, and there is no code path
that retypes a column other than by an Iceberg promotion. Inside a schema update, columns are
addressed by their names *before* the update's renames (pyiceberg's rule); partition fields,
sort order and identifier fields by their names after it. Conflicts and lost answers are the
engine's to handle (`floe_infra.iceberg.engine`): they pass through here untouched.
"""

from __future__ import annotations

import json

import pydantic
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import ValidationError
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.sorting import NullOrder, SortDirection, SortField, SortOrder
from pyiceberg.table.update.schema import UpdateSchema
from pyiceberg.transforms import parse_transform

from floe_infra.errors import CatalogError
from floe_infra.iceberg.plan import (
    MANAGED_BY,
    MANAGED_COLUMNS,
    MANAGED_PROPERTIES,
    Action,
    Change,
    ChangeKind,
    DesiredTable,
    TablePlan,
    desired_sort,
    managed_columns_value,
)
from floe_infra.iceberg.types import iceberg_type, primitive, schema_for

_SCHEMA_KINDS = {ChangeKind.ADD_COLUMN, ChangeKind.DROP_COLUMN, ChangeKind.RENAME_COLUMN, ChangeKind.WIDEN_TYPE,
                 ChangeKind.MAKE_OPTIONAL, ChangeKind.MAKE_REQUIRED, ChangeKind.UPDATE_DOC,
                 ChangeKind.SET_IDENTIFIER_FIELDS}
# pyiceberg wants its incompatible-changes switch for these opted-in ones; never for types.
_INCOMPATIBLE = {ChangeKind.MAKE_REQUIRED, ChangeKind.DROP_COLUMN}


def default_partition_name(column: str, transform: str) -> str:
    """pyiceberg's name for an unnamed partition field (so create and evolve name fields alike)."""
    leaf = column.replace(".", "_")
    if transform == "identity":
        return leaf
    if transform.startswith("bucket["):
        return f"{leaf}_bucket_{transform[7:-1]}"
    if transform.startswith("truncate["):
        return f"{leaf}_trunc_{transform[9:-1]}"
    return f"{leaf}_{transform}"


def partition_spec(schema: Schema, desired: DesiredTable) -> PartitionSpec:
    """The partition spec of a new table."""
    fields = [
        PartitionField(source_id=schema.find_field(f.column).field_id, field_id=1000 + i,
                       transform=parse_transform(f.transform),
                       name=f.name or default_partition_name(f.column, f.transform))
        for i, f in enumerate(desired.config.partition_by)
    ]
    return PartitionSpec(*fields, spec_id=0)


def sort_order(schema: Schema, desired: DesiredTable) -> SortOrder:
    """The sort order of a new table."""
    fields = [SortField(source_id=schema.find_field(column).field_id, transform=parse_transform(transform),
                        direction=SortDirection.ASC if direction == "asc" else SortDirection.DESC,
                        null_order=NullOrder.NULLS_FIRST if nulls == "first" else NullOrder.NULLS_LAST)
              for column, transform, direction, nulls in desired_sort(desired.config)]
    return SortOrder(*fields, order_id=1) if fields else SortOrder(order_id=0)


def create(catalog: Catalog, desired: DesiredTable) -> Table:
    """Create a table as declared, in one catalog call."""
    schema = schema_for(desired.columns, desired.config.identifier_fields)
    return catalog.create_table(
        desired.identifier, schema, partition_spec=partition_spec(schema, desired),
        sort_order=sort_order(schema, desired), properties={**desired.properties, **desired.bookkeeping})


def apply_plan(catalog: Catalog, plan: TablePlan, desired: DesiredTable) -> bool:
    """Apply one plan; returns whether anything was committed.

    Raises:
        CatalogError: When the catalog rejects the change itself (with the table's name and the reason).
    """
    if plan.action in (Action.UNCHANGED, Action.REFUSED):
        return False
    try:
        if plan.action is Action.CREATE:
            create(catalog, desired)
            return True
        if plan.rename_from is not None:
            catalog.rename_table(plan.rename_from, desired.identifier)
        table = catalog.load_table(desired.identifier)
        _evolve(table, plan, desired)
    except (pydantic.ValidationError, json.JSONDecodeError):
        raise  # a garbled answer (both are ValueErrors), not a refusal: the engine decides
    except (ValidationError, ValueError) as exc:
        raise CatalogError(f"table {plan.name}: the catalog refused the change: {exc}") from exc
    return True


def _evolve(table: Table, plan: TablePlan, desired: DesiredTable) -> None:
    changes = [c for c in plan.changes if c.kind is not ChangeKind.RENAME_TABLE]
    schema_changes = [c for c in changes if c.kind in _SCHEMA_KINDS]
    with table.transaction() as tx:
        if schema_changes:
            incompatible = any(c.kind in _INCOMPATIBLE for c in schema_changes)
            with tx.update_schema(allow_incompatible_changes=incompatible) as update:
                for change in schema_changes:
                    _schema_change(update, change, desired)
        partition_changes = [c for c in changes if c.kind in (ChangeKind.ADD_PARTITION_FIELD,
                                                              ChangeKind.REMOVE_PARTITION_FIELD)]
        if partition_changes:
            with tx.update_spec() as spec:
                for change in partition_changes:
                    if change.kind is ChangeKind.REMOVE_PARTITION_FIELD:
                        spec.remove_field(change.detail.removeprefix("field "))
                wanted = {f"{f.transform}({f.column})": f for f in desired.config.partition_by}
                for change in partition_changes:
                    if change.kind is ChangeKind.ADD_PARTITION_FIELD:
                        f = wanted[change.target]
                        spec.add_field(f.column, parse_transform(f.transform),
                                       f.name or default_partition_name(f.column, f.transform))
        if any(c.kind is ChangeKind.REPLACE_SORT_ORDER for c in changes):
            with tx.update_sort_order() as order:
                for column, transform, direction, nulls in desired_sort(desired.config):
                    null_order = NullOrder.NULLS_FIRST if nulls == "first" else NullOrder.NULLS_LAST
                    method = order.asc if direction == "asc" else order.desc
                    method(column, parse_transform(transform), null_order)
        to_set = {c.target: _property_value(c.target, desired) for c in changes if c.kind is ChangeKind.SET_PROPERTY}
        managed = managed_columns_value(desired.columns)
        if table.properties.get(MANAGED_COLUMNS) != managed:
            to_set[MANAGED_COLUMNS] = managed  # the declared columns, after this change: the rest is drift
        if to_set:
            tx.set_properties(**to_set)
        to_remove = [c.target for c in changes if c.kind is ChangeKind.REMOVE_PROPERTY]
        if to_remove:
            tx.remove_properties(*to_remove)


def _property_value(key: str, desired: DesiredTable) -> str:
    return desired.bookkeeping[key] if key in (MANAGED_PROPERTIES, MANAGED_BY) else desired.properties[key]


def _schema_change(update: UpdateSchema, change: Change, desired: DesiredTable) -> None:
    path = change.old_path
    spec = change.spec
    kind = change.kind
    if kind is ChangeKind.ADD_COLUMN and spec is not None:
        field_type = iceberg_type(spec, iter(range(1, 10_000)))
        update.add_column(path, field_type, doc=spec.doc, required=spec.required)
    elif kind is ChangeKind.DROP_COLUMN:
        update.delete_column(path)
    elif kind is ChangeKind.RENAME_COLUMN:
        update.rename_column(path, change.detail.removeprefix("-> "))
    elif kind is ChangeKind.WIDEN_TYPE and spec is not None:
        update.update_column(path, field_type=primitive(spec.type))
    elif kind is ChangeKind.MAKE_OPTIONAL:
        update.make_column_optional(path)
    elif kind is ChangeKind.MAKE_REQUIRED:
        update.update_column(path, required=True)
    elif kind is ChangeKind.UPDATE_DOC and spec is not None:
        update.update_column(path, doc=spec.doc)
    elif kind is ChangeKind.SET_IDENTIFIER_FIELDS:
        update.set_identifier_fields(*desired.config.identifier_fields)
