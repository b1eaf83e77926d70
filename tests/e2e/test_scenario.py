"""The e2e scenario: the real Pulumi engine deploys the platform and the demo pipeline onto a real API server.

Steps run in order and share one control plane, one fake Polaris and one `file://` backend; a
step fails the run if any earlier step failed. Each step's wall time is printed at the end.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml

from floe_infra.iceberg.catalogs import CatalogTarget, open_catalog
from tests.e2e.conftest import Clock
from tests.e2e.kube import Cluster, ObjectRef, declared_objects
from tests.e2e.world import CREDENTIAL_KEY, NAMESPACE, ROOT_SECRET, STACK, World, e2e_world
from tests.network_policies import DNS_RULE, open_rules

pytestmark = pytest.mark.e2e
TENANT = "ecommerce-analytics"
TENANT_ACCOUNT = f"system:serviceaccount:{NAMESPACE}:{TENANT}-pipeline"
TENANT_ROLE = "ecommerce_analytics"  # its principal_role in tests/e2e/platform.yaml


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    try:
        with e2e_world(tmp_path_factory.mktemp("e2e")) as world:
            yield world
    except RuntimeError as exc:
        if "toolchain is not built" in str(exc):
            pytest.fail(str(exc))
        raise


@pytest.fixture
def step(scenario: World, request: pytest.FixtureRequest) -> Iterator[World]:
    """A scenario step: it runs only if every earlier step passed."""
    if scenario.failed:
        pytest.fail(f"an earlier step failed: {scenario.failed[0]}")
    yield scenario
    if getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed:
        scenario.failed.append(request.node.name)


def _missing(cluster: Cluster, export: dict[str, Any]) -> list[str]:
    return [str(ref) for ref in declared_objects(export) if cluster.get(ref) is None]


def _maintenance_job_runs(cluster: Cluster) -> None:
    """A table maintenance CronJob per layer (docs/operations.md); a run started from one now, as kubectl's
    `create job --from=cronjob/...` does, is admitted (quota, security context, its ServiceAccount) and kwok
    completes its pod (no image is pulled, so what the job does is tests/iceberg's to prove)."""
    cronjobs = {c.metadata.name: c for c in cluster.list("batch/v1", "CronJob", NAMESPACE)}
    assert sorted(cronjobs) == ["floe-maintenance-bronze", "floe-maintenance-gold", "floe-maintenance-silver"]
    spec = cronjobs["floe-maintenance-gold"].spec.jobTemplate.spec.to_dict()
    env = {e["name"]: e for e in spec["template"]["spec"]["containers"][0]["env"]}
    assert "value" not in env["FLOE_CATALOG_CLIENT_SECRET"]
    name = "floe-maintenance-gold-by-hand"
    jobs = cluster.resource("batch/v1", "Job")
    jobs.create(body={"apiVersion": "batch/v1", "kind": "Job", "spec": spec,
                      "metadata": {"name": name, "namespace": NAMESPACE,
                                   "annotations": {"cronjob.kubernetes.io/instantiate": "manual"}}},
                namespace=NAMESPACE, _request_timeout=10)
    assert cluster.wait_workloads_ready(NAMESPACE) == []
    jobs.delete(name=name, namespace=NAMESPACE, body={"propagationPolicy": "Background"}, _request_timeout=10)


def test_1_platform_preview_then_up_creates_every_object_and_workloads_become_ready(step: World, clock: Clock):
    with clock("1a platform preview"):
        step.platform.preview()
    with clock("1b platform up"):
        step.platform.up()
    export = step.platform.export()
    declared = declared_objects(export)
    assert declared, "the platform declares Kubernetes objects"
    assert _missing(step.cluster, export) == []
    assert step.cluster.wait_workloads_ready(NAMESPACE) == []
    clock.note(f"platform: {len(declared)} Kubernetes objects declared; {step.cluster.census(NAMESPACE)}")
    _maintenance_job_runs(step.cluster)
    contract = step.platform.outputs()["contract"]
    assert contract["namespace"] == NAMESPACE
    assert contract["tenants"]["ecommerce-analytics"]["sealed_credentials"]


def test_2_platform_preview_after_up_expects_no_changes(step: World, clock: Clock):
    with clock("2a platform preview (no changes)"):
        step.platform.preview("--expect-no-changes")
    # The drift workflow's check (.github/workflows/drift.yml): reading every resource back finds
    # nothing on a stack nobody touched, so the daily check does not cry wolf.
    with clock("2b platform preview --refresh (no drift)"):
        step.platform.preview("--refresh", "--expect-no-changes")


def test_3_pipeline_up_through_a_real_stack_reference_then_no_changes(step: World, clock: Clock):
    with clock("3a pipeline up"):
        step.pipeline.up()
    with clock("3b pipeline preview (no changes)"):
        step.pipeline.preview("--expect-no-changes")
    export = step.pipeline.export()
    assert _missing(step.cluster, export) == []
    assert step.cluster.wait_workloads_ready(NAMESPACE) == []
    tables = step.pipeline.outputs()["tables"]
    assert len(tables) == 4
    clock.note(f"with the pipeline: {step.cluster.census(NAMESPACE)}; {len(tables)} Iceberg tables in the REST catalog")


def _allowed(cluster: Cluster, user: str, verb: str, resource: str, name: str | None = None) -> bool:
    """What the API server's authorizer answers for `user` (a SubjectAccessReview: RBAC, not a mock)."""
    attributes = {"namespace": NAMESPACE, "verb": verb, "resource": resource, **({"name": name} if name else {})}
    review = cluster.resource("authorization.k8s.io/v1", "SubjectAccessReview").create(
        body={"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
              "spec": {"user": user, "groups": ["system:serviceaccounts", f"system:serviceaccounts:{NAMESPACE}"],
                       "resourceAttributes": attributes}}, _request_timeout=10)
    return bool(review.status.allowed)


def test_3i_the_tenant_reaches_only_its_own_secrets_and_the_services_it_uses(step: World, clock: Clock):
    cluster = step.cluster
    with clock("3i isolation checks"):
        own = [("get", "configmaps", f"{TENANT}-floe-config"), ("get", "configmaps", f"{TENANT}-floe-env")]
        # Not even its own Secrets: its pods receive them from the kubelet (docs/security.md).
        others = [("get", "secrets", f"{TENANT}-catalog-credentials"), ("get", "secrets", f"{TENANT}-s3-credentials"),
                  ("get", "secrets", ROOT_SECRET), ("get", "secrets", "floe-s3-credentials"),
                  ("get", "secrets", "floe-dagster-postgresql"), ("get", "secrets", "floe-minio-root"),
                  ("get", "secrets", "marketing-catalog-credentials"), ("list", "secrets", None),
                  ("watch", "secrets", None), ("get", "configmaps", "floe-dagster-instance"),
                  ("create", "pods", None), ("create", "jobs", None), ("create", "secrets", None),
                  ("patch", "secrets", f"{TENANT}-catalog-credentials")]
        answers = {(verb, resource, name): _allowed(cluster, TENANT_ACCOUNT, verb, resource, name)
                   for verb, resource, name in own + others}
        # The platform's Dagster account, for contrast: the identity tenants no longer run as can launch pods.
        dagster_can_create_pods = _allowed(cluster, f"system:serviceaccount:{NAMESPACE}:floe-dagster", "create",
                                           "pods")
    assert [a for a in own if not answers[a]] == []
    assert [a for a in others if answers[a]] == []
    assert dagster_can_create_pods
    # The code location runs as the tenant, with the tenant's Secrets only; so do the runs it launches.
    [deployment] = [d for d in cluster.list("apps/v1", "Deployment", NAMESPACE)
                    if (d.metadata.labels or {}).get("floe.dev/pipeline") == TENANT]
    pod = deployment.spec.template
    assert pod.spec.serviceAccountName == f"{TENANT}-pipeline"
    [container] = pod.spec.containers
    # (The chart also names Celery's config Secret, optional, which this platform never creates.)
    assert sorted(source.secretRef.name for source in container.envFrom
                  if source.secretRef and not source.secretRef.optional) == [
        f"{TENANT}-catalog-credentials", f"{TENANT}-s3-credentials"]
    context = json.loads(next(e.value for e in container.env if e.name.endswith("CONTAINER_CONTEXT")))["k8s"]
    assert context["service_account_name"] == f"{TENANT}-pipeline"
    assert "floe-s3-credentials" not in context.get("env_secrets", [])
    # Its NetworkPolicy as the API server holds it (no CNI runs here, so nothing enforces it: docs/security.md):
    # it selects its pods, no rule is open, DNS goes to the cluster's DNS pods only, and every peer in the
    # platform namespace is a pod that exists.
    policies = {p.metadata.name: p.to_dict() for p in cluster.list("networking.k8s.io/v1", "NetworkPolicy", NAMESPACE)}
    policy = policies[f"{TENANT}-pipeline"]["spec"]
    assert pod.metadata.labels["floe.dev/pipeline"] == policy["podSelector"]["matchLabels"]["floe.dev/pipeline"]
    assert open_rules(policy) == []
    assert policy["egress"][0] == DNS_RULE
    peers = [peer["podSelector"]["matchLabels"] for rule in policy["egress"][1:] for peer in rule["to"]]
    peers += [peer["podSelector"]["matchLabels"] for rule in policy["ingress"] for peer in rule["from"]]
    assert len(peers) == 6  # Polaris, MinIO, PostgreSQL, Jaeger, Marquez' API; Dagster in
    for labels in peers:
        selector = ",".join(f"{k}={v}" for k, v in dict(labels).items())
        assert cluster.list("v1", "Pod", NAMESPACE, label_selector=selector), f"no pod matches {selector}"
    # The platform's default deny holds every pod labelled as a pipeline's, its code server among them.
    deny = policies["floe-pipelines-default-deny"]["spec"]
    assert deny == {"podSelector": {"matchExpressions": [{"key": "floe.dev/pipeline", "operator": "Exists"}]},
                    "policyTypes": ["Ingress", "Egress"]}
    assert cluster.list("v1", "Pod", NAMESPACE, label_selector="floe.dev/pipeline")
    # Its MinIO user's policy, as the chart's post-install Job reads it: valid JSON, the tenant's prefixes only.
    minio = cluster.get(ObjectRef("v1", "ConfigMap", "floe-minio", NAMESPACE))
    [policy_json] = [v for k, v in minio.data.items() if k.startswith("policy_")]
    statements = json.loads(policy_json)["Statement"]
    objects = {r for s in statements for r in s.get("Resource", []) if r.count("/") >= 1 and r.endswith("*")}
    assert objects == {"arn:aws:s3:::floe-local-bronze/bronze/ecommerce_analytics/*",
                       "arn:aws:s3:::floe-local-silver/silver/ecommerce_analytics/*",
                       "arn:aws:s3:::floe-local-gold/gold/ecommerce_analytics/*",
                       "arn:aws:s3:::floe-local-bronze/bronze/*", "arn:aws:s3:::floe-local-silver/silver/*",
                       "arn:aws:s3:::floe-local-gold/gold/*", "arn:aws:s3:::floe-local-platform/compute-logs/*"}
    # The platform's state, even decrypted with its passphrase, holds the tenant's catalog secret nowhere.
    credentials = cluster.get(ObjectRef("v1", "Secret", f"{TENANT}-catalog-credentials", NAMESPACE))
    client_secret = base64.b64decode(credentials.data["POLARIS_CLIENT_SECRET"]).decode()
    decrypted = step.platform.run("stack", "export", "--show-secrets", "--stack", STACK).stdout
    assert step.platform.outputs()["contract"]["tenants"][TENANT]["sealed_credentials"] in decrypted
    assert client_secret not in decrypted
    # The tiers' secrets providers are apart: the platform's passphrase opens nothing of the pipeline stack.
    refused = step.pipeline.run("config", "get", "floe:tenantKey", "--stack", STACK,
                                *("--config-file", str(step.pipeline.config_file)), check=False,
                                passphrase=step.pulumi.passphrase)
    assert refused.returncode != 0
    assert step.tenant_private_key not in refused.stdout + refused.stderr


def test_4_state_holds_no_credential_in_plain_text(step: World, clock: Clock):
    with clock("4 stack exports"):
        exports = json.dumps([step.platform.export(), step.pipeline.export()])
    credentials = {step.tenant_private_key}
    for secret in step.cluster.list("v1", "Secret", NAMESPACE):
        for key, value in (secret.data or {}).items():
            if CREDENTIAL_KEY.search(key):
                credentials.add(base64.b64decode(value).decode())
    # Generated passwords (databases, MinIO, Polaris root, Cube), the tenant's client secret, its key.
    assert len(credentials) >= 8, sorted(credentials)
    assert [f"{c[:3]}..." for c in credentials if c in exports] == []


def _changes(preview: dict[str, Any]) -> dict[str, set[str]]:
    """Resource names by operation in `pulumi preview --json`, without the stack itself and unchanged ones.

    The platform project refreshes first (`refresh: always`): its reads are steps too, and change nothing.
    """
    changes: dict[str, set[str]] = {}
    for step in preview.get("steps", []):
        stack = step["urn"].endswith(f"::{STACK}") or "pulumi:pulumi:Stack" in step["urn"]
        if step["op"] not in ("same", "refresh") and not stack:
            changes.setdefault(step["op"], set()).add(step["urn"].rsplit("::", 1)[-1])
    return changes


def _table_uuid(export: dict[str, Any], name: str) -> str:
    [table] = [r for r in export["deployment"]["resources"] if r["urn"].endswith(f"::{name}")]
    return table["outputs"]["table_uuid"]


def test_5_drift_is_seen_by_preview_and_repaired_by_up(step: World, clock: Clock):
    configmap = ObjectRef("v1", "ConfigMap", "floe-dagster-floe-env", NAMESPACE)
    role = ("lakehouse", "layer_gold_reader")
    granted = list(step.polaris.catalog_roles[role])
    step.cluster.delete(configmap)
    step.polaris.catalog_roles[role].pop()  # someone revoked a grant in Polaris
    # No --refresh: the platform project refreshes on every operation (Pulumi.yaml `refresh: always`).
    with clock("5a platform preview (drift)"):
        check = step.platform.preview("--expect-no-changes", check=False)
    assert check.returncode != 0
    assert "floe-orchestration-env" in check.stdout
    assert "floe-governance-role-lakehouse-layer_gold_reader" in check.stdout
    with clock("5b platform refresh"):
        refresh = step.platform.cmd("refresh", "--yes", "--skip-preview")
    assert "floe-orchestration-env" in refresh.stdout
    assert "floe-governance-role-lakehouse-layer_gold_reader" in refresh.stdout
    with clock("5c platform up (repair)"):
        step.platform.up()
    assert step.cluster.get(configmap) is not None
    assert sorted(map(str, step.polaris.catalog_roles[role])) == sorted(map(str, granted))
    with clock("5d drift check (the drift workflow's preview)"):
        step.platform.preview("--refresh", "--expect-no-changes")
    # A pipeline project refreshes on every operation too: its runtime ConfigMap deleted, its next up recreates it.
    [env] = [r for r in step.pipeline.export()["deployment"]["resources"]
             if r["type"] == "kubernetes:core/v1:ConfigMap" and r["urn"].endswith("-env")]
    runtime_env = ObjectRef("v1", "ConfigMap", env["outputs"]["metadata"]["name"], NAMESPACE)
    step.cluster.delete(runtime_env)
    with clock("5e pipeline up (repair)"):
        step.pipeline.up()
    assert step.cluster.get(runtime_env) is not None


def test_6_a_change_applies_exactly_itself_and_passes_the_policy_pack(step: World, clock: Clock):
    floe = step.workdir / "pipeline" / "floe.yaml"
    pipeline = yaml.safe_load(floe.read_text())
    orders = next(t for t in pipeline["tables"] if t["name"] == "orders")
    orders["columns"].append({"name": "channel", "type": "string"})
    # A rename with renamed_from: the same resource (an alias), the same table, not a new empty one.
    products = next(t for t in pipeline["tables"] if t["name"] == "products")
    products.update(name="catalogue", renamed_from="products")
    floe.write_text(yaml.safe_dump(pipeline, sort_keys=False))
    uuid_before = _table_uuid(step.pipeline.export(), "ecommerce-analytics-tables-bronze-products")
    platform_file = step.workdir / "platform.yaml"
    platform = yaml.safe_load(platform_file.read_text())
    platform["deployment"]["tenants"]["marketing"] = {"writes": ["gold"], "reads": ["silver", "gold"]}
    platform_file.write_text(yaml.safe_dump(platform, sort_keys=False))
    policy = ("--policy-pack", str(step.policy_dir))
    with clock("6a platform preview (tenant added, policy pack)"):
        planned = _changes(step.platform.preview("--json", *policy).json())
    # The workspace and Cube's model mounts list the tenant; the quota's plan counts its code server; MinIO adds its
    # user and policy.
    assert planned.pop("update") <= {"floe-orchestration-dagster", "floe-semantic-cube", "floe-k8s-quota",
                                     "floe-storage-minio"}
    created = planned.pop("create")
    assert created, "the new tenant's principal, roles, namespace and Secret"
    assert all("marketing" in name for name in created), sorted(created)
    assert planned == {}
    with clock("6b platform up"):
        step.platform.up(*policy)
    with clock("6c pipeline preview (column added, policy pack)"):
        planned = _changes(step.pipeline.preview("--json", *policy).json())
    # The table gains its column, the renamed one is updated in place (no create, no delete), the table set
    # records both, and the runtime ConfigMap (it holds floe.yaml) changes in place.
    tables = "ecommerce-analytics-tables"
    assert planned == {"update": {f"{tables}-bronze-orders", f"{tables}-bronze-catalogue", f"{tables}-set",
                                  "ecommerce-analytics-runtime-files"}}
    with clock("6d pipeline up"):
        step.pipeline.up(*policy)
    step.pipeline.preview("--expect-no-changes")
    assert _table_uuid(step.pipeline.export(), "ecommerce-analytics-tables-bronze-catalogue") == uuid_before


def _secret_value(world: World, name: str, key: str) -> str:
    secret = world.cluster.get(ObjectRef("v1", "Secret", name, NAMESPACE))
    assert secret is not None, name
    return base64.b64decode(secret.data[key]).decode()


def _digest(world: World, deployment: str) -> str:
    found = world.cluster.get(ObjectRef("apps/v1", "Deployment", deployment, NAMESPACE))
    assert found is not None, deployment
    env = found.spec.template.spec.containers[0].env or []
    return next(e.value for e in env if e.name == "FLOE_CONFIG_DIGEST")


def test_7_rotation_reaches_polaris_and_the_database_and_deletes_after_it_still_work(step: World, clock: Clock):
    root_before = _secret_value(step, ROOT_SECRET, "CLIENT_SECRET")
    assert step.polaris.clients["root"] == root_before
    jobs_before = {j.metadata.name for j in step.cluster.list("batch/v1", "Job", NAMESPACE)}
    digests_before = {d: _digest(step, d) for d in ("floe-dagster-webserver", "floe-marquez")}
    platform_file = step.workdir / "platform.yaml"
    platform = yaml.safe_load(platform_file.read_text())
    platform["deployment"]["rotate"] = {ROOT_SECRET: 1, "floe-dagster-db": 1}
    # In the same change: the marketing tenant goes, so its Polaris objects are deleted from state that
    # holds the root credential of before the rotation.
    del platform["deployment"]["tenants"]["marketing"]
    platform_file.write_text(yaml.safe_dump(platform, sort_keys=False))
    with clock("7 platform up (rotate root and a database password, remove a tenant)"):
        step.platform.up()
    root_after = _secret_value(step, ROOT_SECRET, "CLIENT_SECRET")
    assert root_after != root_before
    assert step.polaris.clients["root"] == root_after, "Polaris has the new root credential"
    assert not [p for p in step.polaris.principals if "marketing" in p]
    new_jobs = {j.metadata.name for j in step.cluster.list("batch/v1", "Job", NAMESPACE)} - jobs_before
    assert [j for j in new_jobs if j.startswith("floe-postgresql-setup-")], "the roles are set again"
    assert step.cluster.wait_workloads_ready(NAMESPACE) == []
    assert _digest(step, "floe-dagster-webserver") != digests_before["floe-dagster-webserver"]
    assert _digest(step, "floe-marquez") == digests_before["floe-marquez"], "only what reads the secret rolls"
    step.platform.preview("--expect-no-changes")
    step.pipeline.preview("--expect-no-changes")


def _tenant_credentials(world: World) -> tuple[str, str]:
    """The client id and secret the pipeline's pods read (its Secret, written by its stack)."""
    name = f"{TENANT}-catalog-credentials"
    return _secret_value(world, name, "POLARIS_CLIENT_ID"), _secret_value(world, name, "POLARIS_CLIENT_SECRET")


def _accepted(world: World, client_id: str, secret: str) -> bool:
    """Whether Polaris gives this credential a token, asked over HTTP as any client asks."""
    answer = requests.post(f"http://127.0.0.1:{world.polaris.port}/api/catalog/v1/oauth/tokens", timeout=10,
                           data={"grant_type": "client_credentials", "client_id": client_id,
                                 "client_secret": secret, "scope": f"PRINCIPAL_ROLE:{TENANT_ROLE}"})
    return answer.status_code == 200


def _code_server(world: World) -> str:
    """The pipeline's code server Deployment (the chart names it after the pipeline)."""
    [deployment] = [d.metadata.name for d in world.cluster.list("apps/v1", "Deployment", NAMESPACE)
                    if (d.metadata.labels or {}).get("floe.dev/pipeline") == TENANT]
    return deployment


def test_7b_a_tenant_rotation_revokes_the_old_secret_and_the_pipeline_previews_and_deploys_onto_the_new_one(
        step: World, clock: Clock):
    """docs/operations.md's sequence: the platform rotates a tenant, the data team previews and deploys as usual."""
    old = _tenant_credentials(step)
    assert _accepted(step, *old)
    code_server = _code_server(step)
    digest_before = _digest(step, code_server)
    platform_file = step.workdir / "platform.yaml"
    platform = yaml.safe_load(platform_file.read_text())
    tenant = platform["deployment"]["tenants"][TENANT]
    tenant["credential_rotation"] = tenant.get("credential_rotation", 0) + 1
    platform_file.write_text(yaml.safe_dump(platform, sort_keys=False))
    with clock("7b platform up (rotate the tenant's catalog credentials)"):
        step.platform.up()
    assert not _accepted(step, *old), "the old secret stops working"
    # The pipeline's refresh (every operation starts with one) holds the revoked credential in its state.
    with clock("7c pipeline preview (after the tenant rotation)"):
        preview = step.pipeline.preview()
    # (The engine prints a provider's warnings on stderr when it shows a diff.)
    assert "refused the credential this stack's state holds" in preview.stdout + preview.stderr
    with clock("7d pipeline up (onto the new credentials)"):
        step.pipeline.up()
    new = _tenant_credentials(step)
    assert new != old
    assert _accepted(step, *new)
    assert _digest(step, code_server) != digest_before, "the code server rolls onto the new credentials"
    assert step.cluster.wait_workloads_ready(NAMESPACE) == []
    step.pipeline.preview("--expect-no-changes")


def _errors(result: Any) -> list[str]:
    """The error diagnostics of a pulumi command, one entry per resource that reported one (under "Diagnostics:",
    or on stderr when the engine shows a diff)."""
    lines = result.stdout.partition("Diagnostics:")[2].splitlines() + result.stderr.splitlines()
    return [line.strip() for line in lines if line.strip().startswith("error:")]


def test_7e_with_polaris_down_a_preview_fails_fast_with_one_error_naming_it_and_what_to_do(
        step: World, clock: Clock):
    url = f"http://127.0.0.1:{step.polaris.port}"
    step.polaris.go_down()
    try:
        with clock("7e platform preview (Polaris down)"):
            down = step.platform.preview(check=False)
    finally:
        step.polaris.come_back()
    assert down.returncode != 0
    clock.note(f"Polaris down: the platform preview failed after {down.seconds:.1f} s with "
               f"{len(_errors(down))} error diagnostics")
    # One resource reports it, in one line; the stack's own "preview failed" is the other error.
    [failure] = [line for line in _errors(down) if line != "error: preview failed"]
    assert failure.startswith("error: Preview failed: floe_infra.errors.CatalogUnreachableError: ")
    assert f"cannot connect to {url}" in failure
    assert "check deployment.services.catalog.management_url and that Polaris runs" in failure
    assert failure.endswith("`pulumi preview --refresh=false` previews from state without reaching it")
    step.platform.preview("--expect-no-changes")


def _governance(world: World) -> dict[str, Any]:
    polaris = world.polaris
    return {"catalogs": sorted(polaris.catalogs), "principals": sorted(polaris.principals),
            "namespaces": sorted(map(str, polaris.namespaces)),
            "grants": {str(k): sorted(map(str, v)) for k, v in polaris.catalog_roles.items()},
            "principal_roles": {k: {c: sorted(r) for c, r in v.items()} for k, v in polaris.principal_roles.items()}}


def test_7f_a_polaris_restart_with_an_empty_realm_is_repaired_by_the_next_up(step: World, clock: Clock):
    before = _governance(step)
    tables = step.pipeline.outputs()["tables"]
    step.polaris.go_down()
    step.polaris.lose_realm()  # an in-memory Polaris restarting: root comes back from its Secret, nothing else
    step.polaris.come_back()
    with clock("7f platform up (repair the empty realm)"):
        step.platform.up()
    assert _governance(step) == before
    step.platform.preview("--expect-no-changes")
    # The tenant is a new principal (new credentials) and its tables went with the realm: its next preview and up.
    with clock("7g pipeline preview (after the realm was lost)"):
        step.pipeline.preview()
    with clock("7h pipeline up (tables and credentials again)"):
        step.pipeline.up()
    assert _accepted(step, *_tenant_credentials(step))
    creds = _tenant_credentials(step)
    catalog = open_catalog(CatalogTarget(f"http://127.0.0.1:{step.polaris.port}/api/catalog", "lakehouse",
                                         f"{creds[0]}:{creds[1]}", f"PRINCIPAL_ROLE:{TENANT_ROLE}"))
    assert [t for t in tables if not catalog.table_exists(tuple(t.split(".")))] == []
    step.pipeline.preview("--expect-no-changes")


def test_8_destroy_pipeline_then_platform_leaves_nothing(step: World, clock: Clock):
    with clock("8a pipeline destroy"):
        step.pipeline.cmd("destroy", "--yes", "--skip-preview")
    # The pipeline's tables outlive it (no drop_when_removed): the platform refuses to drop namespaces
    # that hold tables until platform.yaml opts in.
    refused = step.platform.cmd("destroy", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0
    assert "refusing to delete it. Set deployment.allow_table_deletion: true" in refused.stdout
    platform_file = step.workdir / "platform.yaml"
    platform = yaml.safe_load(platform_file.read_text())
    platform["deployment"]["allow_table_deletion"] = True
    platform_file.write_text(yaml.safe_dump(platform, sort_keys=False))
    with clock("8b platform up (allow table deletion)"):
        step.platform.up()
    with clock("8c platform destroy"):
        step.platform.cmd("destroy", "--yes", "--skip-preview")
    leftovers = [f"Namespace {n.metadata.name}" for n in step.cluster.list("v1", "Namespace")
                 if n.metadata.name == NAMESPACE]
    for api_version, kind in (("rbac.authorization.k8s.io/v1", "ClusterRole"),
                              ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
                              ("v1", "PersistentVolume")):
        leftovers += [f"{kind} {o.metadata.name}" for o in step.cluster.list(api_version, kind)
                      if "floe" in (o.metadata.labels or {}).get("app.kubernetes.io/part-of", "")]
    assert leftovers == []
    assert step.polaris.catalogs == {}
