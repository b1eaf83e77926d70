"""The pipeline's Iceberg tables, one `IcebergTable` resource each, in its own namespaces.

Logical names are `<component>-<layer>-<table>`, so a table renamed with `renamed_from` keeps
its resource (an alias to the old name) and is renamed in place, data included. A `TableSet`
holds the whole declaration; it is registered first and every table depends on it, so its check
(a droppable table removed while another appears: maybe an unannounced rename) stops the
deployment before any table changes, and it alone drops tables removed with `drop_when_removed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from floe_infra.iceberg.catalogs import CatalogTarget
from floe_infra.iceberg.plan import DesiredTable
from floe_infra.iceberg.resource import IcebergTable
from floe_infra.iceberg.table_set import TableSet
from floe_infra.pipeline.binding import PipelineBinding, TableBinding


@dataclass(frozen=True)
class TablesArgs:
    """Inputs of `PipelineTables`.

    Attributes:
        binding: The pipeline bound to the platform contract.
        credential: The tenant's `client_id:client_secret` (a secret).
    """

    binding: PipelineBinding
    credential: pulumi.Input[str] = field(repr=False)


def catalog_target(binding: PipelineBinding, table: TableBinding) -> CatalogTarget:
    """The catalog as `pulumi up` reaches it, scoped to the tenant's principal role."""
    return CatalogTarget(uri=table.catalog.deploy_uri, warehouse=table.catalog.warehouse,
                         scope=f"PRINCIPAL_ROLE:{binding.tenant.principal_role}")


def stack_owner() -> str:
    """The `floe.managed-by` mark of tables this stack creates: `<project>/<stack>`."""
    return f"{pulumi.get_project()}/{pulumi.get_stack()}"


class PipelineTables(pulumi.ComponentResource):
    """Every table floe.yaml declares."""

    table_set: TableSet
    tables: dict[str, IcebergTable]

    def __init__(self, name: str, args: TablesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:pipeline:Tables", name, None, opts)
        owner = stack_owner()
        declared = [(catalog_target(args.binding, bound), DesiredTable(bound.namespace, bound.table, owner))
                    for bound in args.binding.tables]
        self.table_set = TableSet(f"{name}-set", tables=declared, credential=args.credential,
                                  opts=pulumi.ResourceOptions(parent=self))
        self.tables = {}
        for catalog, desired in declared:
            table = desired.config
            logical = f"{name}-{table.layer}-{table.name}"
            aliases: Sequence[pulumi.Alias] = (
                [pulumi.Alias(name=f"{name}-{table.layer}-{table.renamed_from}")] if table.renamed_from else [])
            self.tables[".".join(desired.identifier)] = IcebergTable(
                logical, catalog=catalog, namespace=desired.namespace, table=table, credential=args.credential,
                owner=owner, opts=pulumi.ResourceOptions(parent=self, aliases=list(aliases),
                                                         depends_on=[self.table_set]))
        self.register_outputs({"tables": sorted(self.tables)})
