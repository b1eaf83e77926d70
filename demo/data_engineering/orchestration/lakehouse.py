"""The pipeline's view of the lakehouse: its Iceberg catalog and its namespace in each layer.

In the cluster, everything comes from what the platform wires into the code location and its run
pods: pyiceberg's catalog `floe` (`PYICEBERG_CATALOG__FLOE__*`: the REST endpoint, warehouse and
scope from the runtime ConfigMap, the tenant's credential from its Secret) and the layer
namespaces in the compiled platform.yaml (`FLOE_PLATFORM_FILE`). On a laptop, point the same
variables at the embedded catalog `floe-infra tables apply --embedded` creates:
`PYICEBERG_CATALOG__FLOE__URI=sqlite:///.floe/catalog.db` and
`PYICEBERG_CATALOG__FLOE__WAREHOUSE=file://$PWD/.floe/warehouse`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table

CATALOG = "floe"
CATALOG_ENV_PREFIX = "PYICEBERG_CATALOG__FLOE__"
PIPELINE_NAMESPACE = "ecommerce_analytics"
LAYERS = ("bronze", "silver", "gold")


def catalog_properties(env: Mapping[str, str]) -> dict[str, str]:
    """The catalog's properties from `PYICEBERG_CATALOG__FLOE__*`, read now (pyiceberg itself reads the
    environment once, at import), mapped as pyiceberg maps them: `__` to `.`, `_` to `-`."""
    return {key[len(CATALOG_ENV_PREFIX):].lower().replace("__", ".").replace("_", "-"): value
            for key, value in env.items() if key.startswith(CATALOG_ENV_PREFIX)}


def layer_namespaces(env: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Layer -> this pipeline's namespace in it: from the compiled platform.yaml, or the demo's layout."""
    platform_file = env.get("FLOE_PLATFORM_FILE")
    if not platform_file or not Path(platform_file).is_file():
        return {layer: (layer, PIPELINE_NAMESPACE) for layer in LAYERS}
    platform = yaml.safe_load(Path(platform_file).read_text(encoding="utf-8"))
    warehouse = env.get("PYICEBERG_CATALOG__FLOE__WAREHOUSE", "")
    out = {}
    for name, layer in platform.get("layers", {}).items():
        levels = tuple(str(layer["namespace"]).split("."))
        # The compiled namespace starts with the warehouse (the Polaris catalog), which is not a level.
        out[name] = levels[1:] if warehouse and levels[0] == warehouse else levels
    return out


@dataclass(frozen=True)
class Lakehouse:
    """A catalog and the pipeline's namespace in each layer."""

    catalog: Catalog
    namespaces: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_environment(cls) -> Lakehouse:
        """The lakehouse the environment describes."""
        return cls(load_catalog(CATALOG, **catalog_properties(os.environ)), layer_namespaces(os.environ))

    def identifier(self, layer: str, table: str) -> tuple[str, ...]:
        """A table's identifier in the pipeline's namespace of `layer`."""
        return (*self.namespaces[layer], table)

    def overwrite(self, layer: str, table: str, rows: list[dict[str, Any]]) -> int:
        """Replace the rows of a declared table (it must exist: floe.yaml declares bronze tables)."""
        target = self.catalog.load_table(self.identifier(layer, table))
        data = pa.Table.from_pylist(rows, schema=target.schema().as_arrow())
        _replace(target, data)
        return data.num_rows

    def publish(self, layer: str, table: str, data: pa.Table) -> int:
        """Create or replace a derived table (a dbt model's result) with `data`."""
        identifier = self.identifier(layer, table)
        self.catalog.create_namespace_if_not_exists(identifier[:-1])
        try:
            target = self.catalog.load_table(identifier)
        except NoSuchTableError:
            target = self.catalog.create_table(identifier, schema=data.schema)
        with target.update_schema() as update:
            update.union_by_name(data.schema)
        _replace(target, data)
        return data.num_rows


def _replace(table: Table, data: pa.Table) -> None:
    # One snapshot either way; an empty table is appended to (an overwrite would delete nothing, noisily).
    if table.current_snapshot() is None:
        table.append(data)
    else:
        table.overwrite(data)
