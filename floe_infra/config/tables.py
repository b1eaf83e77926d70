"""Iceberg table declarations in floe.yaml (`tables:`), validated without touching a catalog.

A table names its layer; the platform turns the layer into a namespace and location. Types are
Iceberg's: primitives as strings (`long`, `decimal(12,2)`, `fixed[16]`), nested types with
`type: struct|list|map` and their `fields`, `element`, `key` and `value`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, field_validator, model_validator

from floe_infra.config.base import FloeModel, ProfileName, check_iceberg_identifier

PRIMITIVE_TYPES = frozenset(
    {"boolean", "int", "long", "float", "double", "date", "time", "timestamp", "timestamptz", "string",
     "uuid", "binary"}
)
DECIMAL_RE = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
FIXED_RE = re.compile(r"^fixed\[\s*(\d+)\s*\]$")
NESTED_TYPES = frozenset({"struct", "list", "map"})
# A table property naming the time partition column whose old partitions the layer's retention deletes
# (floe_infra/iceberg/rows.py); without it a table keeps every row.
ROW_RETENTION_PROPERTY = "floe.retention.column"
TIME_TYPES = frozenset({"date", "timestamp", "timestamptz"})
TIME_TRANSFORMS = frozenset({"year", "month", "day", "hour", "identity"})
TRANSFORM_RE = re.compile(r"^(identity|year|month|day|hour|void|bucket\[(\d+)\]|truncate\[(\d+)\])$")


def check_type_name(value: str) -> str:
    """An Iceberg type name: a primitive, decimal(P,S), fixed[L], or struct/list/map."""
    text = value.strip().lower()
    if text in PRIMITIVE_TYPES or text in NESTED_TYPES:
        return text
    if match := DECIMAL_RE.fullmatch(text):
        precision, scale = int(match.group(1)), int(match.group(2))
        if not 1 <= precision <= 38 or scale > precision:
            raise ValueError(f"'{value}': decimal precision must be 1..38 and scale at most the precision")
        return f"decimal({precision},{scale})"
    if match := FIXED_RE.fullmatch(text):
        if int(match.group(1)) < 1:
            raise ValueError(f"'{value}': fixed length must be at least 1")
        return f"fixed[{int(match.group(1))}]"
    raise ValueError(
        f"'{value}' is not an Iceberg type; use one of {', '.join(sorted(PRIMITIVE_TYPES))}, "
        "decimal(P,S), fixed[L], struct, list or map"
    )


def check_transform(value: str) -> str:
    """A partition transform: identity, year, month, day, hour, bucket[N], truncate[W]."""
    text = value.strip().lower().replace(" ", "")
    match = TRANSFORM_RE.fullmatch(text)
    if not match:
        raise ValueError(f"'{value}' is not a partition transform; use identity, year, month, day, hour, "
                         "bucket[N] or truncate[W]")
    if (match.group(2) or match.group(3) or "1") == "0":
        raise ValueError(f"'{value}': the bucket count or truncate width must be at least 1")
    return text


TypeName = Annotated[str, AfterValidator(check_type_name)]
ColumnName = Annotated[str, AfterValidator(check_iceberg_identifier)]
Transform = Annotated[str, AfterValidator(check_transform)]


class FieldType(FloeModel):
    """A type, possibly nested. Used for list elements and map keys/values."""

    type: TypeName = Field(description="Iceberg type.")
    required: bool = Field(default=False, description="Whether values can be null.")
    doc: str | None = Field(default=None, description="Documentation.")
    fields: list[Column] | None = Field(default=None, description="struct: its fields.")
    element: FieldType | None = Field(default=None, description="list: its element type.")
    key: FieldType | None = Field(default=None, description="map: its key type (always required).")
    value: FieldType | None = Field(default=None, description="map: its value type.")

    @field_validator("element", "key", "value", mode="before")
    @classmethod
    def expand_shorthand(cls, raw: Any) -> Any:
        """`element: string` is short for `element: {type: string}`."""
        return {"type": raw} if isinstance(raw, str) else raw

    @model_validator(mode="after")
    def check_nested_parts(self) -> Self:
        """struct needs fields, list needs element, map needs key and value, primitives none."""
        needs = {"struct": {"fields"}, "list": {"element"}, "map": {"key", "value"}}.get(self.type, set())
        given = {name for name in ("fields", "element", "key", "value") if getattr(self, name) is not None}
        if missing := needs - given:
            raise ValueError(f"type {self.type} needs {', '.join(sorted(missing))}")
        if extra := given - needs:
            raise ValueError(f"type {self.type} does not take {', '.join(sorted(extra))}")
        if self.type == "struct" and self.fields is not None:
            names = [f.name for f in self.fields]
            if dupes := sorted({n for n in names if names.count(n) > 1}):
                raise ValueError(f"struct has duplicate field names: {', '.join(dupes)}")
        return self


class Column(FieldType):
    """A named column (or struct field)."""

    name: ColumnName = Field(description="Column name.")
    renamed_from: ColumnName | None = Field(
        default=None, description="The column's previous name: renames it in place, keeping its data."
    )


class SortDirection(StrEnum):
    """Sort direction."""

    ASC = "asc"
    DESC = "desc"


class NullOrder(StrEnum):
    """Where nulls sort."""

    FIRST = "first"
    LAST = "last"


class PartitionField(FloeModel):
    """One partition field: a transform of a source column."""

    column: str = Field(min_length=1, description="Source column (a.b for nested fields).")
    transform: Transform = Field(default="identity", description="identity, year, month, day, hour, "
                                 "bucket[N] or truncate[W].")
    name: ColumnName | None = Field(default=None, description="Partition field name; derived if unset.")


class SortField(FloeModel):
    """One sort key."""

    column: str = Field(min_length=1, description="Source column.")
    direction: SortDirection = Field(default=SortDirection.ASC, description="asc or desc.")
    nulls: NullOrder | None = Field(default=None, description="first or last; asc->first, desc->last.")
    transform: Transform = Field(default="identity", description="Transform applied before sorting.")


class BreakingChange(StrEnum):
    """Kinds of schema changes that break readers or lose data, allowed only by opt-in.

    There is no opt-in for type changes: Iceberg promotes int -> long, float -> double and decimal
    precision by itself, and nothing else can retype a column without leaving its data unreadable.
    """

    DROP_COLUMNS = "drop_columns"
    MAKE_REQUIRED = "make_required"
    REPLACE_PARTITIONING = "replace_partitioning"


class TableConfig(FloeModel):
    """One Iceberg table owned by the pipeline."""

    name: ColumnName = Field(description="Table name inside the pipeline's namespace of its layer.")
    layer: ProfileName = Field(description="Layer (platform.yaml `layers`) the table belongs to.")
    doc: str | None = Field(default=None, description="Table comment.")
    columns: list[Column] = Field(min_length=1, description="Columns, in order.")
    identifier_fields: list[ColumnName] = Field(
        default_factory=list, description="Row identity (required primitive columns)."
    )
    partition_by: list[PartitionField] = Field(default_factory=list, description="Partition spec.")
    sort_by: list[SortField] = Field(default_factory=list, description="Sort order.")
    properties: dict[str, str] = Field(default_factory=dict, description="Table properties.")
    renamed_from: ColumnName | None = Field(
        default=None, description="Previous table name in the same namespace: renames it in place."
    )
    allow_breaking_changes: list[BreakingChange] = Field(
        default_factory=list,
        description="Opt-in for changes that break readers or lose data: drop_columns, make_required, "
                    "replace_partitioning.",
    )
    drop_when_removed: bool = Field(
        default=False, description="Drop the table (and purge its data) when its declaration is removed from "
                                   "floe.yaml on its own; never when it is renamed, moved or replaced."
    )
    adopt: bool = Field(
        default=False, description="Take over a table that exists but was not created by this stack, when it "
                                   "matches this declaration exactly."
    )

    @field_validator("allow_breaking_changes", mode="before")
    @classmethod
    def check_no_type_change_opt_in(cls, raw: Any) -> Any:
        """`change_types` is gone: no opt-in can make an in-place retype safe."""
        if isinstance(raw, list) and "change_types" in raw:
            raise ValueError("change_types is not an opt-in any more: Iceberg can only promote int -> long, "
                             "float -> double and decimal precision (floe-infra does those without opt-in), and any "
                             "other type change would leave existing data unreadable; remove change_types, and "
                             "add a new column of the new type instead (see docs/tables.md)")
        return raw

    @model_validator(mode="after")
    def check_columns(self) -> Self:
        """Unique column names; identifiers, partitions and sorts name existing columns."""
        names = [c.name for c in self.columns]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"duplicate column names: {', '.join(dupes)}")
        known = _column_paths(self.columns)
        for ident in self.identifier_fields:
            col = next((c for c in self.columns if c.name == ident), None)
            if col is None:
                raise ValueError(f"identifier field '{ident}' is not a column")
            if not col.required or col.type in NESTED_TYPES or col.type in {"float", "double"}:
                raise ValueError(f"identifier field '{ident}' must be a required, non-floating primitive")
        for kind, entries in (("partition", self.partition_by), ("sort", self.sort_by)):
            for entry in entries:
                if entry.column not in known:
                    raise ValueError(f"{kind} column '{entry.column}' is not a column of the table")
        return self

    @model_validator(mode="after")
    def check_row_retention(self) -> Self:
        """`floe.retention.column` names a date/timestamp column the table is partitioned by in time."""
        column = self.properties.get(ROW_RETENTION_PROPERTY)
        if column is None:
            return self
        col = next((c for c in self.columns if c.name == column), None)
        if col is None or col.type not in TIME_TYPES:
            raise ValueError(f"properties.{ROW_RETENTION_PROPERTY} is '{column}': it must name a top-level "
                             f"{', '.join(sorted(TIME_TYPES))} column of the table")
        if not any(p.column == column and p.transform in TIME_TRANSFORMS for p in self.partition_by):
            raise ValueError(f"properties.{ROW_RETENTION_PROPERTY} is '{column}', but partition_by has no "
                             f"{', '.join(sorted(TIME_TRANSFORMS))} partition on it; add "
                             f"{{column: {column}, transform: day}} so whole old partitions can be deleted")
        return self


def _column_paths(columns: list[Column], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for col in columns:
        path = f"{prefix}{col.name}"
        out.add(path)
        if col.fields:
            out |= _column_paths(col.fields, f"{path}.")
    return out


FieldType.model_rebuild()
