"""Per-tenant isolation below the catalog: Kubernetes identity, RBAC, network reach and storage identity.

For every tenant platform.yaml hosts, the platform stack (never the tenant's own stack, so a tenant
cannot widen them) creates in the platform namespace:
- a ServiceAccount `<tenant>-pipeline`, which its code location and run pods run as;
- a Role and RoleBinding letting that account `get` only the tenant's own ConfigMaps. No Secret: its
  pods receive their Secrets through the kubelet (`envFrom`), and neither the Dagster chart's code
  server nor dagster-k8s' run workers read a Secret or ConfigMap through the API (docs/security.md);
- a NetworkPolicy: its pods accept connections only from Dagster (to the code server) and reach only
  the cluster's DNS pods and the platform services a pipeline uses (Polaris, MinIO, Dagster's
  PostgreSQL, Jaeger's OTLP ports, Marquez' API), or, for the external endpoints platform.yaml names
  for them, the destination `floe_infra/config/egress.py` gives each (never any address unless
  platform.yaml opts in);
- its storage identity: a MinIO user with a policy on the tenant's prefixes (see `ObjectStorage`), or
  on AWS an IAM role of its own (IRSA, trusted for its ServiceAccount only) with the same prefixes.
And once for all tenants, a NetworkPolicy denying every connection to and from any pod labelled as a
pipeline's (`floe.dev/pipeline`), so a pod whose tenant has no policy (removed, or a name no tenant
has) reaches nothing. What Kubernetes and Dagster OSS cannot isolate is in docs/security.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.egress import OPEN_CIDRS, egress_destination, tenant_external_endpoints
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import (
    StorageGrant,
    Tenant,
    resolve_tenants,
    storage_grants,
    storage_identity,
    tenant_role_arn,
    tenant_role_name,
    tenant_storage_profiles,
    tenant_storage_secret,
)
from floe_infra.kube.labels import PIPELINE_LABEL
from floe_infra.platform.database import database_selector
from floe_infra.platform.kubernetes import component_selector, object_meta
from floe_infra.platform.lineage import marquez_selector
from floe_infra.platform.orchestration import dagster_names
from floe_infra.topology import Topology

if TYPE_CHECKING:
    # Imported where IAM roles are made: tenants on MinIO never need pulumi_aws (see platform/storage.py).
    import pulumi_aws as aws

OBJECT_ACTIONS = {
    "read": ("s3:GetObject",),
    "write": ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
              "s3:ListMultipartUploadParts"),
    "put": ("s3:PutObject", "s3:AbortMultipartUpload"),
}
MINIO_PORT = 9000
POLARIS_PORT = 8181
POSTGRES_PORT = 5432
OTLP_PORTS = (4317, 4318)
MARQUEZ_API_PORT = 5000
DNS_PORT = 53
# Set by Kubernetes on every namespace (1.21+): selects a namespace by its name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def s3_statements(grants: list[StorageGrant], partition: str = "aws") -> list[dict[str, Any]]:
    """IAM policy statements (AWS and MinIO alike) allowing exactly the grants: objects below each prefix, and
    listing only below the prefixes read or written (never the bucket's other keys, not even their names)."""
    statements: list[dict[str, Any]] = []
    listed: dict[str, list[str]] = {}
    for grant in grants:
        statements.append({"Effect": "Allow", "Action": list(OBJECT_ACTIONS[grant.access]),
                           "Resource": [f"arn:{partition}:s3:::{grant.bucket}/{grant.prefix}*"]})
        if grant.access != "put":
            listed.setdefault(grant.bucket, []).append(f"{grant.prefix}*")
    for bucket, prefixes in listed.items():
        statements.append({"Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": [f"arn:{partition}:s3:::{bucket}"],
                           "Condition": {"StringLike": {"s3:prefix": sorted(set(prefixes))}}})
    if grants:
        buckets = sorted({g.bucket for g in grants})
        statements.append({"Effect": "Allow", "Action": ["s3:GetBucketLocation"],
                           "Resource": [f"arn:{partition}:s3:::{b}" for b in buckets]})
    return statements


def minio_policy(tenant: Tenant, grants: list[StorageGrant]) -> dict[str, Any]:
    """The tenant's policy in the MinIO chart's `policies` format (conditions as the chart's JSON fragments)."""
    statements = []
    for statement in s3_statements(grants):
        entry: dict[str, Any] = {"effect": "Allow", "actions": statement["Action"], "resources": statement["Resource"]}
        for operator, condition in statement.get("Condition", {}).items():
            entry["conditions"] = [{operator: ", ".join(f"{json.dumps(k)}: {json.dumps(v)}"
                                                        for k, v in condition.items())}]
        statements.append(entry)
    return {"name": minio_policy_name(tenant), "statements": statements}


def minio_policy_name(tenant: Tenant) -> str:
    """The MinIO policy of a tenant's user."""
    return f"tenant-{tenant.name}"


def minio_tenants(platform: PlatformConfig) -> list[Tenant]:
    """Tenants with a user on the platform's MinIO."""
    return [t for t in resolve_tenants(platform).values() if tenant_storage_secret(platform, t)]


def irsa_trust_policy(platform: PlatformConfig, tenant: Tenant) -> dict[str, Any]:
    """Who may assume the tenant's IAM role: the tenant's ServiceAccount, through the cluster's OIDC provider."""
    identity = platform.deployment.workload_identity
    issuer = identity.issuer
    subject = f"system:serviceaccount:{platform.deployment.namespace}:{tenant.kubernetes_service_account}"
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": identity.oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            f"{issuer}:sub": subject,
            f"{issuer}:aud": "sts.amazonaws.com"}}}]}


