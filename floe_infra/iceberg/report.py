"""Plans as a report (a summary table, then each table's changes, refusal reasons and drift) or as JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from floe_infra.console import plain_lines, table
from floe_infra.iceberg.plan import Action, TablePlan

_SYMBOL = {Action.CREATE: "+", Action.ADOPT: "=", Action.EVOLVE: "~", Action.UNCHANGED: " ", Action.REFUSED: "!"}
# Colours on a terminal only (floe_infra.console); the symbol says the same in plain text.
_STYLE = {Action.CREATE: "green", Action.ADOPT: "cyan", Action.EVOLVE: "yellow", Action.UNCHANGED: "dim",
          Action.REFUSED: "bold red"}
PLAN_FORMAT = 1


def plan_table(plans: Sequence[TablePlan]) -> Table:
    """One row per table: what its plan does and how many changes it holds."""
    rows = table(" ", "TABLE", "ACTION", "CHANGES", numeric=("CHANGES",))
    for plan in plans:
        style = _STYLE[plan.action]
        rows.add_row(Text(_SYMBOL[plan.action], style), plan.name, Text(plan.action.value, style),
                     str(len(plan.changes)))
    return rows


def plan_report(plans: Sequence[TablePlan]) -> list[Table | str]:
    """The summary table, then each changing table's changes, reasons and drift, then the counts."""
    lines: list[Table | str] = [plan_table(plans)]
    for plan in plans:
        shown = plan.action is not Action.UNCHANGED and (plan.changes or plan.reasons)
        if shown or plan.drift:
            lines.append("")
            lines.append(f"{plan.name} ({plan.action.value}):")
            lines += [f"    {change.describe()}" for change in plan.changes] if shown else []
            lines += [f"  ! {reason}" for reason in plan.reasons]
            lines += [f"  ? drift: {drift}" for drift in plan.drift]
    counts = Counter(p.action.value for p in plans)
    summary = ", ".join(f"{counts[a.value]} {a.value}" for a in Action if counts[a.value])
    lines += ["", f"{len(plans)} tables: {summary or 'none'}"]
    return lines


def format_plans(plans: Sequence[TablePlan]) -> list[str]:
    """`plan_report` as plain lines, fit for a log or a pull request comment."""
    return plain_lines(*plan_report(plans))


def plan_document(plans: Sequence[TablePlan], *, catalog: str, warehouse: str,
                  applied: Sequence[str] | None = None) -> str:
    """Plans as one JSON document for machines (`tables plan --json`); stable keys, format versioned.

    Args:
        plans: The plans, in floe.yaml order.
        catalog: The catalog's URI (never a credential).
        warehouse: The warehouse.
        applied: After an apply, the tables that were changed; None for a plan.
    """
    counts = Counter(p.action.value for p in plans)
    document: dict[str, Any] = {
        "format": PLAN_FORMAT, "catalog": catalog, "warehouse": warehouse,
        "tables": [{
            "table": plan.name, "action": plan.action.value,
            "renamed_from": ".".join(plan.rename_from) if plan.rename_from else None,
            "changes": [{"kind": c.kind.value, "target": c.target, "detail": c.detail, "text": c.describe(),
                         "opt_in": c.breaking.value if c.breaking else None, "never": c.forbidden is not None}
                        for c in plan.changes],
            "reasons": list(plan.reasons), "drift": list(plan.drift),
        } for plan in plans],
        "summary": {action.value: counts[action.value] for action in Action},
    }
    if applied is not None:
        document["applied"] = list(applied)
    return json.dumps(document, indent=2)


_DONE = {Action.CREATE: "created", Action.EVOLVE: "evolved"}
_OUTCOME_STYLE = {"created": "green", "evolved": "yellow", "changed": "yellow", "unchanged": "dim",
                  "refused": "bold red"}


def applied_report(plans: Sequence[TablePlan], applied: Sequence[str]) -> list[Table | str]:
    """What an apply did: a table of each table created, evolved, left unchanged or refused, then the counts."""
    done = set(applied)
    rows, counts = table("OUTCOME", "TABLE", "DETAIL"), Counter[str]()
    for plan in plans:
        if plan.name in done:
            outcome = _DONE.get(plan.action, "changed")
            evolved = plan.action is Action.EVOLVE and plan.changes
            detail = f"{len(plan.changes)} change{'' if len(plan.changes) == 1 else 's'}" if evolved else ""
        elif plan.action is Action.REFUSED:
            outcome, detail = "refused", "; ".join(plan.reasons)
        else:
            outcome, detail = "unchanged", ""
        counts[outcome] += 1
        rows.add_row(Text(outcome, _OUTCOME_STYLE[outcome]), plan.name, detail)
    summary = ", ".join(f"{counts[o]} {o}" for o in ("created", "evolved", "changed", "unchanged", "refused")
                        if counts[o])
    return [rows, "", f"applied: {summary or 'no tables'}"]
