"""Each guardrail against passing and failing stacks; the demo stacks pass them all."""

from __future__ import annotations

from typing import Any

import pytest

from floe_infra.guardrails import (
    BUCKET,
    CONFIGMAP,
    ENCRYPTION,
    PUBLIC_ACCESS,
    RELEASE,
    RULES,
    SECRET,
    VERSIONING,
    Enforcement,
    GuardedResource,
    StackFacts,
    enforcement_overrides,
    evaluate,
)
from floe_infra.preview.offline import guarded_stack
from tests.pipeline.conftest import demo_pipeline, platform_run

PLATFORM = StackFacts(kind="platform", environment="dev")
PIPELINE = StackFacts(kind="pipeline", environment="dev", namespace="floe")


def resource(type_: str, name: str, props: dict[str, Any], protect: bool = False) -> GuardedResource:
    return GuardedResource(urn=f"urn:pulumi:dev::p::{type_}::{name}", type=type_, name=name, props=props,
                           protect=protect)


def violations(resources: list[GuardedResource], facts: StackFacts, rule: str) -> list[str]:
    only = {r.id: Enforcement.DISABLED for r in RULES if r.id != rule}
    return [v.message for v in evaluate(resources, facts, only)]


def release(values: dict[str, Any], version: str = "1.2.3", namespace: str = "floe") -> GuardedResource:
    return resource(RELEASE, "r", {"name": "r", "chart": "c", "version": version, "namespace": namespace,
                                   "values": values})


def deployment(container: dict[str, Any]) -> GuardedResource:
    return resource("kubernetes:apps/v1:Deployment", "d", {
        "metadata": {"name": "d", "namespace": "floe"},
        "spec": {"template": {"spec": {"containers": [container]}}}})


FULL = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}


# --- no-plaintext-secrets ------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "expected"), [
    ({"auth": {"rootPassword": "fake-password-for-tests"}},
     "values.auth.rootPassword holds a literal value under a credential key"),
    ({"env": [{"name": "DSN", "value": "postgres://app:fake-password@db:5432/x"}]}, "a URL with a user and password"),
    ({"aws": {"accessKeyId": "AKIAFAKEFAKEFAKEFAKE"}}, "an AWS access key id"),
    ({"password": SECRET}, "values.password holds a secret value"),
])
def test_secrets_in_helm_values_are_violations(values: dict[str, Any], expected: str):
    [message] = violations([release(values)], PLATFORM, "no-plaintext-secrets")
    assert expected in message


