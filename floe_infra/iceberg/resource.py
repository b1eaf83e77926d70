"""`IcebergTable`: a Pulumi dynamic resource owning one Iceberg table.

- `check` validates the declaration and, from the previous and new declarations alone (no
  catalog needed), computes the evolution plan. The plan's lines become the `plan` input, so
  `pulumi preview --diff` in a pull request lists exactly which columns change; a refused plan
  fails the preview with its reasons. So does a change that would make this resource a different
  table (another namespace or catalog, or a new name without `renamed_from`): floe-infra never
  replaces a table, because replacing one is creating an empty table and dropping the old one.
- `diff` never asks for a replacement.
- `create` and `update` plan against the live table (the source of truth) and apply the plan,
  with the engine's conflict retries. `create` takes over an existing table only when it is this
  stack's own (an interrupted create) or the declaration says `adopt: true` and it matches.
- `delete` leaves the table in the catalog: dropping a removed table (`drop_when_removed`) is
  `TableSet`'s job, which sees the whole declaration and can tell a removal from a rename.

The catalog credential is a secret input (encrypted in state, secret in outputs) and is never
part of the pickled provider, which holds no state at all.

pyiceberg's table and catalog code is imported where the provider needs it (reading, planning a
changed declaration, applying), not with this module: the pipeline program imports it to declare
tables, and a no-op preview's `check` (an unchanged declaration) needs none of it either.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
import pulumi.dynamic as dynamic
from pydantic import ValidationError

from floe_infra import live_credentials
from floe_infra.config.tables import TableConfig
from floe_infra.errors import FloeError
from floe_infra.iceberg.catalogs import CatalogTarget, credential_identity, exclusive, open_catalog
from floe_infra.iceberg.plan import (
    MANAGED_BY,
    MANAGED_PROPERTIES,
    Action,
    DesiredTable,
    TablePlan,
    plan_create,
    plan_evolution,
)
from floe_infra.providers import DynamicProvider
from floe_infra.refresh import read_back

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

INPUTS = ("catalog", "credential", "namespace", "table", "owner", "provider_version")
# The inputs a declared plan is computed from.
DECLARATION = ("namespace", "table", "owner")


def _desired(props: dict[str, Any]) -> DesiredTable:
    return DesiredTable(tuple(props["namespace"]), TableConfig.model_validate(props["table"]), props.get("owner"))


def declared_plan(olds: dict[str, Any] | None, news: dict[str, Any]) -> TablePlan:
    """The plan from the previous declaration to the new one, without touching a catalog."""
    desired = _desired(news)
    if not olds or "table" not in olds:
        return plan_create(desired)
    if all(olds.get(key) == news.get(key) for key in DECLARATION):
        # Every no-op preview: nothing to plan (`evolution_from` a declaration to itself is empty too, see
        # tests/iceberg/test_resource.py), so no pyiceberg to load for it.
        return TablePlan(desired.identifier, Action.UNCHANGED)
    return evolution_from(_desired(olds), desired)


def evolution_from(previous: DesiredTable, desired: DesiredTable) -> TablePlan:
    """The plan from `previous` to `desired`, a table built from the previous declaration standing in for the
    live one."""
    from pyiceberg.table.metadata import new_table_metadata

    from floe_infra.iceberg.apply import partition_spec, sort_order
    from floe_infra.iceberg.types import schema_for

    schema = schema_for(previous.columns, previous.config.identifier_fields)
    props = previous.properties
    # The declared state carries the properties floe-infra manages, as the live table does.
    bookkeeping = {MANAGED_PROPERTIES: ",".join(sorted(props)), **({MANAGED_BY: previous.owner} if previous.owner
                                                                   else {})}
    metadata = new_table_metadata(schema, partition_spec(schema, previous), sort_order(schema, previous),
                                  "memory://declared", properties={**props, **bookkeeping})
    renamed = desired.previous_identifier if previous.config.name != desired.config.name else None
    return plan_evolution(desired, metadata, rename_from=renamed if renamed == previous.identifier else None)


def replacement_reasons(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    """Why a change would turn this resource into another table (then it is refused), if it would."""
    old_table, new_table = olds.get("table") or {}, news.get("table") or {}
    old_name, new_name = old_table.get("name"), new_table.get("name")
    old_id = ".".join([*olds.get("namespace", []), str(old_name)])
    reasons = []
    # The warehouse and namespace say which table this is; the URI only how to reach it (it may move).
    moved = [olds.get("namespace"), (olds.get("catalog") or {}).get("warehouse")] != [
        news.get("namespace"), (news.get("catalog") or {}).get("warehouse")]
    if moved and not new_table.get("adopt"):
        new_id = ".".join([*news.get("namespace", []), str(new_name)])
        reasons.append(
            f"table {old_id} would become {new_id} in {news.get('catalog', {}).get('warehouse')}: floe-infra never "
            "moves or replaces a table (that is an empty new table, and the old one with its data left behind or "
            "dropped). Keep the layer; to move the data, declare a new table and copy it; if the table was already "
            "moved in the catalog (a platform namespace change), set `adopt: true` to take it over where it is now")
    if old_name is not None and old_name != new_name and new_table.get("renamed_from") != old_name:
        reasons.append(
            f"table {old_id} would be replaced by a new table {new_name}: to rename it with its data, declare "
            f"`renamed_from: {old_name}`; to start a new table, give it its own declaration")
    return reasons


# The provider process refreshes every table of a deployment: one opened REST catalog (its config request and
# token) serves all the reads with the same target (a rotated credential is another target). The embedded
# catalog is opened per call, as before: its SQLite connections stay with the thread that made them.
_READING: dict[CatalogTarget, Catalog] = {}
_READING_LOCK = threading.Lock()


def _catalog_for_reading(target: CatalogTarget) -> Catalog:
    if target.embedded:
        return open_catalog(target)
    with _READING_LOCK:
        if target not in _READING:
            _READING[target] = open_catalog(target)
        return _READING[target]


def forget_all() -> None:
    """Drop every catalog opened for reading (a new deployment in the same process, and tests)."""
    with _READING_LOCK:
        _READING.clear()


def _target(props: dict[str, Any], credential: str | None = None) -> CatalogTarget:
    """Where the table is, with `credential`, else the one in effect now (see live_credentials)."""
    catalog = props["catalog"]
    if credential is None:
        credential = live_credentials.current(catalog["uri"], credential_identity(catalog), props.get("credential"))
    return CatalogTarget(uri=catalog["uri"], warehouse=catalog["warehouse"], credential=credential,
                         scope=catalog.get("scope"))


class IcebergTableProvider(DynamicProvider):
    """The provider behind `IcebergTable` (stateless: safe to pickle)."""

    # Bumped on purpose when what the provider does with unchanged inputs changes: every table then
    # updates once. A floe-infra release that leaves it alone touches no table.
    VERSION: ClassVar[int] = 1

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        catalog = news.get("catalog") or {}
        live_credentials.remember(catalog.get("uri"), credential_identity(catalog), news.get("credential"))
        try:
            plan = declared_plan(_olds, news)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            return dynamic.CheckResult(news, [dynamic.CheckFailure(f"table.{where}", first["msg"])])
        reasons = [*replacement_reasons(_olds or {}, news), *plan.reasons] if _olds else list(plan.reasons)
        failures = [dynamic.CheckFailure("table", reason) for reason in reasons]
        return dynamic.CheckResult({**news, "plan": [c.describe() for c in plan.changes]}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # Never a replacement: `check` refuses every change that would need one. A refresh that found the
        # live table off its declaration (`drift`) makes an update that puts it back.
        changed = (any(olds.get(key) != news.get(key) for key in INPUTS) or bool(news.get("plan"))
                   or bool(olds.get("drift")))
        return dynamic.DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        """The live table: gone if it was dropped outside floe-infra (`pulumi up` creates it again), with
        `drift` listing what `pulumi up` would change to bring it back to its declaration. Not read when
        the catalog refuses the credential in state (`refresh.read_back`): `drift` then says so, and
        `pulumi up` reconciles the table with the credential declared then."""
        catalog = props["catalog"]
        return read_back(catalog["uri"], credential_identity(catalog), props.get("credential"),
                         lambda credential: self._read_live(id_, props, credential),
                         lambda reason: dynamic.ReadResult(id_, {**props, "drift": [reason]}))

    @staticmethod
    def _read_live(id_: str, props: dict[str, Any], credential: str | None) -> dynamic.ReadResult:
        from floe_infra.iceberg.engine import read_table
        from floe_infra.iceberg.failures import catalog_errors

        desired = _desired(props)
        catalog = _catalog_for_reading(_target(props, credential))
        with catalog_errors(catalog, f"read table {'.'.join(desired.identifier)}"):
            plan = read_table(catalog, desired)
        if plan is None:
            return dynamic.ReadResult(None, {})
        return dynamic.ReadResult(id_, {**props, "drift": [c.describe() for c in plan.changes]})

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outs = self._reconcile(props, new_declaration=True)
        return dynamic.CreateResult(".".join(outs["identifier"]), outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._reconcile(news, new_declaration=False))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # The table stays: a removal that drops it is decided and done by TableSet.
        return

    def _reconcile(self, props: dict[str, Any], *, new_declaration: bool) -> dict[str, Any]:
        from floe_infra.iceberg.engine import reconcile_table
        from floe_infra.iceberg.failures import catalog_errors

        target = _target(props)
        desired = _desired(props)
        catalog = open_catalog(target)
        with exclusive(target):
            with catalog_errors(catalog, f"prepare namespace {'.'.join(desired.namespace)}"):
                if target.embedded:
                    catalog.create_namespace_if_not_exists(desired.namespace)
                namespace_exists = catalog.namespace_exists(desired.namespace)
            plan, _ = reconcile_table(catalog, desired, namespace_exists=namespace_exists,
                                      new_declaration=new_declaration)
            if plan.action is Action.REFUSED:
                raise FloeError(f"table {plan.name} refused: " + "; ".join(plan.reasons))
            with catalog_errors(catalog, f"load table {plan.name}"):
                table = catalog.load_table(desired.identifier)
        return {**{k: props.get(k) for k in INPUTS}, "plan": props.get("plan", []), "drift": [],
                "identifier": list(desired.identifier), "table_uuid": str(table.metadata.table_uuid),
                "metadata_location": table.metadata_location,
                "applied": [c.describe() for c in plan.changes]}


class IcebergTable(dynamic.Resource, module="iceberg", name="IcebergTable"):
    """One Iceberg table declared in floe.yaml, created and evolved in place."""

    if TYPE_CHECKING:
        # For type checkers only: the SDK evaluates a resource class's annotations at every registration
        # (and builds a class from them); one IcebergTable per declared table made that ~4% of an offline
        # preview. The outputs are attributes either way (every output is an input key below).
        identifier: pulumi.Output[list[str]]
        table_uuid: pulumi.Output[str]
        metadata_location: pulumi.Output[str]
        plan: pulumi.Output[list[str]]

    def __init__(self, name: str, *, catalog: CatalogTarget, namespace: tuple[str, ...], table: TableConfig,
                 credential: pulumi.Input[str] | None = None, owner: str | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "catalog": {"uri": catalog.uri, "warehouse": catalog.warehouse, "scope": catalog.scope},
            "credential": pulumi.Output.secret(credential) if credential is not None else None,
            "namespace": list(namespace),
            "table": table.model_dump(mode="json", exclude_none=True),
            "owner": owner,
            "provider_version": IcebergTableProvider.VERSION,
            "identifier": None, "table_uuid": None, "metadata_location": None, "plan": None, "applied": None,
            "drift": None,
        }
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["credential"])
        super().__init__(IcebergTableProvider(), name, props, pulumi.ResourceOptions.merge(secret_opts, opts))
