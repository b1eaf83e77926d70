"""What the fake transcribed from Polaris, checked against polaris-core 1.7.0's own classes (from Maven Central).

The privileges that confer each privilege (`PolarisAuthorizerImpl.SUPER_PRIVILEGES`), the privileges
of each operation (`RbacOperationSemantics`), the settings and how a catalog property sets them
(`FeatureConfiguration`, `BehaviorChangeConfiguration`, `PolarisConfiguration.resolveValue`), location
equality and containment (`StorageLocation`, `S3Location`), secret rotation (`PolarisPrincipalSecrets`),
and the namespace locations floe-infra plans, compared as Polaris compares them.
"""

from __future__ import annotations

import pytest

from floe_infra.config.layout import catalog_layouts, namespace_layouts
from floe_infra.config.loader import load_platform
from tests.conftest import DEMO_PLATFORM
from tests.polaris import polaris_core
from tests.polaris import polaris_rules as rules

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.skipif(bool(polaris_core.missing_tools()),
                       reason=f"polaris-core needs {', '.join(polaris_core.missing_tools())} on PATH (a JDK 17+ and "
                              "Maven)"),
]

SETTING_CLASSES = {"ALLOW_NAMESPACE_CUSTOM_LOCATION": "BehaviorChangeConfiguration"}
VALUES = ("true", "TRUE", "True", "yes", "1", "false")
LOCATION_PAIRS = [
    ("s3://bucket/bronze/", "s3://bucket/bronze"), ("s3a://bucket/bronze/", "s3://bucket/bronze/"),
    ("s3://bucket/bronze/sales/", "s3://bucket/bronze/"), ("s3://bucket/bronze_x/", "s3://bucket/bronze/"),
    ("s3://bucket/bronze/", "s3://bucket/bronze/"), ("s3://other/bronze/", "s3://bucket/bronze/"),
    ("file:/tmp/wh/a", "file:///tmp/wh/a"), ("/tmp/wh/a/b", "file:///tmp/wh/a"), ("s3://bucket/x", "/bucket/x"),
    ("abfss://c@acct.dfs.core.windows.net/a/b", "abfss://c@acct.dfs.core.windows.net/a"),
    ("abfss://c@acct.dfs.core.windows.net/a", "wasbs://c@acct.blob.core.windows.net/a"),
]


def planned_pairs() -> list[tuple[str, str]]:
    """Each namespace floe-infra plans for the demo platform, beside the location Polaris expects for it."""
    platform = load_platform(DEMO_PLATFORM).config
    layouts = namespace_layouts(platform)
    by_levels = {(ns.catalog, ns.levels): ns for ns in layouts}
    pairs = []
    for ns in layouts:
        parent = by_levels.get((ns.catalog, ns.levels[:-1]))
        if parent is None:
            bucket_root = next(a for a in catalog_layouts(platform)[ns.catalog].allowed_locations
                               if ns.location.startswith(a))
            pairs.append((ns.location, f"{bucket_root}{ns.levels[-1]}/"))
        else:
            pairs.append((ns.location, f"{parent.location}{ns.levels[-1]}/"))
    return pairs


@pytest.fixture(scope="module")
def answers() -> dict[str, list[list[str]]]:
    requests: list[list[str]] = [["privileges"], ["operations"], ["secrets"]]
    for setting in rules.SETTINGS:
        kind = SETTING_CLASSES.get(setting.key, "FeatureConfiguration")
        requests.append(["setting", kind, setting.key])
        for key in (setting.catalog_key, setting.legacy_catalog_key):
            requests += [["resolve", kind, setting.key, key, value] for value in VALUES if key]
        requests.append(["resolve", kind, setting.key, "-", "-"])
    requests += [["location", a, b] for pair in [*LOCATION_PAIRS, *planned_pairs()] for a, b in (pair, pair[::-1])]
    out: dict[str, list[list[str]]] = {}
    for line in polaris_core.probe(requests):
        out.setdefault(line[0], []).append(line[1:])
    return out


def _split(names: str) -> frozenset[str]:
    return frozenset(n for n in names.split(",") if n)


def test_PolarisAuthorizerImpl_SUPER_PRIVILEGES_are_transcribed_as_polaris_core_has_them(answers):
    upstream = {p: _split(s) for p, s in answers["super"]}
    used = set(rules.SUPER_PRIVILEGES) | {p for t, s in rules.OPERATIONS.values() for p in (*t, *s)}
    assert {p: rules.subsuming(p) for p in sorted(used)} == {p: upstream[p] for p in sorted(used)}


def test_RbacOperationSemantics_are_transcribed_as_polaris_core_has_them(answers):
    upstream = {op: (_split(t), _split(s)) for op, t, s in answers["op"]}
    assert {op: upstream[op] for op in rules.OPERATIONS} == rules.OPERATIONS
    assert set(rules.UPDATE_OPERATIONS.values()) <= set(upstream)


def test_FeatureConfiguration_defaults_and_catalog_keys_are_transcribed(answers):
    upstream = {key: (name, default, catalog, legacy) for key, name, default, catalog, legacy in answers["setting"]}
    assert {s.key: (s.key, str(s.default).lower(), s.catalog_key or "-", s.legacy_catalog_key or "-")
            for s in rules.SETTINGS} == {s.key: upstream[s.key] for s in rules.SETTINGS}


def test_PolarisConfiguration_resolveValue_reads_a_catalog_property_as_the_fake_does(answers):
    by_key = {s.key: s for s in rules.SETTINGS}
    for key, prop, value, resolved in answers["resolve"]:
        catalog = {} if prop == "-" else {prop: value}
        assert str(rules.resolve(by_key[key], {}, catalog)).lower() == resolved, (key, prop, value)


def test_StorageLocation_equality_and_containment_are_the_fakes(answers):
    for a, b, equal, child in answers["location"]:
        mine, theirs = rules.StorageLocation.of(a), rules.StorageLocation.of(b)
        assert ((mine == theirs), mine.is_child_of(theirs)) == (equal == "true", child == "true"), (a, b)


def test_every_namespace_location_floe_infra_plans_is_the_one_polaris_expects(answers):
    # validateNamespaceLocation compares StorageLocation.of(...) for equality: polaris-core's own equality here.
    equal = {(a, b): eq == "true" for a, b, eq, _ in answers["location"]}
    for planned, expected in planned_pairs():
        assert equal[(planned, expected)], f"Polaris would refuse {planned} (expects {expected})"


def test_PolarisPrincipalSecrets_rotation_is_the_fakes(answers):
    (upstream,) = answers["secrets"]
    secrets = rules.PrincipalSecrets("p", "client", "first-secret")
    first = secrets.main
    secrets.rotate(secrets.main_hash)
    after_one = secrets.matches(first)
    second = secrets.main
    secrets.rotate(secrets.main_hash)
    mine = [after_one, secrets.matches(first), secrets.matches(second), secrets.client_id == "client"]
    assert [str(v).lower() for v in mine] == upstream == ["true", "false", "true", "true"]
