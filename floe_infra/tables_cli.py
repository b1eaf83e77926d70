"""`floe-infra tables plan|apply`: floe.yaml's tables against a catalog, from the command line.

Exit codes (`floe_infra.errors.ExitCode`): 0 when every table is as declared or was made so;
4 (REFUSED) when a table's change is refused (nothing of that table is changed, the others
apply); 1 (RUNTIME) when the catalog fails (unreachable, timeout, throttled, garbled answers,
commit state unknown, another apply holding the embedded catalog): the message names the
catalog and what to do, and a rerun converges; 2 for invalid input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from floe_infra import console
from floe_infra.config.catalog import CatalogType
from floe_infra.config.loader import load_platform
from floe_infra.config.yaml_source import Path_, SourceDocument
from floe_infra.contract import load_contract_file
from floe_infra.errors import ExitCode, FloeError
from floe_infra.iceberg.catalogs import CatalogTarget, embedded_target, exclusive, open_catalog
from floe_infra.iceberg.engine import apply_tables, desired_tables, plan_tables
from floe_infra.iceberg.plan import Action, Change, ChangeKind, DesiredTable, TablePlan, refusals
from floe_infra.iceberg.report import applied_report, plan_document, plan_report
from floe_infra.pipeline.binding import PipelineBinding, bind_files
from floe_infra.platform.exports import build_contract
from floe_infra.topology import build_topology

CREDENTIAL_ENV = "FLOE_CATALOG_CREDENTIAL"


def _binding(args: argparse.Namespace) -> tuple[SourceDocument, PipelineBinding]:
    """floe.yaml (its document, to locate refusals) bound to the platform's contract, as its pipeline stack
    binds it: the contract file, or the contract platform.yaml's stack exports."""
    if args.contract is not None:
        contract = load_contract_file(args.contract)
    else:
        platform = load_platform(args.platform).config
        contract = build_contract(platform, build_topology(platform))
    [(loaded, binding)] = bind_files([args.pipeline], contract)
    return loaded.document, binding


def _where(index: int, desired: DesiredTable, change: Change | None) -> Path_:
    """The place in floe.yaml of what refuses a table: the column, the list a column or partition field left,
    or the table's entry."""
    table: Path_ = ("tables", index)
    if change is None:
        return table
    if change.kind is ChangeKind.DROP_COLUMN:
        return (*table, "columns")
    if change.kind is ChangeKind.REMOVE_PARTITION_FIELD:
        return (*table, "partition_by")
    names = [column.name for column in desired.config.columns]
    column = change.target.split(".", 1)[0]
    return (*table, "columns", names.index(column)) if column in names else table


def located(plans: Sequence[TablePlan], tables: Sequence[DesiredTable], document: SourceDocument) -> list[TablePlan]:
    """The plans with each refusal reason as `floe.yaml:LINE:COLUMN: field.path: reason`, like a validation
    problem, at the declaration that causes it."""
    index = {desired.identifier: i for i, desired in enumerate(tables)}
    out = []
    for plan in plans:
        if plan.action is not Action.REFUSED or plan.identifier not in index:
            out.append(plan)
            continue
        i = index[plan.identifier]
        causes = {reason: change for change, reason in refusals(plan.changes, tables[i].config.allow_breaking_changes)}
        prefer_key = {ChangeKind.DROP_COLUMN, ChangeKind.REMOVE_PARTITION_FIELD}
        reasons = []
        for reason in plan.reasons:
            change = causes.get(reason)
            key = change is not None and change.kind in prefer_key
            reasons.append(str(document.problem(_where(i, tables[i], change), reason, prefer_key=key)))
        out.append(replace(plan, reasons=tuple(reasons)))
    return out


def _target(args: argparse.Namespace, binding: PipelineBinding) -> CatalogTarget:
    """The catalog of the pipeline's tables, as `pulumi up` reaches it (or the one the options name)."""
    catalogs = {t.catalog for t in binding.tables}
    if args.embedded or any(c.type == CatalogType.EMBEDDED for c in catalogs):
        return embedded_target(Path.cwd())
    if len(catalogs) > 1:
        raise FloeError(f"the tables of {binding.name} are in {len(catalogs)} catalogs; plan them one catalog "
                        "at a time with --catalog-uri")
    catalog = next(iter(catalogs), binding.contract.catalogs.get(binding.pipeline.catalog))
    uri = args.catalog_uri or (catalog.deploy_uri if catalog is not None else "")
    if not uri or catalog is None:
        raise FloeError(f"catalog profile '{binding.pipeline.catalog}' gives no URI; pass --catalog-uri or "
                        "--embedded")
    return CatalogTarget(uri=uri, warehouse=catalog.warehouse, credential=os.environ.get(CREDENTIAL_ENV),
                         scope=f"PRINCIPAL_ROLE:{binding.tenant.principal_role}")


def run_tables(args: argparse.Namespace) -> int:
    """Plan (and apply) the pipeline's tables; 0 when nothing is refused, `ExitCode.REFUSED` otherwise."""
    document, binding = _binding(args)
    target = _target(args, binding)
    embedded = target.embedded
    namespaces = binding.tenant.namespaces
    pipeline = binding.pipeline
    catalog = open_catalog(target)
    tables = desired_tables(pipeline, namespaces)
    applied = None
    if args.action == "plan":
        plans = plan_tables(catalog, tables, create_namespaces=embedded)
    else:
        # The embedded catalog: one apply at a time; REST: optimistic commits.
        with exclusive(target), console.progress("applying tables") as advance:
            def progress(step: int, steps: int, plan: TablePlan) -> None:
                advance(step, steps, f"{plan.name}: {plan.action.value}")

            result = apply_tables(catalog, tables, create_namespaces=embedded, progress=progress)
        plans, applied = result.plans, result.applied
    plans = located(plans, tables, document)
    refused = [p for p in plans if p.action.value == "refused"]
    if args.json:
        print(plan_document(plans, catalog=target.uri, warehouse=target.warehouse, applied=applied))
    else:
        console.show(f"catalog: {target.uri} (warehouse {target.warehouse})",
                     *(plan_report(plans) if applied is None else applied_report(plans, applied)))
    if refused:
        print(f"{len(refused)} table(s) refused; see the reasons: change floe.yaml, or opt in with "
              "allow_breaking_changes where the reason says so", file=sys.stderr)
        return ExitCode.REFUSED
    return ExitCode.OK
