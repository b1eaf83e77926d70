"""Iceberg types from floe.yaml columns, and a normalized field tree to compare desired with actual.

`FieldSpec` is the common form: the desired columns of a `TableConfig` and the fields of a live
table's schema both become trees of `FieldSpec`, so planning is a comparison of two trees.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

from floe_infra.config.tables import Column, FieldType

_PRIMITIVES: dict[str, IcebergType] = {
    "boolean": BooleanType(), "int": IntegerType(), "long": LongType(), "float": FloatType(),
    "double": DoubleType(), "date": DateType(), "time": TimeType(), "timestamp": TimestampType(),
    "timestamptz": TimestamptzType(), "string": StringType(), "uuid": UUIDType(), "binary": BinaryType(),
}
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
_FIXED = re.compile(r"^fixed\[(\d+)\]$")


@dataclass(frozen=True)
class FieldSpec:
    """One field, normalized: `type` is `long`, `decimal(10,2)`, `struct`, `list` or `map`.

    Children are the struct's fields, a list's `element`, or a map's `key` and `value`.
    """

    name: str
    type: str
    required: bool
    doc: str | None = None
    children: tuple[FieldSpec, ...] = ()
    renamed_from: str | None = field(default=None, compare=False)

    def child(self, name: str) -> FieldSpec | None:
        """A child by name."""
        return next((c for c in self.children if c.name == name), None)


def primitive(type_name: str) -> IcebergType:
    """The pyiceberg type of a normalized primitive type name."""
    if type_name in _PRIMITIVES:
        return _PRIMITIVES[type_name]
    if match := _DECIMAL.match(type_name):
        return DecimalType(int(match.group(1)), int(match.group(2)))
    if match := _FIXED.match(type_name):
        return FixedType(int(match.group(1)))
    raise ValueError(f"not a primitive Iceberg type: {type_name}")


def type_name(iceberg_type: IcebergType) -> str:
    """Normalized name of a pyiceberg type (the inverse of `primitive` for primitives)."""
    if isinstance(iceberg_type, StructType):
        return "struct"
    if isinstance(iceberg_type, ListType):
        return "list"
    if isinstance(iceberg_type, MapType):
        return "map"
    if isinstance(iceberg_type, DecimalType):
        return f"decimal({iceberg_type.precision},{iceberg_type.scale})"
    if isinstance(iceberg_type, FixedType):
        return f"fixed[{len(iceberg_type)}]"
    for name, known in _PRIMITIVES.items():
        if iceberg_type == known:
            return name
    raise ValueError(f"unsupported Iceberg type {iceberg_type}")


def spec_from_config(field_type: FieldType, name: str) -> FieldSpec:
    """A desired field from floe.yaml."""
    children: tuple[FieldSpec, ...] = ()
    if field_type.type == "struct":
        children = tuple(spec_from_config(c, c.name) for c in field_type.fields or [])
    elif field_type.type == "list" and field_type.element is not None:
        children = (spec_from_config(field_type.element, "element"),)
    elif field_type.type == "map" and field_type.key is not None and field_type.value is not None:
        # Map keys are always required in Iceberg.
        key = spec_from_config(field_type.key, "key")
        children = (FieldSpec("key", key.type, True, key.doc, key.children),
                    spec_from_config(field_type.value, "value"))
    renamed = field_type.renamed_from if isinstance(field_type, Column) else None
    return FieldSpec(name, field_type.type, field_type.required, field_type.doc, children, renamed)


def spec_from_iceberg(nested: NestedField) -> FieldSpec:
    """The field of a live table."""
    return FieldSpec(nested.name, type_name(nested.field_type), nested.required, nested.doc,
                     _children_of(nested.field_type))


def _children_of(iceberg_type: IcebergType) -> tuple[FieldSpec, ...]:
    if isinstance(iceberg_type, StructType):
        return tuple(spec_from_iceberg(f) for f in iceberg_type.fields)
    if isinstance(iceberg_type, ListType):
        return (FieldSpec("element", type_name(iceberg_type.element_type), iceberg_type.element_required,
                          None, _children_of(iceberg_type.element_type)),)
    if isinstance(iceberg_type, MapType):
        return (FieldSpec("key", type_name(iceberg_type.key_type), True, None, _children_of(iceberg_type.key_type)),
                FieldSpec("value", type_name(iceberg_type.value_type), iceberg_type.value_required, None,
                          _children_of(iceberg_type.value_type)))
    return ()


def column_names(schema: Schema) -> dict[int, str]:
    """Field id -> dotted column path (struct fields only, as partitions and sorts reference them).

    A plain walk: cheaper than pyiceberg's visitor-built index when planning thousands of tables.
    """
    names: dict[int, str] = {}
    pending: list[tuple[str, NestedField]] = [("", f) for f in schema.fields]
    while pending:
        prefix, nested = pending.pop()
        path = f"{prefix}{nested.name}"
        names[nested.field_id] = path
        if isinstance(nested.field_type, StructType):
            pending.extend((f"{path}.", child) for child in nested.field_type.fields)
    return names


def columns_of(schema: Schema) -> tuple[FieldSpec, ...]:
    """The top-level fields of a live schema."""
    return tuple(spec_from_iceberg(f) for f in schema.fields)


def iceberg_type(spec: FieldSpec, ids: Iterator[int]) -> IcebergType:
    """The pyiceberg type of a desired field, drawing nested field ids from `ids`."""
    if spec.type == "struct":
        return StructType(*[nested_field(c, ids) for c in spec.children])
    if spec.type == "list":
        element = spec.children[0]
        element_id = next(ids)
        return ListType(element_id, iceberg_type(element, ids), element_required=element.required)
    if spec.type == "map":
        key, value = spec.children
        key_id, value_id = next(ids), next(ids)
        return MapType(key_id, iceberg_type(key, ids), value_id, iceberg_type(value, ids),
                       value_required=value.required)
    return primitive(spec.type)


def nested_field(spec: FieldSpec, ids: Iterator[int]) -> NestedField:
    """A pyiceberg field for a desired column."""
    field_id = next(ids)
    return NestedField(field_id, spec.name, iceberg_type(spec, ids), required=spec.required, doc=spec.doc)


def schema_for(columns: Sequence[FieldSpec], identifier_fields: Sequence[str] = ()) -> Schema:
    """A new schema for desired columns (ids from 1; the catalog may reassign them)."""
    ids = count(1)
    fields = [nested_field(c, ids) for c in columns]
    by_name = {f.name: f.field_id for f in fields}
    return Schema(*fields, identifier_field_ids=[by_name[n] for n in identifier_fields])
