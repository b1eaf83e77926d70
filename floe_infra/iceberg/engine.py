"""The reconcile engine: floe.yaml tables -> plans against a catalog -> applied changes.

`plan_tables` reads the catalog and never writes; `apply_tables` applies every plan that is not
refused or unchanged, reporting progress table by table. A table that is in the catalog but no
longer in floe.yaml is never touched here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.table import Table

from floe_infra.config.pipeline import PipelineConfig
from floe_infra.errors import CatalogError
from floe_infra.iceberg.apply import apply_plan
from floe_infra.iceberg.plan import Action, DesiredTable, TablePlan, plan_create, plan_evolution

Progress = Callable[[int, int, TablePlan], None]


def desired_tables(pipeline: PipelineConfig, namespaces: Mapping[str, Sequence[str]]) -> list[DesiredTable]:
    """Place each table of floe.yaml in the pipeline's namespace of its layer.

    Args:
        pipeline: The pipeline's configuration.
        namespaces: Layer -> the pipeline's namespace levels in that layer (from the platform).

    Raises:
        CatalogError: When a table's layer has no namespace for this pipeline.
    """
    out = []
    for table in pipeline.tables:
        if table.layer not in namespaces:
            raise CatalogError(f"table {table.name}: the platform gives pipeline {pipeline.name} no namespace in "
                               f"layer {table.layer}")
        out.append(DesiredTable(tuple(namespaces[table.layer]), table))
    return out


def _load(catalog: Catalog, identifier: tuple[str, ...]) -> Table | None:
    try:
        return catalog.load_table(identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        return None


def plan_table(catalog: Catalog, desired: DesiredTable, *, namespace_exists: bool = True) -> TablePlan:
    """Plan one table against the catalog (read-only)."""
    table = _load(catalog, desired.identifier)
    if table is not None:
        return plan_evolution(desired, table.metadata)
    previous = desired.previous_identifier
    if previous is not None and (old := _load(catalog, previous)) is not None:
        return plan_evolution(desired, old.metadata, rename_from=previous)
    if not namespace_exists:
        return TablePlan(desired.identifier, Action.REFUSED, reasons=(
            f"namespace {'.'.join(desired.namespace)} does not exist; the platform's catalog governance "
            "creates it when the pipeline is onboarded",))
    return plan_create(desired)


@dataclass(frozen=True)
class Reconciliation:
    """Plans of a set of tables, and which were applied."""

    plans: list[TablePlan]
    applied: list[str]

    @property
    def refused(self) -> list[TablePlan]:
        """Plans refused with reasons."""
        return [p for p in self.plans if p.action is Action.REFUSED]


def plan_tables(catalog: Catalog, tables: Iterable[DesiredTable], *, create_namespaces: bool) -> list[TablePlan]:
    """Plan every table. With `create_namespaces` false, a missing namespace refuses its tables."""
    plans = []
    known: dict[tuple[str, ...], bool] = {}
    for desired in tables:
        ns = desired.namespace
        if ns not in known:
            known[ns] = create_namespaces or catalog.namespace_exists(ns)
        plans.append(plan_table(catalog, desired, namespace_exists=known[ns]))
    return plans


def apply_tables(catalog: Catalog, tables: Sequence[DesiredTable], *, create_namespaces: bool,
                 progress: Progress | None = None) -> Reconciliation:
    """Plan and apply every table; refused tables are left as they are and reported."""
    plans = plan_tables(catalog, tables, create_namespaces=create_namespaces)
    if create_namespaces:
        for namespace in dict.fromkeys(d.namespace for d in tables):
            catalog.create_namespace_if_not_exists(namespace)
    applied = []
    for index, (plan, desired) in enumerate(zip(plans, tables, strict=True), start=1):
        if apply_plan(catalog, plan, desired):
            applied.append(plan.name)
        if progress is not None:
            progress(index, len(plans), plan)
    return Reconciliation(plans, applied)