def irsa_policy(platform: PlatformConfig, tenant: Tenant) -> dict[str, Any]:
    """What the tenant's IAM role may do: its storage grants, and the bucket key (SSE-KMS) to read and write them."""
    provider = platform.deployment.workload_identity.oidc_provider_arn or ""
    partition, account = provider.split(":")[1], provider.split(":")[4]
    statements = s3_statements(storage_grants(platform, tenant), partition)
    at_rest = platform.security.encryption.at_rest
    if at_rest.enabled and at_rest.kms_key_id:
        key = at_rest.kms_key_id
        if not key.startswith("arn:"):
            region = platform.storage[tenant_storage_profiles(platform, tenant)[0]].region
            key = f"arn:{partition}:kms:{region}:{account}:key/{key}"
        statements.append({"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [key]})
    return {"Version": "2012-10-17", "Statement": statements}


def _tcp(ports: tuple[int, ...] | list[int]) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in sorted(set(ports))]


def _in_namespace(namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    """A peer: pods with these labels in another namespace (both selectors in one peer: both must match)."""
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}},
            "podSelector": {"matchLabels": dict(labels)}}


def dns_rule(platform: PlatformConfig) -> dict[str, Any]:
    """DNS queries, to the cluster's DNS pods (and the extra DNS addresses platform.yaml lists) only."""
    dns = platform.deployment.tenant_network.dns
    return {"to": [_in_namespace(dns.namespace, dns.pod_labels), *({"ipBlock": {"cidr": c}} for c in dns.cidrs)],
            "ports": [{"protocol": protocol, "port": DNS_PORT} for protocol in ("UDP", "TCP")]}


def external_rules(platform: PlatformConfig, tenant: Tenant) -> list[dict[str, Any]]:
    """One egress rule per external endpoint the tenant uses, to the destination platform.yaml gives it."""
    rules: list[dict[str, Any]] = []
    for endpoint in tenant_external_endpoints(platform, tenant):
        destination = egress_destination(platform, endpoint)
        assert destination is not None, "check_tenant_egress refuses an external endpoint without a destination"
        if destination.open:
            peers = [{"ipBlock": {"cidr": cidr}} for cidr in OPEN_CIDRS]
        elif destination.service is not None:
            peers = [_in_namespace(destination.service.namespace, destination.service.pod_labels)]
        else:
            peers = [{"ipBlock": {"cidr": cidr}} for cidr in destination.cidrs or ()]
        rule = {"to": peers, "ports": _tcp(destination.ports or endpoint.ports)}
        if rule not in rules:
            rules.append(rule)
    return rules


