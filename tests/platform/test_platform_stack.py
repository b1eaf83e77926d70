"""The platform program under Pulumi's mock runtime: what each environment creates and how it is wired."""

from __future__ import annotations

import pulumi
import pytest

from floe_infra.contract import parse_contract
from floe_infra.versions import BUSYBOX_IMAGE, CUBE_CHART, CUBESTORE_CHART, JAEGER_CHART, MINIO_CHART, POLARIS_CHART
from tests.conftest import REPO, compat_params
from tests.platform.conftest import (
    CATALOG_REACHABLE,
    DEMO_STACKS,
    RELEASE,
    as_json,
    demo_run,
    release,
    run_platform_stack,
    values,
    with_management_url,
)

LOCAL, DEV, PROD = "local", "dev", "prod"


def release_names(stack: str) -> set[str]:
    return {r.inputs["name"] for r in demo_run(stack).of_type(RELEASE)}


@pytest.mark.parametrize(("stack", "expected"), [
    (LOCAL, {"floe-minio", "floe-polaris", "floe-jaeger", "floe-dagster", "floe-cube", "floe-cubestore"}),
    (DEV, {"floe-minio", "floe-polaris", "floe-jaeger", "floe-dagster", "floe-cube", "floe-cubestore"}),
    (PROD, {"floe-polaris", "floe-dagster", "floe-cube", "floe-cubestore"}),
])
def test_each_environment_installs_the_releases_it_deploys(stack: str, expected: set[str]):
    assert release_names(stack) == expected


@pytest.mark.parametrize(("name", "chart"), [
    ("floe-storage-minio", MINIO_CHART), ("floe-catalog-polaris", POLARIS_CHART),
    ("floe-tracing-jaeger", JAEGER_CHART), ("floe-semantic-cube", CUBE_CHART),
    ("floe-semantic-cubestore", CUBESTORE_CHART),
])
def test_releases_are_pinned_to_their_chart_repository_and_version(name: str, chart):
    inputs = release(demo_run(LOCAL), name).inputs
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (
        chart.name, chart.version, chart.repository)
    assert inputs["atomic"] is True
    assert inputs["timeout"] == 900
    assert inputs["namespace"] == "floe"


def test_dagster_installs_from_the_local_copy_without_its_broken_schema():
    inputs = release(demo_run(LOCAL), "floe-orchestration-dagster").inputs
    assert inputs["chart"] == ".floe/charts/dagster-1.12.19/dagster"
    assert inputs["version"] == "1.12.19"
    assert "repositoryOpts" not in inputs


def test_chart_version_override_from_platform_yaml(write_yaml):
    path = write_yaml("storage:\n  default: {bucket: floe-data}\n"
                      "deployment:\n  services:\n    catalog: {chart_version: 1.8.0, image_tag: 1.8.0,\n"
                      "      management_url: 'https://polaris.example.com'}\n")
    run = run_platform_stack(DEV, str(path))
    polaris = release(run, "floe-catalog-polaris").inputs
    assert polaris["version"] == "1.8.0"
    assert polaris["values"]["image"] == {"repository": "apache/polaris", "tag": "1.8.0"}


def test_chart_sources_from_platform_yaml_and_stack_config_replace_the_public_repository(write_yaml):
    path = write_yaml("storage:\n  default: {bucket: floe-data}\n"
                      f"deployment:\n  services: {CATALOG_REACHABLE}\n  chart_sources:\n"
                      "    jaeger: {repository: 'https://charts.example.internal/floe'}\n"
                      "    polaris: {repository: 'https://charts.example.internal/floe'}\n")
    stack_sources = '{"polaris": {"path": "vendor/charts/polaris"}, "dagster": {"path": "vendor/charts/dagster"}}'
    run = run_platform_stack(DEV, str(path), config={"floe:chartSources": stack_sources})
    jaeger = release(run, "floe-tracing-jaeger").inputs
    assert (jaeger["chart"], jaeger["repositoryOpts"]["repo"], jaeger["version"]) == (
        "jaeger", "https://charts.example.internal/floe", JAEGER_CHART.version)
    # The stack's source wins over platform.yaml's; a local directory has no repository.
    polaris = release(run, "floe-catalog-polaris").inputs
    assert polaris["chart"] == "vendor/charts/polaris"
    assert "repositoryOpts" not in polaris
    assert release(run, "floe-orchestration-dagster").inputs["chart"] == "vendor/charts/dagster"
    # Charts without a source keep their public repository.
    assert release(run, "floe-semantic-cube").inputs["repositoryOpts"]["repo"] == CUBE_CHART.repository


