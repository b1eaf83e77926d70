"""Pinned upstream versions: every Helm chart and container image floe-infra deploys.

One place, so an upgrade is one reviewed change. platform.yaml can override a chart version
or image tag per service (`deployment.services.<service>.chart_version` / `image_tag`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    """A Helm chart pin."""

    name: str
    repository: str
    version: str


@dataclass(frozen=True)
class Image:
    """A container image pin."""

    repository: str
    tag: str

    def ref(self, tag: str | None = None) -> str:
        """`repository:tag`, with an optional tag override."""
        return f"{self.repository}:{tag or self.tag}"


MINIO_CHART = Chart("minio", "https://charts.min.io/", "5.4.0")
POLARIS_CHART = Chart("polaris", "https://downloads.apache.org/polaris/helm-chart", "1.7.0")
JAEGER_CHART = Chart("jaeger", "https://jaegertracing.github.io/helm-charts", "4.11.1")
DAGSTER_CHART = Chart("dagster", "https://dagster-io.github.io/helm", "1.12.19")
DAGSTER_USER_DEPLOYMENTS_CHART = Chart("dagster-user-deployments", "https://dagster-io.github.io/helm", "1.12.19")
CUBE_CHART = Chart("cube", "https://gadsme.github.io/charts", "3.3.0")
CUBESTORE_CHART = Chart("cubestore", "https://gadsme.github.io/charts", "1.2.0")

POLARIS_IMAGE = Image("apache/polaris", "1.7.0")
POLARIS_ADMIN_IMAGE = Image("apache/polaris-admin-tool", "1.7.0")
MARQUEZ_IMAGE = Image("marquezproject/marquez", "0.51.1")
MARQUEZ_WEB_IMAGE = Image("marquezproject/marquez-web", "0.51.1")
POSTGRES_IMAGE = Image("postgres", "16.10-bookworm")
CUBE_IMAGE = Image("cubejs/cube", "v1.5.3")
CUBESTORE_IMAGE = Image("cubejs/cubestore", "v1.5.3")

# Installed from a local copy without values.schema.json (see floe_infra/charts.py).
LOCAL_COPY_CHARTS = (DAGSTER_CHART, DAGSTER_USER_DEPLOYMENTS_CHART)
