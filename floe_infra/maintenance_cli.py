"""`floe-infra maintenance run`: a layer's retention applied to its Iceberg tables, from the command line.

The platform's CronJobs run it with the plan the platform stack wrote (`--plan`); by hand it builds
the same plan from platform.yaml (`--platform`, `--layer`), reaching the catalog as `pulumi up`
does unless `--catalog-uri` says otherwise. The catalog credential comes from
`$FLOE_CATALOG_CREDENTIAL` (`client_id:client_secret`), storage credentials from the usual AWS
environment. Exit codes: 0 when every table was maintained, 1 (RUNTIME) when a table or the catalog
failed (a rerun resumes), 2 for invalid input.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from typing import Any

from floe_infra import console
from floe_infra.errors import ExitCode, FloeError
from floe_infra.iceberg.catalogs import CatalogTarget, open_catalog
from floe_infra.iceberg.maintenance import TableReport, maintain_layer
from floe_infra.iceberg.maintenance_plan import MaintenancePlan, layer_plan
from floe_infra.tables_cli import CREDENTIAL_ENV

REPORT_FORMAT = 1


def _plan(args: argparse.Namespace) -> MaintenancePlan:
    """The plan the options name: the job's plan file, or the layer's plan from platform.yaml."""
    if args.plan is not None:
        plan = MaintenancePlan.load(args.plan)
    else:
        from floe_infra.config.loader import load_platform
        from floe_infra.platform.exports import build_contract
        from floe_infra.topology import build_topology

        if args.layer is None:
            raise FloeError("--platform needs --layer: the layer whose tables to maintain")
        platform = load_platform(args.platform).config
        if args.layer not in platform.layers:
            raise FloeError(f"layer '{args.layer}' is not in {args.platform} (layers: "
                            f"{', '.join(platform.layers) or 'none'})")
        topology = build_topology(platform)
        # From outside the cluster, the catalog is where `pulumi up` reaches it.
        deploy_uri = build_contract(platform, topology).catalogs[platform.layers[args.layer].catalog_ref].deploy_uri
        plan = layer_plan(platform, topology, args.layer, catalog_uri=deploy_uri or None)
    update: dict[str, Any] = {}
    if args.catalog_uri:
        update["catalog_uri"] = args.catalog_uri
    if args.s3_endpoint:
        update["properties"] = {**plan.properties, "s3.endpoint": args.s3_endpoint,
                                "s3.force-virtual-addressing": "false"}
    return plan.model_copy(update=update)


def report_lines(plan: MaintenancePlan, reports: list[TableReport], *, dry_run: bool) -> list[Any]:
    """The run as a table (one row per table) and a closing summary."""
    rows = console.table("TABLE", "ROWS BEFORE", "EXPIRED", "KEPT", "FILES", "MB", "PROBLEM",
                         numeric=("EXPIRED", "KEPT", "FILES", "MB"))
    for r in reports:
        files, size = (len(r.sweep.candidates), r.sweep.bytes) if r.sweep else (0, 0)
        rows.add_row(r.table, r.rows_before or "-", str(len(r.expired)), str(r.snapshots_left), str(files),
                     f"{size / 2**20:.1f}", r.problem or "")
    verb = "would delete" if dry_run else "deleted"
    failed = sum(1 for r in reports if r.problem)
    return [f"layer {plan.layer}: namespace {'.'.join(plan.namespace)}, retention {plan.retention_days} days, "
            f"grace {plan.grace_hours} h, catalog {plan.catalog_uri} (warehouse {plan.warehouse})"
            + (" -- dry run, nothing changed" if dry_run else ""), rows,
            f"{len(reports)} tables: {sum(len(r.expired) for r in reports)} snapshots expired, "
            f"{verb} {sum(len(r.sweep.candidates) if r.sweep else 0 for r in reports)} unreferenced files, "
            f"rows deleted in {sum(1 for r in reports if r.rows_before)}; {failed} failed"]


def report_document(plan: MaintenancePlan, reports: list[TableReport], *, dry_run: bool, now: datetime) -> str:
    """The run as JSON for machines: every expired snapshot and every file deleted (or to delete)."""
    return json.dumps({
        "format": REPORT_FORMAT, "layer": plan.layer, "dry_run": dry_run, "now": now.isoformat(),
        "retention_days": plan.retention_days, "grace_hours": plan.grace_hours,
        "tables": [{"table": r.table, "rows_before": r.rows_before, "expired_snapshots": r.expired,
                    "snapshots_left": r.snapshots_left, "problem": r.problem,
                    "unreferenced_files": [f.location for f in r.sweep.candidates] if r.sweep else [],
                    "young_files_kept": r.sweep.kept_young if r.sweep else 0}
                   for r in reports]}, indent=2, sort_keys=True)


def run_maintenance(args: argparse.Namespace) -> int:
    """Maintain one layer's tables; `ExitCode.RUNTIME` when any table failed."""
    plan = _plan(args)
    catalog = open_catalog(CatalogTarget(uri=plan.catalog_uri, warehouse=plan.warehouse,
                                         credential=os.environ.get(CREDENTIAL_ENV), scope=plan.scope,
                                         properties=plan.properties), name="maintenance")
    now = datetime.now(UTC)
    with console.progress(f"maintaining layer {plan.layer}") as advance:
        reports = maintain_layer(catalog, plan, now, dry_run=args.dry_run, progress=advance)
    if args.json:
        print(report_document(plan, reports, dry_run=args.dry_run, now=now))
    else:
        console.show(*report_lines(plan, reports, dry_run=args.dry_run))
    return ExitCode.RUNTIME if any(r.problem for r in reports) else ExitCode.OK
