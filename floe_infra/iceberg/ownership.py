"""Whose table is it: a table found in the catalog is planned only when floe-infra may manage it.

A table floe-infra did not create (no `floe.managed-properties`), or, for a declaration new to a
Pulumi stack, one that another stack or the command line manages (`floe.managed-by`), is taken
over only with `adopt: true`, and only when it already matches the declaration. A stack's own
table found by a create is an interrupted earlier create: it carries on without adoption.
"""

from __future__ import annotations

from pyiceberg.table.metadata import TableMetadata

from floe_infra.iceberg.plan import (
    MANAGED_BY,
    MANAGED_PROPERTIES,
    Action,
    ChangeKind,
    DesiredTable,
    Path,
    TablePlan,
    plan_evolution,
)

# What adopting a table may change: its bookkeeping, properties and docs, never its structure.
_ADOPTABLE = frozenset({ChangeKind.RENAME_TABLE, ChangeKind.SET_PROPERTY, ChangeKind.REMOVE_PROPERTY,
                        ChangeKind.UPDATE_DOC})


def plan_existing(desired: DesiredTable, metadata: TableMetadata, rename_from: Path | None = None, *,
                  new_declaration: bool = False) -> TablePlan:
    """The plan of a table that exists, checking whose it is first.

    Args:
        desired: The declaration.
        metadata: The live table's metadata.
        rename_from: Where the table was found, when under its `renamed_from` name.
        new_declaration: The declaration is new to its Pulumi stack (a create).
    """
    plan = plan_evolution(desired, metadata, rename_from)
    props = dict(metadata.properties)
    owner = props.get(MANAGED_BY)
    if MANAGED_PROPERTIES not in props:
        whose = "was not created by floe-infra"
    elif new_declaration and desired.owner is not None and owner != desired.owner:
        whose = f"is managed by {owner}" if owner else "was created by `floe-infra tables apply`, not by this stack"
    else:
        return plan
    existing = f"the existing table {'.'.join(rename_from)}" if rename_from else "it"
    if not desired.config.adopt:
        reason = (f"{existing} already exists and {whose}; to take it over, declare it as it is and set "
                  "`adopt: true` (floe-infra adopts a table only when it matches the declaration)")
        return TablePlan(desired.identifier, Action.REFUSED, plan.changes, (reason,), rename_from, plan.drift)
    if mismatches := [c.describe() for c in plan.changes if c.kind not in _ADOPTABLE]:
        reason = (f"{existing} {whose} and differs from its declaration ({'; '.join(mismatches)}), so it is not "
                  "adopted: declare it as it is, adopt it, then change it in a later apply")
        return TablePlan(desired.identifier, Action.REFUSED, plan.changes, (reason,), rename_from, plan.drift)
    return TablePlan(desired.identifier, Action.ADOPT, plan.changes, (), rename_from, plan.drift)
