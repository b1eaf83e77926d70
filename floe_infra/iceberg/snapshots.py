"""Which snapshots of a table a retention expires: Iceberg's own rule, which pyiceberg 0.12 lacks.

pyiceberg 0.12's `table.maintenance.expire_snapshots()` removes the snapshots it is given (never a
branch or tag head), but knows neither `history.expire.max-snapshot-age-ms` nor
`history.expire.min-snapshots-to-keep`. This module chooses them the way Apache Iceberg's
`RemoveSnapshots` does (core/src/main/java/org/apache/iceberg/RemoveSnapshots.java,
`computeBranchSnapshotsToRetain` and `unreferencedSnapshotsToRetain`):

- each branch keeps its ancestors, newest first, while fewer than its minimum are kept or the
  ancestor is younger than its maximum age, and stops at the first ancestor that is neither;
- a tag keeps the snapshot it points at;
- a snapshot that no branch reaches and no tag names is kept while it is younger than the maximum age.

A branch's own `min-snapshots-to-keep` / `max-snapshot-age-ms` win over the table's properties,
which win over the layer's retention. Unlike Java, no branch or tag is ever removed (there is no
`max-ref-age-ms` expiry): a ref someone made is kept with its snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import SnapshotRefType
from pyiceberg.table.snapshots import ancestors_of

MAX_SNAPSHOT_AGE = "history.expire.max-snapshot-age-ms"
MIN_SNAPSHOTS_TO_KEEP = "history.expire.min-snapshots-to-keep"
DEFAULT_MIN_SNAPSHOTS = 1
DAY_MS = 86_400_000


class RetentionPropertyError(ValueError):
    """Raised when a table's history.expire property is not a positive integer."""


@dataclass(frozen=True)
class ExpiryPolicy:
    """How long a table's history lasts: the table's properties, or else the layer's retention.

    Attributes:
        max_age_ms: Snapshots older than this may expire.
        min_snapshots: Each branch keeps at least this many of its latest snapshots.
    """

    max_age_ms: int
    min_snapshots: int

    @classmethod
    def of(cls, properties: dict[str, str], retention_days: int) -> ExpiryPolicy:
        """The policy of a table with these properties in a layer keeping `retention_days` of history.

        Raises:
            RetentionPropertyError: When a history.expire property is set but not a positive integer.
        """
        return cls(_positive(properties, MAX_SNAPSHOT_AGE, retention_days * DAY_MS),
                   _positive(properties, MIN_SNAPSHOTS_TO_KEEP, DEFAULT_MIN_SNAPSHOTS))


def _positive(properties: dict[str, str], key: str, default: int) -> int:
    raw = properties.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise RetentionPropertyError(f"table property {key} is '{raw}', not a positive integer")
    return value


def snapshots_to_expire(metadata: TableMetadata, policy: ExpiryPolicy, now_ms: int) -> list[int]:
    """The ids of the snapshots the policy expires at `now_ms`, oldest first; never a ref's snapshot."""
    retained: set[int] = set()
    reachable: set[int] = set()
    for ref in metadata.refs.values():
        retained.add(ref.snapshot_id)
        if ref.snapshot_ref_type != SnapshotRefType.BRANCH:
            reachable.add(ref.snapshot_id)
            continue
        oldest_kept = now_ms - (ref.max_snapshot_age_ms or policy.max_age_ms)
        minimum = ref.min_snapshots_to_keep or policy.min_snapshots
        kept = 0
        stopped = False
        for ancestor in ancestors_of(metadata.snapshot_by_id(ref.snapshot_id), metadata):
            reachable.add(ancestor.snapshot_id)
            if not stopped and (kept < minimum or ancestor.timestamp_ms >= oldest_kept):
                retained.add(ancestor.snapshot_id)
                kept += 1
            else:
                stopped = True
    oldest_unreferenced = now_ms - policy.max_age_ms
    retained |= {s.snapshot_id for s in metadata.snapshots
                 if s.snapshot_id not in reachable and s.timestamp_ms >= oldest_unreferenced}
    expired = [s for s in metadata.snapshots if s.snapshot_id not in retained]
    return [s.snapshot_id for s in sorted(expired, key=lambda s: s.timestamp_ms)]
