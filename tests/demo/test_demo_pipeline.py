"""The e-commerce demo pipeline itself: dbt project, Dagster definitions, seeding, marts, Cube models.

Heavy: these import Dagster and run dbt (requirements-demo.txt). The seeding and the transform run
for real, in process, against an embedded Iceberg catalog (SQLite + local warehouse) created
with floe-infra's own table engine from the demo's floe.yaml.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow.compute as pc
import pytest
import yaml

from floe_infra.config.loader import load_configuration
from floe_infra.config.tenancy import resolve_tenants
from floe_infra.iceberg.catalogs import embedded_target, open_catalog
from floe_infra.iceberg.engine import apply_tables, desired_tables
from tests.conftest import DEMO_PIPELINE, DEMO_PLATFORM

pytestmark = pytest.mark.heavy

PROJECT = DEMO_PIPELINE.parent
DBT_DIR = PROJECT / "dbt"
SEED_COUNTS = {"customers": 1_000, "products": 100, "orders": 5_000, "order_items": 10_000}
STAGING = {"stg_customers", "stg_orders", "stg_products", "stg_order_items"}
MARTS = {"mart_customer_orders", "mart_revenue", "mart_product_performance"}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    """`dbt parse` of the demo project (dbt-duckdb), into the target Dagster loads it from."""
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run([str(dbt), "parse", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
                            capture_output=True, text=True, check=False, cwd=DBT_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((DBT_DIR / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory, manifest: dict[str, Any]) -> Iterator[Path]:
    """An embedded catalog holding the demo's declared bronze tables; pyiceberg's `floe` points at it."""
    root = tmp_path_factory.mktemp("lakehouse")
    platform, [pipeline] = load_configuration(DEMO_PLATFORM, [DEMO_PIPELINE])
    tenant = resolve_tenants(platform.config)[pipeline.config.name]
    namespaces = {layer: tenant.namespace_in(platform.config.layers[layer].namespace_levels)
                  for layer in tenant.writes}
    target = embedded_target(root)
    result = apply_tables(open_catalog(target), desired_tables(pipeline.config, namespaces), create_namespaces=True)
    assert len(result.applied) == 4
    saved = {k: os.environ.get(k) for k in ("PYICEBERG_CATALOG__FLOE__URI", "PYICEBERG_CATALOG__FLOE__WAREHOUSE")}
    os.environ["PYICEBERG_CATALOG__FLOE__URI"] = target.uri
    os.environ["PYICEBERG_CATALOG__FLOE__WAREHOUSE"] = target.warehouse
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def demo(manifest: dict[str, Any]) -> Iterator[ModuleType]:
    """The code location's module, imported as the code server imports it."""
    sys.path.insert(0, str(PROJECT))
    try:
        yield importlib.import_module("orchestration.definitions")
    finally:
        sys.path.remove(str(PROJECT))


@pytest.fixture(scope="module")
def transformed(demo: ModuleType, lakehouse: Path) -> Path:
    """Bronze seeded, then silver and gold built and published (once for the tests that read them)."""
    assert demo.defs.resolve_job_def("seed_bronze").execute_in_process().success
    assert demo.defs.resolve_job_def("transform").execute_in_process().success
    return lakehouse


def table_rows(layer: str, table: str):
    from orchestration.lakehouse import Lakehouse

    lakehouse = Lakehouse.from_environment()
    return lakehouse.catalog.load_table(lakehouse.identifier(layer, table)).scan().to_arrow()


# --- dbt ---------------------------------------------------------------------------------------

def test_the_dbt_project_parses_with_its_layers_sources_and_tests(manifest: dict[str, Any]):
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert set(models) == STAGING | MARTS
    for name, node in models.items():
        layer = "silver" if name in STAGING else "gold"
        assert node["config"]["meta"]["floe"]["layer"] == layer
        assert node["config"]["meta"]["dagster"]["group"] == layer
    sources = {s["name"]: s for s in manifest["sources"].values()}
    assert set(sources) == set(SEED_COUNTS)
    assert all(s["source_meta"]["plugin"] == "iceberg" for s in sources.values())
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    kinds = {t["test_metadata"]["name"] for t in tests if t.get("test_metadata")}
    assert {"unique", "not_null", "accepted_values", "relationships", "unique_combination"} <= kinds
    assert len(tests) >= 30
    # Every staging model reads bronze, every mart reads staging models only.
    for name in STAGING:
        assert any(d.startswith("source.ecommerce_analytics.bronze.") for d in models[name]["depends_on"]["nodes"])
    for name in MARTS:
        assert {d.rsplit(".", 1)[-1] for d in models[name]["depends_on"]["nodes"]} <= STAGING


# --- Dagster -----------------------------------------------------------------------------------

