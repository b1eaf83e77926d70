"""Plan how a live Iceberg table becomes the table floe.yaml declares.

A plan is `create`, `adopt`, `unchanged`, `evolve` with the exact list of changes, or `refused`
with the reasons. Safe evolution is planned freely: optional columns added, types promoted
(int->long, float->double, decimal precision), renames through `renamed_from`,
required->optional, docs, new partition fields, sort order, properties. Dropping columns,
optional->required and removing or replacing partition fields are refused unless the table opts
in with `allow_breaking_changes`. Never applied, whatever the opt-ins: any other type change
(Iceberg reads old data files through promotions only), a new required column (existing rows
have no value), a struct/list/map turned into something else.

Which live columns floe-infra manages is recorded on the table (`floe.managed-columns`): a
managed column missing from floe.yaml is a drop; a column added outside floe-infra is drift,
shown and left alone. Whose table it is decides `floe_infra.iceberg.ownership`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from floe_infra.config.tables import BreakingChange, TableConfig
from floe_infra.iceberg.types import FieldSpec, column_names, columns_of, spec_from_config

if TYPE_CHECKING:
    # pyiceberg's table package costs the pipeline program most of its start-up; declaring tables needs none of it.
    from pyiceberg.table.metadata import TableMetadata

MANAGED_PROPERTIES = "floe.managed-properties"
MANAGED_COLUMNS = "floe.managed-columns"
MANAGED_BY = "floe.managed-by"
COMMENT = "comment"

Path = tuple[str, ...]


class Action(StrEnum):
    """What applying a plan does to a table."""

    CREATE = "create"
    ADOPT = "adopt"
    EVOLVE = "evolve"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


class ChangeKind(StrEnum):
    """One kind of table change."""

    RENAME_TABLE = "rename table"
    ADD_COLUMN = "add column"
    DROP_COLUMN = "drop column"
    RENAME_COLUMN = "rename column"
    WIDEN_TYPE = "widen type"
    CHANGE_TYPE = "change type"
    MAKE_OPTIONAL = "make optional"
    MAKE_REQUIRED = "make required"
    UPDATE_DOC = "update doc"
    SET_IDENTIFIER_FIELDS = "set identifier fields"
    ADD_PARTITION_FIELD = "add partition field"
    REMOVE_PARTITION_FIELD = "remove partition field"
    REPLACE_SORT_ORDER = "replace sort order"
    SET_PROPERTY = "set property"
    REMOVE_PROPERTY = "remove property"


@dataclass(frozen=True)
class Change:
    """One change of a plan.

    Attributes:
        kind: What changes.
        target: Column path, property key, partition or sort description.
        detail: Old -> new, when there is one.
        breaking: The opt-in this change needs, if it breaks readers or loses data.
        forbidden: Why it can never be applied (then no opt-in helps).
        old_path: The column's path in the live schema (names before renames).
        spec: The desired field, for added or updated columns.
    """

    kind: ChangeKind
    target: str
    detail: str = ""
    breaking: BreakingChange | None = None
    forbidden: str | None = None
    old_path: Path = ()
    spec: FieldSpec | None = field(default=None, compare=False)

    def describe(self) -> str:
        """`add column email (string)`, `widen type amount: decimal(10,2) -> decimal(12,2)`."""
        text = f"{self.kind} {self.target}"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True)
class TablePlan:
    """The plan of one table."""

    identifier: Path
    action: Action
    changes: tuple[Change, ...] = ()
    reasons: tuple[str, ...] = ()
    rename_from: Path | None = None
    drift: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """Dotted identifier."""
        return ".".join(self.identifier)


@dataclass(frozen=True)
class DesiredTable:
    """A table from floe.yaml, placed in its namespace.

    Attributes:
        namespace: The pipeline's namespace in the table's layer.
        config: The declaration.
        owner: The Pulumi stack that manages the table (`floe.managed-by`); None from the command line.
    """

    namespace: Path
    config: TableConfig
    owner: str | None = None

    @property
    def identifier(self) -> Path:
        """`(namespace levels..., table)`."""
        return (*self.namespace, self.config.name)

    @property
    def previous_identifier(self) -> Path | None:
        """The identifier before a rename, if `renamed_from` is set."""
        return (*self.namespace, self.config.renamed_from) if self.config.renamed_from else None

    @property
    def columns(self) -> tuple[FieldSpec, ...]:
        """Desired columns as field specs."""
        return tuple(spec_from_config(c, c.name) for c in self.config.columns)

    @property
    def properties(self) -> dict[str, str]:
        """Desired table properties (the table doc is the `comment` property)."""
        props = dict(self.config.properties)
        if self.config.doc:
            props[COMMENT] = self.config.doc
        return props

    @property
    def bookkeeping(self) -> dict[str, str]:
        """The properties floe-infra keeps on the tables it manages, as they are after an apply."""
        props = self.properties
        marks = {MANAGED_PROPERTIES: ",".join(sorted(props)), MANAGED_COLUMNS: managed_columns_value(self.columns)}
        return {**marks, MANAGED_BY: self.owner} if self.owner else marks


def column_paths(specs: Iterable[FieldSpec], prefix: Path = ()) -> list[str]:
    """Dotted paths of fields and their nested fields (`shipping.street`, `tags.element`)."""
    paths = []
    for spec in specs:
        path = (*prefix, spec.name)
        paths += [".".join(path), *column_paths(spec.children, path)]
    return paths


def managed_columns_value(specs: Iterable[FieldSpec]) -> str:
    """The `floe.managed-columns` property of a table with these columns."""
    return json.dumps(sorted(column_paths(specs)), separators=(",", ":"))


def managed_columns(properties: dict[str, str]) -> frozenset[str] | None:
    """The columns floe-infra manages on a live table; None when unrecorded (then it manages all)."""
    raw = properties.get(MANAGED_COLUMNS)
    try:
        paths = json.loads(raw) if raw is not None else None
    except ValueError:
        return None  # damaged outside floe-infra: the safe reading is "every column is managed"
    return frozenset(str(p) for p in paths) if isinstance(paths, list) else None


def default_null_order(direction: str) -> str:
    """Iceberg's default: nulls first when ascending, last when descending."""
    return "first" if direction == "asc" else "last"


