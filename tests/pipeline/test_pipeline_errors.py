"""A pipeline stack that cannot deploy stops before creating anything, with a message saying what to do."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi
import pytest
from pulumi.runtime import rpc

from floe_infra.pipeline.program import run_pipeline
from floe_infra.polaris.sealing import generate_keypair
from floe_infra.preview.runtime import run_program
from tests.conftest import DEMO_PIPELINE
from tests.pipeline.conftest import IMAGE, PIPELINE_DIR, platform_contract, run_pipeline_stack

MINIMAL = """\
name: ecommerce-analytics
version: "1.0.0"
"""


def run_error(**kwargs) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        run_pipeline_stack(**kwargs)
    return str(caught.value)


def demo_line(text: str) -> int:
    """1-based line of the first line of the demo floe.yaml containing `text`."""
    return next(n for n, line in enumerate(DEMO_PIPELINE.read_text().splitlines(), 1) if text in line)


def project(tmp_path: Path, floe_yaml: str) -> Path:
    (tmp_path / "floe.yaml").write_text(floe_yaml)
    return tmp_path


def test_a_contract_of_another_major_version_fails_naming_both_versions():
    contract = platform_contract() | {"contract_version": "2.1.0"}
    message = run_error(contract=contract)
    assert "contract version 2.1.0" in message
    assert "1.x (1.3.0)" in message
    assert "upgrade floe-infra in the pipeline project" in message


def test_a_contract_from_before_per_tenant_identities_asks_to_deploy_the_platform_first():
    # A 1.0 platform hands every pipeline Dagster's ServiceAccount and the platform's storage key: refused.
    message = run_error(contract=platform_contract() | {"contract_version": "1.0.0"})
    assert "contract version 1.0.0, which predates per-tenant identities (1.1)" in message
    assert "run `pulumi up` on the platform stack with this floe-infra first" in message


def test_an_older_major_contract_asks_to_upgrade_the_platform():
    message = run_error(contract=platform_contract() | {"contract_version": "0.9.0"})
    assert "0.9.0" in message
    assert "upgrade floe-infra in the platform project" in message


def test_a_stack_without_a_contract_output_says_to_deploy_the_platform_or_preview_on_a_contract():
    with pytest.raises(pulumi.RunError) as caught:
        run_program(run_pipeline, project="ecommerce-analytics", stack="local", root_directory=PIPELINE_DIR,
                    config={"floe:image": IMAGE}, stack_references={"organization/floe-platform/local": ({}, [])})
    assert str(caught.value) == (
        "the platform stack organization/floe-platform/local exports no `contract` output: deploy it first (`pulumi "
        "up` in the platform project), or point floe:platformStack at the deployed one; before it is deployed, "
        "`floe-infra preview --contract contract.json` previews the pipeline offline on a contract file")


def test_a_pipeline_the_platform_does_not_host_is_refused_at_its_name_in_floe_yaml():
    contract = platform_contract()
    contract["tenants"] = {"sales": contract["tenants"]["ecommerce-analytics"]}
    message = run_error(contract=contract)
    assert f"floe.yaml:{demo_line('name: ecommerce-analytics')}:7: name: pipeline 'ecommerce-analytics' is not a " \
           "tenant of platform 'floe' (local)" in message
    assert "deployment.tenants.ecommerce-analytics" in message


def test_tables_in_a_layer_the_tenant_does_not_write_are_refused_each_at_its_line():
    contract = platform_contract()
    tenant = contract["tenants"]["ecommerce-analytics"]
    tenant["writes"] = ["silver", "gold"]
    del tenant["namespaces"]["bronze"]
    message = run_error(contract=contract)
    problems = [line for line in message.splitlines() if "may not write layer 'bronze'" in line]
    assert len(problems) == 4
    assert re.search(rf"floe.yaml:{demo_line('layer: bronze')}:\d+: tables\[0\]\.layer", message)


def test_an_identity_that_is_not_the_tenants_is_refused():
    contract = platform_contract()
    contract["tenants"]["ecommerce-analytics"]["principal_role"] = "ecommerce_other"
    message = run_error(contract=contract)
    assert "principal_role: 'ecommerce_analytics' is not this pipeline's identity" in message


def test_orchestration_on_a_platform_without_dagster_is_refused():
    contract = platform_contract()
    contract["dagster"] = None
    assert "deploys no Dagster" in run_error(contract=contract)


def test_the_image_must_be_set_and_pinned():
    assert "floe:image is not set" in run_error(config={"floe:image": None})
    assert "needs an explicit tag or digest" in run_error(config={"floe:image": "ghcr.io/acme/pipeline"})


def test_the_tenant_key_must_be_set_as_a_secret_and_be_the_tenants():
    assert "floe:tenantKey is not set" in run_error(config={"floe:tenantKey": None})
    message = run_error(secret_keys=())
    assert "stored in plain text" in message
    assert "--secret" in message
    _, other_private = generate_keypair()
    message = run_error(config={"floe:tenantKey": other_private})
    assert "cannot be opened with floe:tenantKey" in message


def test_a_tenant_needs_credentials_the_platform_published():
    contract = platform_contract()
    del contract["tenants"]["ecommerce-analytics"]["sealed_credentials"]
    message = run_error(contract=contract)
    assert "publishes no catalog credentials for tenant 'ecommerce-analytics'" in message
    assert "deployment.tenants.ecommerce-analytics.public_key" in message


def test_a_secret_contract_output_is_read_and_the_credential_stays_secret():
    run = run_pipeline_stack(secret_output_names=("contract",))
    table = run.named("ecommerce-analytics-tables-bronze-orders").inputs
    assert rpc.is_rpc_secret(table["credential"])
    assert run.named("ecommerce-analytics-code-release").inputs["values"]["deployments"][0]["name"] == \
        "code-ecommerce-analytics"


def test_the_platform_stack_defaults_to_the_same_stack_name_and_can_be_named_explicitly():
    # Only the named stack answers: a run reading any other stack fails.
    run = run_pipeline_stack(platform_stack="acme/floe-platform/shared-dev",
                             config={"floe:platformStack": "acme/floe-platform/shared-dev"})
    assert run.outputs["code_location"] == "code-ecommerce-analytics"
    with pytest.raises(pulumi.RunError, match="platform stack organization/floe-platform/local exports no"):
        run_pipeline_stack(platform_stack="acme/floe-platform/shared-dev")


def test_a_pipeline_without_tables_or_orchestration_needs_no_image_but_still_the_tenants_key(tmp_path: Path):
    run = run_pipeline_stack(project_dir=project(tmp_path, MINIMAL), config={"floe:image": None})
    kinds = sorted((r.type, r.name) for r in run.resources if r.custom and r.type.startswith("kubernetes:"))
    assert kinds == [("kubernetes:core/v1:ConfigMap", "ecommerce-analytics-runtime-env"),
                     ("kubernetes:core/v1:ConfigMap", "ecommerce-analytics-runtime-files"),
                     ("kubernetes:core/v1:Secret", "ecommerce-analytics-credentials-secret")]
    assert run.outputs["code_location"] is None
    assert run.outputs["tables"] == []


def test_a_stack_naming_another_tenant_without_its_key_is_refused_whether_or_not_it_declares_tables(tmp_path: Path):
    # The attack: floe.yaml says `name: ecommerce-analytics`, declares no table, and hopes its code location
    # mounts that tenant's credentials. Being the tenant takes the tenant's private key.
    config = {"floe:image": IMAGE}
    assert "floe:tenantKey is not set" in run_error(project_dir=project(tmp_path, MINIMAL),
                                                    config={**config, "floe:tenantKey": None})
    _, attacker_key = generate_keypair()
    message = run_error(project_dir=project(tmp_path, MINIMAL), config={**config, "floe:tenantKey": attacker_key})
    assert "cannot be opened with floe:tenantKey" in message


def test_consumption_without_a_model_directory_is_refused_at_models_path(tmp_path: Path):
    floe_yaml = MINIMAL + "consumption:\n  enabled: true\n  models_path: cube\n"
    message = run_error(project_dir=project(tmp_path, floe_yaml), config={"floe:image": None})
    assert "floe.yaml:5:16: consumption.models_path: the Cube model directory" in message
    assert "does not exist" in message


def test_an_invalid_floe_yaml_is_reported_with_its_location(tmp_path: Path):
    message = run_error(project_dir=project(tmp_path, MINIMAL + "storage: Not_A_Profile\n"))
    assert message.startswith("floe.yaml has problems:")
    assert "floe.yaml:3:" in message
    assert "storage" in message



def test_a_bad_chart_source_is_refused_with_the_config_key():
    message = run_error(config={"floe:chartSources": '{"dagster-user-deployments": {"repository": "ftp://x"}}'})
    assert "floe:chartSources: dagster-user-deployments" in message
    assert "is not a Helm repository URL" in message