@pytest.mark.parametrize(("sources", "message"), [
    ('{"jaeger": {"path": "a", "repository": "https://x.example/charts"}}', "exactly one of repository"),
    ('{"jaeger": {}}', "exactly one of repository"),
    ('{"jaeger": {"repository": "charts.example.internal"}}', "is not a Helm repository URL"),
    ('{"grafana": {"path": "charts/grafana"}}', "grafana"),
    ('["jaeger"]', "expected an object"),
])
def test_bad_chart_sources_in_stack_config_stop_the_program_with_the_reason(sources: str, message: str):
    with pytest.raises(Exception, match=message) as caught:
        run_platform_stack(LOCAL, "demo/platform/platform.yaml", config={"floe:chartSources": sources})
    assert "floe:chartSources" in str(caught.value)


def test_local_minio_is_standalone_with_buckets_users_from_secrets_and_no_default_user():
    minio = values(demo_run(LOCAL), "floe-storage-minio")
    assert minio["mode"] == "standalone"
    assert minio["existingSecret"] == "floe-minio-root"
    assert minio["persistence"] == {"enabled": True, "size": "5Gi"}
    assert [b["name"] for b in minio["buckets"]] == [
        "floe-local-bronze", "floe-local-gold", "floe-local-platform", "floe-local-silver"]
    assert all(b["purge"] is False for b in minio["buckets"])
    # The platform's own user (readwrite: Polaris, Dagster's webserver and daemon, Cube), and one user per tenant
    # whose policy reaches only its prefixes (tests/platform/test_tenant_isolation.py).
    assert minio["users"] == [{"accessKey": "floe-s3-credentials", "existingSecret": "floe-s3-credentials",
                               "existingSecretKey": "AWS_SECRET_ACCESS_KEY", "policy": "readwrite"},
                              {"accessKey": "ecommerce-analytics-s3-credentials",
                               "existingSecret": "ecommerce-analytics-s3-credentials",
                               "existingSecretKey": "AWS_SECRET_ACCESS_KEY", "policy": "tenant-ecommerce-analytics"}]
    assert [p["name"] for p in minio["policies"]] == ["tenant-ecommerce-analytics"]
    assert minio["resources"] == {"requests": {"cpu": "100m", "memory": "384Mi"},
                                  "limits": {"cpu": "1", "memory": "1Gi"}}
    assert minio["service"] == {"type": "NodePort", "nodePort": 30900}


