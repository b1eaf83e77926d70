"""What the API server holds, read with the official Kubernetes client (every call with a timeout)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import config as kube_config
from kubernetes import dynamic
from kubernetes.dynamic.exceptions import NotFoundError

REQUEST_TIMEOUT_SECONDS = 10
WORKLOAD_KINDS = (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("batch/v1", "Job"))
CENSUS_KINDS = (*WORKLOAD_KINDS, ("v1", "Pod"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "Secret"),
                ("v1", "ServiceAccount"), ("v1", "PersistentVolumeClaim"), ("rbac.authorization.k8s.io/v1", "Role"),
                ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("networking.k8s.io/v1", "NetworkPolicy"))


@dataclass(frozen=True)
class ObjectRef:
    """One object by API version, kind, namespace and name."""

    api_version: str
    kind: str
    name: str
    namespace: str | None

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


class Cluster:
    """The e2e cluster as the admin sees it."""

    def __init__(self, kubeconfig: Path) -> None:
        self.client = dynamic.DynamicClient(kube_config.new_client_from_config(config_file=str(kubeconfig)))

    def resource(self, api_version: str, kind: str) -> Any:
        return self.client.resources.get(api_version=api_version, kind=kind)

    def get(self, ref: ObjectRef) -> Any | None:
        try:
            return self.resource(ref.api_version, ref.kind).get(
                name=ref.name, namespace=ref.namespace, _request_timeout=REQUEST_TIMEOUT_SECONDS)
        except NotFoundError:
            return None

    def delete(self, ref: ObjectRef) -> None:
        self.resource(ref.api_version, ref.kind).delete(name=ref.name, namespace=ref.namespace,
                                                         _request_timeout=REQUEST_TIMEOUT_SECONDS)

    def list(self, api_version: str, kind: str, namespace: str | None = None, **selectors: str) -> list[Any]:
        return list(self.resource(api_version, kind).get(
            namespace=namespace, _request_timeout=REQUEST_TIMEOUT_SECONDS, **selectors).items)

    def census(self, namespace: str) -> str:
        """How many objects of each common kind the namespace holds, e.g. `12 Deployment, 30 Secret`."""
        counts = {kind: len(self.list(api_version, kind, namespace)) for api_version, kind in CENSUS_KINDS}
        return ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)

    def unready_workloads(self, namespace: str) -> list[str]:
        """Deployments and StatefulSets without all replicas ready, and Jobs not complete."""
        problems = []
        for api_version, kind in WORKLOAD_KINDS:
            for item in self.list(api_version, kind, namespace):
                if not _ready(kind, item):
                    problems.append(f"{kind} {item.metadata.name}: {dict(item.status or {})}")
        return problems

    def wait_workloads_ready(self, namespace: str, timeout: float = 120) -> list[str]:
        """Wait (bounded) until every workload of the namespace is ready; what is still not ready."""
        deadline = time.monotonic() + timeout
        problems = self.unready_workloads(namespace)
        while problems and time.monotonic() < deadline:
            time.sleep(2)
            problems = self.unready_workloads(namespace)
        return problems


def _ready(kind: str, item: Any) -> bool:
    status = item.status or {}
    if kind == "Job":
        return any(c.type == "Complete" and c.status == "True" for c in (status.conditions or []))
    wanted = item.spec.replicas if item.spec.replicas is not None else 1
    return (status.readyReplicas or 0) >= wanted


def declared_objects(export: dict[str, Any]) -> list[ObjectRef]:
    """The Kubernetes objects a stack's state says exist (not Helm releases: their objects are the chart's)."""
    refs = []
    for resource in export["deployment"].get("resources", []):
        kind = resource["type"]
        if not kind.startswith("kubernetes:") or kind.startswith(("kubernetes:helm.sh", "pulumi:providers")):
            continue
        outputs = resource.get("outputs", {})
        metadata = outputs.get("metadata", {})
        refs.append(ObjectRef(outputs["apiVersion"], outputs["kind"], metadata["name"], metadata.get("namespace")))
    return refs
