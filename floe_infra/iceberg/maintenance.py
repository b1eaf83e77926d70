"""Table maintenance: a layer's retention applied to every Iceberg table in it.

For each table under the layer's namespace (every tenant's child namespace included), in order:
1. row retention, where the table asks for it (`floe_infra.iceberg.rows`);
2. snapshot expiry by Iceberg's rule (`floe_infra.iceberg.snapshots`) with pyiceberg 0.12's
   `table.maintenance.expire_snapshots()`;
3. removal of the files nothing the table keeps references (`floe_infra.iceberg.unreferenced`),
   which frees what expired snapshots held; pyiceberg 0.12 deletes no file itself.

Every step is safe to repeat and reads the table afresh: a commit that loses a race with a writer
is planned again (a few times), and a run stopped half-way is finished by the next one. A table's
failure is reported and the others go on. The command line (`floe-infra maintenance run`) and the
platform's CronJobs (floe_infra/platform/maintenance.py) both run `maintain_layer`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError
from pyiceberg.table import Table

from floe_infra.errors import FloeError
from floe_infra.iceberg.failures import catalog_errors, catalog_uri
from floe_infra.iceberg.maintenance_plan import MaintenancePlan
from floe_infra.iceberg.rows import row_cutoff
from floe_infra.iceberg.snapshots import ExpiryPolicy, RetentionPropertyError, snapshots_to_expire
from floe_infra.iceberg.unreferenced import Sweep, sweep

CONFLICT_ATTEMPTS = 3
MAX_NAMESPACE_DEPTH = 16
SNAPSHOT_PROPERTY = "floe.maintenance"

Identifier = tuple[str, ...]


@dataclass
class TableReport:
    """What maintenance did to one table (or would do, on a dry run).

    Attributes:
        table: The table's dotted identifier.
        rows_before: Rows before this value of the retention column were deleted (None: none, or not asked).
        expired: Ids of the snapshots expired.
        snapshots_left: Snapshots the table keeps.
        sweep: Its unreferenced files.
        problem: Why maintenance of this table stopped, if it did.
    """

    table: str
    rows_before: str | None = None
    expired: list[int] = field(default_factory=list)
    snapshots_left: int = 0
    sweep: Sweep | None = None
    problem: str | None = None


def _tables(catalog: Catalog, root: Identifier) -> Iterator[Identifier]:
    """Every table under `root` and its child namespaces, depth first."""
    pending = [root]
    while pending:
        namespace = pending.pop()
        if len(namespace) > MAX_NAMESPACE_DEPTH:
            continue
        yield from sorted(catalog.list_tables(namespace))
        pending += sorted(catalog.list_namespaces(namespace), reverse=True)


def _retry_conflicts(step: Callable[[], None]) -> None:
    """Run a committing step; when a writer got in first, plan it again (bounded, with jitter)."""
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            step()
            return
        except CommitFailedException:
            if attempt == CONFLICT_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.1, 0.5) * 2 ** attempt)


def maintain_table(catalog: Catalog, table: Table, plan: MaintenancePlan, now: datetime, *,
                   nested: list[str], dry_run: bool) -> TableReport:
    """Apply the plan's retention to one table.

    Args:
        catalog: The catalog.
        table: The table, as loaded (each step reads it again before it commits).
        plan: The layer's plan.
        now: The time retention counts back from (timezone-aware).
        nested: Locations of other tables inside this table's location (their files are not this table's).
        dry_run: Report, change nothing.
    """
    identifier = table.name()
    report = TableReport(".".join(identifier))
    uri = catalog_uri(catalog)

    def load() -> Table:
        with catalog_errors(uri, f"load table {report.table}"):
            return catalog.load_table(identifier)

    try:
        cutoff = row_cutoff(table, plan.retention_days, now)
        if cutoff is not None and any(True for _ in table.scan(row_filter=cutoff.expression).plan_files()):
            report.rows_before = cutoff.before
            if not dry_run:
                def delete_rows() -> None:
                    fresh = load()
                    with catalog_errors(uri, f"delete old rows of {report.table}"):
                        fresh.delete(cutoff.expression, snapshot_properties={SNAPSHOT_PROPERTY: "row-retention"})
                _retry_conflicts(delete_rows)
                table = load()
        policy = ExpiryPolicy.of(table.properties, plan.retention_days)
        now_ms = int(now.timestamp() * 1000)
        report.expired = snapshots_to_expire(table.metadata, policy, now_ms)
        if report.expired and not dry_run:
            def expire() -> None:
                fresh = load()
                ids = snapshots_to_expire(fresh.metadata, policy, now_ms)
                report.expired = ids
                if ids:
                    with catalog_errors(uri, f"expire snapshots of {report.table}"):
                        fresh.maintenance.expire_snapshots().by_ids(ids).commit()
            _retry_conflicts(expire)
            table = load()
        report.snapshots_left = len(table.metadata.snapshots) - (len(report.expired) if dry_run else 0)
        report.sweep = sweep(table, now, plan.grace_hours * 3600, excluded=nested, reload=load, dry_run=dry_run)
    except (FloeError, RetentionPropertyError, CommitFailedException, OSError) as exc:
        report.problem = f"{type(exc).__name__}: {exc}" if isinstance(exc, OSError) else str(exc)
    except NoSuchTableError:
        report.problem = "dropped while maintenance ran"
    return report


def maintain_layer(catalog: Catalog, plan: MaintenancePlan, now: datetime, *, dry_run: bool = False,
                   progress: Callable[[int, int, str], None] | None = None) -> list[TableReport]:
    """Apply a layer's retention to every table in its namespace and the namespaces below it.

    Raises:
        CatalogError: When the layer's namespaces cannot be listed (nothing was changed).
    """
    root = tuple(plan.namespace)
    tables: list[Table] = []
    with catalog_errors(catalog_uri(catalog), f"list the tables of {'.'.join(root)}"):
        for identifier in _tables(catalog, root):
            try:
                tables.append(catalog.load_table(identifier))
            except NoSuchTableError:
                continue  # dropped since it was listed
    locations = [t.location().rstrip("/") for t in tables]
    reports = []
    for step, table in enumerate(tables, start=1):
        own = table.location().rstrip("/") + "/"
        nested = [loc for loc in locations if loc.startswith(own)]
        if progress is not None:
            progress(step, len(tables), ".".join(table.name()))
        reports.append(maintain_table(catalog, table, plan, now, nested=nested, dry_run=dry_run))
    return reports