def desired_sort(config: TableConfig) -> list[tuple[str, str, str, str]]:
    """Desired sort order as (column, transform, direction, nulls)."""
    return [(f.column, f.transform, str(f.direction), str(f.nulls or default_null_order(str(f.direction))))
            for f in config.sort_by]


def _promotes(old: str, new: str) -> bool:
    """Whether Iceberg reads `old` data as `new` (format v1/v2 type promotions)."""
    if (old, new) in {("int", "long"), ("float", "double")}:
        return True
    if old.startswith("decimal(") and new.startswith("decimal("):
        (p1, s1), (p2, s2) = (tuple(map(int, t[8:-1].split(","))) for t in (old, new))
        return s1 == s2 and p2 > p1
    return False


def _retype_path(target: str, old: str, new: str) -> str:
    """Why a type change is never applied, and the data-preserving way to get there."""
    leaf = target.rsplit(".", 1)[-1]
    suggestion = f"{leaf}_{new.split('(')[0].split('[')[0]}"
    return (f"change type {target}: {old} -> {new} is never applied, whatever the opt-ins: Iceberg only promotes "
            "int -> long, float -> double and a decimal's precision (same scale), and retyping a column in place "
            "would leave its existing data unreadable. To change it without losing data: add a new column (for "
            f"example {suggestion}: {new}), backfill it from {target}, move readers to it, then remove {target} in "
            "a later change with `allow_breaking_changes: [drop_columns]`")


