"""The platform program's real exported contract, fed to the pipeline program: both sides agree."""

from __future__ import annotations

import pytest

from floe_infra.config.loader import load_pipeline, load_platform
from floe_infra.contract import parse_contract
from tests.pipeline.conftest import PIPELINE_DIR, platform_contract, platform_run, run_pipeline_stack

STACKS = ["local", "dev", "prod"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_code_location_is_the_one_the_platform_workspace_lists(stack: str):
    platform = platform_run(stack)
    pipeline = run_pipeline_stack(platform_contract(stack), stack=stack)
    dagster = platform.named("floe-orchestration-dagster").inputs
    workspace = dagster["values"]["dagsterWebserver"]["workspace"]["servers"]
    [deployment] = pipeline.named("ecommerce-analytics-code-release").inputs["values"]["deployments"]
    assert {"host": deployment["name"], "port": deployment["port"], "name": deployment["name"]} in workspace
    code = pipeline.named("ecommerce-analytics-code-release").inputs
    assert code["namespace"] == dagster["namespace"]
    assert code["version"] == dagster["version"]
    values = code["values"]
    assert values["global"]["postgresqlSecretName"] == dagster["values"]["global"]["postgresqlSecretName"]
    # The tenant's own ServiceAccount, which the platform creates; never Dagster's (it may create pods and Jobs).
    accounts = {r.inputs["metadata"]["name"] for r in platform.of_type("kubernetes:core/v1:ServiceAccount")}
    assert values["global"]["serviceAccountName"] == "ecommerce-analytics-pipeline"
    assert values["global"]["serviceAccountName"] in accounts
    assert values["global"]["serviceAccountName"] != dagster["values"]["serviceAccount"]["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_the_pipeline_references_are_the_ones_the_platform_creates(stack: str):
    platform = platform_run(stack)
    pipeline = run_pipeline_stack(platform_contract(stack), stack=stack)
    platform_secrets = {r.inputs["metadata"]["name"] for r in platform.of_type("kubernetes:core/v1:Secret")}
    own = {r.inputs["metadata"]["name"] for r in pipeline.of_type("kubernetes:core/v1:Secret")}
    [deployment] = pipeline.named("ecommerce-analytics-code-release").inputs["values"]["deployments"]
    referenced = {s["name"] for s in deployment["envSecrets"]}
    # Its catalog credentials, which it writes itself; its own MinIO user's keys where storage uses static keys
    # (none on IAM-role prod); never the platform's storage key.
    assert own == {"ecommerce-analytics-catalog-credentials"}
    expected = {"local": {"ecommerce-analytics-s3-credentials"}, "dev": {"ecommerce-analytics-s3-credentials"},
                "prod": set()}[stack]
    assert referenced == own | expected
    assert expected <= platform_secrets
    # The pods receive these from the kubelet: the tenant's ServiceAccount may read no Secret through the API,
    # only the ConfigMaps its pipeline stack writes.
    [role] = [r for r in platform.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
              if r.inputs["metadata"]["name"] == "ecommerce-analytics-pipeline"]
    assert [rule["resources"] for rule in role.inputs["rules"]] == [["configmaps"]]
    written = {r.inputs["metadata"]["name"] for r in pipeline.of_type("kubernetes:core/v1:ConfigMap")}
    assert written <= set(role.inputs["rules"][0]["resourceNames"])


@pytest.mark.parametrize("stack", STACKS)
def test_tables_go_to_namespaces_the_platform_governs_through_the_platform_catalog(stack: str):
    platform = platform_run(stack)
    pipeline = run_pipeline_stack(platform_contract(stack), stack=stack)
    governed = {tuple(r.inputs["namespace"]) for r in platform.of_type("pulumi-python:dynamic/polaris:Namespace")}
    catalogs = {r.inputs["name"] for r in platform.of_type("pulumi-python:dynamic/polaris:Catalog")}
    for table in pipeline.of_type("pulumi-python:dynamic/iceberg:IcebergTable"):
        assert tuple(table.inputs["namespace"]) in governed
        assert table.inputs["catalog"]["warehouse"] in catalogs
        assert table.inputs["catalog"]["scope"] == "PRINCIPAL_ROLE:ecommerce_analytics"
    roles = {r.inputs["name"] for r in platform.of_type("pulumi-python:dynamic/polaris:PrincipalRole")}
    assert "ecommerce_analytics" in roles


@pytest.mark.parametrize("stack", STACKS)
def test_cube_mounts_the_configmap_the_pipeline_creates(stack: str):
    platform = platform_run(stack)
    pipeline = run_pipeline_stack(platform_contract(stack), stack=stack)
    cube = platform.named("floe-semantic-cube").inputs["values"]
    mounted = {v["configMap"]["name"] for v in cube["config"]["volumes"] if "configMap" in v}
    created = pipeline.named("ecommerce-analytics-semantic-models").inputs["metadata"]["name"]
    assert created in mounted


@pytest.mark.parametrize("stack", STACKS)
def test_endpoints_in_the_runtime_config_are_the_platform_services(stack: str):
    platform = platform_run(stack)
    pipeline = run_pipeline_stack(platform_contract(stack), stack=stack)
    contract = parse_contract(platform.outputs["contract"])
    env = pipeline.named("ecommerce-analytics-runtime-env").inputs["data"]
    assert env["FLOE_CATALOG_URI"] == contract.catalogs["default"].uri == contract.endpoints.catalog
    services = {r.inputs["metadata"]["name"] for r in platform.of_type("kubernetes:core/v1:Service")}
    releases = {r.inputs["name"] for r in platform.of_type("kubernetes:helm.sh/v3:Release")}
    host = env["FLOE_CATALOG_URI"].split("//")[1].split(".")[0]
    assert host in services | releases
    assert env["FLOE_PLATFORM_ENV"] == contract.environment == stack


@pytest.mark.parametrize("stack", STACKS)
def test_the_compiled_platform_yaml_loads_as_a_platform_file(stack: str, tmp_path):
    pipeline = run_pipeline_stack(platform_contract(stack), stack=stack)
    files = pipeline.named("ecommerce-analytics-runtime-files").inputs["data"]
    path = tmp_path / "platform.yaml"
    path.write_text(files["platform.yaml"])
    loaded = load_platform(path).config
    assert set(loaded.layers) == {"bronze", "silver", "gold"}
    assert loaded.layers["gold"].namespace == "lakehouse.gold.ecommerce_analytics"
    pipeline_file = tmp_path / "floe.yaml"
    pipeline_file.write_text(files["floe.yaml"])
    compiled = load_pipeline(pipeline_file).config
    original = load_pipeline(PIPELINE_DIR / "floe.yaml").config
    # The same pipeline, except that dbt reads the profile the platform mounts.
    dbt = original.orchestration.dbt.model_copy(update={"profiles_dir": "/etc/floe/runtime"})
    assert compiled == original.model_copy(
        update={"orchestration": original.orchestration.model_copy(update={"dbt": dbt})})