def network_policy_spec(platform: PlatformConfig, topology: Topology, tenant: Tenant) -> dict[str, Any]:
    """The tenant pods' NetworkPolicy: in from Dagster to the code server only; out to the cluster's DNS, the
    platform services a pipeline uses (by pod labels) and the external endpoints it uses (by destination)."""
    svc = platform.deployment.services
    internal: list[tuple[dict[str, str], tuple[int, ...]]] = []
    if svc.catalog.deploy:
        internal.append((component_selector(platform, "catalog"), (POLARIS_PORT,)))
    if any(storage_identity(platform, p) == "minio" for p in tenant_storage_profiles(platform, tenant)):
        internal.append((component_selector(platform, "object-storage"), (MINIO_PORT,)))
    if svc.orchestration.deploy and svc.database.deploy:
        # Dagster OSS: code servers and run workers use the instance database (docs/security.md).
        internal.append((database_selector(topology), (POSTGRES_PORT,)))
    if platform.observability.traces and svc.tracing.deploy:
        internal.append((component_selector(platform, "tracing"), OTLP_PORTS))
    if platform.observability.lineage and svc.lineage.deploy:
        internal.append((marquez_selector(topology, "api"), (MARQUEZ_API_PORT,)))
    egress: list[dict[str, Any]] = [dns_rule(platform)]
    egress += [{"to": [{"podSelector": {"matchLabels": selector}}], "ports": _tcp(ports)}
               for selector, ports in internal]
    egress += external_rules(platform, tenant)
    ingress: list[dict[str, Any]] = []
    if svc.orchestration.deploy:
        dagster = {"app.kubernetes.io/name": "dagster", "app.kubernetes.io/instance": dagster_names(platform,
                                                                                                    topology)["release"]}
        ingress.append({"from": [{"podSelector": {"matchLabels": dagster}}],
                        "ports": [{"protocol": "TCP", "port": tenant.code_server_port}]})
    return {"podSelector": {"matchLabels": {PIPELINE_LABEL: tenant.name}}, "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress, "egress": egress}


def default_deny_name(platform: PlatformConfig) -> str:
    """The NetworkPolicy denying every connection of pipeline pods that no tenant policy allows."""
    return f"{platform.deployment.name}-pipelines-default-deny"


def default_deny_spec() -> dict[str, Any]:
    """Every pod labelled as a pipeline's, whatever the pipeline: no ingress, no egress (policies add up, so each
    tenant's own policy still allows what it lists)."""
    return {"podSelector": {"matchExpressions": [{"key": PIPELINE_LABEL, "operator": "Exists"}]},
            "policyTypes": ["Ingress", "Egress"]}


@dataclass(frozen=True)
class TenantAccessArgs:
    """Inputs of `TenantAccess`."""

    platform: PlatformConfig
    topology: Topology
    namespace: pulumi.Input[str]


class TenantAccess(pulumi.ComponentResource):
    """Every tenant's ServiceAccount, RBAC, NetworkPolicy and (on AWS) IAM role, and the pipelines' default deny."""

    default_deny: k8s.networking.v1.NetworkPolicy
    service_accounts: dict[str, k8s.core.v1.ServiceAccount]
    roles: dict[str, k8s.rbac.v1.Role]
    role_bindings: dict[str, k8s.rbac.v1.RoleBinding]
    network_policies: dict[str, k8s.networking.v1.NetworkPolicy]

    def __init__(self, name: str, args: TenantAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:TenantAccess", name, None, opts)
        self._base = name
        self._args = args
        self.service_accounts, self.roles, self.role_bindings, self.network_policies = {}, {}, {}, {}
        # Annotated here, not on the class: the SDK resolves a resource class's annotations at registration.
        self.iam_roles: dict[str, aws.iam.Role] = {}
        self._aws: aws.Provider | None = None
        # Also with no tenant: the pods of a tenant removed before its pipeline stack keep their label.
        self.default_deny = k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=object_meta(args.platform, default_deny_name(args.platform), "tenant-access", args.namespace),
            spec=default_deny_spec(), opts=pulumi.ResourceOptions(parent=self))
        for tenant in resolve_tenants(args.platform).values():
            self._create_tenant(tenant)
        self.register_outputs({"service_accounts": sorted(self.service_accounts)})

    def _meta(self, tenant: Tenant, name: str, **annotations: str) -> k8s.meta.v1.ObjectMetaArgs:
        meta = object_meta(self._args.platform, name, "tenant-access", self._args.namespace,
                           **{"floe.dev/tenant": tenant.name})
        return k8s.meta.v1.ObjectMetaArgs(name=meta.name, namespace=meta.namespace, labels=meta.labels,
                                          annotations=annotations or None)

    def _create_tenant(self, tenant: Tenant) -> None:
        platform, base, child = self._args.platform, f"{self._base}-{tenant.name}", pulumi.ResourceOptions(parent=self)
        role_arn = tenant_role_arn(platform, tenant)
        if role_arn is not None:
            self.iam_roles[tenant.name] = self._create_iam_role(base, tenant)
        account = tenant.kubernetes_service_account
        self.service_accounts[tenant.name] = k8s.core.v1.ServiceAccount(
            f"{base}-service-account",
            metadata=self._meta(tenant, account, **({"eks.amazonaws.com/role-arn": role_arn} if role_arn else {})),
            # Nothing a pipeline runs needs the API; pods that still mount a token get only the Role below.
            automount_service_account_token=False, opts=child)
        config_maps = [tenant.runtime_configmap, tenant.env_configmap, tenant.cube_models_configmap]
        # No Secret: the kubelet hands the pods their Secrets (envFrom); nothing in them reads one through the API.
        self.roles[tenant.name] = k8s.rbac.v1.Role(
            f"{base}-role", metadata=self._meta(tenant, account),
            rules=[k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["configmaps"], resource_names=config_maps,
                                              verbs=["get"])],
            opts=child)
        self.role_bindings[tenant.name] = k8s.rbac.v1.RoleBinding(
            f"{base}-role-binding", metadata=self._meta(tenant, account),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=account),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=account, namespace=self._args.namespace)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.roles[tenant.name]]))
        self.network_policies[tenant.name] = k8s.networking.v1.NetworkPolicy(
            f"{base}-network-policy", metadata=self._meta(tenant, account),
            spec=network_policy_spec(platform, self._args.topology, tenant), opts=child)

    def _create_iam_role(self, base: str, tenant: Tenant) -> aws.iam.Role:
        import pulumi_aws as aws

        platform = self._args.platform
        if self._aws is None:
            region = next(platform.storage[p].region for p in tenant_storage_profiles(platform, tenant))
            self._aws = aws.Provider(f"{self._base}-aws", aws.ProviderArgs(region=region),
                                     opts=pulumi.ResourceOptions(parent=self))
        tags = {"floe:platform": platform.deployment.name, "floe:environment": str(platform.deployment.environment),
                "floe:tenant": tenant.name, "managed-by": "pulumi"}
        role = aws.iam.Role(
            f"{base}-iam-role",
            aws.iam.RoleArgs(name=tenant_role_name(platform, tenant),
                             assume_role_policy=json.dumps(irsa_trust_policy(platform, tenant), sort_keys=True),
                             tags=tags),
            opts=pulumi.ResourceOptions(parent=self, provider=self._aws))
        aws.iam.RolePolicy(
            f"{base}-iam-policy",
            aws.iam.RolePolicyArgs(role=role.name, name="floe-tenant-storage",
                                   policy=json.dumps(irsa_policy(platform, tenant), sort_keys=True)),
            opts=pulumi.ResourceOptions(parent=role, provider=self._aws))
        return role
