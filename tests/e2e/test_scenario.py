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
import yaml

from tests.conftest import REPO
from tests.e2e.conftest import Clock
from tests.e2e.kube import Cluster, ObjectRef, declared_objects
from tests.e2e.world import CREDENTIAL_KEY, NAMESPACE, STACK, World, e2e_world

pytestmark = pytest.mark.e2e


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
    contract = step.platform.outputs()["contract"]
    assert contract["namespace"] == NAMESPACE
    assert contract["tenants"]["ecommerce-analytics"]["sealed_credentials"]


def test_2_platform_preview_after_up_expects_no_changes(step: World, clock: Clock):
    with clock("2 platform preview (no changes)"):
        step.platform.preview("--expect-no-changes")


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
    """Resource names by operation in `pulumi preview --json`, without the stack itself and unchanged ones."""
    changes: dict[str, set[str]] = {}
    for step in preview.get("steps", []):
        if step["op"] != "same" and not step["urn"].endswith(f"::{STACK}") and "pulumi:pulumi:Stack" not in step["urn"]:
            changes.setdefault(step["op"], set()).add(step["urn"].rsplit("::", 1)[-1])
    return changes


def test_5_drift_is_seen_by_refresh_and_repaired_by_up(step: World, clock: Clock):
    configmap = ObjectRef("v1", "ConfigMap", "floe-dagster-floe-env", NAMESPACE)
    role = ("lakehouse", "layer_gold_reader")
    granted = list(step.polaris.catalog_roles[role])
    step.cluster.delete(configmap)
    step.polaris.catalog_roles[role].pop()  # someone revoked a grant in Polaris
    with clock("5a platform refresh"):
        refresh = step.platform.cmd("refresh", "--yes", "--skip-preview")
    assert "floe-orchestration-env" in refresh.stdout
    assert "floe-governance-role-lakehouse-layer_gold_reader" in refresh.stdout
    with clock("5b platform up (repair)"):
        step.platform.up()
    assert step.cluster.get(configmap) is not None
    assert sorted(map(str, step.polaris.catalog_roles[role])) == sorted(map(str, granted))
    step.platform.preview("--expect-no-changes")


def test_6_a_change_applies_exactly_itself_and_passes_the_policy_pack(step: World, clock: Clock):
    floe = step.workdir / "pipeline" / "floe.yaml"
    pipeline = yaml.safe_load(floe.read_text())
    orders = next(t for t in pipeline["tables"] if t["name"] == "orders")
    orders["columns"].append({"name": "channel", "type": "string"})
    floe.write_text(yaml.safe_dump(pipeline, sort_keys=False))
    platform_file = step.workdir / "platform.yaml"
    platform = yaml.safe_load(platform_file.read_text())
    platform["deployment"]["tenants"]["marketing"] = {"writes": ["gold"], "reads": ["silver", "gold"]}
    platform_file.write_text(yaml.safe_dump(platform, sort_keys=False))
    policy = ("--policy-pack", str(REPO / "policy"))
    with clock("6a platform preview (tenant added, policy pack)"):
        planned = _changes(step.platform.preview("--json", *policy).json())
    assert planned.pop("update") <= {"floe-orchestration-dagster", "floe-semantic-cube"}
    created = planned.pop("create")
    assert created, "the new tenant's principal, roles, namespace and Secret"
    assert all("marketing" in name for name in created), sorted(created)
    assert planned == {}
    with clock("6b platform up"):
        step.platform.up(*policy)
    with clock("6c pipeline preview (column added, policy pack)"):
        planned = _changes(step.pipeline.preview("--json", *policy).json())
    # The table gains its column; the runtime ConfigMap (it holds floe.yaml) changes in place.
    assert planned == {"update": {"ecommerce-analytics-tables-bronze-orders", "ecommerce-analytics-runtime-files"}}
    with clock("6d pipeline up"):
        step.pipeline.up(*policy)
    step.pipeline.preview("--expect-no-changes")


def test_7_destroy_pipeline_then_platform_leaves_nothing(step: World, clock: Clock):
    with clock("7a pipeline destroy"):
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
    with clock("7b platform up (allow table deletion)"):
        step.platform.up()
    with clock("7c platform destroy"):
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
