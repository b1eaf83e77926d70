"""Where catalogs and namespaces live, and `validate` refusing what Polaris 1.7.0 would refuse at `pulumi up`.

Each layout is checked twice: by `floe-infra validate` (floe_infra/config/layout.py) and by applying its
governance plan to the fake Polaris, which follows `LocalIcebergCatalog.createNamespace` (see
tests/polaris/test_polaris_rules.py). The two must agree: validate refuses exactly what Polaris would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from floe_infra.config.layout import namespace_layouts
from floe_infra.config.loader import load_platform
from floe_infra.config.platform import PlatformConfig
from floe_infra.errors import ConfigError
from floe_infra.polaris.client import PolarisError
from floe_infra.polaris.grants import plan_governance
from tests.conftest import DEMO_PLATFORM
from tests.polaris.conftest import apply_governance
from tests.polaris.fake_polaris import FakePolaris

PLATFORM = """\
version: "1.2.0"
storage:
  one: {bucket: floe-one, endpoint: http://minio:9000}
  two: {bucket: floe-two, endpoint: http://minio:9000}
catalogs:
  default: {uri: http://polaris:8181/api/catalog, warehouse: lakehouse}
compute:
  default: {type: duckdb}
layers:
LAYERS
deployment:
  services:
    object_storage: {deploy: true}
  tenants:
    sales: {writes: [bronze, silver], reads: [bronze, silver]}
"""

LAYOUTS = {
    "one level": """\
  bronze: {name: bronze, storage_ref: one, namespace: lakehouse.bronze}
  silver: {name: silver, storage_ref: two, namespace: lakehouse.silver}""",
    "two levels below one parent, one bucket": """\
  bronze: {name: bronze, storage_ref: one, namespace: lakehouse.lake.bronze}
  silver: {name: silver, storage_ref: one, namespace: lakehouse.lake.silver}""",
    "three levels": """\
  bronze: {name: bronze, storage_ref: one, namespace: lakehouse.a.b.bronze}
  silver: {name: silver, storage_ref: two, namespace: lakehouse.c.silver}""",
    "two levels below one parent, two buckets": """\
  bronze: {name: bronze, storage_ref: one, namespace: lakehouse.lake.bronze}
  silver: {name: silver, storage_ref: two, namespace: lakehouse.lake.silver}""",
}
REFUSED = {"two levels below one parent, two buckets"}


def platform(write_yaml, layers: str) -> Path:
    return write_yaml(PLATFORM.replace("LAYERS", layers), "platform.yaml")


def refusal(path: Path) -> list[str]:
    try:
        load_platform(path, env={})
    except ConfigError as exc:
        return [f"{p.line}:{p.path}: {p.message}" for p in exc.problems]
    return []


def polaris_refusal(path: Path) -> str | None:
    """What Polaris answers when the platform's plan is applied (from platform.yaml as written, unchecked)."""
    fake = FakePolaris()
    url = fake.start()
    try:
        apply_governance(url, plan_governance(PlatformConfig.model_validate(yaml.safe_load(path.read_text()))))
    except PolarisError as exc:
        return str(exc)
    finally:
        fake.stop()
    assert fake.violations == []
    return None


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_validate_refuses_exactly_the_layouts_polaris_refuses(layout: str, write_yaml):
    path = platform(write_yaml, LAYOUTS[layout])
    refused_by_polaris = polaris_refusal(path)
    assert bool(refusal(path)) == (refused_by_polaris is not None) == (layout in REFUSED), refused_by_polaris


def test_layers_below_one_parent_namespace_in_two_buckets_are_refused_with_their_line(write_yaml):
    path = platform(write_yaml, LAYOUTS["two levels below one parent, two buckets"])
    assert refusal(path) == [
        "11:layers.silver.namespace: Polaris accepts namespace lake.silver only at s3://floe-one/lake/silver/ "
        "(namespace-custom-location is off), not at s3://floe-two/lake/silver/; its parent namespace lake is at "
        "s3://floe-one/lake/, for layer 'bronze': keep the layers below one namespace in one bucket, or give them "
        "namespaces apart"]
    assert "create namespace lakehouse.lake.silver: HTTP 400: Namespace silver has a custom location" in str(
        polaris_refusal(path))


def test_a_location_in_a_layers_properties_is_refused_with_its_line(write_yaml):
    layers = LAYOUTS["one level"].replace("namespace: lakehouse.bronze}",
                                          "namespace: lakehouse.bronze, properties: {location: 's3://floe-one/x/'}}")
    assert refusal(platform(write_yaml, layers)) == [
        "10:layers.bronze.properties.location: floe-infra places layer 'bronze' at s3://floe-one/bronze/, the one "
        "location Polaris accepts for its namespace (namespace-custom-location is off); remove 'location' from its "
        "properties"]


def test_a_layer_namespace_of_several_levels_gets_the_namespaces_above_it(write_yaml):
    layouts = namespace_layouts(load_platform(platform(write_yaml, LAYOUTS["three levels"]), env={}).config)
    assert [(".".join(ns.levels), ns.location, ns.parent) for ns in layouts] == [
        ("a", "s3://floe-one/a/", True), ("c", "s3://floe-two/c/", True),
        ("a.b", "s3://floe-one/a/b/", True), ("c.silver", "s3://floe-two/c/silver/", False),
        ("a.b.bronze", "s3://floe-one/a/b/bronze/", False), ("c.silver.sales", "s3://floe-two/c/silver/sales/", False),
        ("a.b.bronze.sales", "s3://floe-one/a/b/bronze/sales/", False)]


def test_every_location_ends_in_a_slash_as_polaris_stores_it():
    for ns in namespace_layouts(load_platform(DEMO_PLATFORM).config):
        assert ns.location.endswith("/"), ns
