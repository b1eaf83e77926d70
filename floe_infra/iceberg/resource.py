"""`IcebergTable`: a Pulumi dynamic resource owning one Iceberg table.

- `check` validates the declaration and, from the previous and new declarations alone (no
  catalog needed), computes the evolution plan. The plan's lines become the `plan` input, so
  `pulumi preview --diff` in a pull request lists exactly which columns change; a refused plan
  fails the preview with its reasons.
- `create` and `update` plan against the live table (the source of truth) and apply the plan.
- `delete` leaves the table in the catalog unless `drop_when_removed` was declared.

The catalog credential is a secret input (encrypted in state, secret in outputs) and is never
part of the pickled provider, which holds no state at all.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic as dynamic
from pydantic import ValidationError
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table.metadata import new_table_metadata

from floe_infra import __version__
from floe_infra.config.tables import TableConfig
from floe_infra.errors import FloeError
from floe_infra.iceberg.apply import apply_plan, partition_spec, sort_order
from floe_infra.iceberg.catalogs import CatalogTarget, open_catalog
from floe_infra.iceberg.engine import plan_table
from floe_infra.iceberg.plan import (
    MANAGED_PROPERTIES,
    Action,
    DesiredTable,
    TablePlan,
    plan_create,
    plan_evolution,
)
from floe_infra.iceberg.types import schema_for

INPUTS = ("catalog", "credential", "namespace", "table", "provider_version")


def _desired(props: dict[str, Any]) -> DesiredTable:
    return DesiredTable(tuple(props["namespace"]), TableConfig.model_validate(props["table"]))


def declared_plan(olds: dict[str, Any] | None, news: dict[str, Any]) -> TablePlan:
    """The plan from the previous declaration to the new one, without touching a catalog."""
    desired = _desired(news)
    if not olds or "table" not in olds:
        return plan_create(desired)
    previous = _desired(olds)
    schema = schema_for(previous.columns, previous.config.identifier_fields)
    props = previous.properties
    # The declared state carries the properties floe-infra manages, as the live table does.
    metadata = new_table_metadata(schema, partition_spec(schema, previous), sort_order(schema, previous),
                                  "memory://declared",
                                  properties={**props, MANAGED_PROPERTIES: ",".join(sorted(props))})
    renamed = desired.previous_identifier if previous.config.name != desired.config.name else None
    return plan_evolution(desired, metadata, rename_from=renamed if renamed == previous.identifier else None)


def _target(props: dict[str, Any]) -> CatalogTarget:
    catalog = props["catalog"]
    return CatalogTarget(uri=catalog["uri"], warehouse=catalog["warehouse"], credential=props.get("credential"),
                         scope=catalog.get("scope"))


class IcebergTableProvider(dynamic.ResourceProvider):
    """The provider behind `IcebergTable` (stateless: safe to pickle)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        try:
            plan = declared_plan(_olds, news)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            return dynamic.CheckResult(news, [dynamic.CheckFailure(f"table.{where}", first["msg"])])
        failures = [dynamic.CheckFailure("table", reason) for reason in plan.reasons]
        return dynamic.CheckResult({**news, "plan": [c.describe() for c in plan.changes]}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        replaces = []
        if olds.get("namespace") != news.get("namespace") or olds.get("catalog") != news.get("catalog"):
            replaces.append("namespace")
        old_name, new = olds.get("table", {}).get("name"), news.get("table", {})
        if old_name is not None and old_name != new.get("name") and new.get("renamed_from") != old_name:
            replaces.append("table")
        changed = any(olds.get(key) != news.get(key) for key in INPUTS) or bool(news.get("plan"))
        return dynamic.DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outs = self._reconcile(props)
        return dynamic.CreateResult(".".join(outs["identifier"]), outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._reconcile(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if not props.get("table", {}).get("drop_when_removed"):
            return
        catalog = open_catalog(_target(props))
        try:
            catalog.purge_table(tuple(props["identifier"]))
        except NoSuchTableError:
            return

    def _reconcile(self, props: dict[str, Any]) -> dict[str, Any]:
        target = _target(props)
        catalog = open_catalog(target)
        desired = _desired(props)
        if target.embedded:
            catalog.create_namespace_if_not_exists(desired.namespace)
        plan = plan_table(catalog, desired, namespace_exists=catalog.namespace_exists(desired.namespace))
        if plan.action is Action.REFUSED:
            raise FloeError(f"table {plan.name} refused: " + "; ".join(plan.reasons))
        apply_plan(catalog, plan, desired)
        table = catalog.load_table(desired.identifier)
        return {**{k: props.get(k) for k in INPUTS}, "plan": props.get("plan", []),
                "identifier": list(desired.identifier), "table_uuid": str(table.metadata.table_uuid),
                "metadata_location": table.metadata_location,
                "applied": [c.describe() for c in plan.changes]}


class IcebergTable(dynamic.Resource, module="iceberg", name="IcebergTable"):
    """One Iceberg table declared in floe.yaml, created and evolved in place."""

    identifier: pulumi.Output[list[str]]
    table_uuid: pulumi.Output[str]
    metadata_location: pulumi.Output[str]
    plan: pulumi.Output[list[str]]

    def __init__(self, name: str, *, catalog: CatalogTarget, namespace: tuple[str, ...], table: TableConfig,
                 credential: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "catalog": {"uri": catalog.uri, "warehouse": catalog.warehouse, "scope": catalog.scope},
            "credential": pulumi.Output.secret(credential) if credential is not None else None,
            "namespace": list(namespace),
            "table": table.model_dump(mode="json", exclude_none=True),
            "provider_version": __version__,
            "identifier": None, "table_uuid": None, "metadata_location": None, "plan": None, "applied": None,
        }
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["credential"])
        super().__init__(IcebergTableProvider(), name, props, pulumi.ResourceOptions.merge(secret_opts, opts))
