"""What each tenant may reach below the catalog: its Kubernetes identity, RBAC, network and storage identity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from floe_infra.contract import parse_contract
from tests.conftest import DEMO_PLATFORM
from tests.network_policies import DNS_RULE, open_rules
from tests.platform.conftest import demo_run, run_platform_stack, values

TENANT = "ecommerce-analytics"
ACCOUNT = f"{TENANT}-pipeline"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"


def named(run, type_: str, name: str) -> dict[str, Any]:
    [resource] = [r for r in run.of_type(type_) if r.inputs["metadata"]["name"] == name]
    return resource.inputs


@pytest.fixture(scope="module")
def two_tenants(tmp_path_factory: pytest.TempPathFactory):
    """The demo platform with a second tenant that writes gold and reads silver only."""
    path: Path = tmp_path_factory.mktemp("platform") / "platform.yaml"
    path.write_text(DEMO_PLATFORM.read_text().replace("  tenants:\n", "  tenants:\n    sales:\n"
                                                       "      writes: [gold]\n      reads: [silver]\n"))
    return run_platform_stack("local", str(path))


def test_each_tenant_runs_as_its_own_service_account_without_a_token_by_default():
    account = named(demo_run("local"), SERVICE_ACCOUNT, ACCOUNT)
    assert account["metadata"]["namespace"] == "floe"
    assert account["automountServiceAccountToken"] is False
    assert "annotations" not in account["metadata"]  # no cloud role locally


def test_rbac_lets_a_tenant_get_only_its_own_configmaps_and_no_secret(two_tenants):
    # Its pods get their Secrets from the kubelet (envFrom); the chart's code server and dagster-k8s' run workers
    # read none through the API (docs/security.md), so the Role grants no Secret at all.
    for tenant in (TENANT, "sales"):
        role = named(two_tenants, ROLE, f"{tenant}-pipeline")
        assert role["rules"] == [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
             "resourceNames": [f"{tenant}-floe-config", f"{tenant}-floe-env", f"{tenant}-cube-models"]}]
        binding = named(two_tenants, BINDING, f"{tenant}-pipeline")
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                      "name": f"{tenant}-pipeline"}
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": f"{tenant}-pipeline", "namespace": "floe"}]
    # No verb lists, watches or creates anything; no cluster-wide grant anywhere.
    assert not two_tenants.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")


def test_network_policy_keeps_a_tenant_to_dns_and_the_services_a_pipeline_uses():
    spec = named(demo_run("local"), POLICY, ACCOUNT)["spec"]
    assert spec["podSelector"] == {"matchLabels": {"floe.dev/pipeline": TENANT}}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [{"from": [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "dagster", "app.kubernetes.io/instance": "floe-dagster"}}}],
        "ports": [{"protocol": "TCP", "port": 3030}]}]
    # DNS to the cluster's DNS pods only, not to any address on port 53.
    assert spec["egress"][0] == DNS_RULE
    reached = {(json.dumps(rule.get("to"), sort_keys=True), tuple(p["port"] for p in rule["ports"]))
               for rule in spec["egress"][1:]}
    pods = {
        "catalog": {"floe.dev/platform": "floe", "floe.dev/component": "catalog"},
        "minio": {"floe.dev/platform": "floe", "floe.dev/component": "object-storage"},
        "postgres": {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "floe-postgresql"},
        "jaeger": {"floe.dev/platform": "floe", "floe.dev/component": "tracing"},
        "marquez": {"app.kubernetes.io/name": "marquez", "app.kubernetes.io/instance": "floe-marquez",
                    "floe.dev/role": "api"},
    }
    to = {name: json.dumps([{"podSelector": {"matchLabels": labels}}], sort_keys=True) for name, labels in pods.items()}
    assert reached == {(to["catalog"], (8181,)), (to["minio"], (9000,)), (to["postgres"], (5432,)),
                       (to["jaeger"], (4317, 4318)), (to["marquez"], (5000,))}
    # Not the Kubernetes API, Cube, Dagster's webserver, the MinIO console, Marquez' web, another tenant.


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_no_tenant_network_policy_of_a_demo_platform_has_an_open_rule(stack: str):
    run = demo_run(stack)
    policies = [r.inputs for r in run.of_type(POLICY) if r.inputs["metadata"]["name"].endswith("-pipeline")]
    assert policies
    # prod opens port 443 on purpose (`object_storage: {open: true}`: AWS S3 and STS); nothing else is open.
    allowed = {443} if stack == "prod" else set()
    assert [(p["metadata"]["name"], rule) for p in policies for rule in open_rules(p["spec"], allowed)] == []


def test_the_open_rule_check_fails_on_the_rules_the_policy_used_to_have():
    # The shape of the policy before docs/security.md was held to: DNS anywhere, external ports to any address.
    spec = {"egress": [{"ports": [{"protocol": "UDP", "port": 53}]},
                       {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 5432}]},
                       {"to": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 9000}]}],
            "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"protocol": "TCP", "port": 3030}]}]}
    assert open_rules(spec) == ["egress[0]: no to, so any address", "egress[0]: DNS to None",
                                "egress[1]: 0.0.0.0/0 on ports [5432]", "egress[2]: an empty podSelector",
                                "ingress[0]: an empty namespaceSelector"]


def test_prod_tenants_reach_external_endpoints_only_where_platform_yaml_says_they_are():
    spec = named(demo_run("prod"), POLICY, ACCOUNT)["spec"]
    assert spec["egress"][0] == DNS_RULE
    external = [rule for rule in spec["egress"] if any("ipBlock" in p or "namespaceSelector" in p for p in rule["to"])]
    assert external[1:] == [
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
         "ports": [{"protocol": "TCP", "port": 443}]},   # AWS S3 and STS, opened on purpose
        {"to": [{"ipBlock": {"cidr": "10.20.32.0/20"}}], "ports": [{"protocol": "TCP", "port": 5432}]},  # RDS
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}},
                 "podSelector": {"matchLabels": {"app.kubernetes.io/name": "opentelemetry-collector"}}}],
         "ports": [{"protocol": "TCP", "port": 4317}]},  # the collector's pods
    ]


def test_an_endpoint_at_an_ip_address_needs_no_declaration(tmp_path: Path):
    path = tmp_path / "platform.yaml"
    path.write_text(DEMO_PLATFORM.read_text().replace(
        "  services:\n", "  services:\n    tracing: {deploy: false}\n", 1).replace(
        "observability:\n", "observability:\n  otlp_endpoint: http://10.1.2.3:4317\n", 1))
    spec = named(run_platform_stack("local", str(path)), POLICY, ACCOUNT)["spec"]
    assert {"to": [{"ipBlock": {"cidr": "10.1.2.3/32"}}], "ports": [{"protocol": "TCP", "port": 4317}]} \
        in spec["egress"]
    assert open_rules(spec) == []


def test_dns_goes_where_platform_yaml_says_the_cluster_dns_is(tmp_path: Path):
    path = tmp_path / "platform.yaml"
    path.write_text(DEMO_PLATFORM.read_text().replace("  tenants:\n", (
        "  tenant_network:\n    dns:\n      namespace: dns\n      pod_labels: {app: coredns}\n"
        "      cidrs: [169.254.20.10/32]\n  tenants:\n"), 1))
    spec = named(run_platform_stack("local", str(path)), POLICY, ACCOUNT)["spec"]
    assert spec["egress"][0]["to"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns"}},
         "podSelector": {"matchLabels": {"app": "coredns"}}},
        {"ipBlock": {"cidr": "169.254.20.10/32"}}]


def test_pipeline_pods_no_tenant_policy_selects_are_denied_everything(tmp_path: Path):
    # A tenant removed before its pipeline stack leaves labelled pods behind: they get no connection at all,
    # also once the platform hosts no tenant.
    platform = yaml.safe_load(DEMO_PLATFORM.read_text())
    del platform["deployment"]["tenants"]
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(platform))
    for run in (demo_run("local"), run_platform_stack("local", str(path))):
        deny = named(run, POLICY, "floe-pipelines-default-deny")
        assert deny["spec"] == {"podSelector": {"matchExpressions": [{"key": "floe.dev/pipeline",
                                                                      "operator": "Exists"}]},
                                "policyTypes": ["Ingress", "Egress"]}
        assert deny["metadata"]["namespace"] == "floe"


def test_network_policy_selectors_match_the_labels_the_platform_gives_its_pods():
    run = demo_run("local")
    # The peers in the platform's own namespace (DNS is in kube-system, selected with its namespace).
    egress = [peer["podSelector"]["matchLabels"] for rule in named(run, POLICY, ACCOUNT)["spec"]["egress"]
              for peer in rule["to"] if "namespaceSelector" not in peer]
    assert len(egress) == 5
    pod_labels = [values(run, "floe-catalog-polaris")["podLabels"], values(run, "floe-storage-minio")["podLabels"],
                  values(run, "floe-tracing-jaeger")["jaeger"]["podLabels"],
                  run.named("floe-database-server").inputs["spec"]["template"]["metadata"]["labels"],
                  run.named("floe-lineage-api").inputs["spec"]["template"]["metadata"]["labels"]]
    for selector in egress:
        assert any(selector.items() <= labels.items() for labels in pod_labels), selector


def test_a_tenant_that_reads_and_writes_less_reaches_less(two_tenants):
    spec = named(two_tenants, POLICY, "sales-pipeline")["spec"]
    assert spec["podSelector"] == {"matchLabels": {"floe.dev/pipeline": "sales"}}


def test_each_tenant_has_its_own_minio_user_whose_policy_reaches_only_its_prefixes(two_tenants):
    minio = values(two_tenants, "floe-storage-minio")
    users = {u["accessKey"]: u for u in minio["users"]}
    assert users["sales-s3-credentials"]["policy"] == "tenant-sales"
    assert users["floe-s3-credentials"]["policy"] == "readwrite"  # the platform's own services only
    [policy] = [p for p in minio["policies"] if p["name"] == "tenant-sales"]
    assert policy["statements"] == [
        {"effect": "Allow", "resources": ["arn:aws:s3:::floe-local-gold/gold/sales/*"],
         "actions": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                     "s3:ListMultipartUploadParts"]},
        {"effect": "Allow", "resources": ["arn:aws:s3:::floe-local-silver/silver/*"], "actions": ["s3:GetObject"]},
        {"effect": "Allow", "resources": ["arn:aws:s3:::floe-local-platform/compute-logs/*"],
         "actions": ["s3:PutObject", "s3:AbortMultipartUpload"]},
        {"effect": "Allow", "resources": ["arn:aws:s3:::floe-local-gold"], "actions": ["s3:ListBucket"],
         "conditions": [{"StringLike": '"s3:prefix": ["gold/sales/*"]'}]},
        {"effect": "Allow", "resources": ["arn:aws:s3:::floe-local-silver"], "actions": ["s3:ListBucket"],
         "conditions": [{"StringLike": '"s3:prefix": ["silver/*"]'}]},
        {"effect": "Allow", "actions": ["s3:GetBucketLocation"],
         "resources": ["arn:aws:s3:::floe-local-gold", "arn:aws:s3:::floe-local-platform",
                       "arn:aws:s3:::floe-local-silver"]},
    ]
    # The chart inserts each condition as a JSON fragment: it must be valid JSON inside braces.
    for statement in policy["statements"]:
        for condition in statement.get("conditions", []):
            for fragment in condition.values():
                json.loads("{" + fragment + "}")


def test_run_pods_get_no_platform_secret_from_the_run_launcher():
    dagster = values(demo_run("local"), "floe-orchestration-dagster")
    launcher = dagster["runLauncher"]["config"]["k8sRunLauncher"]
    assert launcher["envSecrets"] == []
    # The platform's own pods keep the platform's storage user for compute logs.
    assert dagster["dagsterWebserver"]["envSecrets"] == [{"name": "floe-s3-credentials"}]


def test_the_contract_names_each_tenants_own_identities():
    contract = parse_contract(demo_run("local").outputs["contract"])
    tenant = contract.tenants[TENANT]
    assert tenant.kubernetes_service_account == ACCOUNT
    assert tenant.storage_credentials_secret == f"{TENANT}-s3-credentials"
    assert tenant.role_arn is None
    assert tenant.locations == {"bronze": "s3://floe-local-bronze/bronze/ecommerce_analytics/",
                                "silver": "s3://floe-local-silver/silver/ecommerce_analytics/",
                                "gold": "s3://floe-local-gold/gold/ecommerce_analytics/"}


def test_the_contract_counts_the_rotations_of_a_tenants_storage_keys(tmp_path: Path):
    """The pipeline stack cannot read the platform's Secret versions: the count is how its pods learn of a rotation."""
    assert parse_contract(demo_run("local").outputs["contract"]).tenants[TENANT].storage_credentials_rotation == 0
    path = tmp_path / "platform.yaml"
    path.write_text(DEMO_PLATFORM.read_text().replace(
        "deployment:\n", f"deployment:\n  rotate: {{{TENANT}-s3-credentials: 2}}\n", 1))
    contract = parse_contract(run_platform_stack("local", str(path)).outputs["contract"])
    assert contract.tenants[TENANT].storage_credentials_rotation == 2