@pytest.mark.parametrize("values", [
    {"auth": {"existingSecret": "floe-minio-root"}},
    {"persistence": {"secret": {"name": "floe-polaris-db", "password": "password"}}},
    {"config": {"apiSecretFromSecret": {"name": "floe-cube-api", "key": "CUBEJS_API_SECRET"}}},
    {"global": {"postgresqlSecretName": "floe-dagster-postgresql"}},
    {"env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}}]},
])
def test_references_to_secrets_are_not_violations(values: dict[str, Any]):
    assert violations([release(values)], PLATFORM, "no-plaintext-secrets") == []


def test_configmaps_labels_and_plain_outputs_are_scanned_too():
    configmap = resource(CONFIGMAP, "cm", {"metadata": {"name": "cm", "labels": {"floe.dev/secret-origin": "x"}},
                                           "data": {"client_secret": "fake-secret-for-tests"}})
    labelled = resource(CONFIGMAP, "l", {"metadata": {"name": "l", "annotations": {"token": "ghp_" + "a" * 36}}})
    facts = StackFacts("platform", "dev", outputs={"db": {"url": "mysql://root:fake-password@db/x"},
                                                   "names": {"credentials_secret": "floe-s3-credentials"}})
    found = violations([configmap, labelled], facts, "no-plaintext-secrets")
    assert len(found) == 3
    assert any("data.client_secret" in m for m in found)
    assert any("metadata.annotations.token holds a GitHub token" in m for m in found)
    assert any("stack output db.url holds a URL with a user and password" in m for m in found)


# --- s3-buckets-secured --------------------------------------------------------------------------

def bucket_stack(*, encryption: bool = True, versioning: str = "Enabled", block: bool = True) -> list:
    resources = [resource(BUCKET, "b", {"bucket": "floe-prod-bronze"})]
    if encryption:
        resources.append(resource(ENCRYPTION, "e", {"bucket": "b-id", "rules": [{"x": 1}]}))
    resources.append(resource(VERSIONING, "v", {"bucket": "b-id",
                                                "versioningConfiguration": {"status": versioning}}))
    resources.append(resource(PUBLIC_ACCESS, "p", {"bucket": "b-id", "blockPublicAcls": True,
                                                   "blockPublicPolicy": block, "ignorePublicAcls": True,
                                                   "restrictPublicBuckets": True}))
    return resources


def test_a_secured_bucket_passes_and_each_missing_control_is_named():
    assert violations(bucket_stack(), PLATFORM, "s3-buckets-secured") == []
    assert violations(bucket_stack(encryption=False), PLATFORM, "s3-buckets-secured") == [
        "bucket floe-prod-bronze has no server-side encryption"]
    assert violations(bucket_stack(versioning="Suspended"), PLATFORM, "s3-buckets-secured") == [
        "bucket floe-prod-bronze has no versioning"]
    assert violations(bucket_stack(block=False), PLATFORM, "s3-buckets-secured") == [
        "bucket floe-prod-bronze has no full public access block"]


# --- stateful-protected --------------------------------------------------------------------------

def test_stateful_resources_must_be_protected_outside_local():
    volume = resource("kubernetes:apps/v1:StatefulSet", "db", {"metadata": {"name": "db"}})
    assert violations([volume], PLATFORM, "stateful-protected") == [
        "StatefulSet db holds state but is not protected (protect=True)"]
    assert violations([volume], StackFacts("platform", "local"), "stateful-protected") == []
    protected = resource("kubernetes:apps/v1:StatefulSet", "db", {}, protect=True)
    assert violations([protected], PLATFORM, "stateful-protected") == []


# --- container-resources -------------------------------------------------------------------------

def test_containers_need_requests_and_limits_in_workloads_and_helm_values():
    assert violations([deployment({"name": "app", "image": "a:1", "resources": FULL})], PLATFORM,
                      "container-resources") == []
    assert violations([deployment({"name": "app", "image": "a:1", "resources": {"requests": FULL["requests"]}})],
                      PLATFORM, "container-resources") == ["container app lacks cpu/memory requests and limits"]
    assert violations([release({"api": {"resources": FULL}})], PLATFORM, "container-resources") == []
    assert violations([release({"api": {"resources": {"limits": {"cpu": "1"}}}})], PLATFORM,
                      "container-resources") == ["values.api.resources lacks cpu/memory requests and limits"]


# --- no-latest-images ----------------------------------------------------------------------------

@pytest.mark.parametrize(("image", "ok"), [
    ("postgres:16.10-bookworm", True), ("ghcr.io/a/b@sha256:" + "a" * 64, True), ("registry:5000/a/b:1", True),
    ("postgres", False), ("postgres:latest", False), ("registry:5000/a/b", False),
])
def test_workload_images_need_a_fixed_tag(image: str, ok: bool):
    found = violations([deployment({"name": "c", "image": image, "resources": FULL})], PLATFORM, "no-latest-images")
    assert (found == []) is ok


def test_helm_image_blocks_need_a_fixed_tag():
    assert violations([release({"image": {"repository": "a/b", "tag": "1.0"}})], PLATFORM, "no-latest-images") == []
    assert violations([release({"image": {"repository": "a/b", "tag": "latest"}})], PLATFORM,
                      "no-latest-images") == ["values.image pins no image tag (latest)"]


@pytest.mark.parametrize(("values", "expected"), [
    ({"jaeger": {"image": {"tag": "latest"}}}, "values.jaeger.image pins no image tag (latest)"),
    ({"dagsterWebserver": {"image": {"tag": ""}}}, "values.dagsterWebserver.image pins no image tag (empty)"),
    ({"sidecar": {"image": "busybox:latest"}},
     "values.sidecar.image: image busybox:latest uses the mutable tag latest"),
    ({"server": {"imageTag": "latest"}}, "values.server.imageTag is the mutable tag latest"),
])
def test_every_way_helm_values_set_an_image_is_checked(values: dict[str, Any], expected: str):
    assert violations([release(values)], PLATFORM, "no-latest-images") == [expected]
    fixed = {"jaeger": {"image": {"tag": "2.9.0"}}, "sidecar": {"image": "busybox:1.37"}, "server": {"imageTag": "1"}}
    assert violations([release(fixed)], PLATFORM, "no-latest-images") == []


@pytest.mark.parametrize("service", ["object_storage", "tracing", "orchestration", "catalog", "semantic"])
def test_image_tag_latest_on_any_service_fails_the_platform_preview(service: str, tmp_path):
    from floe_infra.config.loader import load_platform
    from floe_infra.platform.program import run_platform
    from floe_infra.preview.runtime import run_program
    from tests.conftest import DEMO_PLATFORM

    text = DEMO_PLATFORM.read_text().replace("  services:\n", f"  services:\n    {service}:\n      image_tag: latest\n",
                                             1)
    if service == "object_storage":
        text = text.replace("    object_storage:\n      image_tag: latest\n    object_storage:\n",
                            "    object_storage:\n      image_tag: latest\n")
    elif service in ("semantic", "orchestration"):
        # The demo has a block for these already: add the tag to it.
        text = text.replace(f"    {service}:\n      image_tag: latest\n", "", 1).replace(
            f"    {service}:\n", f"    {service}:\n      image_tag: latest\n", 1)
    platform = tmp_path / "platform.yaml"
    platform.write_text(text)
    assert load_platform(platform).config.deployment.services.model_dump()[service]["image_tag"] == "latest"
    run = run_program(run_platform, project="floe-platform", stack="local", root_directory=tmp_path,
                      config={"floe:platformFile": "platform.yaml"})
    found = [v for v in evaluate(*guarded_stack(run)) if v.rule == "no-latest-images"]
    assert found, f"image_tag: latest on {service} passes no-latest-images"


# --- chart-versions-pinned -----------------------------------------------------------------------

@pytest.mark.parametrize(("version", "ok"), [("1.12.19", True), ("5.4.0-rc.1", True), ("", False), ("^1.2", False),
                                             ("1.x", False)])
def test_chart_versions_are_exact(version: str, ok: bool):
    assert (violations([release({}, version=version)], PLATFORM, "chart-versions-pinned") == []) is ok


# --- pipeline-namespaced -------------------------------------------------------------------------

def test_pipeline_stacks_stay_in_the_platform_namespace_and_off_the_cluster_scope():
    inside = resource(CONFIGMAP, "cm", {"metadata": {"name": "cm", "namespace": "floe"}})
    outside = resource(CONFIGMAP, "x", {"metadata": {"name": "x", "namespace": "kube-system"}})
    role = resource("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "admin", {"metadata": {"name": "a"}})
    assert violations([inside, release({})], PIPELINE, "pipeline-namespaced") == []
    found = violations([inside, outside, role, release({}, namespace="default")], PIPELINE, "pipeline-namespaced")
    assert found == ["x is in namespace 'kube-system', outside the platform's 'floe'",
                     "ClusterRole admin is cluster-scoped; pipeline stacks may not create it",
                     "r is in namespace 'default', outside the platform's 'floe'"]
    # The platform stack is not held to it: it creates its namespace.
    assert violations([role], PLATFORM, "pipeline-namespaced") == []


# --- enforcement ---------------------------------------------------------------------------------

def test_overrides_follow_crossguard_config_and_reject_unknown_rules():
    overrides = enforcement_overrides({"all": "advisory", "no-latest-images": {"enforcementLevel": "mandatory"},
                                       "stateful-protected": "disabled"})
    assert overrides["chart-versions-pinned"] is Enforcement.ADVISORY
    assert overrides["no-latest-images"] is Enforcement.MANDATORY
    assert overrides["stateful-protected"] is Enforcement.DISABLED
    with pytest.raises(ValueError, match="unknown guardrail no-such-rule"):
        enforcement_overrides({"no-such-rule": "advisory"})
    with pytest.raises(ValueError, match="must be mandatory, advisory or disabled"):
        enforcement_overrides({"no-latest-images": "warn"})


def test_an_advisory_rule_reports_without_blocking_and_a_disabled_one_is_silent():
    stack = [release({"image": {"repository": "a/b", "tag": "latest"}})]
    [advisory] = evaluate(stack, PLATFORM, {"no-latest-images": Enforcement.ADVISORY})
    assert advisory.enforcement is Enforcement.ADVISORY
    assert evaluate(stack, PLATFORM, {"no-latest-images": Enforcement.DISABLED}) == []


# --- the demo ------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_the_demo_stacks_pass_every_guardrail(stack: str):
    for run, kind in ((platform_run(stack), "platform"), (demo_pipeline(stack), "pipeline")):
        resources, facts = guarded_stack(run)
        assert facts.kind == kind
        assert facts.environment == stack
        assert evaluate(resources, facts) == []


def test_facts_are_read_from_the_stack():
    _, facts = guarded_stack(demo_pipeline("dev"))
    assert facts.namespace == "floe-dev"


# --- quota-fits ------------------------------------------------------------------------------------

def _demo_platform_run(tmp_path, text: str):
    from floe_infra.platform.program import run_platform
    from floe_infra.preview.runtime import run_program

    (tmp_path / "platform.yaml").write_text(text)
    return run_program(run_platform, project="floe-platform", stack="local", root_directory=tmp_path,
                       config={"floe:platformFile": "platform.yaml"})


def test_the_demo_quotas_hold_what_the_demo_platforms_run():
    from tests.platform.conftest import demo_run

    for stack in ("local", "dev", "prod"):
        assert [v for v in evaluate(*guarded_stack(demo_run(stack))) if v.rule == "quota-fits"] == [], stack


def test_a_quota_without_room_for_the_runs_and_a_rollout_fails_the_preview(tmp_path):
    # The demo's settings before the real engine found a rollout stuck on the quota: four runs of 4Gi.
    from tests.conftest import DEMO_PLATFORM

    text = (DEMO_PLATFORM.read_text().replace("max_concurrent_runs: 1", "max_concurrent_runs: 4")
            .replace("limits_memory: 28Gi", "limits_memory: 16Gi"))
    found = [v.message for v in evaluate(*guarded_stack(_demo_platform_run(tmp_path, text))) if v.rule == "quota-fits"]
    advice = ("rollouts and Dagster runs would wait forever for room. Raise "
              "infrastructure.lifecycle.resource_quotas.namespace_limits, or lower "
              "deployment.services.orchestration.max_concurrent_runs or the resource profiles")
    assert found == [
        f"the platform plans 10432Mi of requests.memory in its namespace but the quota allows 8Gi: {advice}",
        f"the platform plans 21250m of limits.cpu in its namespace but the quota allows 16: {advice}",
        f"the platform plans 37120Mi of limits.memory in its namespace but the quota allows 16Gi: {advice}"]
