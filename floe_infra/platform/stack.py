"""`FloePlatform`: the top-level component composing the whole platform from one platform.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from floe_infra.config.platform import PlatformConfig
from floe_infra.contract import PlatformContract
from floe_infra.errors import FloeError
from floe_infra.iceberg.maintenance_plan import maintenance_plans
from floe_infra.kube.cluster import ClusterAccess
from floe_infra.platform.access import LocalAccess
from floe_infra.platform.catalog import CatalogServer, CatalogServerArgs
from floe_infra.platform.database import Database, DatabaseArgs
from floe_infra.platform.exports import build_contract
from floe_infra.platform.governance import CatalogGovernance, GovernanceArgs
from floe_infra.platform.kubernetes import KubernetesFoundation
from floe_infra.platform.lineage import Lineage, LineageArgs
from floe_infra.platform.maintenance import MaintenanceArgs, TableMaintenance
from floe_infra.platform.orchestration import Orchestration, OrchestrationArgs
from floe_infra.platform.secrets import PlatformSecrets, plan_secrets
from floe_infra.platform.semantic import Semantic, SemanticArgs
from floe_infra.platform.storage import ObjectStorage, StorageArgs
from floe_infra.platform.tenants import TenantAccess, TenantAccessArgs
from floe_infra.platform.tracing import Tracing, TracingArgs
from floe_infra.topology import Provisioner, Topology, build_topology


@dataclass(frozen=True)
class PlatformArgs:
    """Inputs of `FloePlatform`.

    Attributes:
        platform: The validated platform.yaml.
        access: How to reach the cluster.
        provided_secrets: Secret values from stack config, by Secret name (`floe:secret-<name>`).
    """

    platform: PlatformConfig
    access: ClusterAccess
    provided_secrets: Mapping[str, pulumi.Output[dict[str, str]]] = field(default_factory=dict, repr=False)


def database_users(platform: PlatformConfig) -> tuple[str, ...]:
    """Services that keep state in the platform's PostgreSQL."""
    svc = platform.deployment.services
    users = []
    if svc.orchestration.deploy:
        users.append("dagster")
    if svc.lineage.deploy:
        users.append("marquez")
    if svc.catalog.deploy and platform.deployment.environment != "local":
        users.append("polaris")
    return tuple(users)


class FloePlatform(pulumi.ComponentResource):
    """Storage, catalog, observability, orchestration and semantic layer of one environment."""

    topology: Topology
    foundation: KubernetesFoundation
    secrets: PlatformSecrets
    storage: ObjectStorage | None
    database: Database | None
    catalog: CatalogServer | None
    tracing: Tracing | None
    lineage: Lineage | None
    orchestration: Orchestration | None
    semantic: Semantic | None
    governance: CatalogGovernance | None
    maintenance: TableMaintenance | None
    tenants: TenantAccess
    local_access: LocalAccess
    contract: PlatformContract

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:FloePlatform", name, None, opts)
        platform = args.platform
        svc = platform.deployment.services
        self.topology = build_topology(platform)
        self.foundation = KubernetesFoundation(f"{name}-k8s", platform, args.access,
                                               pulumi.ResourceOptions(parent=self))
        ns = self.foundation.namespace_name
        child = pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.foundation.provider})

        specs = plan_secrets(platform, self.topology, frozenset(args.provided_secrets))
        self.secrets = PlatformSecrets(f"{name}-secrets", platform, specs, args.provided_secrets, ns, child)

        has_buckets = any(b.provisioner is Provisioner.AWS for b in self.topology.buckets)
        self.storage = (ObjectStorage(f"{name}-storage", StorageArgs(platform, self.topology, ns, self.secrets), child)
                        if svc.object_storage.deploy or has_buckets else None)

        users = database_users(platform)
        self.database = (Database(f"{name}-database", DatabaseArgs(platform, self.topology, ns, self.secrets, users),
                                  child) if users else None)
        db_ready = self.database.setup_job if self.database else None

        self.catalog = (CatalogServer(f"{name}-catalog",
                                      CatalogServerArgs(platform, self.topology, ns, self.secrets, db_ready), child)
                        if svc.catalog.deploy else None)
        self.tracing = (Tracing(f"{name}-tracing", TracingArgs(platform, self.topology, ns), child)
                        if svc.tracing.deploy else None)
        self.lineage = (Lineage(f"{name}-lineage", LineageArgs(platform, self.topology, ns, db_ready, self.secrets),
                                child)
                        if svc.lineage.deploy and db_ready else None)
        self.orchestration = (Orchestration(f"{name}-orchestration",
                                            OrchestrationArgs(platform, self.topology, ns, self.secrets, db_ready),
                                            child)
                              if svc.orchestration.deploy and db_ready else None)
        self.semantic = (Semantic(f"{name}-semantic", SemanticArgs(platform, self.topology, ns, self.secrets), child)
                         if svc.semantic.deploy else None)
        self.governance = self._create_governance(name, args, ns, child)
        plans = maintenance_plans(platform, self.topology)
        self.maintenance = (TableMaintenance(f"{name}-maintenance", MaintenanceArgs(platform, plans, ns, self.secrets),
                                             child) if plans else None)
        self.tenants = TenantAccess(f"{name}-tenants", TenantAccessArgs(platform, self.topology, ns), child)
        self.local_access = LocalAccess(f"{name}-access", platform, self.topology, ns, child)
        self.contract = build_contract(platform, self.topology)
        self.register_outputs({"contract": self.contract_output()})

    def _create_governance(self, name: str, args: PlatformArgs, namespace: pulumi.Input[str],
                           opts: pulumi.ResourceOptions) -> CatalogGovernance | None:
        """Polaris' contents, managed through the management URL.

        Raises:
            FloeError: Outside `local`, when no management URL is known: declaring no governance would make the
                next `pulumi up` of an existing stack delete every catalog, namespace, role and principal.
        """
        if self.catalog is None:
            return None
        platform = args.platform
        url = platform.management_url
        if url is None:
            reach = ("Polaris' management API is not reachable from this machine by any known address: set "
                     "deployment.services.catalog.management_url (an ingress, a private endpoint or a `kubectl "
                     "port-forward`)")
            if platform.deployment.protect_stateful:
                raise FloeError(f"{reach}. Environment '{platform.deployment.environment}' manages its catalogs, "
                                "namespaces, roles and tenant principals through it; without it they would not be "
                                "declared, and `pulumi up` would delete them from an existing stack")
            pulumi.log.warn(f"catalog governance is skipped: {reach}, or enable NodePort local access; tenants get "
                            "no catalog credentials until then.", resource=self)
            return None
        return CatalogGovernance(
            f"{name}-governance",
            GovernanceArgs(platform, self.topology, namespace, self.secrets, self.catalog.release, url), opts)

    def contract_output(self) -> pulumi.Output[dict[str, Any]]:
        """The contract exported under the `contract` stack output (with the tenants' sealed credentials)."""
        contract = self.contract.model_dump(mode="json")
        sealed = self.governance.sealed_credentials if self.governance else {}
        if not sealed:
            return pulumi.Output.from_input(contract)

        def fill(values: dict[str, str | None]) -> dict[str, Any]:
            for tenant, value in values.items():
                contract["tenants"][tenant]["sealed_credentials"] = value
            return contract

        return pulumi.Output.all(**sealed).apply(fill)
