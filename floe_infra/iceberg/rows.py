"""Row retention: the rows of whole time partitions older than a layer's retention, for tables that ask.

A table asks with the table property `floe.retention.column` (floe.yaml `properties`, or set by
whatever writes the table), naming a `date`, `timestamp` or `timestamptz` column that its current
partition spec transforms with `year`, `month`, `day`, `hour` or `identity`. Its rows whose value is
before the start of the oldest partition period still inside the retention are deleted: whole
partitions only, so the delete drops files rather than rewriting them (files written under an older
spec are rewritten by pyiceberg's copy-on-write delete). Rows with no value in the column are kept. A
table that does not ask keeps every row; its history still expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pyiceberg.expressions import BooleanExpression, LessThan
from pyiceberg.table import Table
from pyiceberg.transforms import (
    DayTransform,
    HourTransform,
    IdentityTransform,
    MonthTransform,
    Transform,
    YearTransform,
)
from pyiceberg.types import DateType, TimestampType, TimestamptzType

from floe_infra.config.tables import ROW_RETENTION_PROPERTY
from floe_infra.errors import FloeError


class RowRetentionError(FloeError):
    """Raised when a table asks for row retention on a column that is not one of its time partitions."""


@dataclass(frozen=True)
class RowCutoff:
    """Rows of `column` before `before` (ISO text, in the column's type) are past the retention."""

    column: str
    before: str

    @property
    def expression(self) -> BooleanExpression:
        """The rows to delete (a null value is never before anything, so those rows stay)."""
        return LessThan(self.column, self.before)


def _period_start(instant: datetime, transform: Transform[Any, Any]) -> datetime:
    """The start of the partition period holding `instant` (UTC, as Iceberg's time transforms count)."""
    if isinstance(transform, HourTransform):
        return instant.replace(minute=0, second=0, microsecond=0)
    if isinstance(transform, DayTransform):
        return instant.replace(hour=0, minute=0, second=0, microsecond=0)
    if isinstance(transform, MonthTransform):
        return instant.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if isinstance(transform, YearTransform):
        return instant.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return instant


def row_cutoff(table: Table, retention_days: int, now: datetime) -> RowCutoff | None:
    """Where the table's rows stop being retained, or None when the table keeps every row.

    Args:
        table: The table.
        retention_days: The layer's retention.
        now: The current time (timezone-aware).

    Raises:
        RowRetentionError: When `floe.retention.column` names no date/timestamp time partition of the table.
    """
    column = table.properties.get(ROW_RETENTION_PROPERTY)
    if column is None:
        return None
    try:
        field = table.schema().find_field(column)
    except ValueError:
        field = None
    if field is None or not isinstance(field.field_type, DateType | TimestampType | TimestamptzType):
        raise RowRetentionError(f"{ROW_RETENTION_PROPERTY} is '{column}', which is not a date or timestamp "
                                "column of the table")
    time_transforms = (YearTransform, MonthTransform, DayTransform, HourTransform, IdentityTransform)
    transforms = [f.transform for f in table.spec().fields
                  if f.source_id == field.field_id and isinstance(f.transform, time_transforms)]
    if not transforms:
        raise RowRetentionError(f"{ROW_RETENTION_PROPERTY} is '{column}', but the table is not partitioned by "
                                f"it; partition by day({column}) (or year, month, hour, identity) to retain rows")
    instant = now.astimezone(UTC) - timedelta(days=retention_days)
    start = min(_period_start(instant, t) for t in transforms)
    if isinstance(field.field_type, DateType):
        return RowCutoff(column, start.date().isoformat())
    if isinstance(field.field_type, TimestampType):
        return RowCutoff(column, start.replace(tzinfo=None).isoformat())
    return RowCutoff(column, start.isoformat())
