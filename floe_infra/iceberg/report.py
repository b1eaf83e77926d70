"""Plans as text (a summary table, then each table's changes, refusal reasons and drift) or as JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from floe_infra.iceberg.plan import Action, TablePlan

_SYMBOL = {Action.CREATE: "+", Action.ADOPT: "=", Action.EVOLVE: "~", Action.UNCHANGED: " ", Action.REFUSED: "!"}
PLAN_FORMAT = 1


def format_plans(plans: Sequence[TablePlan]) -> list[str]:
    """Lines describing every plan, fit for a terminal or a pull request comment."""
    width = max((len(p.name) for p in plans), default=5)
    lines = [f"  {'TABLE':<{width}}  ACTION     CHANGES", f"  {'-' * width}  ---------  -------"]
    for plan in plans:
        lines.append(f"{_SYMBOL[plan.action]} {plan.name:<{width}}  {plan.action.value:<9}  {len(plan.changes)}")
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


def format_applied(plans: Sequence[TablePlan], applied: Sequence[str]) -> list[str]:
    """What an apply did: each table created, evolved, left unchanged or refused, then the counts."""
    done = set(applied)
    lines, counts = [], Counter[str]()
    for plan in plans:
        if plan.name in done:
            outcome = _DONE.get(plan.action, "changed")
            evolved = plan.action is Action.EVOLVE and plan.changes
            detail = f" ({len(plan.changes)} change{'' if len(plan.changes) == 1 else 's'})" if evolved else ""
        elif plan.action is Action.REFUSED:
            outcome, detail = "refused", f": {'; '.join(plan.reasons)}" if plan.reasons else ""
        else:
            outcome, detail = "unchanged", ""
        counts[outcome] += 1
        lines.append(f"{outcome:<9}  {plan.name}{detail}")
    summary = ", ".join(f"{counts[o]} {o}" for o in ("created", "evolved", "changed", "unchanged", "refused")
                        if counts[o])
    return [*lines, "", f"applied: {summary or 'no tables'}"]
