"""The reconcile engine: floe.yaml tables -> plans against a catalog -> applied changes.

`plan_tables` reads the catalog and never writes; `apply_tables` applies every plan that is not
refused or unchanged, reporting progress table by table. A table that is in the catalog but no
longer in floe.yaml is never touched here.

Commits follow the Iceberg REST semantics: a conflict (`CommitFailedException`: the table moved
on since it was read; or a table created or renamed concurrently) means nothing was applied, so
the table is re-read, re-planned and applied again, a few times with jittered backoff. A write
whose answer was lost (commit state unknown, a 5xx, a reset, a garbled answer) is never sent
again blindly: the table is re-read, and if it already is as declared the write went through;
otherwise the error is reported and a rerun finishes the job. Every failure becomes a typed
error naming the catalog, the table and what to do (`floe_infra.iceberg.failures`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pydantic
import requests
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    CommitFailedException,
    CommitStateUnknownException,
    NoSuchNamespaceError,
    NoSuchTableError,
    ServerError,
    ServiceUnavailableError,
    TableAlreadyExistsError,
)
from pyiceberg.table import Table
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from floe_infra.errors import CatalogError, ConcurrentChangeError
from floe_infra.http import certainly_not_applied
from floe_infra.iceberg.apply import apply_plan
from floe_infra.iceberg.failures import catalog_errors
from floe_infra.iceberg.ownership import plan_existing
from floe_infra.iceberg.plan import Action, DesiredTable, TablePlan, plan_create

if TYPE_CHECKING:
    # The pipeline models only for `desired_tables`' callers (the CLI): the provider process reads tables without them.
    from floe_infra.config.pipeline import PipelineConfig

Progress = Callable[[int, int, TablePlan], None]

CONFLICT_ATTEMPTS = 4
# Raised by a write whose request left this machine but whose answer did not say what happened.
_OUTCOME_UNKNOWN = (CommitStateUnknownException, ServerError, ServiceUnavailableError, requests.ConnectionError,
                    requests.exceptions.ChunkedEncodingError, pydantic.ValidationError)
# Somebody else changed the table between our read and our write: nothing of ours was applied.
_CONFLICTS = (CommitFailedException, TableAlreadyExistsError, NoSuchTableError)


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


def read_table(catalog: Catalog, desired: DesiredTable) -> TablePlan | None:
    """What a refresh reads: the plan of the live table against its declaration, or None when it is gone.

    One load of the table: a catalog without the HEAD endpoint answers `table_exists` by loading it too.
    """
    table = _load(catalog, desired.identifier)
    return None if table is None else plan_existing(desired, table.metadata)


def plan_table(catalog: Catalog, desired: DesiredTable, *, namespace_exists: bool = True,
               new_declaration: bool = False) -> TablePlan:
    """Plan one table against the catalog (read-only).

    Args:
        catalog: The catalog.
        desired: The declaration.
        namespace_exists: False refuses a table whose namespace is missing.
        new_declaration: The declaration is new to its Pulumi stack: an existing table must be the stack's
            own (an interrupted create) or adopted explicitly.
    """
    table = _load(catalog, desired.identifier)
    if table is not None:
        return plan_existing(desired, table.metadata, new_declaration=new_declaration)
    previous = desired.previous_identifier
    if previous is not None and (old := _load(catalog, previous)) is not None:
        return plan_existing(desired, old.metadata, rename_from=previous, new_declaration=new_declaration)
    if not namespace_exists:
        return TablePlan(desired.identifier, Action.REFUSED, reasons=(
            f"namespace {'.'.join(desired.namespace)} does not exist; the platform's catalog governance "
            "creates it when the pipeline is onboarded",))
    return plan_create(desired)


class _Conflict(Exception):  # noqa: N818 - control flow between an attempt and the retry loop, never raised out
    """The table changed under the attempt; re-plan and try again."""


def reconcile_table(catalog: Catalog, desired: DesiredTable, plan: TablePlan | None = None, *,
                    namespace_exists: bool = True, new_declaration: bool = False) -> tuple[TablePlan, bool]:
    """Plan (unless given) and apply one table; returns the plan applied last and whether it committed.

    Raises:
        ConcurrentChangeError: When the table kept changing under every attempt.
        CatalogError: (typed) When the catalog fails, naming the table and what to do.
    """
    def replan() -> TablePlan:
        return plan_table(catalog, desired, namespace_exists=namespace_exists, new_declaration=new_declaration)

    with catalog_errors(catalog, f"apply table {'.'.join(desired.identifier)}"):
        current = plan or replan()
        committed = False
        retrying = Retrying(stop=stop_after_attempt(CONFLICT_ATTEMPTS), reraise=True,
                            wait=wait_random_exponential(multiplier=0.1, max=2.0),
                            retry=retry_if_exception_type(_Conflict))
        try:
            for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        current = replan()
                    committed = _apply_verified(catalog, current, desired, replan)
        except _Conflict as exc:
            raise ConcurrentChangeError(
                f"table {current.name} kept changing while it was applied ({CONFLICT_ATTEMPTS} attempts: "
                f"{exc}); another writer is busy with it: rerun when it is done") from exc
    return current, committed


def _apply_verified(catalog: Catalog, plan: TablePlan, desired: DesiredTable,
                    replan: Callable[[], TablePlan]) -> bool:
    try:
        return apply_plan(catalog, plan, desired)
    except _CONFLICTS as exc:
        raise _Conflict(str(exc)) from exc
    except _OUTCOME_UNKNOWN as exc:
        if certainly_not_applied(exc):
            raise
        # The answer is lost, not the write: the table says whether it went through.
        try:
            after = replan()
        except Exception:
            after = None
        if after is not None and after.action is Action.UNCHANGED:
            return True
        raise


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
    """Plan every table. With `create_namespaces` false, a missing namespace refuses its tables.

    Raises:
        CatalogError: (typed) When the catalog fails, naming the table and what to do.
    """
    plans = []
    known: dict[tuple[str, ...], bool] = {}
    for desired in tables:
        ns = desired.namespace
        with catalog_errors(catalog, f"plan table {'.'.join(desired.identifier)}"):
            if ns not in known:
                known[ns] = create_namespaces or catalog.namespace_exists(ns)
            plans.append(plan_table(catalog, desired, namespace_exists=known[ns]))
    return plans


def apply_tables(catalog: Catalog, tables: Sequence[DesiredTable], *, create_namespaces: bool,
                 progress: Progress | None = None) -> Reconciliation:
    """Plan and apply every table; refused tables are left as they are and reported.

    Raises:
        CatalogError: (typed) When the catalog fails; the tables before it are applied, a rerun does the rest.
    """
    plans = plan_tables(catalog, tables, create_namespaces=create_namespaces)
    if create_namespaces:
        for namespace in dict.fromkeys(d.namespace for d in tables):
            with catalog_errors(catalog, f"create namespace {'.'.join(namespace)}"):
                catalog.create_namespace_if_not_exists(namespace)
    applied, final = [], []
    for index, (plan, desired) in enumerate(zip(plans, tables, strict=True), start=1):
        done, committed = reconcile_table(catalog, desired, plan)
        final.append(done)
        if committed:
            applied.append(done.name)
        if progress is not None:
            progress(index, len(plans), done)
    return Reconciliation(final, applied)
