"""Files under a table's location that nothing the table keeps references, and their careful removal.

pyiceberg 0.12 removes expired snapshots from a table's metadata but deletes no file, and has no
orphan-file removal; floe-infra does both in one pass, after Apache Iceberg's `DeleteOrphanFiles`
action (api/src/main/java/org/apache/iceberg/actions/DeleteOrphanFiles.java), more cautiously:

- Referenced is: the current metadata file and every metadata file in its log, the statistics and
  partition statistics files, and for every snapshot the table still has its manifest list, each
  manifest in it and every file any manifest entry names (deleted entries too).
- A candidate is a file listed under the table's location, older than the grace period (a writer
  may be writing it for a commit still to come), not hidden (a path part starting with `.` or `_`,
  except `_name=value` partition directories), and not under another table's location nested in
  this one.
- Nothing is deleted when a file the table references under its location is missing from the
  listing: the two would then be spelling paths differently, and any deletion could hit live data.
- Just before deleting, the table is read again; if it moved on, what it references now is kept too.

A deleted file of a versioned bucket stays a noncurrent version until the bucket's lifecycle rule
removes it (docs/operations.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pyarrow.fs import FileSelector, FileType
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.table import Table

from floe_infra.errors import FloeError

# pyarrow spells s3a:// and s3n:// locations like s3:// ones: all three name the same object.
_SCHEME_FAMILY = {"s3a": "s3", "s3n": "s3"}


class UnreferencedFilesError(FloeError):
    """Raised when a table's files cannot be listed or compared safely; nothing of the table was deleted."""


@dataclass(frozen=True)
class ListedFile:
    """A file found under a table's location."""

    location: str
    size: int
    modified: datetime


@dataclass
class Sweep:
    """What a sweep of one table's location found and did.

    Attributes:
        candidates: Files nothing references that are older than the grace period.
        deleted: Locations deleted (empty on a dry run).
        kept_young: Unreferenced files kept because they are younger than the grace period.
    """

    candidates: list[ListedFile] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept_young: int = 0

    @property
    def bytes(self) -> int:
        """Total size of the candidates."""
        return sum(f.size for f in self.candidates)


def _pyarrow_io(io: FileIO) -> PyArrowFileIO:
    if not isinstance(io, PyArrowFileIO):
        raise UnreferencedFilesError(f"listing a table's files needs pyiceberg's PyArrowFileIO, not "
                                     f"{type(io).__name__}; unset py-io-impl for the maintenance job")
    return io


def file_key(location: str) -> str:
    """A location in the one form listings and metadata are compared in: `<scheme>://<bucket>/<key>`."""
    scheme, _, path = PyArrowFileIO.parse_location(location)
    return f"{_SCHEME_FAMILY.get(scheme, scheme)}://{path}"


def referenced_files(table: Table) -> tuple[set[str], set[str]]:
    """Everything the table references, and the part of it a reader needs (current metadata and snapshots).

    Returns:
        (all referenced keys, keys that must exist: the current metadata file and every snapshot's files)
    """
    metadata = table.metadata
    required = {table.metadata_location}
    seen_manifests: set[str] = set()
    for snapshot in metadata.snapshots:
        required.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            required.add(manifest.manifest_path)
            if manifest.manifest_path in seen_manifests:
                continue
            seen_manifests.add(manifest.manifest_path)
            required |= {e.data_file.file_path for e in manifest.fetch_manifest_entry(table.io, discard_deleted=False)}
    extra = {entry.metadata_file for entry in metadata.metadata_log}
    extra |= {s.statistics_path for s in metadata.statistics}
    extra |= {s.statistics_path for s in metadata.partition_statistics}
    must = {file_key(p) for p in required}
    return must | {file_key(p) for p in extra}, must


def _hidden(relative: str) -> bool:
    return any(part.startswith((".", "_")) and "=" not in part for part in relative.split("/"))


def _prefixes(locations: Iterable[str]) -> tuple[str, ...]:
    return tuple(file_key(location).rstrip("/") + "/" for location in locations)


def list_files(table: Table, skip: tuple[str, ...] = ()) -> list[ListedFile]:
    """Every file under the table's location, except under the `skip` prefixes (other tables' nested in it).

    Raises:
        UnreferencedFilesError: When the location cannot be listed.
    """
    io = _pyarrow_io(table.io)
    scheme, netloc, root = io.parse_location(table.location())
    root = root.rstrip("/")
    family = _SCHEME_FAMILY.get(scheme, scheme)
    try:
        infos = io.fs_by_scheme(scheme, netloc).get_file_info(FileSelector(root, recursive=True,
                                                                           allow_not_found=True))
    except OSError as exc:
        raise UnreferencedFilesError(f"cannot list {table.location()}: {exc}") from exc
    files = []
    for info in infos:
        if info.type != FileType.File or not info.path.startswith(root + "/"):
            continue
        key = f"{family}://{info.path}"
        if not key.startswith(skip):
            files.append(ListedFile(key, info.size or 0, info.mtime))
    return files


def sweep(table: Table, now: datetime, grace_seconds: float, *, excluded: Iterable[str] = (),
          reload: Callable[[], Table], dry_run: bool) -> Sweep:
    """Find the table's unreferenced files and (unless `dry_run`) delete those older than the grace period.

    Args:
        table: The table, as just loaded.
        now: The time the grace period counts back from.
        grace_seconds: Unreferenced files modified less than this long ago are kept.
        excluded: Locations of other tables under this table's location.
        reload: Reads the table again (just before deleting).
        dry_run: Find, delete nothing.

    Raises:
        UnreferencedFilesError: When the listing or the comparison is not safe; nothing was deleted.
    """
    skip = _prefixes(excluded)
    referenced, required = referenced_files(table)
    listed = list_files(table, skip)
    [root] = _prefixes([table.location()])
    present = {f.location for f in listed}
    missing = sorted(k for k in required if k.startswith(root) and not k.startswith(skip) and k not in present)
    if missing:
        raise UnreferencedFilesError(
            f"{len(missing)} file(s) the table references are not in the listing of {table.location()} (first: "
            f"{missing[0]}); the table may be damaged or its paths spelled unlike the listing, so nothing was deleted")
    result = Sweep()
    for listed_file in listed:
        relative = listed_file.location[len(root):]
        if listed_file.location in referenced or _hidden(relative):
            continue
        if (now - listed_file.modified).total_seconds() < grace_seconds:
            result.kept_young += 1
        else:
            result.candidates.append(listed_file)
    if dry_run or not result.candidates:
        return result
    fresh = reload()
    if fresh.metadata_location != table.metadata_location:
        now_referenced, _ = referenced_files(fresh)
        result.candidates = [f for f in result.candidates if f.location not in now_referenced]
    for candidate in result.candidates:
        with contextlib.suppress(FileNotFoundError):  # gone already: what this sweep wanted
            table.io.delete(candidate.location)
        result.deleted.append(candidate.location)
    return result
