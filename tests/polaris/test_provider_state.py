"""Dynamic providers in stack state: the stable import path, state of earlier layouts, explicit versions."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField

from floe_infra import providers
from floe_infra.iceberg.catalogs import embedded_target, open_catalog
from floe_infra.iceberg.resource import IcebergTableProvider
from floe_infra.iceberg.table_set import TableSetProvider
from floe_infra.platform.generated import GeneratedPasswordProvider
from floe_infra.polaris.resources import CatalogProvider, NamespaceProvider, RootCredentialProvider
from tests.conftest import REPO
from tests.iceberg.test_resource import NAMESPACE, table_set
from tests.polaris.test_resources import catalog_props, namespace_props

LEGACY = json.loads((REPO / "tests" / "fixtures" / "pickled_providers_0.1.json").read_text())["providers"]


def load(serialized: str) -> Any:
    """A provider as the dynamic provider host loads it from state (base64 of a dill pickle)."""
    return dill.loads(base64.b64decode(serialized))


@pytest.mark.parametrize("name", sorted(providers.LOCATIONS))
def test_every_provider_is_pickled_under_the_stable_path(name: str):
    cls = getattr(providers, name)
    raw = base64.b64decode(serialize_provider(cls()))
    assert b"floe_infra.providers" in raw
    assert type(load(serialize_provider(cls()))) is cls


@pytest.mark.parametrize("path", sorted(LEGACY))
def test_state_written_by_the_earlier_layout_still_loads_its_providers(path: str):
    module, _, name = path.rpartition(".")
    assert type(load(LEGACY[path])) is getattr(providers, name), f"{path} no longer loads"
    assert module != "floe_infra.providers"


def test_resources_in_state_of_the_earlier_layout_can_be_deleted(polaris, tmp_path: Path):
    base = {"connection": {"url": polaris.url, "realm": "POLARIS", "scope": "PRINCIPAL_ROLE:ALL"},
            "credential": "root:root-secret-for-tests"}
    catalog = load(LEGACY["floe_infra.polaris.resources.CatalogProvider"])
    namespace = load(LEGACY["floe_infra.polaris.resources.NamespaceProvider"])
    created = catalog.create(catalog_props(base))
    namespace.delete("lakehouse.bronze", namespace.create(namespace_props(base)).outs)
    catalog.delete(created.id, created.outs)
    assert polaris.catalogs == {}
    # A droppable table removed by destroying the pipeline, as the earlier TableSet layout recorded it.
    tables = open_catalog(embedded_target(tmp_path))
    tables.create_namespace(NAMESPACE)
    tables.create_table((*NAMESPACE, "scratch"), Schema(NestedField(1, "id", LongType())))
    legacy_set = load(LEGACY["floe_infra.iceberg.table_set.TableSetProvider"])
    legacy_set.delete("tables", table_set(tmp_path, {"name": "scratch", "drop_when_removed": True}))
    assert not tables.table_exists((*NAMESPACE, "scratch"))


@pytest.mark.parametrize("provider", [CatalogProvider, NamespaceProvider, RootCredentialProvider,
                                      IcebergTableProvider, TableSetProvider, GeneratedPasswordProvider])
def test_each_provider_has_an_explicit_version_not_the_package_version(provider: type):
    assert isinstance(provider.VERSION, int)

