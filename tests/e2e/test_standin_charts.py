"""The e2e stand-in charts keep their promises: one per pinned chart, marked, and fed what floe-infra passes.

The stand-ins under tests/e2e/charts replace the upstream charts in the end-to-end run (no chart
repository is reachable there). Rendering them needs helm; these checks do not: they hold the
charts to the pins in floe_infra/versions.py and to the values the demo stacks really pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from floe_infra import versions
from floe_infra.versions import Chart
from tests.pipeline.conftest import demo_pipeline, platform_run

CHARTS = Path(__file__).parent / "charts"
RELEASE = "kubernetes:helm.sh/v3:Release"
MARK = "STAND-IN for e2e tests:"
PINS: dict[str, Chart] = {c.name: c for c in vars(versions).values() if isinstance(c, Chart)}


def chart_yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load((CHARTS / name / "Chart.yaml").read_text())


def release_values(stack: str) -> dict[str, dict[str, Any]]:
    """Release values by chart name, as the demo platform (and pipeline, for local) declare them."""
    runs = [platform_run(stack)] + ([demo_pipeline(stack)] if stack == "local" else [])
    return {Path(r.inputs["chart"]).name: r.inputs["values"] for run in runs for r in run.of_type(RELEASE)}


def test_every_pinned_chart_has_exactly_one_stand_in() -> None:
    stand_ins = sorted(p.name for p in CHARTS.iterdir() if (p / "Chart.yaml").is_file())
    assert stand_ins == sorted(PINS)


@pytest.mark.parametrize("name", sorted(PINS))
def test_stand_in_carries_the_pinned_name_and_version(name: str) -> None:
    meta = chart_yaml(name)
    assert (meta["name"], str(meta["version"])) == (name, PINS[name].version)


@pytest.mark.parametrize("name", sorted(PINS))
def test_stand_in_says_it_is_one_and_what_it_mirrors(name: str) -> None:
    description = " ".join(chart_yaml(name)["description"].split())
    assert description.startswith(MARK)
    assert PINS[name].version in description
    assert "runs nothing real" in description


@pytest.mark.parametrize("name", sorted(PINS))
def test_stand_in_has_default_values_and_templates(name: str) -> None:
    assert isinstance(yaml.safe_load((CHARTS / name / "values.yaml").read_text()), dict)
    assert any((CHARTS / name / "templates").glob("*.yaml"))


@pytest.mark.parametrize("chart", versions.LOCAL_COPY_CHARTS)
def test_charts_installed_from_a_schema_less_copy_ship_no_schema(chart: Chart) -> None:
    # floe-infra strips the real charts' schemas, so a stand-in schema would check what no real install checks.
    assert not list((CHARTS / chart.name).rglob("values.schema.json"))


@pytest.mark.parametrize("stack", ["local", "dev"])
def test_every_release_of_the_demo_stacks_has_a_stand_in_at_its_version(stack: str) -> None:
    runs = [platform_run(stack)] + ([demo_pipeline(stack)] if stack == "local" else [])
    releases = [r.inputs for run in runs for r in run.of_type(RELEASE)]
    assert releases
    for inputs in releases:
        name = Path(inputs["chart"]).name
        assert (name, inputs["version"]) == (chart_yaml(name)["name"], str(chart_yaml(name)["version"]))


@pytest.mark.parametrize("stack", ["local", "dev"])
def test_polaris_values_floe_infra_passes_meet_the_stand_in_schema(stack: str) -> None:
    schema = json.loads((CHARTS / "polaris" / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    defaults = yaml.safe_load((CHARTS / "polaris" / "values.yaml").read_text())
    jsonschema.validate({**defaults, **release_values(stack)["polaris"]}, schema)


@pytest.mark.parametrize(("values", "where"), [
    ({"replicaCount": "2"}, "replicaCount"),
    ({"podLabels": {"tier": 1}}, "tier"),
    ({"extraServices": [{"type": "NodePort", "ports": [{"name": "http", "port": 8181}]}]}, "nameSuffix"),
    ({"extraServices": [{"nameSuffix": "np", "ports": [{"name": "http", "port": "8181"}]}]}, "port"),
])
def test_polaris_stand_in_schema_refuses_wrong_types_like_the_real_chart(values: dict[str, Any], where: str) -> None:
    schema = json.loads((CHARTS / "polaris" / "values.schema.json").read_text())
    with pytest.raises(jsonschema.ValidationError, match=where):
        jsonschema.validate(values, schema)