# --- AWS: one IAM role per tenant (IRSA) ------------------------------------------------------------------


def test_on_aws_each_tenant_has_an_iam_role_only_its_service_account_can_assume():
    run = demo_run("prod")
    [role] = [r for r in run.of_type("aws:iam/role:Role") if r.inputs["name"] == "floe-prod-ecommerce-analytics"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/5C3D8E0F1A2B4C6D8E0F1A2B3C4D5E6F"
    assert trust["Statement"] == [{
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"},
        "Condition": {"StringEquals": {f"{issuer}:sub": "system:serviceaccount:floe:ecommerce-analytics-pipeline",
                                       f"{issuer}:aud": "sts.amazonaws.com"}}}]
    contract = parse_contract(run.outputs["contract"])
    arn = "arn:aws:iam::123456789012:role/floe-prod-ecommerce-analytics"
    assert contract.tenants[TENANT].role_arn == arn
    assert contract.tenants[TENANT].storage_credentials_secret is None
    account = named(run, SERVICE_ACCOUNT, ACCOUNT)
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": arn}


def test_on_aws_a_tenants_role_reaches_its_prefixes_and_the_bucket_key_only():
    run = demo_run("prod")
    [policy] = [r for r in run.of_type("aws:iam/rolePolicy:RolePolicy")
                if r.name == "floe-tenants-ecommerce-analytics-iam-policy"]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    resources = sorted(r for s in statements for r in s["Resource"])
    assert "arn:aws:s3:::acme-floe-prod-bronze/bronze/ecommerce_analytics/*" in resources
    assert "arn:aws:s3:::acme-floe-prod-gold/gold/*" in resources  # it reads gold in full
    # Every object grant is below a prefix of a bucket, never a whole bucket or every bucket.
    objects = [r for r in resources if r.startswith("arn:aws:s3:::") and "/" in r]
    assert objects
    assert all(r.removeprefix("arn:aws:s3:::").count("/") >= 2 for r in objects), objects
    assert "*" not in resources
    assert {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": ["arn:aws:kms:us-east-1:123456789012:key/0f9e8d7c-6b5a-4a3b-9c2d-1e0f9a8b7c6d"]} in statements
    # The platform's own IAM role (Dagster, Polaris) is not the tenant's.
    assert "floe-prod-lakehouse" not in policy.inputs["role"]
