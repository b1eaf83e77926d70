"""The platform's own Kubernetes objects are valid manifests (checked offline against the API schemas)."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from tests.leaks import without_secret_wrappers
from tests.platform.conftest import DEMO_STACKS, demo_run

KUBERNETES_VERSION = "1.31"


def manifests(stack: str) -> list[tuple[str, dict[str, Any]]]:
    objects = [(r.name, without_secret_wrappers(r.inputs)) for r in demo_run(stack).resources
               if r.type.startswith("kubernetes:") and r.custom and "helm.sh" not in r.type
               and not r.type.startswith("pulumi:providers")]
    assert objects
    return objects


@pytest.mark.parametrize("stack", sorted(DEMO_STACKS))
def test_every_plain_object_is_a_valid_kubernetes_manifest(stack: str):
    for name, manifest in manifests(stack):
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name} ({manifest['kind']}): {exc.message} at {list(exc.path)}")


def test_validation_catches_a_broken_manifest():
    _, deployment = next((n, m) for n, m in manifests("local") if m["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "three"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("stack", sorted(DEMO_STACKS))
def test_every_platform_container_has_requests_and_limits(stack: str):
    for name, manifest in manifests(stack):
        spec = manifest.get("spec", {})
        pod = spec.get("template", {}).get("spec") or {}
        for container in pod.get("containers", []):
            resources = container.get("resources", {})
            assert resources.get("requests"), f"{name}/{container['name']}"
            assert resources.get("limits"), f"{name}/{container['name']}"
