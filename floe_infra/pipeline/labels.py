"""Labels and metadata of everything a pipeline stack creates in the platform's namespace."""

from __future__ import annotations

import pulumi_kubernetes as k8s

from floe_infra.kube.labels import PIPELINE_LABEL, chart_labels, floe_labels
from floe_infra.pipeline.binding import PipelineBinding


def pipeline_labels(binding: PipelineBinding, component: str) -> dict[str, str]:
    """Labels that tell whose object it is: the pipeline, on which platform and environment."""
    return {**floe_labels(binding.contract.platform, binding.contract.environment, component),
            PIPELINE_LABEL: binding.name}


def pipeline_chart_labels(binding: PipelineBinding, component: str) -> dict[str, str]:
    """Labels of what the pipeline's chart renders (never a key the chart owns, see `chart_labels`)."""
    return {**chart_labels(binding.contract.platform, binding.contract.environment, component),
            PIPELINE_LABEL: binding.name}


def pipeline_meta(binding: PipelineBinding, name: str, component: str) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata of a pipeline object: fixed name, in the platform's namespace."""
    return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=binding.contract.namespace,
                                      labels=pipeline_labels(binding, component))
