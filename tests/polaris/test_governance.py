"""Catalog governance of the demo platform: the exact model, its registration, and applying it to Polaris."""

from __future__ import annotations

import re

import pytest
from pulumi.runtime import rpc

from floe_infra.config import load_platform
from floe_infra.polaris.grants import READ_PRIVILEGES, WRITE_PRIVILEGES, plan_governance
from floe_infra.polaris.resources import (
    CatalogRoleProvider,
)
from floe_infra.polaris.sealing import generate_keypair, unseal
from floe_infra.preview.runtime import fake_secret
from tests.conftest import DEMO_PLATFORM
from tests.leaks import strings
from tests.platform.conftest import demo_run, run_platform_stack
from tests.polaris.conftest import apply_governance

DYNAMIC = "pulumi-python:dynamic/polaris:"


def two_tenant_platform(write_yaml):
    text = DEMO_PLATFORM.read_text().replace(
        "  tenants:\n", "  tenants:\n    finance:\n      writes: [gold]\n      reads: [silver, gold]\n")
    return write_yaml(text, "platform.yaml")


def test_demo_tenant_gets_exactly_its_namespaces_and_layer_reads():
    plan = plan_governance(load_platform(DEMO_PLATFORM).config)
    assert set(plan.catalogs) == {"lakehouse"}
    assert plan.catalogs["lakehouse"].allowed_locations == (
        "s3://floe-local-bronze/", "s3://floe-local-bronze/lakehouse/", "s3://floe-local-gold/",
        "s3://floe-local-silver/")
    assert [ns.levels for ns in plan.namespaces] == [
        ("bronze",), ("silver",), ("gold",), ("bronze", "ecommerce_analytics"), ("silver", "ecommerce_analytics"),
        ("gold", "ecommerce_analytics")]
    [tenant] = plan.tenants
    assert sorted(tenant.catalog_roles) == [
        ("lakehouse", "layer_bronze_reader"), ("lakehouse", "layer_gold_reader"), ("lakehouse", "layer_silver_reader"),
        ("lakehouse", "tenant_ecommerce_analytics_bronze_writer"),
        ("lakehouse", "tenant_ecommerce_analytics_gold_writer"),
        ("lakehouse", "tenant_ecommerce_analytics_silver_writer")]
    roles = {r.name: r for r in plan.roles}
    writer = roles["tenant_ecommerce_analytics_bronze_writer"]
    assert {(tuple(g["namespace"]), g["privilege"]) for g in writer.grants} == {
        (("bronze", "ecommerce_analytics"), p) for p in WRITE_PRIVILEGES}
    assert {(tuple(g["namespace"]), g["privilege"]) for g in roles["layer_gold_reader"].grants} == {
        (("gold",), p) for p in READ_PRIVILEGES}
    every_grant = [g for r in plan.roles for g in r.grants]
    assert all(g["type"] == "namespace" for g in every_grant), "no catalog-level grant for anyone"
    assert not {g["privilege"] for g in every_grant} & {"CATALOG_MANAGE_ACCESS", "CATALOG_MANAGE_CONTENT",
                                                        "NAMESPACE_DROP", "NAMESPACE_CREATE"}


def test_a_tenant_gets_nothing_on_another_tenants_namespaces(write_yaml):
    plan = plan_governance(load_platform(two_tenant_platform(write_yaml)).config)
    roles = {r.name: r for r in plan.roles}
    finance = next(t for t in plan.tenants if t.tenant.name == "finance")
    reachable = {tuple(g["namespace"]) for _, role in finance.catalog_roles for g in roles[role].grants
                 if g["privilege"] == "TABLE_WRITE_DATA"}
    assert reachable == {("gold", "finance")}
    assert ("lakehouse", "layer_bronze_reader") not in finance.catalog_roles


def test_platform_registers_governance_with_the_admin_credential_only_as_a_secret_input():
    run = demo_run("local")
    types = {r.type.removeprefix(DYNAMIC) for r in run.resources if r.type.startswith(DYNAMIC)}
    assert types == {"RootCredential", "Catalog", "Namespace", "CatalogRole", "PrincipalRole", "Principal"}
    root_secret = fake_secret("floe-secrets-polaris-root")
    for resource in (r for r in run.resources if r.type.startswith(DYNAMIC)):
        assert rpc.is_rpc_secret(resource.inputs["credential"]), resource.name
        assert rpc.unwrap_rpc_secret(resource.inputs["credential"]) == f"root:{root_secret}"
        assert resource.inputs["connection"] == {"url": "http://localhost:30181", "realm": "POLARIS",
                                                 "scope": "PRINCIPAL_ROLE:ALL"}
    catalog = run.named("floe-governance-catalog-lakehouse")
    assert catalog.inputs["storage"] == {
        "storageType": "S3", "region": "us-east-1", "endpoint": "http://floe-minio.floe.svc.cluster.local:9000",
        "pathStyleAccess": True, "stsUnavailable": True, "allowedLocations": [
            "s3://floe-local-bronze/", "s3://floe-local-bronze/lakehouse/", "s3://floe-local-gold/",
            "s3://floe-local-silver/"]}
    # Polaris must be up before the root credential is checked, and everything else waits for it
    # (a rotated root credential reaches Polaris before anything uses it).
    root = run.named("floe-governance-root")
    assert run.named("floe-catalog-polaris").urn in root.dependencies
    assert root.urn in catalog.dependencies


