"""The root model of floe.yaml, the data team's file. It holds no credentials and no endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from floe_infra.config.base import FloeModel, PipelineName, ProfileName, ProjectPath, RuntimeSection, SemVer
from floe_infra.config.orchestration import OrchestrationConfig
from floe_infra.config.tables import TableConfig


class TransformConfig(FloeModel):
    """A transformation step (dbt)."""

    type: Literal["dbt"] = Field(description="Transform kind; only dbt.")
    path: ProjectPath = Field(description="dbt project directory, relative to floe.yaml (inside the project).")
    target: str | None = Field(default=None, description="dbt target name.")


class ConsumptionConfig(FloeModel):
    """The semantic layer (Cube) over this pipeline's marts."""

    enabled: bool = Field(default=False, description="Publish the pipeline's Cube models.")
    models_path: ProjectPath = Field(
        default="semantic", description="Directory of Cube model files, relative to floe.yaml (inside the project)."
    )
    dev_mode: bool = Field(default=False, description="Cube Playground, for development.")
    pre_aggregations: RuntimeSection | None = Field(default=None, description="Pre-aggregations, for floe-runtime.")
    security: RuntimeSection | None = Field(default=None, description="Row-level security, for floe-runtime.")


class PipelineGovernance(FloeModel):
    """Governance of the pipeline's data."""

    classification_source: Literal["dbt_meta", "external"] = Field(
        default="dbt_meta", description="Where column classifications come from."
    )
    policies: RuntimeSection = Field(default_factory=dict, description="Policies, for floe-runtime.")
    emit_lineage: bool = Field(default=True, description="Emit OpenLineage for governance.")


class PipelineObservability(FloeModel):
    """What telemetry the pipeline emits; endpoints come from the platform."""

    traces: bool = Field(default=True, description="Emit traces.")
    metrics: bool = Field(default=True, description="Emit metrics.")
    lineage: bool = Field(default=True, description="Emit OpenLineage events.")
    attributes: dict[str, str] = Field(default_factory=dict, description="Resource attributes.")


class PipelineConfig(FloeModel):
    """floe.yaml: a pipeline, by logical profile names only."""

    name: PipelineName = Field(description="Pipeline name; the tenant name on the platform (deployment.tenants).")
    version: SemVer = Field(description="Pipeline version (semantic version).")
    storage: ProfileName = Field(default="default", description="Storage profile of the platform.")
    catalog: ProfileName = Field(default="default", description="Catalog profile of the platform.")
    compute: ProfileName = Field(default="default", description="Compute profile of the platform.")
    service_account: ProfileName | None = Field(
        default=None, description="Catalog principal the pipeline acts as; must be its tenant's."
    )
    principal_role: ProfileName | None = Field(
        default=None, description="Catalog principal role; must be its tenant's."
    )
    transforms: list[TransformConfig] = Field(default_factory=list, description="Transformation steps.")
    tables: list[TableConfig] = Field(default_factory=list, description="Iceberg tables the pipeline owns.")
    orchestration: OrchestrationConfig | None = Field(default=None, description="Dagster definitions.")
    consumption: ConsumptionConfig = Field(default_factory=ConsumptionConfig, description="Semantic layer.")
    governance: PipelineGovernance = Field(default_factory=PipelineGovernance, description="Governance.")
    observability: PipelineObservability = Field(
        default_factory=PipelineObservability, description="Telemetry switches."
    )
