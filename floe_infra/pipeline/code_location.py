"""The pipeline's Dagster code location: a `dagster-user-deployments` release next to the platform's Dagster.

The platform's webserver already lists this location in its workspace (host and name
`code-<pipeline>`, the port from the contract), so the release only has to bring the gRPC code
server up under that name. `includeConfigInLaunchedRuns` hands the same ConfigMaps, Secrets,
volumes and resources to every run pod the platform's K8sRunLauncher starts for this location.
The code server and every run it launches run as the tenant's own ServiceAccount (created by the
platform with RBAC to read only the tenant's Secrets and ConfigMaps, and a NetworkPolicy), with the
tenant's own catalog and storage Secrets; the release creates no ServiceAccount and no RBAC. The
one platform Secret they read is Dagster's PostgreSQL password: Dagster OSS run workers write to the
shared instance database (docs/security.md).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.base import IMAGE_REPOSITORY_RE
from floe_infra.config.deployment import ChartSource
from floe_infra.errors import FloeError
from floe_infra.kube.helm import release_args
from floe_infra.kube.rollout import config_digest_env
from floe_infra.pipeline.binding import PipelineBinding
from floe_infra.pipeline.labels import pipeline_chart_labels
from floe_infra.pipeline.runtime_config import MOUNT_PATH, RuntimeConfiguration
from floe_infra.versions import DAGSTER_USER_DEPLOYMENTS_CHART

_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
RUNTIME_VOLUME = "floe-runtime"


@dataclass(frozen=True)
class ImageRef:
    """A container image pinned by tag or digest.

    Attributes:
        repository: Registry and repository, e.g. `ghcr.io/acme/sales`.
        tag: A tag such as `1.4.0`, or None when pinned by digest.
        digest: `sha256:...`, or None when pinned by tag.
    """

    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Parse `repository:tag` or `repository@sha256:...`.

        Raises:
            FloeError: When the reference is malformed or names no tag or digest.
        """
        name, _, digest = text.strip().partition("@")
        tag = None
        slash = name.rfind("/")
        if ":" in name[slash + 1:]:
            name, _, tag = name.rpartition(":")
        if not IMAGE_REPOSITORY_RE.fullmatch(name):
            raise FloeError(f"floe:image '{text}' is not an image reference (registry/repository:tag)")
        if digest:
            if not _DIGEST_RE.fullmatch(digest):
                raise FloeError(f"floe:image '{text}' has a malformed digest (expected sha256:<64 hex digits>)")
            return cls(name, None, digest)
        if tag is None or not _TAG_RE.fullmatch(tag):
            raise FloeError(f"floe:image '{text}' needs an explicit tag or digest, e.g. {name}:1.0.0, so that "
                            "every deploy runs a known build")
        return cls(name, tag)

    def chart_values(self) -> dict[str, str]:
        """The chart's `image` block (it joins repository and tag with ':')."""
        if self.digest:
            # `<repo>@sha256` + ':' + `<hex>` renders the digest reference the chart cannot express otherwise.
            algorithm, _, hexdigest = self.digest.partition(":")
            return {"repository": f"{self.repository}@{algorithm}", "tag": hexdigest, "pullPolicy": "IfNotPresent"}
        return {"repository": self.repository, "tag": str(self.tag),
                "pullPolicy": "Always" if self.tag == "latest" else "IfNotPresent"}


@dataclass(frozen=True)
class CodeLocationArgs:
    """Inputs of `CodeLocation`.

    Attributes:
        binding: The pipeline bound to the platform contract.
        image: The pipeline's image (its Dagster definitions, dbt project and dependencies).
        module: Python module of the Dagster `Definitions` inside the image.
        runtime: The runtime ConfigMaps the pods read, waited for before the release.
        credentials: The tenant's credentials Secret the pods read, waited for too.
        chart_sources: The stack's chart sources (`floe:chartSources`), by chart name.
    """

    binding: PipelineBinding
    image: ImageRef
    module: str
    runtime: RuntimeConfiguration
    credentials: pulumi.Resource = field(repr=False)
    chart_sources: Mapping[str, ChartSource]


def code_location_values(binding: PipelineBinding, image: ImageRef, module: str,
                         digest: dict[str, Any]) -> dict[str, Any]:
    """Helm values of the `dagster-user-deployments` release (Secret names only).

    `digest` is the `FLOE_CONFIG_DIGEST` env entry that rolls the code server when what it reads changes.
    """
    contract, tenant = binding.contract, binding.tenant
    dagster = contract.dagster
    assert dagster is not None, "bind_pipeline refuses orchestration without the platform's Dagster"
    secrets = [{"name": tenant.credentials_secret}]
    if tenant.storage_credentials_secret:
        secrets.append({"name": tenant.storage_credentials_secret})
    resources = contract.transform_resources
    deployment = {
        "name": tenant.code_location.name,
        "image": image.chart_values(),
        "codeServerArgs": ["-m", module],
        "port": tenant.code_location.port,
        "includeConfigInLaunchedRuns": {"enabled": True},
        "envConfigMaps": [{"name": tenant.env_configmap}],
        "envSecrets": secrets,
        "labels": pipeline_chart_labels(binding, "code-location"),
        "env": [digest],
        "resources": {"requests": resources.requests, "limits": resources.limits},
        "volumes": [{"name": RUNTIME_VOLUME, "configMap": {"name": tenant.runtime_configmap}}],
        "volumeMounts": [{"name": RUNTIME_VOLUME, "mountPath": MOUNT_PATH, "readOnly": True}],
    }
    return {
        # Names the chart's Deployment and ConfigMaps after the pipeline: unique per tenant, readable.
        "fullnameOverride": binding.name,
        "global": {"postgresqlSecretName": dagster.postgresql_secret,
                   "serviceAccountName": tenant.kubernetes_service_account},
        "serviceAccount": {"create": False},
        "rbacEnabled": False,
        "deployments": [deployment],
    }


class CodeLocation(pulumi.ComponentResource):
    """The release serving the pipeline's Dagster definitions to the platform's Dagster."""

    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: CodeLocationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:pipeline:CodeLocation", name, None, opts)
        binding = args.binding
        dagster = binding.contract.dagster
        assert dagster is not None, "bind_pipeline refuses orchestration without the platform's Dagster"
        # User deployments must run the platform's Dagster version.
        chart = dataclasses.replace(DAGSTER_USER_DEPLOYMENTS_CHART, version=dagster.chart_version)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            release_args(chart, release=binding.tenant.code_location.name, namespace=binding.contract.namespace,
                         values=code_location_values(binding, args.image, args.module, self._digest(args)),
                         service=None,
                         sources=args.chart_sources, from_local_copy=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.runtime, args.credentials]))
        self.register_outputs({"release": self.release.name})

    @staticmethod
    def _digest(args: CodeLocationArgs) -> dict[str, Any]:
        # The runtime ConfigMaps, the sealed credentials and the storage keys' rotation: the platform
        # rotates the last two. A rotation of 0 adds nothing, so stacks that never rotated keep their digest.
        tenant = args.binding.tenant
        rotation = (str(tenant.storage_credentials_rotation),) if tenant.storage_credentials_rotation else ()
        return config_digest_env([args.runtime.files, args.runtime.env], tenant.sealed_credentials or "", *rotation)