def test_the_asset_graph_runs_bronze_to_silver_to_gold(demo: ModuleType):
    repository = demo.defs.get_repository_def()
    graph = repository.asset_graph
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == {**{f"bronze/{t}": "bronze" for t in SEED_COUNTS}, **dict.fromkeys(STAGING, "silver"),
                      **dict.fromkeys(MARTS, "gold")}
    for key in graph.get_all_asset_keys():
        parents = {groups[p.to_user_string()] for p in graph.get(key).parent_keys}
        expected = {"bronze": set(), "silver": {"bronze", "silver"}, "gold": {"silver"}}[groups[key.to_user_string()]]
        assert parents <= expected
        assert parents or groups[key.to_user_string()] == "bronze"


def test_the_jobs_and_schedule_of_floe_yaml_are_defined(demo: ModuleType):
    repository = demo.defs.get_repository_def()
    floe = yaml.safe_load(DEMO_PIPELINE.read_text())["orchestration"]
    jobs = {j.name for j in repository.get_all_jobs() if not j.name.startswith("__")}
    assert jobs == set(floe["jobs"]) == {"seed_bronze", "transform"}
    graph = repository.asset_graph

    def selected(job: str) -> set[str]:
        selection = demo.selection(floe["jobs"][job]["selection"])
        return {k.to_user_string() for k in selection.resolve(graph)}

    assert selected("seed_bronze") == {f"bronze/{t}" for t in SEED_COUNTS}
    assert selected("transform") == STAGING | MARTS
    [schedule] = repository.schedule_defs
    assert (schedule.name, schedule.cron_schedule, schedule.job_name) == ("hourly_transform", "0 * * * *",
                                                                           "transform")
    assert schedule.execution_timezone == "UTC"


# --- seeding and transformation, for real ------------------------------------------------------

def test_seeding_writes_exactly_the_seed_volumes_and_repeats_them(demo: ModuleType, lakehouse: Path):
    assert demo.defs.resolve_job_def("seed_bronze").execute_in_process().success
    first = {t: table_rows("bronze", t) for t in SEED_COUNTS}
    assert {t: rows.num_rows for t, rows in first.items()} == SEED_COUNTS
    # Overwrite, not append: a second run leaves the same rows.
    assert demo.defs.resolve_job_def("seed_bronze").execute_in_process().success
    for table, rows in first.items():
        again = table_rows("bronze", table)
        assert again.num_rows == SEED_COUNTS[table]
        key = next(iter(rows.schema.names))
        assert again.sort_by(key).drop(["ingested_at"]).equals(rows.sort_by(key).drop(["ingested_at"]))
    orders = first["orders"]
    assert pc.min(orders["order_id"]).as_py() == 1
    assert pc.max(orders["order_id"]).as_py() == SEED_COUNTS["orders"]


def test_the_transform_publishes_silver_and_gold_tables(transformed: Path):
    customers = table_rows("gold", "mart_customer_orders")
    products = table_rows("gold", "mart_product_performance")
    revenue = table_rows("gold", "mart_revenue")
    assert customers.num_rows == SEED_COUNTS["customers"]
    assert products.num_rows == SEED_COUNTS["products"]
    assert revenue.num_rows > 0
    assert table_rows("silver", "stg_orders").num_rows <= SEED_COUNTS["orders"]
    # Revenue adds up the same from both marts.
    assert pc.sum(revenue["revenue"]).as_py() == pc.sum(products["revenue"]).as_py()


# --- Cube --------------------------------------------------------------------------------------

def cubes() -> list[dict[str, Any]]:
    return [cube for path in sorted((PROJECT / "semantic").glob("*.yml"))
            for cube in yaml.safe_load(path.read_text())["cubes"]]


def test_the_cube_models_are_customers_orders_and_products_over_marts(manifest: dict[str, Any]):
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert {c["name"] for c in cubes()} == {"customers", "orders", "products"}
    for cube in cubes():
        *namespace, mart = cube["sql_table"].split(".")
        assert mart in MARTS
        assert models[mart]["config"]["meta"]["floe"]["layer"] == "gold"
        assert namespace == ["lakehouse", "gold", "ecommerce_analytics"]
        assert sum(1 for d in cube["dimensions"] if d.get("primary_key")) == 1


def test_every_cube_member_names_a_column_of_its_published_mart(transformed: Path):
    for cube in cubes():
        columns = set(table_rows("gold", cube["sql_table"].rsplit(".", 1)[-1]).schema.names)
        for member in [*cube["dimensions"], *cube.get("measures", [])]:
            if "sql" in member:
                referenced = {word for word in member["sql"].replace("(", " ").replace(")", " ").split()
                              if word.isidentifier() and word.upper() not in {"CAST", "AS", "VARCHAR"}}
                assert referenced <= columns, (cube["name"], member["name"], referenced - columns)