class _SchemaDiff:
    """Compare desired and live field trees; collect changes, drift and the rename map.

    `managed` holds the live column paths floe-infra manages (None: all of them): an undeclared
    managed column is a drop, an undeclared unmanaged one is drift.
    """

    def __init__(self, managed: frozenset[str] | None) -> None:
        self.managed = managed
        self.changes: list[Change] = []
        self.drift: list[str] = []
        self.renamed: dict[Path, Path] = {}  # old path -> new path

    def fields(self, desired: tuple[FieldSpec, ...], actual: tuple[FieldSpec, ...], new_prefix: Path,
               old_prefix: Path) -> None:
        by_name = {f.name: f for f in actual}
        matched: set[str] = set()
        for want in desired:
            source = want.name if want.name in by_name else (
                want.renamed_from if want.renamed_from in by_name else None)
            new_path = (*new_prefix, want.name)
            if source is None or source in matched:
                self._add(want, new_path, old_prefix)
                continue
            matched.add(source)
            have = by_name[source]
            old_path = (*old_prefix, have.name)
            if have.name != want.name:
                self.renamed[old_path] = new_path
                self.changes.append(Change(ChangeKind.RENAME_COLUMN, ".".join(old_path), f"-> {want.name}",
                                           old_path=old_path))
            self.field(want, have, new_path, old_path)
        for have in actual:
            if have.name not in matched:
                path = (*old_prefix, have.name)
                dotted = ".".join(path)
                if self.managed is None or dotted in self.managed:
                    self.changes.append(Change(ChangeKind.DROP_COLUMN, dotted, breaking=BreakingChange.DROP_COLUMNS,
                                               old_path=path))
                else:
                    self.drift.append(f"column {dotted}: {_type_text(have)} (added outside floe-infra; left as is)")

    def _add(self, want: FieldSpec, new_path: Path, old_parent: Path) -> None:
        forbidden = None
        if want.required:
            forbidden = (f"new column {'.'.join(new_path)} is required, and existing rows have no value for it; "
                         "add it as optional")
        self.changes.append(Change(ChangeKind.ADD_COLUMN, ".".join(new_path), _type_text(want), forbidden=forbidden,
                                   old_path=(*old_parent, want.name), spec=want))

    def field(self, want: FieldSpec, have: FieldSpec, new_path: Path, old_path: Path) -> None:
        target = ".".join(new_path)
        if want.type != have.type:
            if _promotes(have.type, want.type):
                self.changes.append(Change(ChangeKind.WIDEN_TYPE, target, f"{have.type} -> {want.type}",
                                           old_path=old_path, spec=want))
            else:
                self.changes.append(Change(ChangeKind.CHANGE_TYPE, target, f"{have.type} -> {want.type}",
                                           forbidden=_retype_path(target, have.type, want.type),
                                           old_path=old_path, spec=want))
        elif want.children or have.children:
            if want.type == "struct":
                self.fields(want.children, have.children, new_path, old_path)
            else:
                for child_want, child_have in zip(want.children, have.children, strict=True):
                    self.field(child_want, child_have, (*new_path, child_want.name), (*old_path, child_have.name))
        if want.required != have.required and want.name != "key":
            if want.required:
                self.changes.append(Change(ChangeKind.MAKE_REQUIRED, target, breaking=BreakingChange.MAKE_REQUIRED,
                                           old_path=old_path))
            else:
                self.changes.append(Change(ChangeKind.MAKE_OPTIONAL, target, old_path=old_path))
        if want.doc is not None and want.doc != have.doc:
            self.changes.append(Change(ChangeKind.UPDATE_DOC, target, repr(want.doc), old_path=old_path, spec=want))


def _type_text(spec: FieldSpec) -> str:
    text = spec.type
    if spec.type == "list":
        text = f"list<{_type_text(spec.children[0])}>"
    elif spec.type == "map":
        text = f"map<{_type_text(spec.children[0])}, {_type_text(spec.children[1])}>"
    elif spec.type == "struct":
        text = "struct<" + ", ".join(f"{c.name}: {_type_text(c)}" for c in spec.children) + ">"
    return f"{text}{' required' if spec.required else ''}"


def _rename(path: str, renamed: dict[Path, Path]) -> str:
    """A live column path in the desired names (after renames of it or its parents)."""
    parts = tuple(path.split("."))
    for cut in range(len(parts), 0, -1):
        if parts[:cut] in renamed:
            return ".".join((*renamed[parts[:cut]], *parts[cut:]))
    return path


def _partition_changes(desired: TableConfig, metadata: TableMetadata, names: dict[int, str],
                       renamed: dict[Path, Path]) -> list[Change]:
    have = []
    for pf in metadata.spec().fields:
        if str(pf.transform) == "void":
            continue
        have.append((_rename(names.get(pf.source_id, ""), renamed), str(pf.transform), pf.name))
    want = [(f.column, f.transform, f.name) for f in desired.partition_by]
    changes = []
    have_keys = {(column, transform) for column, transform, _ in have}
    want_keys = {(column, transform) for column, transform, _ in want}
    for column, transform, name in have:
        if (column, transform) not in want_keys:
            changes.append(Change(ChangeKind.REMOVE_PARTITION_FIELD, f"{transform}({column})", f"field {name}",
                                  breaking=BreakingChange.REPLACE_PARTITIONING))
    for column, transform, name in want:
        if (column, transform) not in have_keys:
            changes.append(Change(ChangeKind.ADD_PARTITION_FIELD, f"{transform}({column})",
                                  f"field {name}" if name else ""))
    return changes


