"""The platform's table maintenance jobs: one CronJob per layer with a retention, in the platform's identity."""

from __future__ import annotations

import json

from floe_infra import __version__
from floe_infra.iceberg.maintenance_plan import MaintenancePlan
from floe_infra.versions import FLOE_INFRA_IMAGE
from tests.conftest import REPO
from tests.platform.conftest import DEMO_STACKS, as_json, demo_run, run_platform_stack

CRONJOB = "kubernetes:batch/v1:CronJob"
SECRET = "kubernetes:core/v1:Secret"


def cronjob(stack: str, layer: str) -> dict:
    return demo_run(stack).named(f"floe-maintenance-{layer}").inputs


def pod(inputs: dict) -> dict:
    return inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_every_layer_with_a_retention_gets_a_cronjob_that_runs_its_plan():
    run = demo_run("prod")
    assert sorted(r.inputs["metadata"]["name"] for r in run.of_type(CRONJOB)) == [
        "floe-maintenance-bronze", "floe-maintenance-gold", "floe-maintenance-silver"]
    gold = cronjob("prod", "gold")
    spec = gold["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == ("30 2 * * *", "UTC", "Forbid")
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 360 * 60
    [container] = pod(gold)["containers"]
    assert container["command"] == ["floe-infra", "maintenance", "run", "--plan", "/etc/floe/maintenance/plan.json"]
    assert container["image"] == f"{FLOE_INFRA_IMAGE.repository}:{__version__}"
    [plan_volume] = [v for v in pod(gold)["volumes"] if v["name"] == "plan"]
    assert plan_volume["configMap"] == {"name": "floe-maintenance",
                                        "items": [{"key": "gold.json", "path": "plan.json"}]}
    plan = MaintenancePlan.model_validate_json(run.named("floe-maintenance-plans").inputs["data"]["gold.json"])
    assert (plan.namespace, plan.retention_days, plan.grace_hours) == (["gold"], 365, 72)
    assert plan.catalog_uri == "http://floe-polaris.floe.svc.cluster.local:8181/api/catalog"
    assert plan.properties == {"s3.region": "us-east-1", "s3.connect-timeout": "10", "s3.request-timeout": "60"}


def test_the_job_reaches_storage_as_the_platform_and_holds_no_credential_in_its_spec():
    gold = cronjob("local", "gold")
    [container] = pod(gold)["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["FLOE_CATALOG_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "floe-polaris-root-client-secret", "key": "FLOE_POLARIS_ROOT_CLIENT_SECRET"}
    assert env["FLOE_CATALOG_CREDENTIAL"]["value"] == "$(FLOE_CATALOG_CLIENT_ID):$(FLOE_CATALOG_CLIENT_SECRET)"
    assert container["envFrom"] == [{"secretRef": {"name": "floe-s3-credentials"}}]
    assert pod(gold)["automountServiceAccountToken"] is False
    assert pod(gold)["serviceAccountName"] == "floe-maintenance-gold"
    # No tenant's identity: neither its ServiceAccount nor its Secrets.
    assert "ecommerce-analytics" not in as_json(gold)
    plan = MaintenancePlan.model_validate_json(demo_run("local").named("floe-maintenance-plans").inputs["data"]
                                               ["gold.json"])
    assert plan.properties["s3.endpoint"] == "http://floe-minio.floe.svc.cluster.local:9000"


def test_a_cronjob_waits_for_the_secrets_it_reads():
    run = demo_run("local")
    secrets = {r.urn: r.inputs["metadata"]["name"] for r in run.of_type(SECRET)}
    waits_for = {secrets[d] for d in run.named("floe-maintenance-gold").dependencies if d in secrets}
    assert waits_for == {"floe-s3-credentials", "floe-polaris-root-client-id", "floe-polaris-root-client-secret"}


def test_on_aws_each_layers_account_assumes_the_buckets_iam_role():
    account = demo_run("prod").named("floe-maintenance-gold-account").inputs
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/floe-prod-lakehouse"}
    assert account["automountServiceAccountToken"] is False
    assert "envFrom" not in pod(cronjob("prod", "gold"))["containers"][0]


def test_schedule_image_and_grace_come_from_platform_yaml(tmp_path):
    text = (REPO / DEMO_STACKS["dev"]).read_text().replace("  services:\n", (
        "  services:\n    maintenance: {schedule: '0 4 * * 0', image_repository: "
        "registry.example.com/platform/floe-infra, image_tag: 0.1.0-1, grace_hours: 24}\n"), 1)
    assert "services:\n    maintenance" in text
    (tmp_path / "platform.yaml").write_text(text)
    run = run_platform_stack("dev", str(tmp_path / "platform.yaml"))
    gold = run.named("floe-maintenance-gold").inputs
    assert gold["spec"]["schedule"] == "0 4 * * 0"
    assert pod(gold)["containers"][0]["image"] == "registry.example.com/platform/floe-infra:0.1.0-1"
    assert json.loads(run.named("floe-maintenance-plans").inputs["data"]["gold.json"])["grace_hours"] == 24


def test_no_job_without_a_retention_or_when_maintenance_is_off(write_yaml):
    base = ("storage:\n  default: {bucket: floe-data}\nlayers:\n  gold: {name: gold, storage_ref: default, "
            "namespace: lakehouse.gold%s}\ncatalogs:\n  default: {uri: 'http://polaris:8181/api/catalog', "
            "warehouse: lakehouse}\ndeployment:\n  services:\n    catalog: {management_url: 'https://polaris.example.com'}\n"
            "%s")
    assert run_platform_stack("dev", str(write_yaml(base % ("", "")))).of_type(CRONJOB) == []
    off = base % (", retention_days: 30", "    maintenance: {deploy: false}\n")
    assert run_platform_stack("dev", str(write_yaml(off, "off.yaml"))).of_type(CRONJOB) == []
    on = base % (", retention_days: 30", "")
    assert len(run_platform_stack("dev", str(write_yaml(on, "on.yaml"))).of_type(CRONJOB)) == 1


def test_the_image_tag_is_floe_infras_own_version_and_the_dockerfile_builds_it():
    assert FLOE_INFRA_IMAGE.tag == __version__
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "pip install" in dockerfile
    assert "floe-infra" in dockerfile
