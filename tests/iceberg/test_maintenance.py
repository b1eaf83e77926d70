"""Table maintenance on a real SqlCatalog: which snapshots, files and rows go, and what never does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import DayTransform, MonthTransform
from pyiceberg.types import LongType, NestedField, TimestamptzType

from floe_infra.iceberg.maintenance import maintain_layer
from floe_infra.iceberg.maintenance_plan import MaintenancePlan
from floe_infra.iceberg.unreferenced import UnreferencedFilesError, sweep

LAYER = ("gold",)
TENANT = ("gold", "sales")
SCHEMA = Schema(NestedField(1, "id", LongType(), required=True), NestedField(2, "at", TimestamptzType()))
PLAN = MaintenancePlan(layer="gold", catalog_uri="http://catalog", warehouse="lakehouse", namespace=["gold"],
                       retention_days=365, grace_hours=72)
LATER = timedelta(days=400)


@pytest.fixture
def lakehouse(catalog: Catalog) -> Catalog:
    catalog.create_namespace(LAYER)
    catalog.create_namespace(TENANT)
    return catalog


def rows(table: Table, ids: list[int], at: list[datetime | None] | None = None) -> pa.Table:
    return pa.table({"id": ids, "at": at or [None] * len(ids)}, schema=table.schema().as_arrow())


def written(catalog: Catalog, name: str, *batches: list[int], **kwargs) -> Table:
    """A table with one append per batch (one snapshot each)."""
    table = catalog.create_table((*TENANT, name), SCHEMA, **kwargs)
    for batch in batches:
        table.append(rows(table, batch))
    return catalog.load_table((*TENANT, name))


def ids(catalog: Catalog, name: str) -> list[int]:
    return sorted(catalog.load_table((*TENANT, name)).scan().to_arrow()["id"].to_pylist())


def local_path(location: str) -> Path:
    return Path(location.removeprefix("file://"))


# --- snapshot expiry ---------------------------------------------------------------------------------


def test_snapshots_older_than_the_retention_expire_and_the_current_one_stays(lakehouse):
    table = written(lakehouse, "orders", [1], [2], [3])
    old = [s.snapshot_id for s in table.snapshots()[:-1]]
    [report] = maintain_layer(lakehouse, PLAN, datetime.now(UTC) + LATER)
    assert sorted(report.expired) == sorted(old)
    table = lakehouse.load_table((*TENANT, "orders"))
    assert [s.snapshot_id for s in table.snapshots()] == [table.current_snapshot().snapshot_id]
    assert ids(lakehouse, "orders") == [1, 2, 3]


def test_snapshots_younger_than_the_retention_stay(lakehouse):
    written(lakehouse, "orders", [1], [2], [3])
    [report] = maintain_layer(lakehouse, PLAN, datetime.now(UTC) + timedelta(days=300))
    assert report.expired == []
    assert report.snapshots_left == 3


def test_a_tables_history_properties_win_over_the_layers_retention(lakehouse):
    written(lakehouse, "orders", [1], [2], [3],
            properties={"history.expire.max-snapshot-age-ms": str(86_400_000),
                        "history.expire.min-snapshots-to-keep": "2"})
    [report] = maintain_layer(lakehouse, PLAN, datetime.now(UTC) + timedelta(days=2))
    assert len(report.expired) == 1
    assert report.snapshots_left == 2


def test_a_tagged_snapshot_stays_readable_with_its_files(lakehouse):
    table = written(lakehouse, "orders", [1])
    first = table.current_snapshot().snapshot_id
    table.manage_snapshots().create_tag(first, "year-end").commit()
    table = lakehouse.load_table((*TENANT, "orders"))
    table.overwrite(rows(table, [2]))
    maintain_layer(lakehouse, PLAN, datetime.now(UTC) + LATER)
    table = lakehouse.load_table((*TENANT, "orders"))
    assert table.metadata.snapshot_by_id(first) is not None
    assert table.scan(snapshot_id=first).to_arrow()["id"].to_pylist() == [1]
    assert ids(lakehouse, "orders") == [2]


def test_a_history_property_that_is_not_a_number_is_reported_and_nothing_changes(lakehouse):
    written(lakehouse, "orders", [1], [2], properties={"history.expire.min-snapshots-to-keep": "many"})
    [report] = maintain_layer(lakehouse, PLAN, datetime.now(UTC) + LATER)
    assert report.problem == "table property history.expire.min-snapshots-to-keep is 'many', not a positive integer"
    assert len(lakehouse.load_table((*TENANT, "orders")).snapshots()) == 2


def test_a_dry_run_reports_and_changes_nothing(lakehouse):
    table = written(lakehouse, "orders", [1], [2])
    stray = local_path(table.location()) / "data" / "stray.parquet"
    stray.write_bytes(b"PAR1")
    [report] = maintain_layer(lakehouse, PLAN, datetime.now(UTC) + LATER, dry_run=True)
    assert len(report.expired) == 1
    assert [c.location for c in report.sweep.candidates] == [f"file://{stray}"]
    assert report.sweep.deleted == []
    assert stray.exists()
    assert len(lakehouse.load_table((*TENANT, "orders")).snapshots()) == 2


# --- unreferenced files ------------------------------------------------------------------------------


def test_files_only_expired_snapshots_held_are_deleted_and_live_ones_kept(lakehouse):
    table = written(lakehouse, "orders", [1])
    first_files = [t.file.file_path for t in table.scan().plan_files()]
    table.overwrite(rows(table, [2]))
    [report] = maintain_layer(lakehouse, PLAN, datetime.now(UTC) + LATER)
    assert {f"file://{local_path(p)}" for p in first_files} <= set(report.sweep.deleted)
    assert not any(local_path(p).exists() for p in first_files)
    table = lakehouse.load_table((*TENANT, "orders"))
    assert all(local_path(t.file.file_path).exists() for t in table.scan().plan_files())
    assert local_path(table.metadata_location).exists()
    assert ids(lakehouse, "orders") == [2]


def test_an_unreferenced_file_younger_than_the_grace_period_is_kept(lakehouse):
    table = written(lakehouse, "orders", [1])
    stray = local_path(table.location()) / "data" / "being-written.parquet"
    stray.write_bytes(b"PAR1")
    [report] = maintain_layer(lakehouse, PLAN, datetime.now(UTC) + timedelta(hours=71))
    assert report.sweep.kept_young == 1
    assert stray.exists()
    maintain_layer(lakehouse, PLAN, datetime.now(UTC) + timedelta(hours=73))
    assert not stray.exists()


def test_hidden_files_are_never_deleted(lakehouse):
    table = written(lakehouse, "orders", [1])
    hidden = [local_path(table.location()) / "data" / "_SUCCESS", local_path(table.location()) / ".writer.lock"]
    for path in hidden:
        path.write_bytes(b"")
    maintain_layer(lakehouse, PLAN, datetime.now(UTC) + LATER)
    assert all(path.exists() for path in hidden)


def test_a_table_inside_another_tables_location_keeps_its_files(lakehouse):
    outer = written(lakehouse, "outer", [1])
    lakehouse.create_table((*TENANT, "inner"), SCHEMA, location=f"{outer.location()}/nested/inner")
    inner = lakehouse.load_table((*TENANT, "inner"))
    inner.append(rows(inner, [7]))
    reports = maintain_layer(lakehouse, PLAN, datetime.now(UTC) + LATER)
    assert [r.problem for r in reports] == [None, None]
    assert ids(lakehouse, "inner") == [7]
    assert ids(lakehouse, "outer") == [1]


def test_nothing_is_deleted_when_a_referenced_file_is_missing(lakehouse):
    table = written(lakehouse, "orders", [1])
    [data] = [t.file.file_path for t in table.scan().plan_files()]
    local_path(data).unlink()
    stray = local_path(table.location()) / "data" / "stray.parquet"
    stray.write_bytes(b"PAR1")
    [report] = maintain_layer(lakehouse, PLAN, datetime.now(UTC) + LATER)
    assert "not in the listing" in report.problem
    assert stray.exists()


def test_a_file_committed_between_listing_and_deleting_is_kept(lakehouse):
    table = written(lakehouse, "orders", [1])
    late = local_path(table.location()) / "data" / "committed-late.parquet"
    pq.write_table(rows(table, [9]), late)

    def reload_after_a_writer_commits_it() -> Table:
        fresh = lakehouse.load_table((*TENANT, "orders"))
        fresh.add_files([f"file://{late}"])
        return lakehouse.load_table((*TENANT, "orders"))

    result = sweep(table, datetime.now(UTC) + LATER, 3600, reload=reload_after_a_writer_commits_it, dry_run=False)
    assert result.deleted == []
    assert late.exists()
    assert ids(lakehouse, "orders") == [1, 9]


def test_a_listing_that_cannot_be_compared_is_an_error_not_a_deletion(lakehouse, monkeypatch):
    table = written(lakehouse, "orders", [1])
    monkeypatch.setattr("floe_infra.iceberg.unreferenced.list_files", lambda *_a, **_k: [])
    with pytest.raises(UnreferencedFilesError, match="not in the listing"):
        sweep(table, datetime.now(UTC) + LATER, 3600, reload=lambda: table, dry_run=False)


# --- row retention -------------------------------------------------------------------------------------


def dated(catalog: Catalog, name: str, transform, ages: dict[int, int | None], now: datetime, **props: str) -> None:
    table = catalog.create_table((*TENANT, name), SCHEMA, properties=props,
                                 partition_spec=PartitionSpec(PartitionField(2, 1000, transform, "at_part")))
    table.append(rows(table, list(ages), [None if d is None else now - timedelta(days=d) for d in ages.values()]))


def test_rows_past_the_retention_go_only_from_tables_that_ask_and_rows_without_a_time_stay(lakehouse):
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    ages = {1: 10, 2: 364, 3: 367, 4: 900, 5: None}
    dated(lakehouse, "asks", DayTransform(), ages, now, **{"floe.retention.column": "at"})
    dated(lakehouse, "keeps", DayTransform(), ages, now)
    reports = {r.table: r for r in maintain_layer(lakehouse, PLAN, now)}
    assert reports["gold.sales.asks"].rows_before == "2025-12-07T00:00:00+00:00"
    assert reports["gold.sales.keeps"].rows_before is None
    assert ids(lakehouse, "asks") == [1, 2, 5]
    assert ids(lakehouse, "keeps") == [1, 2, 3, 4, 5]


def test_month_partitions_go_whole_only_once_the_whole_month_is_past_the_retention(lakehouse):
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)  # 365 days back: 2025-12-07, inside December 2025
    table = lakehouse.create_table((*TENANT, "monthly"), SCHEMA, properties={"floe.retention.column": "at"},
                                   partition_spec=PartitionSpec(PartitionField(2, 1000, MonthTransform(), "at_month")))
    at = [datetime(2025, 12, 1, tzinfo=UTC), datetime(2025, 11, 30, 23, tzinfo=UTC)]
    table.append(rows(table, [1, 2], at))
    [report] = maintain_layer(lakehouse, PLAN, now)
    assert report.rows_before == "2025-12-01T00:00:00+00:00"
    assert ids(lakehouse, "monthly") == [1]


def test_row_retention_on_a_column_the_table_is_not_partitioned_by_is_reported(lakehouse):
    written(lakehouse, "orders", [1], properties={"floe.retention.column": "at"})
    [report] = maintain_layer(lakehouse, PLAN, datetime.now(UTC) + LATER)
    assert report.problem.startswith("floe.retention.column is 'at', but the table is not partitioned by it")
    assert ids(lakehouse, "orders") == [1]
