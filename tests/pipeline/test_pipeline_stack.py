"""The demo pipeline stack under the mock runtime: what it creates, where, and with which credentials."""

from __future__ import annotations

import shutil

import pytest
import yaml
from pulumi.runtime import rpc

from floe_infra.config.loader import load_pipeline
from floe_infra.polaris.sealing import unseal
from floe_infra.preview.runtime import RegisteredResource
from tests.conftest import DEMO_PIPELINE
from tests.leaks import leaks, strings
from tests.pipeline.conftest import PIPELINE_DIR, demo_pipeline, platform_contract, run_pipeline_stack, tenant_keys

PIPELINE = "ecommerce-analytics"
RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
TABLE = "pulumi-python:dynamic/iceberg:IcebergTable"
TABLE_SET = "pulumi-python:dynamic/iceberg:TableSet"
PROVIDER = "pulumi:providers:kubernetes"
# Every Secret the platform holds for itself; a pipeline must never reference one.
PLATFORM_ADMIN_SECRETS = ("floe-minio-root", "floe-polaris-root", "floe-postgresql-admin", "floe-dagster-db",
                          "floe-marquez-db", "floe-polaris-db", "floe-cube-api")


def k8s_resources(run) -> list[RegisteredResource]:
    return [r for r in run.resources if r.type.startswith("kubernetes:")]


def tenant_credential() -> str:
    sealed = platform_contract()["tenants"][PIPELINE]["sealed_credentials"]
    opened = unseal(tenant_keys()[1], sealed)
    return f"{opened['client_id']}:{opened['client_secret']}"


def test_the_demo_pipeline_creates_exactly_its_runtime_config_code_location_tables_and_models():
    run = demo_pipeline()
    created = {(r.type, r.name) for r in run.resources if r.custom and r.type != "pulumi:pulumi:StackReference"}
    expected = {
        (PROVIDER, f"{PIPELINE}-provider"),
        (CONFIGMAP, f"{PIPELINE}-runtime-files"),
        (CONFIGMAP, f"{PIPELINE}-runtime-env"),
        (CONFIGMAP, f"{PIPELINE}-semantic-models"),
        (SECRET, f"{PIPELINE}-credentials-secret"),
        (RELEASE, f"{PIPELINE}-code-release"),
        *[(TABLE, f"{PIPELINE}-tables-bronze-{t}") for t in ("customers", "products", "orders", "order_items")],
        (TABLE_SET, f"{PIPELINE}-tables-set"),
    }
    assert created == expected
    components = {r.type for r in run.resources if not r.custom}
    assert components == {"floe:pipeline:FloePipeline", "floe:pipeline:RuntimeConfiguration",
                          "floe:pipeline:CodeLocation", "floe:pipeline:Tables", "floe:pipeline:SemanticModels",
                          "floe:pipeline:TenantCredentials"}


def test_every_kubernetes_object_is_namespaced_in_the_platform_namespace_labelled_and_uses_the_explicit_provider():
    run = demo_pipeline()
    provider_urn = run.named(f"{PIPELINE}-provider").urn
    objects = k8s_resources(run)
    assert objects
    for resource in objects:
        assert resource.provider.startswith(provider_urn + "::"), resource.name
        if resource.type == RELEASE:
            assert resource.inputs["namespace"] == "floe"
            continue
        metadata = resource.inputs["metadata"]
        assert metadata["namespace"] == "floe", resource.name
        assert metadata["labels"]["floe.dev/pipeline"] == PIPELINE, resource.name
        assert metadata["labels"]["floe.dev/platform"] == "floe"
    # Nothing cluster-scoped, no RBAC, no ServiceAccount: ConfigMaps, its credentials Secret and a Helm release.
    assert {r.type for r in objects} == {CONFIGMAP, SECRET, RELEASE}