def test_a_catalog_role_waits_for_the_namespaces_of_its_grants_and_catalogs_allow_purges():
    # Polaris refuses a grant on a namespace that does not exist yet (PolarisAdminService.grantPrivilegeOnNamespace...).
    run = demo_run("local")
    namespaces = {r.inputs["catalog"] + "." + ".".join(r.inputs["namespace"]): r.urn
                  for r in run.of_type(f"{DYNAMIC}Namespace")}
    for role in run.of_type(f"{DYNAMIC}CatalogRole"):
        needed = {f"{role.inputs['catalog']}.{'.'.join(g['namespace'])}" for g in role.inputs["grants"]}
        assert {namespaces[n] for n in needed} <= set(role.dependencies), role.name
    catalog = run.named("floe-governance-catalog-lakehouse")
    assert catalog.inputs["properties"] == {"default-base-location": "s3://floe-local-bronze/lakehouse",
                                            "polaris.config.drop-with-purge.enabled": "true"}


def test_the_platform_keeps_tenant_credentials_only_sealed():
    run = demo_run("local")
    principal = run.named("floe-governance-principal-ecommerce-analytics")
    client_secret = fake_secret(principal.name)  # what the (mocked) provider got from Polaris
    # No Secret of the tenant's credentials in the platform stack (its pipeline stack writes its own), and the
    # secret nowhere in the platform's inputs or outputs, secret-marked or not: only inside the sealed box.
    assert not [r for r in run.of_type("kubernetes:core/v1:Secret")
                if r.inputs["metadata"]["name"] == "ecommerce-analytics-catalog-credentials"]
    assert "client_secret" not in principal.outputs
    assert principal.outputs["sealed_credentials"]
    assert [r.name for r in run.resources if any(client_secret in text for text, _ in strings(r.inputs))
            or any(client_secret in text for text, _ in strings(r.outputs))] == []
    assert not [text for text, _ in strings(run.outputs) if client_secret in text]


def test_prod_governance_uses_the_iam_role_and_the_management_url():
    run = demo_run("prod")
    catalog = run.named("floe-governance-catalog-lakehouse")
    assert catalog.inputs["storage"]["roleArn"] == "arn:aws:iam::123456789012:role/floe-prod-lakehouse"
    assert "endpoint" not in catalog.inputs["storage"]
    assert catalog.inputs["connection"]["url"] == "https://polaris.internal.example.com"


def test_governance_is_skipped_with_a_plain_warning_when_polaris_is_unreachable_by_any_known_address(write_yaml):
    path = write_yaml(DEMO_PLATFORM.read_text().replace("enabled: true\n      access_type: nodeport",
                                                        "enabled: false\n      access_type: nodeport"))
    run = run_platform_stack("local", str(path))
    assert not [r for r in run.resources if r.type.startswith(DYNAMIC)]


def test_sealed_credentials_reach_the_contract_and_open_with_the_tenant_key(write_yaml):
    public, private = generate_keypair()
    text = re.sub(r"public_key: \S+", f"public_key: {public}", DEMO_PLATFORM.read_text())
    run = run_platform_stack("local", str(write_yaml(text, "platform.yaml")))
    sealed = run.outputs["contract"]["tenants"]["ecommerce-analytics"]["sealed_credentials"]
    opened = unseal(private, sealed)
    assert opened["client_id"] == "ecommerce-analytics-client-id"
    assert opened["client_secret"] not in str(run.outputs)


@pytest.fixture
def connection(polaris):
    return {"connection": {"url": polaris.url, "realm": "POLARIS", "scope": "PRINCIPAL_ROLE:ALL"},
            "credential": "root:root-secret-for-tests"}


def test_applying_the_demo_plan_to_polaris_creates_exactly_the_planned_grants(polaris, connection, write_yaml):
    plan = plan_governance(load_platform(two_tenant_platform(write_yaml)).config)
    apply_governance(connection["connection"]["url"], plan)
    assert polaris.principals["ecommerce-analytics"]["roles"] == {"ecommerce_analytics"}
    assert polaris.principal_roles["finance"] == {"lakehouse": {"layer_gold_reader", "layer_silver_reader",
                                                                "tenant_finance_gold_writer"}}
    finance_writes = {tuple(g["namespace"]) for g in polaris.catalog_roles[("lakehouse", "tenant_finance_gold_writer")]}
    assert finance_writes == {("gold", "finance")}
    assert polaris.namespaces[("lakehouse", ("gold", "finance"))] == {
        "location": "s3://floe-local-gold/gold/finance/", "owner": "finance"}
    writes = len(polaris.writes)
    for role in plan.roles:  # a second run changes nothing
        CatalogRoleProvider().update(role.name, {}, {**connection, "catalog": role.catalog, "name": role.name,
                                                     "grants": list(role.grants)})
    assert len(polaris.writes) == writes
