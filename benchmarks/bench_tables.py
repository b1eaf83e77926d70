"""Benchmark: creating 1,000 tables through the engine vs bare pyiceberg, and planning them unchanged.

Targets (issue 5): engine create / bare create <= 1.15; unchanged plan of the 1,000 tables
<= 0.2 of the engine's create time. Both creates run in the same process, on fresh SqlCatalogs
(SQLite + local warehouse) in temporary directories, alternating in rounds so machine noise hits
both alike; the ratios are printed side by side.

Run: .venv/bin/python benchmarks/bench_tables.py [--tables 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from floe_infra.config.tables import TableConfig
from floe_infra.iceberg.apply import partition_spec, sort_order
from floe_infra.iceberg.catalogs import embedded_target, open_catalog
from floe_infra.iceberg.engine import apply_tables, plan_tables
from floe_infra.iceberg.plan import DesiredTable
from floe_infra.iceberg.types import schema_for

NAMESPACE = ("bronze", "bench")


def desired(count: int) -> list[DesiredTable]:
    columns = [{"name": "id", "type": "long", "required": True}, {"name": "customer", "type": "string"},
               {"name": "amount", "type": "decimal(12,2)"}, {"name": "created_at", "type": "timestamptz"},
               {"name": "tags", "type": "list", "element": "string"}]
    return [DesiredTable(NAMESPACE, TableConfig.model_validate({
        "name": f"t{i:04d}", "layer": "bronze", "columns": columns, "identifier_fields": ["id"],
        "partition_by": [{"column": "created_at", "transform": "day"}],
        "sort_by": [{"column": "id"}], "properties": {"owner": "bench"}})) for i in range(count)]


def bare_create(tables: list[DesiredTable], root: Path) -> float:
    catalog = open_catalog(embedded_target(root))
    catalog.create_namespace(NAMESPACE)
    start = time.perf_counter()
    for table in tables:
        # The same schema, spec, order and properties, straight through pyiceberg.
        schema = schema_for(table.columns, table.config.identifier_fields)
        catalog.create_table(table.identifier, schema, partition_spec=partition_spec(schema, table),
                             sort_order=sort_order(schema, table), properties=table.properties)
    return time.perf_counter() - start


def engine_create_and_plan(tables: list[DesiredTable], root: Path) -> tuple[float, float]:
    catalog = open_catalog(embedded_target(root))
    start = time.perf_counter()
    result = apply_tables(catalog, tables, create_namespaces=True)
    created = time.perf_counter() - start
    assert len(result.applied) == len(tables)
    start = time.perf_counter()
    plans = plan_tables(catalog, tables, create_namespaces=True)
    planned = time.perf_counter() - start
    assert all(p.action.value == "unchanged" for p in plans)
    return created, planned


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    tables = desired(args.tables)
    bare, engine, plan = [], [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            bare.append(bare_create(tables, Path(a)))
            created, planned = engine_create_and_plan(tables, Path(b))
            engine.append(created)
            plan.append(planned)
    best_bare, best_engine, best_plan = min(bare), min(engine), min(plan)
    print(f"{args.tables} tables, best of {args.rounds} rounds")
    print(f"  bare pyiceberg create_table : {best_bare:7.2f} s")
    print(f"  engine create (plan+apply)  : {best_engine:7.2f} s  ratio engine/bare = "
          f"{best_engine / best_bare:.2f} (target <= 1.15)")
    print(f"  engine plan, all unchanged  : {best_plan:7.2f} s  ratio plan/create = "
          f"{best_plan / best_engine:.2f} (target <= 0.20)")


if __name__ == "__main__":
    main()
