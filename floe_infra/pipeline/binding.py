"""A floe.yaml bound to the platform contract it deploys onto.

The pipeline stack never sees platform.yaml: it checks floe.yaml against the contract the
platform stack exports (profiles, layers, identity, services) and reports every mismatch at
the line of floe.yaml it concerns, as `floe-infra validate` does against platform.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from floe_infra.config.checks import Finding, known_names
from floe_infra.config.loader import Loaded
from floe_infra.config.pipeline import PipelineConfig
from floe_infra.config.tables import TableConfig
from floe_infra.contract import CatalogEndpoint, PlatformContract, TenantContract
from floe_infra.errors import ConfigError


@dataclass(frozen=True)
class TableBinding:
    """Where one declared table lives: its catalog and its namespace inside the warehouse."""

    table: TableConfig
    catalog: CatalogEndpoint
    namespace: tuple[str, ...]


@dataclass(frozen=True)
class PipelineBinding:
    """A validated floe.yaml and the parts of the contract that concern it."""

    pipeline: PipelineConfig
    contract: PlatformContract
    tenant: TenantContract

    @property
    def name(self) -> str:
        """Pipeline (and tenant) name."""
        return self.pipeline.name

    @property
    def tables(self) -> list[TableBinding]:
        """Every declared table, in declaration order, in the tenant's own namespace of its layer."""
        out = []
        for table in self.pipeline.tables:
            layer = self.contract.layers[table.layer]
            out.append(TableBinding(table, self.contract.catalogs[layer.catalog],
                                    tuple(self.tenant.namespaces[table.layer])))
        return out

    @property
    def deploys_code_location(self) -> bool:
        """Whether the pipeline runs a Dagster code location (it has orchestration and the platform Dagster)."""
        return self.pipeline.orchestration is not None and self.contract.dagster is not None


def contract_findings(pipeline: PipelineConfig, contract: PlatformContract) -> Iterator[Finding]:
    """What in floe.yaml the platform behind `contract` cannot honour."""
    where = f"platform '{contract.platform}' ({contract.environment})"
    for field, profiles in (("storage", contract.storage), ("catalog", contract.catalogs),
                            ("compute", contract.compute)):
        ref = getattr(pipeline, field)
        if ref not in profiles:
            yield (field,), f"{field} profile '{ref}' is not defined by {where} ({known_names(profiles)})"
    tenant = contract.tenants.get(pipeline.name)
    if tenant is None:
        yield ("name",), (f"pipeline '{pipeline.name}' is not a tenant of {where} ({known_names(contract.tenants)}); "
                          f"ask the platform team to add deployment.tenants.{pipeline.name} to platform.yaml")
        return
    for field in ("service_account", "principal_role"):
        given, expected = getattr(pipeline, field), getattr(tenant, field)
        if given is not None and given != expected:
            yield (field,), f"'{given}' is not this pipeline's identity on {where}, which is '{expected}'"
    for index, table in enumerate(pipeline.tables):
        if table.layer not in contract.layers:
            yield ("tables", index, "layer"), (
                f"layer '{table.layer}' does not exist on {where} ({known_names(contract.layers)})")
        elif table.layer not in tenant.namespaces:
            yield ("tables", index, "layer"), (
                f"tenant '{pipeline.name}' may not write layer '{table.layer}' on {where} "
                f"(it writes: {', '.join(tenant.writes) or 'none'})")
    if pipeline.orchestration is not None and contract.dagster is None:
        yield ("orchestration",), (f"{where} deploys no Dagster; remove `orchestration` or ask the platform team "
                                   "to enable deployment.services.orchestration")
    if pipeline.consumption.enabled and not contract.endpoints.cube_api:
        yield ("consumption", "enabled"), f"{where} deploys no Cube (deployment.services.semantic)"


def bind_pipeline(loaded: Loaded[PipelineConfig], contract: PlatformContract) -> PipelineBinding:
    """Bind a loaded floe.yaml to the platform's contract.

    Raises:
        ConfigError: With every mismatch, located in floe.yaml.
    """
    problems = [loaded.document.problem(path, message)
                for path, message in contract_findings(loaded.config, contract)]
    if problems:
        raise ConfigError(problems)
    return PipelineBinding(loaded.config, contract, contract.tenants[loaded.config.name])
