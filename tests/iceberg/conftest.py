"""A real pyiceberg SqlCatalog (SQLite + local warehouse) per test, and table helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog import Catalog

from floe_infra.config.tables import TableConfig
from floe_infra.iceberg.catalogs import embedded_target, open_catalog
from floe_infra.iceberg.engine import Reconciliation, apply_tables, plan_tables
from floe_infra.iceberg.plan import DesiredTable, TablePlan

NAMESPACE = ("bronze", "sales")


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return open_catalog(embedded_target(tmp_path))


def table(**fields: Any) -> DesiredTable:
    """A validated table declaration in the test namespace (`name` and `layer` defaulted)."""
    config = TableConfig.model_validate({"name": "orders", "layer": "bronze", **fields})
    return DesiredTable(NAMESPACE, config)


def apply(catalog: Catalog, *tables: DesiredTable) -> Reconciliation:
    return apply_tables(catalog, list(tables), create_namespaces=True)


def plan(catalog: Catalog, desired: DesiredTable) -> TablePlan:
    return plan_tables(catalog, [desired], create_namespaces=True)[0]


def described(plan_: TablePlan) -> list[str]:
    return [c.describe() for c in plan_.changes]


def metadata_files(tmp_path: Path) -> set[Path]:
    return set(tmp_path.rglob("*.metadata.json"))
