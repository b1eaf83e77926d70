"""Plans as text: a summary table, then each table's changes and refusal reasons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from floe_infra.iceberg.plan import Action, TablePlan

_SYMBOL = {Action.CREATE: "+", Action.EVOLVE: "~", Action.UNCHANGED: " ", Action.REFUSED: "!"}


def format_plans(plans: Sequence[TablePlan]) -> list[str]:
    """Lines describing every plan, fit for a terminal or a pull request comment."""
    width = max((len(p.name) for p in plans), default=5)
    lines = [f"  {'TABLE':<{width}}  ACTION     CHANGES", f"  {'-' * width}  ---------  -------"]
    for plan in plans:
        lines.append(f"{_SYMBOL[plan.action]} {plan.name:<{width}}  {plan.action.value:<9}  {len(plan.changes)}")
    for plan in plans:
        if plan.action in (Action.EVOLVE, Action.REFUSED, Action.CREATE) and (plan.changes or plan.reasons):
            lines.append("")
            lines.append(f"{plan.name} ({plan.action.value}):")
            lines += [f"    {change.describe()}" for change in plan.changes]
            lines += [f"  ! {reason}" for reason in plan.reasons]
    counts = Counter(p.action.value for p in plans)
    summary = ", ".join(f"{counts[a.value]} {a.value}" for a in Action if counts[a.value])
    lines += ["", f"{len(plans)} tables: {summary or 'none'}"]
    return lines
