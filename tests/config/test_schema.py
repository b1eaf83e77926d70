"""Exported JSON Schemas: up to date in the repository and accepting the real files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from floe_infra.config.schema import json_schemas, write_schemas
from tests.conftest import DEMO, DEMO_PIPELINE, DEMO_PLATFORM, REPO, compat_files

SCHEMAS = REPO / "schemas"


def test_committed_schemas_match_the_models():
    for name, schema in json_schemas().items():
        committed = json.loads((SCHEMAS / name).read_text())
        assert committed == schema, f"schemas/{name} is stale: run `floe-infra schema --out schemas`"


def test_schema_command_writes_both_files(tmp_path: Path):
    written = write_schemas(tmp_path / "out")
    assert sorted(p.name for p in written) == ["floe.schema.json", "platform.schema.json"]
    for path in written:
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


PLATFORM_FILES = sorted((DEMO / "platform").rglob("platform*.yaml")) + compat_files("platform-*.yaml")
PIPELINE_FILES = [DEMO_PIPELINE, *compat_files("floe-*.yaml")]


@pytest.mark.parametrize("path", PLATFORM_FILES, ids=lambda p: p.name)
def test_platform_files_validate_against_the_exported_schema(path: Path):
    validator = jsonschema.Draft202012Validator(json_schemas()["platform.schema.json"])
    assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=lambda p: p.name)
def test_pipeline_files_validate_against_the_exported_schema(path: Path):
    validator = jsonschema.Draft202012Validator(json_schemas()["floe.schema.json"])
    assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []


def _errors(schema: str, document: dict) -> list[jsonschema.ValidationError]:
    return list(jsonschema.Draft202012Validator(json_schemas()[schema]).iter_errors(document))


def test_schema_rejects_what_the_loader_rejects():
    errors = _errors("platform.schema.json", {"storage": {"default": {"bucket": "Bad_Bucket", "buckt": 1}}})
    assert {e.validator for e in errors} == {"anyOf", "additionalProperties"}
    assert [e.json_path for e in errors if e.validator == "anyOf"] == ["$.storage.default.bucket"]


def test_schema_accepts_environment_references_where_the_loader_expands_them():
    document = {"storage": {"default": {"bucket": "${FLOE_BUCKET}", "endpoint": "${FLOE_S3_ENDPOINT:-http://m:9000}"}},
                "catalogs": {"default": {"uri": "${FLOE_POLARIS_URI}", "warehouse": "${FLOE_WAREHOUSE}"}}}
    assert _errors("platform.schema.json", document) == []


def test_schema_refuses_environment_references_the_loader_refuses():
    # Only FLOE_* expands in platform.yaml, and nothing in floe.yaml.
    for refused in ("${AWS_SECRET_ACCESS_KEY}", "${FLOE_CATALOG_CREDENTIAL}", "${FLOE_TENANT_KEY}",
                    "${FLOE_TOKEN_BUCKET}", "${FLOE_NOTE}"):
        assert [e.json_path for e in _errors("platform.schema.json", {"storage": {"default": {
            "bucket": refused}}})] == ["$.storage.default.bucket"], refused
    assert [e.json_path for e in _errors("floe.schema.json", {"name": "${FLOE_NAME}", "version": "1.0.0"})] == [
        "$.name"]


@pytest.mark.parametrize(("schema", "document", "where"), [
    ("platform.schema.json", {"storage": {"default": {"bucket": "floe-data", "endpoint": "floe-minio:9000"}}},
     "$.storage.default.endpoint"),
    ("platform.schema.json", {"catalogs": {"default": {"uri": "htp//polaris:8181/api", "warehouse": "w"}}},
     "$.catalogs.default.uri"),
    ("platform.schema.json", {"deployment": {"services": {"catalog": {"management_url": "localhost:30181"}}}},
     "$.deployment.services.catalog.management_url"),
    ("platform.schema.json", {"deployment": {"tenants": {"Sales_Orders": {}}}}, "$.deployment.tenants"),
    ("floe.schema.json", {"name": "Sales_Orders", "version": "1.0.0"}, "$.name"),
])
def test_schema_rejects_bad_urls_and_pipeline_names_like_the_loader(schema: str, document: dict, where: str):
    assert [e.json_path for e in _errors(schema, document)] == [where]


@pytest.mark.parametrize("path", [DEMO_PLATFORM, DEMO_PIPELINE], ids=lambda p: p.name)
def test_demo_files_carry_the_yaml_language_server_modeline(path: Path):
    first = path.read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = (path.parent / first.split("$schema=")[1]).resolve()
    assert target.parent == SCHEMAS
    assert target.exists()
