"""No secret value appears anywhere but in Secret data and secret outputs."""

from __future__ import annotations

import pulumi
import pytest
from pulumi.runtime import rpc

from floe_infra.platform import generated
from floe_infra.preview.runtime import ProgramRun, fake_secret
from tests.conftest import compat_params
from tests.leaks import leaks, strings
from tests.platform.conftest import (
    CATALOG_REACHABLE,
    DEMO_STACKS,
    SECRET,
    demo_run,
    run_platform_stack,
    with_management_url,
)

PASSWORD = generated.TYPE
PRINCIPAL = "pulumi-python:dynamic/polaris:Principal"
PROVIDED = "s3cr3t-provided-by-config-0123456789"


def generated_values(run: ProgramRun) -> set[str]:
    """Every secret value the run generated (the mocks derive them from the resource name)."""
    values = {fake_secret(r.name, int(r.inputs["length"])) for r in run.of_type(PASSWORD)}
    values |= {fake_secret(r.name) for r in run.of_type(PRINCIPAL)}  # tenants' catalog client secrets
    assert values, "the platform generates passwords"
    return values




@pytest.mark.parametrize("stack", sorted(DEMO_STACKS))
def test_generated_secrets_appear_only_in_secret_data(stack: str):
    run = demo_run(stack)
    assert leaks(run, generated_values(run)) == []


@pytest.mark.parametrize("path", compat_params("platform-*.yaml"), ids=lambda p: p.name)
def test_compat_platforms_leak_no_generated_secret(path, write_yaml):
    run = run_platform_stack("dev", str(write_yaml(with_management_url(path), path.name)))
    assert leaks(run, generated_values(run)) == []


def test_generated_secret_data_is_marked_secret_and_holds_the_generated_value():
    run = demo_run("local")
    secret = run.named("floe-secrets-floe-polaris-root").inputs["stringData"]
    assert rpc.is_rpc_secret(secret)
    data = rpc.unwrap_rpc_secret(secret)
    root = fake_secret("floe-secrets-polaris-root", 40)
    assert data["CLIENT_SECRET"] == root
    assert data["POLARIS_BOOTSTRAP_CREDENTIALS"] == f"POLARIS,root,{root}"
    # The catalog profile's secret_ref carries the same value under its env key.
    ref = rpc.unwrap_rpc_secret(run.named("floe-secrets-floe-polaris-root-client-secret").inputs["stringData"])
    assert ref == {"FLOE_POLARIS_ROOT_CLIENT_SECRET": root}


def test_secret_from_stack_config_becomes_a_secret_and_nothing_else():
    run = run_platform_stack(
        "prod", DEMO_STACKS["prod"],
        config={"floe:secret-floe-rds-admin": f'{{"username": "floe_admin", "password": "{PROVIDED}"}}'},
        secret_keys=("floe:secret-floe-rds-admin",))
    secret = run.named("floe-secrets-floe-rds-admin")
    assert secret.type == SECRET
    assert rpc.unwrap_rpc_secret(secret.inputs["stringData"]) == {"username": "floe_admin", "password": PROVIDED}
    assert secret.inputs["metadata"]["labels"]["floe.dev/secret-origin"] == "provided"
    assert leaks(run, {PROVIDED}) == []


def test_referenced_secret_without_config_must_already_exist():
    run = demo_run("prod")
    names = {r.inputs["metadata"]["name"] for r in run.of_type(SECRET)}
    assert "floe-rds-admin" not in names  # external: External Secrets, Vault... provide it
    assert "floe-polaris-root" in names  # generated: Polaris is deployed by this platform


def test_no_secret_value_in_helm_values_even_for_credentials_the_charts_need():
    run = demo_run("local")
    secrets = generated_values(run)
    for release in run.of_type("kubernetes:helm.sh/v3:Release"):
        assert not [t for t, _ in strings(release.inputs["values"]) if any(s in t for s in secrets)], release.name


def test_bumping_a_generated_secrets_rotation_gives_its_values_new_generations(write_yaml):
    path = write_yaml("storage:\n  default: {bucket: floe-data}\n"
                      f"deployment:\n  services: {CATALOG_REACHABLE}\n"
                      "  rotate: {floe-dagster-db: 2, floe-polaris-root: 1}\n")
    run = run_platform_stack("dev", str(path))
    keepers = {r.name.removeprefix("floe-secrets-"): r.inputs["keepers"] for r in run.of_type(PASSWORD)}
    assert keepers["postgresql-dagster"] == {"rotation": "2"}
    # Polaris' root secret lives in two Secrets (its own and the catalog profile's secret_ref): one value.
    assert keepers["polaris-root"] == {"rotation": "1"}
    assert keepers["postgresql-marquez"] == {"rotation": "0"}


def test_rotating_a_secret_the_platform_does_not_generate_is_refused_with_the_ones_it_does(write_yaml):
    path = write_yaml("storage:\n  default: {bucket: floe-data}\ndeployment:\n  rotate: {floe-rds-admin: 1}\n")
    with pytest.raises(pulumi.RunError, match=r"deployment\.rotate: floe-rds-admin is not a Secret this platform "
                                              r"generates") as refused:
        run_platform_stack("dev", str(path))
    assert "floe-dagster-db" in str(refused.value)