def test_the_code_location_is_named_and_wired_as_the_platform_workspace_expects():
    run = demo_pipeline()
    release = run.named(f"{PIPELINE}-code-release").inputs
    contract = platform_contract()
    tenant = contract["tenants"][PIPELINE]
    assert release["name"] == tenant["code_location"]["name"] == "code-ecommerce-analytics"
    assert release["chart"] == ".floe/charts/dagster-user-deployments-1.12.19/dagster-user-deployments"
    assert release["version"] == contract["dagster"]["chart_version"]
    assert release["atomic"] is True
    values = release["values"]
    # The tenant's own ServiceAccount (the platform's RBAC: its own ConfigMaps), not Dagster's.
    assert values["global"] == {"postgresqlSecretName": "floe-dagster-postgresql",
                                "serviceAccountName": tenant["kubernetes_service_account"]}
    assert tenant["kubernetes_service_account"] == "ecommerce-analytics-pipeline"
    assert values["serviceAccount"] == {"create": False}
    assert values["rbacEnabled"] is False
    [deployment] = values["deployments"]
    assert deployment["name"] == "code-ecommerce-analytics"
    assert deployment["port"] == tenant["code_location"]["port"] == 3030
    assert deployment["image"] == {"repository": "ghcr.io/floe-demo/ecommerce-analytics", "tag": "1.0.0",
                                   "pullPolicy": "IfNotPresent"}
    assert deployment["codeServerArgs"] == ["-m", "orchestration.definitions"]
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert deployment["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"},
                                       "limits": {"cpu": "2", "memory": "4Gi"}}
    assert deployment["envConfigMaps"] == [{"name": "ecommerce-analytics-floe-env"}]
    # Its own catalog credentials and its own MinIO user: never the platform's storage key floe-s3-credentials.
    assert deployment["envSecrets"] == [{"name": "ecommerce-analytics-catalog-credentials"},
                                        {"name": "ecommerce-analytics-s3-credentials"}]
    assert deployment["volumes"] == [{"name": "floe-runtime",
                                      "configMap": {"name": "ecommerce-analytics-floe-config"}}]
    assert deployment["volumeMounts"] == [{"name": "floe-runtime", "mountPath": "/etc/floe/runtime",
                                           "readOnly": True}]
    assert deployment["labels"]["floe.dev/pipeline"] == PIPELINE
    # The chart selects its pods by app.kubernetes.io/* and Helm owns managed-by: none of ours there.
    assert [k for k in deployment["labels"] if k.startswith("app.kubernetes.io/")] == ["app.kubernetes.io/part-of"]
    # The release waits for the ConfigMaps its pods mount and the Secret they read.
    dependencies = run.named(f"{PIPELINE}-code-release").dependencies
    assert {run.named(f"{PIPELINE}-runtime-{kind}").urn for kind in ("files", "env")} <= set(dependencies)
    assert run.named(f"{PIPELINE}-credentials-secret").urn in dependencies


def test_the_code_location_chart_installs_from_the_stacks_chart_source():
    run = run_pipeline_stack(config={"floe:chartSources": '{"dagster-user-deployments": {"path": "charts/dud"}}'})
    release = run.named(f"{PIPELINE}-code-release").inputs
    assert release["chart"] == "charts/dud"
    assert "repositoryOpts" not in release
    mirrored = run_pipeline_stack(config={
        "floe:chartSources": '{"dagster-user-deployments": {"repository": "https://charts.example.internal"}}'})
    release = mirrored.named(f"{PIPELINE}-code-release").inputs
    assert (release["chart"], release["repositoryOpts"]["repo"]) == (
        "dagster-user-deployments", "https://charts.example.internal")


def test_the_runtime_environment_comes_from_the_contract_and_holds_no_credential():
    env = demo_pipeline().named(f"{PIPELINE}-runtime-env").inputs["data"]
    assert env["FLOE_CATALOG_URI"] == "http://floe-polaris.floe.svc.cluster.local:8181/api/catalog"
    assert env["FLOE_CATALOG_WAREHOUSE"] == "lakehouse"
    assert env["AWS_ENDPOINT_URL_S3"] == "http://floe-minio.floe.svc.cluster.local:9000"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://floe-jaeger.floe.svc.cluster.local:4317"
    assert env["OTEL_SERVICE_NAME"] == PIPELINE
    assert env["OPENLINEAGE_URL"] == "http://floe-marquez.floe.svc.cluster.local:80"
    assert env["OPENLINEAGE_NAMESPACE"] == PIPELINE
    assert env["FLOE_PLATFORM_FILE"] == "/etc/floe/runtime/platform.yaml"
    assert env["DBT_PROFILES_DIR"] == "/etc/floe/runtime"
    assert env["DUCKDB_MEMORY_LIMIT"] == "3GB"  # the platform's transform profile
    # pyiceberg's catalog `floe` (dbt-duckdb's iceberg plugin, the pipeline's code); its credential
    # comes from the tenant's Secret, not from here.
    assert {k: v for k, v in env.items() if k.startswith("PYICEBERG_")} == {
        "PYICEBERG_CATALOG__FLOE__TYPE": "rest",
        "PYICEBERG_CATALOG__FLOE__URI": "http://floe-polaris.floe.svc.cluster.local:8181/api/catalog",
        "PYICEBERG_CATALOG__FLOE__WAREHOUSE": "lakehouse",
        "PYICEBERG_CATALOG__FLOE__SCOPE": "PRINCIPAL_ROLE:ecommerce_analytics",
        "PYICEBERG_CATALOG__FLOE__S3__REGION": "us-east-1",
        "PYICEBERG_CATALOG__FLOE__S3__ENDPOINT": "http://floe-minio.floe.svc.cluster.local:9000",
        "PYICEBERG_CATALOG__FLOE__S3__PATH_STYLE_ACCESS": "true"}
    assert not [k for k in env if "SECRET" in k or "PASSWORD" in k or k.endswith("_KEY_ID")]


