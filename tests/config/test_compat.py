"""floe-runtime's own example files keep loading, and its invalid example keeps failing."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe_infra.config import load_pipeline, load_platform
from floe_infra.errors import ConfigError
from tests.conftest import COMPAT, compat_params, requires_compat

PLATFORM_FILES = compat_params("platform-*.yaml")
PIPELINE_FILES = compat_params("floe-*.yaml")


@requires_compat
def test_compat_folder_holds_the_expected_examples():
    names = {p.name for p in PLATFORM_FILES + PIPELINE_FILES}
    assert {"platform-minimal-v1.0.yaml", "platform-dev-v1.1.yaml", "platform-prod-v1.1.yaml",
            "platform-k8s-local-v1.2.yaml", "floe-minimal.yaml", "floe-demo.yaml"} <= names


@pytest.mark.parametrize("path", PLATFORM_FILES, ids=lambda p: p.name)
def test_platform_example_loads_unchanged(path: Path):
    loaded = load_platform(path)
    assert loaded.config.storage, "every example defines storage profiles"
    assert loaded.config.version.split(".")[0] == "1"


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=lambda p: p.name)
def test_pipeline_example_loads_unchanged(path: Path):
    loaded = load_pipeline(path)
    assert loaded.config.compute == "default"


@requires_compat
def test_local_v12_example_keeps_its_layers_and_resource_profiles():
    path = COMPAT / "platform-k8s-local-v1.2.yaml"
    cfg = load_platform(path).config
    assert {name: layer.namespace for name, layer in cfg.layers.items()} == {
        "bronze": "demo_catalog.bronze", "silver": "demo_catalog.silver", "gold": "demo_catalog.gold"}
    assert cfg.infrastructure.timezone == "Australia/Sydney"
    assert cfg.infrastructure.resource_profiles is not None
    assert cfg.infrastructure.resource_profiles["transform"].limits.memory == "12Gi"
    assert cfg.catalogs["default"].credentials.client_secret is not None
    assert cfg.catalogs["default"].credentials.client_secret.secret_ref == "polaris-client-secret"


@requires_compat
def test_demo_example_keeps_its_environment_reference_for_floe_runtime(monkeypatch: pytest.MonkeyPatch):
    # floe.yaml is expanded by nobody on the deploying machine: floe-runtime expands it in the pipeline's pods,
    # where FLOE_PLATFORM_ENV is the platform's environment (runtime_env).
    monkeypatch.setenv("FLOE_PLATFORM_ENV", "prod")
    loaded = load_pipeline(COMPAT / "floe-demo.yaml")
    assert loaded.config.observability.attributes["deployment.environment"] == "${FLOE_PLATFORM_ENV:-local}"


@requires_compat
def test_invalid_example_reports_all_three_problems_at_once():
    path = COMPAT / "invalid" / "floe-invalid.yaml"
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)
    found = [(p.line, p.column, p.path) for p in caught.value.problems]
    assert found == [(7, 1, "version"), (10, 10, "compute"), (14, 11, "transforms[0].type")]
    messages = [p.message for p in caught.value.problems]
    assert messages[0] == "required field is missing"
    assert "'123-invalid' is not a valid name" in messages[1]
    assert "'dbt'" in messages[2]
    assert "invalid_transform_type" in messages[2]
