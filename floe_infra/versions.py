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
BUSYBOX_IMAGE = Image("busybox", "1.37.0")
# floe-infra itself, built from the Dockerfile at the root of this repository and published with each release
# (`docker build -t <registry>/floe-infra:<version> .`): the platform's table maintenance jobs run it. Its tag is
# floe-infra's version, so a job runs the code that wrote its plan; a platform that publishes the image to a
# registry of its own names it in deployment.services.maintenance.image_repository.
FLOE_INFRA_IMAGE = Image("ghcr.io/floe-demo/floe-infra", "0.1.0")

# Installed from a local copy without values.schema.json (see floe_infra/charts.py).
LOCAL_COPY_CHARTS = (DAGSTER_CHART, DAGSTER_USER_DEPLOYMENTS_CHART)


@dataclass(frozen=True)
class GoModule:
    """A Go module version the e2e toolchain is built from (tools/toolchain.py)."""

    path: str
    version: str


# The e2e toolchain: the real Pulumi engine and a Kubernetes control plane, built from the Go module
# proxy because no binary can be downloaded here (docs/testing.md). Not used by the product.
# pkg/v3 is not served at the Python SDK's 3.272.0; 3.274.0 is the nearest served release.
PULUMI_CLI = GoModule("github.com/pulumi/pulumi/pkg/v3", "v3.274.0")
# The CLI's libraries, and those of the Python language host built over them (tools/go/pulumi-language-python):
# the host's own module is refused by the proxy at every version.
PULUMI_SDK = GoModule("github.com/pulumi/pulumi/sdk/v3", "v3.274.0")
# The random provider, built from the modules it bridges (tools/go/pulumi-resource-random): the proxy refuses
# github.com/pulumi/pulumi-random/provider/v4 at every version. Its plugin is stamped with the version of the
# pulumi-random Python SDK in requirements.txt. The bridge and terraform-provider-random commit are those of
# pulumi-random's provider at bridge v3.137.0, with the bridge's replace of the plugin SDK by Pulumi's fork.
PULUMI_RANDOM_SDK = "4.21.4"
PULUMI_TERRAFORM_BRIDGE = GoModule("github.com/pulumi/pulumi-terraform-bridge/v3", "v3.137.0")
TERRAFORM_PROVIDER_RANDOM = GoModule(
    "github.com/terraform-providers/terraform-provider-random", "v1.3.2-0.20260513075824-f8d869dc98d9"
)
TERRAFORM_PLUGIN_SDK_FORK = GoModule("github.com/pulumi/terraform-plugin-sdk/v2", "v2.0.0-20260318212141-5525259d096b")
# provider/v4 is served by commit only: f47bc2d6 is the v4.25.0 release, the Python SDK pinned in requirements.txt.
PULUMI_KUBERNETES_PROVIDER = GoModule(
    "github.com/pulumi/pulumi-kubernetes/provider/v4", "v4.0.0-20260115033456-f47bc2d6f199"
)
PULUMI_KUBERNETES_SDK = GoModule("github.com/pulumi/pulumi-kubernetes/sdk/v4", "v4.25.0")
KUBERNETES = GoModule("k8s.io/kubernetes", "v1.34.4")
ETCD = GoModule("go.etcd.io/etcd/server/v3", "v3.6.16")
KWOK = GoModule("sigs.k8s.io/kwok", "v0.7.0")