def test_runtime_files_are_the_pipeline_its_resolved_platform_profiles_and_a_dbt_profile():
    data = demo_pipeline().named(f"{PIPELINE}-runtime-files").inputs["data"]
    assert set(data) == {"floe.yaml", "platform.yaml", "profiles.yml"}
    pipeline = yaml.safe_load(data["floe.yaml"])
    declared = load_pipeline(DEMO_PIPELINE).config
    assert pipeline["name"] == declared.name
    assert len(pipeline["tables"]) == len(declared.tables)
    assert pipeline["orchestration"]["dbt"]["profiles_dir"] == "/etc/floe/runtime"
    platform = yaml.safe_load(data["platform.yaml"])
    assert platform["layers"]["gold"]["namespace"] == "lakehouse.gold.ecommerce_analytics"
    credentials = platform["catalogs"]["default"]["credentials"]
    assert credentials["client_id"] == {"secret_ref": "polaris-client-id"}
    assert credentials["scope"] == "PRINCIPAL_ROLE:ecommerce_analytics"
    profile = yaml.safe_load(data["profiles.yml"])["floe"]["outputs"]["floe"]
    assert profile["type"] == "duckdb"
    assert profile["threads"] == 2
    assert profile["settings"]["s3_secret_access_key"] == "{{ env_var('AWS_SECRET_ACCESS_KEY') }}"
    assert profile["plugins"] == [{"module": "iceberg", "config": {"catalog": "floe"}}]
    assert profile["path"] == "{{ env_var('FLOE_DUCKDB_PATH', ':memory:') }}"


def test_tables_live_in_the_tenant_namespace_through_the_deploy_endpoint_with_the_tenant_credential():
    run = demo_pipeline()
    tables = run.of_type(TABLE)
    assert len(tables) == 4
    for table in tables:
        inputs = table.inputs
        assert inputs["namespace"] == ["bronze", "ecommerce_analytics"]
        assert inputs["catalog"] == {"uri": "http://localhost:30181/api/catalog", "warehouse": "lakehouse",
                                     "scope": "PRINCIPAL_ROLE:ecommerce_analytics"}
        assert rpc.is_rpc_secret(inputs["credential"])
        assert rpc.unwrap_rpc_secret(inputs["credential"]) == tenant_credential()
        assert table.parent == run.named(f"{PIPELINE}-tables").urn
    orders = run.named(f"{PIPELINE}-tables-bronze-orders").inputs
    assert orders["table"]["partition_by"] == [{"column": "ordered_at", "transform": "month"}]
    assert orders["owner"] == f"{PIPELINE}/local"  # floe.managed-by: <project>/<stack>


def test_every_table_waits_for_the_table_set_which_holds_the_whole_declaration():
    run = demo_pipeline()
    table_set = run.named(f"{PIPELINE}-tables-set")
    assert [e["name"] for e in table_set.inputs["tables"]] == [
        f"lakehouse.bronze.ecommerce_analytics.{t}" for t in ("customers", "products", "orders", "order_items")]
    assert all(e["drop_when_removed"] is False and e.get("renamed_from") is None for e in table_set.inputs["tables"])
    assert rpc.is_rpc_secret(table_set.inputs["credential"])
    for table in run.of_type(TABLE):
        assert table_set.urn in table.dependencies, table.name


def test_the_tenant_credential_is_secret_in_every_input_and_output_it_reaches():
    run = demo_pipeline()
    credential = tenant_credential()
    client_secret = credential.split(":", 1)[1]
    assert leaks(run, {client_secret}) == []
    reached = [r.name for r in run.resources
               if any(client_secret in text for text, _ in strings(r.inputs))]
    assert sorted(reached) == sorted(r.name for r in [*run.of_type(TABLE), *run.of_type(TABLE_SET),
                                                      *run.of_type(SECRET)])
    secret = run.named(f"{PIPELINE}-credentials-secret").inputs
    assert rpc.is_rpc_secret(secret["stringData"])
    data = rpc.unwrap_rpc_secret(secret["stringData"])
    assert data["POLARIS_CLIENT_SECRET"] == client_secret
    assert data["POLARIS_CREDENTIAL"] == data["PYICEBERG_CATALOG__FLOE__CREDENTIAL"] == credential
    assert data["POLARIS_SCOPE"] == "PRINCIPAL_ROLE:ecommerce_analytics"
    assert run.secret_outputs == set()
    assert not [text for text, _ in strings(run.outputs) if client_secret in text]


