"""The pipeline's Iceberg tables, one `IcebergTable` resource each, in its own namespaces.

Logical names are `<component>-<layer>-<table>`, so a table renamed with `renamed_from` keeps
its resource (an alias to the old name) and is renamed in place, data included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from floe_infra.iceberg.catalogs import CatalogTarget
from floe_infra.iceberg.resource import IcebergTable
from floe_infra.pipeline.binding import PipelineBinding, TableBinding


@dataclass(frozen=True)
class TablesArgs:
    """Inputs of `PipelineTables`.

    Attributes:
        binding: The pipeline bound to the platform contract.
        credential: The tenant's `client_id:client_secret` (a secret).
    """

    binding: PipelineBinding
    credential: pulumi.Input[str]


def catalog_target(binding: PipelineBinding, table: TableBinding) -> CatalogTarget:
    """The catalog as `pulumi up` reaches it, scoped to the tenant's principal role."""
    return CatalogTarget(uri=table.catalog.deploy_uri, warehouse=table.catalog.warehouse,
                         scope=f"PRINCIPAL_ROLE:{binding.tenant.principal_role}")


class PipelineTables(pulumi.ComponentResource):
    """Every table floe.yaml declares."""

    tables: dict[str, IcebergTable]

    def __init__(self, name: str, args: TablesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:pipeline:Tables", name, None, opts)
        self.tables = {}
        for bound in args.binding.tables:
            table = bound.table
            logical = f"{name}-{table.layer}-{table.name}"
            aliases: Sequence[pulumi.Alias] = (
                [pulumi.Alias(name=f"{name}-{table.layer}-{table.renamed_from}")] if table.renamed_from else [])
            self.tables[".".join((*bound.namespace, table.name))] = IcebergTable(
                logical, catalog=catalog_target(args.binding, bound), namespace=bound.namespace, table=table,
                credential=args.credential, opts=pulumi.ResourceOptions(parent=self, aliases=list(aliases)))
        self.register_outputs({"tables": sorted(self.tables)})
