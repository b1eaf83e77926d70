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
from pathlib import Path

from floe_infra.config.catalog import CatalogType
from floe_infra.config.loader import load_configuration
from floe_infra.config.tenancy import resolve_tenants
from floe_infra.errors import CatalogError, ExitCode
from floe_infra.iceberg.catalogs import CatalogTarget, embedded_target, exclusive, open_catalog
from floe_infra.iceberg.engine import apply_tables, desired_tables, plan_tables
from floe_infra.iceberg.plan import TablePlan
from floe_infra.iceberg.report import format_plans, plan_document

CREDENTIAL_ENV = "FLOE_CATALOG_CREDENTIAL"


def _progress(index: int, total: int, plan: TablePlan) -> None:
    print(f"[{index}/{total}] {plan.name}: {plan.action.value}", file=sys.stderr)


def run_tables(args: argparse.Namespace) -> int:
    """Plan (and apply) the pipeline's tables; 0 when nothing is refused, `ExitCode.REFUSED` otherwise.

    Raises:
        CatalogError: (typed, `ExitCode.RUNTIME`) When the catalog fails.
    """
    platform_loaded, [pipeline_loaded] = load_configuration(args.platform, [args.pipeline])
    platform, pipeline = platform_loaded.config, pipeline_loaded.config
    tenant = resolve_tenants(platform)[pipeline.name]
    namespaces = {layer: tenant.namespace_in(platform.layers[layer].namespace_levels) for layer in tenant.writes}
    profile = platform.catalogs.get(pipeline.catalog)
    embedded = args.embedded or (profile is not None and profile.type == CatalogType.EMBEDDED)
    if embedded:
        target = embedded_target(Path.cwd())
    else:
        uri = args.catalog_uri or (profile.uri if profile is not None and isinstance(profile.uri, str) else None)
        if uri is None or profile is None:
            raise CatalogError(f"catalog profile '{pipeline.catalog}' gives no URI; pass --catalog-uri or --embedded")
        target = CatalogTarget(uri=uri, warehouse=profile.warehouse, credential=os.environ.get(CREDENTIAL_ENV),
                               scope=f"PRINCIPAL_ROLE:{tenant.principal_role}")
    catalog = open_catalog(target)
    tables = desired_tables(pipeline, namespaces)
    applied = None
    if args.action == "plan":
        plans = plan_tables(catalog, tables, create_namespaces=embedded)
    else:
        with exclusive(target):  # the embedded catalog: one apply at a time; REST: optimistic commits
            result = apply_tables(catalog, tables, create_namespaces=embedded, progress=_progress)
        plans, applied = result.plans, result.applied
    refused = [p for p in plans if p.action.value == "refused"]
    if args.json:
        print(plan_document(plans, catalog=target.uri, warehouse=target.warehouse, applied=applied))
    else:
        print(f"catalog: {target.uri} (warehouse {target.warehouse})")
        for line in format_plans(plans):
            print(line)
    if refused:
        print(f"{len(refused)} table(s) refused; see the reasons: change floe.yaml, or opt in with "
              "allow_breaking_changes where the reason says so", file=sys.stderr)
        return ExitCode.REFUSED
    return ExitCode.OK