def test_prod_buckets_are_encrypted_with_the_kms_key_versioned_private_and_expire_no_current_object():
    run = demo_run(PROD)
    buckets = {r.inputs["bucket"] for r in run.of_type("aws:s3/bucket:Bucket")}
    assert buckets == {"acme-floe-prod-bronze", "acme-floe-prod-silver", "acme-floe-prod-gold",
                       "acme-floe-prod-platform"}
    bronze = "floe-storage-acme-floe-prod-bronze"
    sse = run.named(f"{bronze}-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "aws:kms",
                   "kmsMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/0f9e8d7c-6b5a-4a3b-9c2d-1e0f9a8b7c6d"}
    assert run.named(f"{bronze}-versioning").inputs["versioningConfiguration"] == {"status": "Enabled"}
    block = run.named(f"{bronze}-public-access").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))
    assert run.named(f"{bronze}-ownership").inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    # The layer's 2555 days are table maintenance (tests/iceberg/test_retention.py), not object expiry.
    rules = {r["id"]: r for r in run.named(f"{bronze}-lifecycle").inputs["rules"]}
    assert sorted(rules) == ["abort-incomplete-uploads", "noncurrent-versions"]
    assert rules["noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert rules["noncurrent-versions"]["expiration"] == {"expiredObjectDeleteMarker": True}
    platform_rules = {r["id"]: r for r in run.named("floe-storage-acme-floe-prod-platform-lifecycle").inputs["rules"]}
    assert platform_rules["compute-logs"]["filter"] == {"prefix": "compute-logs/"}
    assert platform_rules["compute-logs"]["expiration"] == {"days": 90}
    every_rule = [r for res in run.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
                  for r in res.inputs["rules"]]
    assert not [r for r in every_rule if r.get("transitions")], "no current object is ever archived"
    assert [r["id"] for r in every_rule if "days" in (r.get("expiration") or {})] == ["compute-logs"]


def test_glacier_archives_noncurrent_versions_when_sooner_than_their_removal(tmp_path):
    gold = "    bucket: acme-floe-prod-gold\n"
    text = (REPO / DEMO_STACKS[PROD]).read_text().replace(gold, f"{gold}    lifecycle: {{transition_to_glacier: 7}}\n")
    (tmp_path / "platform.yaml").write_text(text)
    run = run_platform_stack(PROD, str(tmp_path / "platform.yaml"))
    rules = {r["id"]: r for r in run.named("floe-storage-acme-floe-prod-gold-lifecycle").inputs["rules"]}
    assert rules["noncurrent-versions"]["noncurrentVersionTransitions"] == [
        {"noncurrentDays": 7, "storageClass": "GLACIER"}]
    silver = {r["id"]: r for r in run.named("floe-storage-acme-floe-prod-silver-lifecycle").inputs["rules"]}
    assert "noncurrentVersionTransitions" not in silver["noncurrent-versions"]


def test_aws_buckets_use_an_explicit_provider_per_region():
    run = demo_run(PROD)
    providers = run.of_type("pulumi:providers:aws")
    # Buckets: one provider per region; the tenants' IAM roles (global) through the tenants' own.
    assert sorted((p.name, p.inputs["region"]) for p in providers) == [("floe-storage-aws-us-east-1", "us-east-1"),
                                                                        ("floe-tenants-aws", "us-east-1")]
    for bucket in run.of_type("aws:s3/bucket:Bucket"):
        assert bucket.provider.split("::")[3] == "floe-storage-aws-us-east-1"


def test_every_kubernetes_resource_goes_through_the_explicit_provider():
    run = demo_run(LOCAL)
    k8s = [r for r in run.resources if r.type.startswith("kubernetes:") and r.custom]
    assert k8s
    assert {r.provider.split("::")[3] for r in k8s} == {"floe-k8s-provider"}


@pytest.mark.parametrize("stack", [DEV, PROD])
def test_stateful_resources_are_protected_and_retained_outside_local(stack: str):
    run = demo_run(stack)
    stateful = [r for r in run.resources if r.type in (
        "aws:s3/bucket:Bucket", "kubernetes:apps/v1:StatefulSet", "kubernetes:core/v1:Namespace")
        or (r.type == RELEASE and r.inputs["name"] == "floe-minio")]
    assert stateful
    assert all(r.protect and r.retain_on_delete for r in stateful), [r.name for r in stateful if not r.protect]


@pytest.mark.parametrize("stack", [DEV, PROD])
def test_polaris_catalogs_and_namespaces_are_protected_and_retained_outside_local(stack: str):
    """They hold the tables: no change to the program deletes them without `pulumi state unprotect`."""
    run = demo_run(stack)
    holding_tables = [r for r in run.resources if r.type in (
        "pulumi-python:dynamic/polaris:Catalog", "pulumi-python:dynamic/polaris:Namespace")]
    assert len(holding_tables) >= 4  # the lakehouse catalog, its layers and the tenant's namespaces
    assert [r.name for r in holding_tables if not (r.protect and r.retain_on_delete)] == []
    # Roles and principals are not: a tenant removed from platform.yaml must lose its access.
    principals = run.of_type("pulumi-python:dynamic/polaris:Principal")
    assert principals
    assert not [r.name for r in principals if r.protect or r.retain_on_delete]


def test_outside_local_a_platform_without_a_management_url_stops_instead_of_dropping_governance(write_yaml):
    """Declaring no governance would make the next `pulumi up` of an existing stack delete every principal, role,
    namespace and catalog it manages."""
    dev = (REPO / DEMO_STACKS[DEV]).read_text()
    text = dev.replace("management_url: https://polaris.dev.floe.example.com", "replicas: 1")
    assert text != dev
    with pytest.raises(pulumi.RunError, match=(
            r"^Polaris' management API is not reachable from this machine by any known address: set "
            r"deployment\.services\.catalog\.management_url .*Environment 'dev' manages its catalogs, namespaces, "
            r"roles and tenant principals through it; without it they would not be declared, and `pulumi up` would "
            r"delete them from an existing stack$")):
        run_platform_stack(DEV, str(write_yaml(text, "platform.yaml")))


def test_nothing_is_protected_in_local():
    assert not [r.name for r in demo_run(LOCAL).resources if r.protect or r.retain_on_delete]


def test_polaris_runs_in_memory_locally_and_bootstraps_from_its_secret():
    polaris = values(demo_run(LOCAL), "floe-catalog-polaris")
    assert polaris["persistence"] == {"type": "in-memory"}
    env = {e["name"]: e for e in polaris["extraEnv"]}
    assert env["POLARIS_BOOTSTRAP_CREDENTIALS"]["valueFrom"]["secretKeyRef"] == {
        "name": "floe-polaris-root", "key": "POLARIS_BOOTSTRAP_CREDENTIALS"}
    assert polaris["storage"]["secret"]["name"] == "floe-s3-credentials"
    assert polaris["tracing"] == {"enabled": True, "endpoint": "http://floe-jaeger.floe.svc.cluster.local:4317"}
    assert polaris["extraServices"][0]["ports"][0]["nodePort"] == 30181


def test_polaris_outside_local_persists_to_postgres_and_bootstraps_with_the_admin_tool():
    run = demo_run(DEV)
    polaris = values(run, "floe-catalog-polaris")
    assert polaris["persistence"] == {"type": "relational-jdbc", "relationalJdbc": {"secret": {
        "name": "floe-polaris-db", "username": "username", "password": "password", "jdbcUrl": "jdbcUrl"}}}
    job = run.named("floe-catalog-bootstrap")
    container = job.inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "apache/polaris-admin-tool:1.7.0"
    assert container["args"] == ["bootstrap", "--realm=POLARIS", "--credential=$(POLARIS_BOOTSTRAP_CREDENTIALS)"]
    assert job.urn in release(run, "floe-catalog-polaris").dependencies
    setup = run.named("floe-database-setup")
    assert setup.urn in job.dependencies


def test_polaris_in_prod_reaches_s3_through_its_iam_role():
    polaris = values(demo_run(PROD), "floe-catalog-polaris")
    assert "storage" not in polaris
    assert polaris["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/floe-prod-lakehouse"}
    assert polaris["replicaCount"] == 2
    assert polaris["tracing"]["endpoint"] == "http://otel-collector.observability.svc.cluster.local:4317"


def test_dagster_uses_k8s_run_launcher_external_postgres_and_s3_compute_logs():
    dagster = values(demo_run(LOCAL), "floe-orchestration-dagster")
    image = dagster["postgresql"].pop("image")
    assert dagster["postgresql"] == {"enabled": False, "postgresqlHost": "floe-postgresql.floe.svc.cluster.local",
                                     "postgresqlUsername": "dagster", "postgresqlDatabase": "dagster",
                                     "service": {"port": 5432}}
    # Its check-db-ready init containers run pg_isready from the database's own pinned image.
    [database] = [r for r in demo_run(LOCAL).of_type("kubernetes:apps/v1:StatefulSet")
                  if r.name == "floe-database-server"]
    [container] = database.inputs["spec"]["template"]["spec"]["containers"]
    assert f"{image['repository']}:{image['tag']}" == container["image"]
    assert dagster["generatePostgresqlPasswordSecret"] is False
    assert dagster["global"]["postgresqlSecretName"] == "floe-dagster-postgresql"
    launcher = dagster["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert launcher["config"]["k8sRunLauncher"]["jobNamespace"] == "floe"
    assert launcher["config"]["k8sRunLauncher"]["envConfigMaps"] == [
        {"name": "floe-dagster-floe-env"}, {"name": "floe-dagster-transform-env"}]
    assert launcher["config"]["k8sRunLauncher"]["runK8sConfig"] == {"jobSpecConfig": {"ttlSecondsAfterFinished": 300}}
    logs = dagster["computeLogManager"]
    assert logs["type"] == "S3ComputeLogManager"
    assert logs["config"]["s3ComputeLogManager"]["bucket"] == "floe-local-platform"
    assert logs["config"]["s3ComputeLogManager"]["endpointUrl"] == "http://floe-minio.floe.svc.cluster.local:9000"
    assert dagster["dagsterWebserver"]["envSecrets"] == [{"name": "floe-s3-credentials"}]
    assert dagster["dagster-user-deployments"] == {"enabled": True, "enableSubchart": False, "deployments": []}


def test_dagster_workspace_lists_the_code_location_of_every_tenant():
    workspace = values(demo_run(LOCAL), "floe-orchestration-dagster")["dagsterWebserver"]["workspace"]
    assert workspace == {"enabled": True, "servers": [
        {"host": "code-ecommerce-analytics", "port": 3030, "name": "code-ecommerce-analytics"}]}


def test_every_dagster_pod_gets_otlp_and_openlineage_endpoints():
    run = demo_run(LOCAL)
    env = run.named("floe-orchestration-env").inputs["data"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://floe-jaeger.floe.svc.cluster.local:4317"
    assert env["OPENLINEAGE_URL"] == "http://floe-marquez.floe.svc.cluster.local:80"
    assert env["OPENLINEAGE_ENDPOINT"] == "api/v1/lineage"
    dagster = values(run, "floe-orchestration-dagster")
    for component in (dagster["dagsterWebserver"], dagster["dagsterDaemon"],
                      dagster["runLauncher"]["config"]["k8sRunLauncher"]):
        assert {"name": "floe-dagster-floe-env"} in component["envConfigMaps"]


def test_marquez_runs_as_plain_objects_on_its_own_database():
    run = demo_run(LOCAL)
    api = run.named("floe-lineage-api").inputs["spec"]["template"]["spec"]["containers"][0]
    assert api["image"] == "marquezproject/marquez:0.51.1"
    env = {e["name"]: e for e in api["env"]}
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "floe-marquez-db", "key": "password"}
    assert env["POSTGRES_HOST"]["value"] == "floe-postgresql.floe.svc.cluster.local"
    service = run.named("floe-lineage-api-service").inputs
    assert service["metadata"]["name"] == "floe-marquez"
    assert service["spec"]["ports"][0]["nodePort"] == 30500
    assert run.named("floe-database-setup").urn in run.named("floe-lineage-api").dependencies


def test_database_setup_creates_one_role_and_database_per_service():
    run = demo_run(DEV)
    job = run.named("floe-database-setup").inputs
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["FLOE_DATABASES"]["value"] == "dagster marquez polaris"
    assert env["POLARIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "floe-polaris-db", "key": "password"}
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "floe-postgresql-admin"


def test_prod_database_setup_uses_the_external_server_and_its_admin_secret():
    run = demo_run(PROD)
    assert not run.of_type("kubernetes:apps/v1:StatefulSet")
    container = run.named("floe-database-setup").inputs["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["PGHOST"]["value"] == "floe-prod.cluster-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com"
    assert env["PGUSER"]["valueFrom"]["secretKeyRef"] == {"name": "floe-rds-admin", "key": "username"}


def test_cube_reads_its_api_secret_and_s3_keys_from_secrets_and_mounts_each_tenants_models():
    cube = values(demo_run(LOCAL), "floe-semantic-cube")
    assert cube["config"]["apiSecretFromSecret"] == {"name": "floe-cube-api", "key": "CUBEJS_API_SECRET"}
    assert cube["datasources"]["default"]["type"] == "duckdb"
    assert cube["datasources"]["default"]["duckdb"]["s3"] == {
        "region": "us-east-1", "endpoint": "floe-minio.floe.svc.cluster.local:9000", "useSSL": "false",
        "URLStyle": "path"}
    env = {e["name"]: e for e in cube["extraEnvVars"]}
    assert env["CUBEJS_DB_DUCKDB_S3_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "floe-s3-credentials", "key": "AWS_SECRET_ACCESS_KEY"}
    volumes = {v["name"]: v for v in cube["config"]["volumes"]}
    assert volumes["model-ecommerce-analytics"]["configMap"] == {"name": "ecommerce-analytics-cube-models",
                                                                 "optional": True}
    mounts = {m["name"]: m for m in cube["config"]["volumeMounts"]}
    assert mounts["model-ecommerce-analytics"] == {"name": "model-ecommerce-analytics",
                                                   "mountPath": "/cube/conf/model/ecommerce-analytics",
                                                   "readOnly": True}
    assert cube["cubestore"] == {"host": "floe-cubestore-router", "port": 3030}


def test_prod_cube_reaches_s3_through_the_profiles_iam_role_as_cube_store_does():
    run = demo_run(PROD)
    cube, cubestore = values(run, "floe-semantic-cube"), values(run, "floe-semantic-cubestore")
    role = cubestore["router"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    for component in ("api", "worker"):
        assert cube[component]["serviceAccount"] == {"create": True,
                                                     "annotations": {"eks.amazonaws.com/role-arn": role}}
    assert not [e for e in cube["extraEnvVars"] if e["name"].startswith("CUBEJS_DB_DUCKDB_S3_")]


def test_namespace_quota_and_limit_range_come_from_platform_yaml():
    run = demo_run(LOCAL)
    quota = run.named("floe-k8s-quota").inputs
    assert quota["spec"]["hard"] == {
        "pods": "40", "requests.cpu": "6", "requests.memory": "8Gi", "limits.cpu": "16", "limits.memory": "28Gi"}
    # What the platform runs in the namespace, for the quota-fits guardrail: 12 service pods, one code
    # server, one run (max_concurrent_runs: 1), three table maintenance jobs (one per layer, all at the
    # scheduled time), plus a rollout's extra pod and a Job.
    assert quota["metadata"]["annotations"] == {
        "floe.dev/planned-pods": "19", "floe.dev/planned-requests.cpu": "3050m",
        "floe.dev/planned-requests.memory": "7360Mi", "floe.dev/planned-limits.cpu": "15250m",
        "floe.dev/planned-limits.memory": "24832Mi"}
    limits = run.named("floe-k8s-limits").inputs["spec"]["limits"][0]
    assert limits["default"] == {"cpu": "500m", "memory": "768Mi"}
    assert limits["defaultRequest"] == {"cpu": "100m", "memory": "256Mi"}


def test_local_access_exposes_the_uis_on_their_node_ports():
    run = demo_run(LOCAL)
    ports = {r.inputs["metadata"]["name"]: r.inputs["spec"]["ports"][0]["nodePort"]
             for r in run.of_type("kubernetes:core/v1:Service") if r.inputs["spec"].get("type") == "NodePort"}
    assert ports == {"floe-jaeger-nodeport": 30686, "floe-dagster-nodeport": 30000, "floe-cube-nodeport": 30400,
                     "floe-marquez": 30500, "floe-marquez-web": 30301}
    assert not [r for r in demo_run(DEV).of_type("kubernetes:core/v1:Service")
                if r.inputs["spec"].get("type") == "NodePort"]


def test_every_platform_workload_runs_in_the_platform_timezone(write_yaml):
    path = write_yaml("storage:\n  default: {bucket: floe-data, endpoint: 'http://minio:9000'}\n"
                      "infrastructure: {timezone: Australia/Sydney}\n"
                      "deployment: {services: {object_storage: {deploy: true}, catalog: {management_url: 'https://polaris.example.com'}}}\n")
    run = run_platform_stack(DEV, str(path))
    tz = {"name": "TZ", "value": "Australia/Sydney"}
    assert values(run, "floe-storage-minio")["environment"]["TZ"] == "Australia/Sydney"
    assert tz in values(run, "floe-catalog-polaris")["extraEnv"]
    assert tz in values(run, "floe-tracing-jaeger")["jaeger"]["extraEnv"]
    assert tz in values(run, "floe-semantic-cube")["extraEnvVars"]
    assert run.named("floe-orchestration-env").inputs["data"]["TZ"] == "Australia/Sydney"
    for name in ("floe-lineage-api", "floe-lineage-web", "floe-database-server"):
        env = run.named(name).inputs["spec"]["template"]["spec"]["containers"][0]["env"]
        assert tz in env, name


def test_independent_releases_do_not_wait_for_each_other():
    run = demo_run(LOCAL)
    releases = {r.urn for r in run.of_type(RELEASE)}
    jaeger = release(run, "floe-tracing-jaeger")
    assert not set(jaeger.dependencies) & releases
    for name in ("floe-catalog-polaris", "floe-orchestration-dagster", "floe-semantic-cube"):
        assert not set(release(run, name).dependencies) & releases, name


def test_two_runs_produce_the_identical_resource_graph():
    first = run_platform_stack(LOCAL, "demo/platform/platform.yaml")
    second = run_platform_stack(LOCAL, "demo/platform/platform.yaml")

    def graph(run):
        return sorted((r.urn, as_json(r.inputs), tuple(sorted(r.dependencies)), r.parent, r.protect)
                      for r in run.resources)

    assert graph(first) == graph(second)
    assert as_json(first.outputs) == as_json(second.outputs)


@pytest.mark.parametrize("stack", [LOCAL, DEV, PROD])
def test_contract_validates_and_names_what_pipelines_need(stack: str):
    run = demo_run(stack)
    assert "contract" not in run.secret_outputs
    contract = parse_contract(run.outputs["contract"])
    assert contract.environment == stack
    assert contract.tenants["ecommerce-analytics"].credentials_secret == "ecommerce-analytics-catalog-credentials"
    assert contract.layers["bronze"].namespace == ["bronze"]
    assert contract.dagster is not None
    assert contract.dagster.chart_version == "1.12.19"
    assert contract.chart_versions["dagster-user-deployments"] == "1.12.19"


def test_local_contract_endpoints_are_in_cluster_urls():
    contract = parse_contract(demo_run(LOCAL).outputs["contract"])
    assert contract.endpoints.catalog == "http://floe-polaris.floe.svc.cluster.local:8181/api/catalog"
    assert contract.endpoints.s3 == "http://floe-minio.floe.svc.cluster.local:9000"
    assert contract.endpoints.openlineage == "http://floe-marquez.floe.svc.cluster.local:80/api/v1/lineage"
    assert contract.storage["bronze"].credentials_secret == "floe-s3-credentials"
    assert contract.layers["gold"].location == "s3://floe-local-gold/gold"


@pytest.mark.parametrize("path", compat_params("platform-*.yaml"), ids=lambda p: p.name)
def test_every_compat_platform_file_deploys(path, write_yaml):
    run = run_platform_stack(DEV, str(write_yaml(with_management_url(path), path.name)))
    contract = parse_contract(run.outputs["contract"])
    assert contract.storage
    assert release_names_of(run) >= {"floe-polaris", "floe-dagster"}


def release_names_of(run) -> set[str]:
    return {r.inputs["name"] for r in run.of_type(RELEASE)}


def test_invalid_platform_file_fails_the_program_with_located_problems(write_yaml):
    path = write_yaml("storage:\n  default: {bucket: Bad_Name}\n")
    with pytest.raises(pulumi.RunError, match=r"platform.yaml is invalid:\n.*:2:21: storage.default.bucket"):
        run_platform_stack(DEV, str(path))


def _label_maps(node, path=""):
    """Every mapping under a key ending in `labels`/`Labels` in Helm values, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and str(key).lower().endswith("labels"):
                yield f"{path}.{key}", value
            yield from _label_maps(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _label_maps(value, f"{path}[{index}]")


@pytest.mark.parametrize("stack", [LOCAL, DEV, PROD])
def test_no_label_of_ours_overrides_a_key_the_charts_own(stack: str):
    # Charts select pods by app.kubernetes.io/{name,instance,component} and Helm sets managed-by:
    # a podLabels entry for one of them makes the API server refuse the workload (Jaeger) or lies.
    owned = []
    for resource in demo_run(stack).of_type(RELEASE):
        for where, labels in _label_maps(resource.inputs["values"]):
            owned += [f"{resource.name}{where}.{k}" for k in labels
                      if k.startswith("app.kubernetes.io/") and k != "app.kubernetes.io/part-of"]
    assert owned == []


def test_cube_gets_a_duckdb_s3_block_even_without_storage_profiles(write_yaml):
    # The Cube chart dereferences datasources.default.duckdb.s3 unconditionally (nil pointer otherwise).
    run = run_platform_stack(DEV, str(write_yaml(f"deployment: {{environment: dev, services: {CATALOG_REACHABLE}}}\n")))
    assert values(run, "floe-semantic-cube")["datasources"]["default"]["duckdb"]["s3"] == {}


@pytest.mark.parametrize("stack", [LOCAL, PROD])
def test_cubestore_runs_no_unpinned_or_unused_image(stack: str):
    cubestore = values(demo_run(stack), "floe-semantic-cubestore")
    assert cubestore["workers"]["initRouter"]["image"] == {"repository": "busybox", "tag": BUSYBOX_IMAGE.tag}
    assert cubestore["exporter"] == {"enabled": False}


def test_configmaps_and_secrets_change_in_place_so_no_reference_ever_dangles():
    # By default the provider deletes and recreates a named ConfigMap or Secret on a data change.
    [provider] = demo_run(LOCAL).of_type("pulumi:providers:kubernetes")
    assert provider.inputs["enableConfigMapMutable"] == "true"
    assert provider.inputs["enableSecretMutable"] == "true"
