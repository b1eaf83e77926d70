"""Helm releases of upstream charts, pinned, atomic, and merged with platform.yaml's overrides.

A chart comes from, in this order: a chart source of the stack (`floe:chartSources`) or of
platform.yaml (`deployment.chart_sources`), a local copy at the version the release installs for
charts Helm cannot install from their repository (fetched by the program when the project has none:
floe_infra/charts.py), or the public repository pinned in versions.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.charts import local_chart
from floe_infra.config.deployment import ChartSource, HelmServiceConfig
from floe_infra.project import project_dir
from floe_infra.versions import Chart

RELEASE_TIMEOUT_SECONDS = 900


def _copy(value: Any) -> Any:
    """A copy of the mappings and lists in `value`; leaves (strings, numbers, Outputs) are shared."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` merged into a copy of `base`: mappings merge recursively, anything else replaces."""
    out = _copy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = _copy(value)
    return out


def chart_version(chart: Chart, service: HelmServiceConfig | None) -> str:
    """The pinned version of a chart, or platform.yaml's override."""
    return service.chart_version if service and service.chart_version else chart.version


def release_args(chart: Chart, *, release: str, namespace: pulumi.Input[str], values: Mapping[str, Any],
                 service: HelmServiceConfig | None, sources: Mapping[str, ChartSource],
                 from_local_copy: bool = False) -> k8s.helm.v3.ReleaseArgs:
    """Arguments of a pinned, atomic release; platform.yaml's `values` are merged last."""
    version = chart_version(chart, service)
    source = sources.get(chart.name)
    repository_opts = None
    if source is not None and source.path is not None:
        chart_ref = source.path
    elif source is not None:
        chart_ref = chart.name
        repository_opts = k8s.helm.v3.RepositoryOptsArgs(repo=source.repository)
    elif from_local_copy:
        chart_ref = local_chart(chart, version, project_dir())
    else:
        chart_ref = chart.name
        repository_opts = k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository)
    return k8s.helm.v3.ReleaseArgs(
        name=release, chart=chart_ref, version=version, repository_opts=repository_opts, namespace=namespace,
        values=deep_merge(values, service.values if service else {}), atomic=True, cleanup_on_fail=True,
        timeout=RELEASE_TIMEOUT_SECONDS, max_history=10)


def env_list(env: Mapping[str, str]) -> list[dict[str, str]]:
    """A mapping as a Kubernetes env list, sorted for stable diffs."""
    return [{"name": key, "value": value} for key, value in sorted(env.items())]


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    """An env var read from a Secret key."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