def test_no_platform_admin_secret_is_referenced():
    run = demo_pipeline()
    # The one Secret it writes is its own credentials Secret.
    assert [r.inputs["metadata"]["name"] for r in run.of_type(SECRET)] == ["ecommerce-analytics-catalog-credentials"]
    everything = [text for r in run.resources for text, _ in strings(r.inputs)]
    for name in PLATFORM_ADMIN_SECRETS:
        assert not [t for t in everything if name in t], name
    # Neither the platform's root catalog credential nor another tenant's is ever decrypted here.
    contract = platform_contract()
    assert set(contract["tenants"]) == {PIPELINE}


def test_cube_models_go_to_the_configmap_the_platform_cube_mounts():
    run = demo_pipeline()
    configmap = run.named(f"{PIPELINE}-semantic-models").inputs
    assert configmap["metadata"]["name"] == platform_contract()["tenants"][PIPELINE]["cube_models_configmap"]
    files = sorted(p.name for p in (DEMO_PIPELINE.parent / "semantic").iterdir())
    assert sorted(configmap["data"]) == files
    assert configmap["data"]["orders.yml"] == (DEMO_PIPELINE.parent / "semantic" / "orders.yml").read_text()


def test_stack_outputs_tell_the_data_team_where_things_are():
    outputs = demo_pipeline().outputs
    assert outputs["pipeline"] == PIPELINE
    assert outputs["namespace"] == "floe"
    assert outputs["code_location"] == "code-ecommerce-analytics"
    assert outputs["tables"] == [f"bronze.ecommerce_analytics.{t}"
                                 for t in ("customers", "order_items", "orders", "products")]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_pipeline_deploys_on_the_dev_and_prod_platforms(stack: str):
    run = demo_pipeline(stack)
    contract = platform_contract(stack)
    release = run.named(f"{PIPELINE}-code-release").inputs
    assert release["namespace"] == contract["namespace"]
    table = run.named(f"{PIPELINE}-tables-bronze-orders").inputs
    assert table["catalog"]["uri"] == contract["catalogs"]["default"]["deploy_uri"]
    assert table["catalog"]["uri"].startswith("https://")
    env = run.named(f"{PIPELINE}-runtime-env").inputs["data"]
    assert env["FLOE_PLATFORM_ENV"] == stack



def test_the_code_server_rolls_when_its_runtime_configuration_changes(tmp_path):
    def digest(run) -> str:
        [deployment] = run.named(f"{PIPELINE}-code-release").inputs["values"]["deployments"]
        [entry] = [e for e in deployment["env"] if e["name"] == "FLOE_CONFIG_DIGEST"]
        return entry["value"]

    project = tmp_path / "pipeline"
    shutil.copytree(PIPELINE_DIR, project, ignore=shutil.ignore_patterns(".floe", "target", "__pycache__"))
    unchanged = run_pipeline_stack(project_dir=project)
    floe = project / "floe.yaml"
    floe.write_text(floe.read_text().replace("cron_schedule: \"0 * * * *\"", "cron_schedule: \"30 * * * *\""))
    assert digest(run_pipeline_stack(project_dir=project)) != digest(unchanged)
    assert digest(run_pipeline_stack(project_dir=PIPELINE_DIR)) == digest(unchanged)


def test_the_code_server_rolls_when_the_platform_rotates_its_storage_keys():
    def digest(contract) -> str:
        [deployment] = run_pipeline_stack(contract).named(f"{PIPELINE}-code-release").inputs["values"]["deployments"]
        [entry] = [e for e in deployment["env"] if e["name"] == "FLOE_CONFIG_DIGEST"]
        return entry["value"]

    contract = platform_contract()
    before = digest(contract)
    # A contract of 1.1 (no rotation field) is a platform that never rotated: upgrading restarts nothing.
    del contract["tenants"][PIPELINE]["storage_credentials_rotation"]
    assert digest(contract) == before
    contract["tenants"][PIPELINE]["storage_credentials_rotation"] = 1
    assert digest(contract) != before
