"""`TableSet`: the pipeline's declared tables as one Pulumi dynamic resource, which drops removed ones.

One `IcebergTable` cannot tell, when Pulumi deletes it, whether floe.yaml removed the table or
renamed it or moved it to another layer without saying so (all three are "this declaration is
gone"). `TableSet` sees the previous and the new declarations side by side, so it is where
`drop_when_removed` acts:

- `check` refuses a change that removes a droppable table while adding another one: that may be
  a rename without `renamed_from` or a move between layers, and dropping would lose the data;
- `update` drops (and purges) each table whose declaration was removed on its own, if it was
  declared `drop_when_removed: true` when last deployed; `delete` (the pipeline's tables all
  removed, or `pulumi destroy`) drops the droppable ones likewise.

Renames through `renamed_from` are never removals. Each entry names its table by warehouse,
namespace and name, with the catalog to reach it. The catalog credential is a secret input, as
for `IcebergTable`; the provider holds no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
import pulumi.dynamic as dynamic
from pyiceberg.exceptions import NoSuchTableError

from floe_infra import live_credentials
from floe_infra.iceberg.catalogs import CatalogTarget, credential_identity, exclusive, open_catalog
from floe_infra.iceberg.plan import DesiredTable
from floe_infra.providers import DynamicProvider

INPUTS = ("credential", "tables", "provider_version")


def table_entry(catalog: CatalogTarget, desired: DesiredTable) -> dict[str, Any]:
    """What `TableSet` keeps of one declared table."""
    previous = desired.previous_identifier
    return {"name": ".".join((catalog.warehouse, *desired.identifier)),
            "renamed_from": ".".join((catalog.warehouse, *previous)) if previous else None,
            "identifier": list(desired.identifier), "drop_when_removed": desired.config.drop_when_removed,
            "catalog": {"uri": catalog.uri, "warehouse": catalog.warehouse, "scope": catalog.scope}}


def _entries(props: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in (props or {}).get("tables") or []}


def removed_tables(olds: dict[str, Any] | None, news: dict[str, Any]) -> list[dict[str, Any]]:
    """Tables declared before and not now (a table renamed through `renamed_from` is not removed)."""
    before, now = _entries(olds), _entries(news)
    # The engine drops null inputs: an entry without a rename has no `renamed_from` key at all.
    renamed = {entry["renamed_from"] for entry in now.values() if entry.get("renamed_from")}
    return [entry for name, entry in before.items() if name not in now and name not in renamed]


def added_tables(olds: dict[str, Any] | None, news: dict[str, Any]) -> list[dict[str, Any]]:
    """Tables declared now and not before (a table renamed from a declared one is not added)."""
    before, now = _entries(olds), _entries(news)
    return [entry for name, entry in now.items() if name not in before and entry.get("renamed_from") not in before]


class TableSetProvider(DynamicProvider):
    """The provider behind `TableSet` (stateless: safe to pickle)."""

    # Bumped on purpose when what the provider does with unchanged inputs changes.
    VERSION: ClassVar[int] = 1

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        for entry in _entries(news).values():
            place = entry["catalog"]
            live_credentials.remember(place["uri"], credential_identity(place), news.get("credential"))
        dropped = [e["name"] for e in removed_tables(olds, news) if e.get("drop_when_removed")]
        added = [e["name"] for e in added_tables(olds, news)]
        failures = []
        if dropped and added:
            failures.append(dynamic.CheckFailure("tables", (
                f"{', '.join(dropped)} (drop_when_removed) would be dropped with its data while "
                f"{', '.join(added)} is new in the same change; if that is the same table renamed or moved to "
                "another layer, dropping would lose its data. To rename it, declare `renamed_from` (same layer); "
                "to drop it, remove it in a deployment of its own; to move it between layers, declare the new "
                "table, copy the data, and remove the old one afterwards")))
        return dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = any(olds.get(key) != news.get(key) for key in INPUTS)
        return dynamic.DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult("tables", {k: props.get(k) for k in INPUTS})

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        # The set is the declaration itself; each table reads its own drift.
        return dynamic.ReadResult(id_, props)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        _drop([e for e in removed_tables(olds, news) if e.get("drop_when_removed")], news.get("credential"))
        return dynamic.UpdateResult({k: news.get(k) for k in INPUTS})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        _drop([e for e in _entries(props).values() if e.get("drop_when_removed")], props.get("credential"))


def _drop(entries: Sequence[dict[str, Any]], credential: str | None) -> None:
    """Drop and purge tables (gone already: nothing to do)."""
    # pyiceberg's catalog code only when tables are dropped: the pipeline program imports this module too.
    from floe_infra.iceberg.failures import catalog_errors

    for entry in entries:
        place = entry["catalog"]
        # The credential the program declares now, not a rotated one from old state (see live_credentials).
        current = live_credentials.current(place["uri"], credential_identity(place), credential)
        target = CatalogTarget(uri=place["uri"], warehouse=place["warehouse"], credential=current,
                               scope=place.get("scope"))
        catalog = open_catalog(target)
        with exclusive(target), catalog_errors(catalog, f"drop table {entry['name']} (drop_when_removed)"):
            try:
                catalog.purge_table(tuple(entry["identifier"]))
            except NoSuchTableError:
                continue


class TableSet(dynamic.Resource, module="iceberg", name="TableSet"):
    """Every table a pipeline declares; drops the ones removed with `drop_when_removed`."""

    if TYPE_CHECKING:
        # For type checkers only (see IcebergTable): the SDK evaluates class annotations per registration.
        tables: pulumi.Output[list[dict[str, Any]]]

    def __init__(self, name: str, *, tables: Sequence[tuple[CatalogTarget, DesiredTable]],
                 credential: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "credential": pulumi.Output.secret(credential) if credential is not None else None,
            "tables": [table_entry(catalog, desired) for catalog, desired in tables],
            "provider_version": TableSetProvider.VERSION,
        }
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["credential"])
        super().__init__(TableSetProvider(), name, props, pulumi.ResourceOptions.merge(secret_opts, opts))
