"""The demo pipeline's image and dependency files agree with the platform they deploy onto."""

from __future__ import annotations

import re
import sys

import yaml

from floe_infra.pipeline.code_location import ImageRef
from floe_infra.pipeline.program import DEFAULT_DAGSTER_MODULE
from floe_infra.versions import DAGSTER_CHART
from tests.conftest import DEMO_PIPELINE

PROJECT = DEMO_PIPELINE.parent
DOCKERFILE = (PROJECT / "Dockerfile").read_text()


def pins() -> dict[str, str]:
    lines = (PROJECT / "requirements.txt").read_text().splitlines()
    return {m[1].lower(): m[2] for line in lines if (m := re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", line))}


def test_the_image_runs_the_module_the_pipeline_stack_serves_as_a_non_root_user():
    assert re.search(r"^FROM python:3\.11-slim-\w+$", DOCKERFILE, flags=re.MULTILINE)
    assert f'"-m", "{DEFAULT_DAGSTER_MODULE}"' in DOCKERFILE
    assert re.search(r"^USER 10001$", DOCKERFILE, flags=re.MULTILINE)
    for source in re.findall(r"^COPY (\S+) ", DOCKERFILE, flags=re.MULTILINE):
        assert (PROJECT / source).exists(), source
    assert (PROJECT / DEFAULT_DAGSTER_MODULE.replace(".", "/")).with_suffix(".py").is_file()


def test_dagster_and_its_libraries_match_the_platforms_dagster():
    versions = pins()
    assert versions["dagster"] == DAGSTER_CHART.version
    _, minor, patch = DAGSTER_CHART.version.split(".")
    library = f"0.{int(minor) + 16}.{patch}"  # Dagster's library versioning
    for name in ("dagster-postgres", "dagster-k8s", "dagster-aws", "dagster-dbt"):
        assert versions[name] == library, name


def test_every_stack_pins_an_image():
    for path in sorted(PROJECT.glob("Pulumi.*.yaml")):
        image = yaml.safe_load(path.read_text())["config"]["floe:image"]
        assert ImageRef.parse(image).tag not in (None, "latest"), path.name


def test_the_seed_is_deterministic_and_sized_as_the_seed_document_says():
    sys.path.insert(0, str(PROJECT))
    try:
        from orchestration.seed import COUNTS, generate
    finally:
        sys.path.remove(str(PROJECT))
    first, second = generate(), generate()
    assert first == second
    assert {name: len(rows) for name, rows in first.tables().items()} == COUNTS == {
        "customers": 1_000, "products": 100, "orders": 5_000, "order_items": 10_000}
    assert generate(seed=7) != first
    orders = {o["order_id"] for o in first.orders}
    assert {i["order_id"] for i in first.order_items} == orders  # every order has at least one line
    customers = {c["customer_id"] for c in first.customers}
    assert {o["customer_id"] for o in first.orders} <= customers


def test_the_project_file_says_where_floe_infra_comes_from_not_a_public_index():
    # floe-infra is on no public index: a bare `pip install floe-infra` fails for whoever follows it.
    text = (PROJECT / "Pulumi.yaml").read_text()
    assert "pip install floe-infra" not in text
    assert "installing floe-infra from the platform team's source: floe-infra is on no public index" in \
        " ".join(line.strip(" #") for line in text.splitlines())
