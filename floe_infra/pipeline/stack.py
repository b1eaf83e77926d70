"""`FloePipeline`: the top-level component of a pipeline stack, built on the platform's contract.

Everything it creates is namespaced (the platform's namespace) and labelled with the pipeline's
name; nothing is cluster-scoped, and it reads no platform Secret: it opens the tenant's catalog
credentials from the contract with the tenant's key (no key, no stack) and writes them into the
tenant's own Secret, its pods run as the tenant's ServiceAccount and reference only the tenant's
Secrets by name, and its tables use the tenant's own catalog credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.deployment import ChartSource
from floe_infra.kube.cluster import ClusterAccess, cluster_provider
from floe_infra.pipeline.binding import PipelineBinding
from floe_infra.pipeline.code_location import CodeLocation, CodeLocationArgs, ImageRef
from floe_infra.pipeline.credentials import TenantCredentials
from floe_infra.pipeline.runtime_config import RuntimeConfiguration
from floe_infra.pipeline.semantic import SemanticModels
from floe_infra.pipeline.tables import PipelineTables, TablesArgs


@dataclass(frozen=True)
class PipelineArgs:
    """Inputs of `FloePipeline`.

    Attributes:
        binding: floe.yaml bound to the platform contract.
        access: How to reach the platform's cluster.
        image: The pipeline's image; required when it deploys a code location.
        module: Python module of its Dagster definitions inside the image.
        credentials: The tenant's catalog credentials (`client_id`, `client_secret`), opened with its key; a secret.
        model_files: Its Cube model files by name, when `consumption.enabled`.
        chart_sources: Where charts install from instead of their public repository (`floe:chartSources`).
    """

    binding: PipelineBinding
    access: ClusterAccess
    image: ImageRef | None
    module: str
    credentials: pulumi.Output[dict[str, str]] = field(repr=False)
    model_files: dict[str, str] = field(default_factory=dict)
    chart_sources: dict[str, ChartSource] = field(default_factory=dict)


class FloePipeline(pulumi.ComponentResource):
    """Runtime configuration, Dagster code location, Iceberg tables and Cube models of one pipeline."""

    binding: PipelineBinding
    provider: k8s.Provider
    credentials: TenantCredentials
    runtime: RuntimeConfiguration
    code_location: CodeLocation | None
    tables: PipelineTables | None
    semantic: SemanticModels | None

    def __init__(self, name: str, args: PipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:pipeline:FloePipeline", name, None, opts)
        binding = self.binding = args.binding
        self.provider = cluster_provider(f"{name}-provider", args.access, pulumi.ResourceOptions(parent=self))
        k8s_child = pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.provider})
        self.credentials = TenantCredentials(f"{name}-credentials", binding, args.credentials, k8s_child)
        self.runtime = RuntimeConfiguration(f"{name}-runtime", binding, k8s_child)
        self.code_location = None
        if binding.deploys_code_location:
            if args.image is None:
                raise ValueError("a pipeline with orchestration needs its image")
            self.code_location = CodeLocation(
                f"{name}-code",
                CodeLocationArgs(binding, args.image, args.module, self.runtime, self.credentials,
                                 args.chart_sources), k8s_child)
        self.tables = None
        if binding.pipeline.tables:
            credential = pulumi.Output.secret(
                args.credentials.apply(lambda c: f"{c['client_id']}:{c['client_secret']}"))
            self.tables = PipelineTables(f"{name}-tables", TablesArgs(binding, credential),
                                         pulumi.ResourceOptions(parent=self))
        self.semantic = (SemanticModels(f"{name}-semantic", binding, args.model_files, k8s_child)
                         if binding.pipeline.consumption.enabled else None)
        self.register_outputs({"pipeline": binding.name})
