"""Catalog governance: the platform's Polaris contents as Pulumi resources.

For each Polaris catalog profile used by a layer: the catalog (warehouse) with its S3 storage
configuration; for each layer a namespace and a read role; for each tenant a namespace of its own
in every layer it writes, a write role on it, a principal role holding exactly its roles, and a
principal whose credentials are published only sealed to the tenant's public key, in the contract.
The platform never holds them in plain text past the call that seals them: the tenant's pipeline
stack opens them with its private key and writes its own Secret `<tenant>-catalog-credentials`.

The management calls run from where `pulumi up` runs, against
`deployment.services.catalog.management_url` (or `http://localhost:<polaris NodePort>` when local
access is on). Plans are computed from the declared inputs; previews call Polaris only to read back
what exists (the projects refresh on every operation, `floe_infra.refresh`), so
`pulumi preview --refresh=false` previews without it. Catalogs and namespaces hold the tables: they
are protected and retained where stateful objects are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from floe_infra.config.credentials import CredentialMode
from floe_infra.config.platform import PlatformConfig
from floe_infra.platform.secrets import PlatformSecrets
from floe_infra.polaris.grants import GovernancePlan, TenantPlan, plan_governance
from floe_infra.polaris.resources import Catalog, CatalogRole, Namespace, Principal, PrincipalRole, RootCredential
from floe_infra.topology import Provisioner, Topology, provisioner_of

REALM = "POLARIS"


def storage_config(platform: PlatformConfig, topology: Topology, warehouse: str,
                   allowed: list[str]) -> dict[str, Any]:
    """Polaris' storage configuration for a warehouse, from the storage profile of its first layer."""
    layer = next(layer for layer in platform.layers.values()
                 if platform.catalogs[layer.catalog_ref].warehouse == warehouse)
    profile = platform.storage[layer.storage_ref]
    config: dict[str, Any] = {"storageType": "S3", "allowedLocations": allowed, "region": profile.region}
    if not profile.is_aws:
        endpoint = (topology.s3_endpoint if provisioner_of(platform, profile) is Provisioner.MINIO
                    else str(profile.endpoint))
        # S3-compatible storage has no STS: Polaris uses its own keys and vends none.
        config |= {"endpoint": endpoint, "pathStyleAccess": True, "stsUnavailable": True}
    elif profile.credentials.mode == CredentialMode.IAM_ROLE and profile.credentials.role_arn:
        config["roleArn"] = profile.credentials.role_arn
    else:
        config["stsUnavailable"] = True
    return config


@dataclass(frozen=True)
class GovernanceArgs:
    """Inputs of `CatalogGovernance`."""

    platform: PlatformConfig
    topology: Topology
    namespace: pulumi.Input[str]
    secrets: PlatformSecrets = field(repr=False)
    polaris_ready: pulumi.Resource
    url: str


class CatalogGovernance(pulumi.ComponentResource):
    """Catalogs, namespaces, roles, grants and tenant principals in the platform's Polaris."""

    plan: GovernancePlan
    root: RootCredential
    catalogs: dict[str, Catalog]
    namespaces: dict[str, Namespace]
    catalog_roles: dict[str, CatalogRole]
    principal_roles: dict[str, PrincipalRole]
    principals: dict[str, Principal]
    sealed_credentials: dict[str, pulumi.Output[str | None]]

    def __init__(self, name: str, args: GovernanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:CatalogGovernance", name, None, opts)
        self._base = name
        self._args = args
        self.plan = plan_governance(args.platform)
        self._connection = {"url": args.url, "realm": REALM, "scope": "PRINCIPAL_ROLE:ALL"}
        # Every other resource authenticates with the root credential Polaris accepts now: the root
        # resource's output, so a rotation reaches Polaris before anything uses the new value.
        self.root = RootCredential(
            f"{name}-root", connection=self._connection,
            credential=pulumi.Output.concat("root:", args.secrets.generated_value("polaris-root")),
            # The release must be up before its management API answers.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.polaris_ready]))
        self._credential = self.root.credential
        allow = args.platform.deployment.allow_table_deletion
        # Catalogs and namespaces hold the tables: protected and retained where stateful objects are, so no
        # change (a layer or the whole governance gone from the program) deletes them without `pulumi state
        # unprotect`. Roles and principals are not: removing a tenant must revoke its access.
        protect = args.platform.deployment.protect_stateful
        stateful = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)
        self.catalogs = {}
        for warehouse, spec in self.plan.catalogs.items():
            self.catalogs[warehouse] = Catalog(
                f"{name}-catalog-{warehouse}", connection=self._connection, credential=self._credential,
                catalog=warehouse, properties=spec.properties,
                storage=storage_config(args.platform, args.topology, warehouse, list(spec.allowed_locations)),
                allow_delete_with_tables=allow, opts=stateful)
        self.namespaces = {}
        for ns in self.plan.namespaces:
            dotted = ".".join(ns.levels)
            parent_ns = self.namespaces.get(".".join(ns.levels[:-1]))
            self.namespaces[dotted] = Namespace(
                f"{name}-namespace-{ns.catalog}-{dotted}", connection=self._connection, credential=self._credential,
                catalog=ns.catalog, namespace=list(ns.levels), properties=ns.properties,
                allow_delete_with_tables=allow,
                opts=pulumi.ResourceOptions.merge(stateful, pulumi.ResourceOptions(
                    depends_on=[self.catalogs[ns.catalog], *([parent_ns] if parent_ns else [])])))
        # Polaris refuses a grant on a namespace that does not exist: each role waits for the namespaces of its grants.
        self.catalog_roles = {
            role.name: CatalogRole(
                f"{name}-role-{role.catalog}-{role.name}", connection=self._connection, credential=self._credential,
                catalog=role.catalog, role=role.name, grants=list(role.grants),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[
                    self.catalogs[role.catalog],
                    *(self.namespaces[".".join(g["namespace"])] for g in role.grants if g["type"] == "namespace")]))
            for role in self.plan.roles
        }
        self.principal_roles, self.principals, self.sealed_credentials = {}, {}, {}
        for tenant_plan in self.plan.tenants:
            self._create_tenant(tenant_plan)
        self.register_outputs({"principals": sorted(self.principals)})

    def _create_tenant(self, plan: TenantPlan) -> None:
        tenant = plan.tenant
        name = self._base
        role = PrincipalRole(
            f"{name}-principal-role-{tenant.name}", connection=self._connection, credential=self._credential,
            role=tenant.principal_role,
            catalog_roles=[{"catalog": catalog, "role": role} for catalog, role in plan.catalog_roles],
            opts=pulumi.ResourceOptions(parent=self,
                                        depends_on=[self.catalog_roles[r] for _, r in plan.catalog_roles]))
        principal = Principal(
            f"{name}-principal-{tenant.name}", connection=self._connection, credential=self._credential,
            principal=tenant.service_account, principal_roles=[tenant.principal_role],
            rotation=tenant.credential_rotation, public_key=tenant.public_key,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]))
        self.principal_roles[tenant.name] = role
        self.principals[tenant.name] = principal
        self.sealed_credentials[tenant.name] = principal.sealed_credentials
