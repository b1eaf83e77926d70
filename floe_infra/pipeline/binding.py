"""A floe.yaml bound to the platform contract it deploys onto.

The pipeline stack never sees platform.yaml: it checks floe.yaml against the contract the
platform stack exports, with the same rules `floe-infra validate` applies against platform.yaml,
and reports every mismatch at the line of floe.yaml it concerns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from floe_infra.config.checks import HostedTenant, PlatformView, check_pipeline_against
from floe_infra.config.loader import Loaded, load_pipeline
from floe_infra.config.pipeline import PipelineConfig
from floe_infra.config.tables import TableConfig
from floe_infra.contract import CatalogEndpoint, PlatformContract, TenantContract
from floe_infra.errors import ConfigError, Problem


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


def contract_view(contract: PlatformContract) -> PlatformView:
    """The platform behind a contract, as floe.yaml is checked against it."""
    return PlatformView(
        name=f"platform '{contract.platform}' ({contract.environment})", storage=contract.storage,
        catalogs=contract.catalogs, compute=contract.compute, layers=contract.layers,
        tenants={name: HostedTenant(t.service_account, t.principal_role, list(t.writes), t.locations)
                 for name, t in contract.tenants.items()},
        orchestration=contract.dagster is not None, semantic=bool(contract.endpoints.cube_api))


def bind_pipeline(loaded: Loaded[PipelineConfig], contract: PlatformContract) -> PipelineBinding:
    """Bind a loaded floe.yaml to the platform's contract.

    Raises:
        ConfigError: With every mismatch, located in floe.yaml.
    """
    problems = [loaded.document.problem(path, message)
                for path, message in check_pipeline_against(loaded.config, contract_view(contract))]
    if problems:
        raise ConfigError(problems)
    return PipelineBinding(loaded.config, contract, contract.tenants[loaded.config.name])


def bind_files(files: Iterable[Path],
               contract: PlatformContract) -> list[tuple[Loaded[PipelineConfig], PipelineBinding]]:
    """Load floe.yaml files and bind each to the contract, as their pipeline stacks would.

    Raises:
        ConfigError: With every problem of every file.
    """
    problems: list[Problem] = []
    out = []
    for file in files:
        try:
            loaded = load_pipeline(file)
            out.append((loaded, bind_pipeline(loaded, contract)))
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)
    return out