def _sort_changes(desired: TableConfig, metadata: TableMetadata, names: dict[int, str],
                  renamed: dict[Path, Path]) -> list[Change]:
    from pyiceberg.table.sorting import NullOrder, SortDirection  # a live table is planned: pyiceberg is loaded

    order = metadata.sort_order_by_id(metadata.default_sort_order_id)
    have = [(_rename(names.get(f.source_id, ""), renamed), str(f.transform),
             "asc" if f.direction == SortDirection.ASC else "desc",
             "first" if f.null_order == NullOrder.NULLS_FIRST else "last")
            for f in (order.fields if order else [])]
    want = desired_sort(desired)
    if have == want:
        return []
    text = ", ".join(f"{t}({c}) {d} nulls {n}" for c, t, d, n in want) or "unsorted"
    return [Change(ChangeKind.REPLACE_SORT_ORDER, "sort order", text)]


def _property_changes(desired: DesiredTable, current: dict[str, str]) -> list[Change]:
    want = desired.properties
    managed_before = {k for k in current.get(MANAGED_PROPERTIES, "").split(",") if k}
    changes = [Change(ChangeKind.SET_PROPERTY, key,
                      f"{current.get(key)!r} -> {value!r}" if key in current else repr(value))
               for key, value in sorted(want.items()) if current.get(key) != value]
    changes += [Change(ChangeKind.REMOVE_PROPERTY, key) for key in sorted(managed_before - set(want)) if key in current]
    managed = ",".join(sorted(want))
    if current.get(MANAGED_PROPERTIES, "") != managed:
        changes.append(Change(ChangeKind.SET_PROPERTY, MANAGED_PROPERTIES, repr(managed)))
    if desired.owner and current.get(MANAGED_BY) != desired.owner:
        changes.append(Change(ChangeKind.SET_PROPERTY, MANAGED_BY, repr(desired.owner)))
    return changes


def plan_create(desired: DesiredTable) -> TablePlan:
    """The plan of a table that does not exist yet (its changes list what it is created with)."""
    config = desired.config
    changes = [Change(ChangeKind.ADD_COLUMN, c.name, _type_text(c), spec=c) for c in desired.columns]
    changes += [Change(ChangeKind.ADD_PARTITION_FIELD, f"{f.transform}({f.column})") for f in config.partition_by]
    if config.sort_by:
        text = ", ".join(f"{t}({c}) {d} nulls {n}" for c, t, d, n in desired_sort(config))
        changes.append(Change(ChangeKind.REPLACE_SORT_ORDER, "sort order", text))
    if config.identifier_fields:
        changes.append(Change(ChangeKind.SET_IDENTIFIER_FIELDS, ", ".join(config.identifier_fields)))
    return TablePlan(desired.identifier, Action.CREATE, tuple(changes))


def refusals(changes: Iterable[Change], allowed: Iterable[BreakingChange]) -> list[tuple[Change, str]]:
    """The changes that refuse a plan, each with its reason: those never applied, then those lacking their opt-in."""
    changes, allowed = list(changes), set(allowed)
    out = [(c, c.forbidden) for c in changes if c.forbidden]
    out += [(c, f"{c.describe()} is refused: it breaks readers or loses data; allow it with "
                f"`allow_breaking_changes: [{c.breaking}]`") for c in changes
            if c.breaking is not None and c.breaking not in allowed and not c.forbidden]
    return out


def plan_evolution(desired: DesiredTable, metadata: TableMetadata, rename_from: Path | None = None) -> TablePlan:
    """The plan of an existing table (found under its name, or under `renamed_from`)."""
    config = desired.config
    schema = metadata.schema()
    names = column_names(schema)
    diff = _SchemaDiff(managed_columns(dict(metadata.properties)))
    diff.fields(desired.columns, columns_of(schema), (), ())
    changes = list(diff.changes)
    if rename_from is not None:
        changes.insert(0, Change(ChangeKind.RENAME_TABLE, ".".join(rename_from), f"-> {desired.config.name}"))
    have_ids = sorted(_rename(names.get(i, ""), diff.renamed) for i in schema.identifier_field_ids)
    if have_ids != sorted(config.identifier_fields):
        changes.append(Change(ChangeKind.SET_IDENTIFIER_FIELDS, ", ".join(config.identifier_fields) or "(none)",
                              f"was {', '.join(have_ids) or '(none)'}"))
    changes += _partition_changes(config, metadata, names, diff.renamed)
    changes += _sort_changes(config, metadata, names, diff.renamed)
    changes += _property_changes(desired, dict(metadata.properties))
    reasons = [reason for _, reason in refusals(changes, config.allow_breaking_changes)]
    drift = tuple(diff.drift)
    if reasons:
        return TablePlan(desired.identifier, Action.REFUSED, tuple(changes), tuple(reasons), rename_from, drift)
    action = Action.EVOLVE if changes else Action.UNCHANGED
    return TablePlan(desired.identifier, action, tuple(changes), (), rename_from, drift)
