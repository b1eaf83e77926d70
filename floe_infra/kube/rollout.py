"""Rollouts on configuration changes: the digest every workload floe-infra configures carries."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

# In the pod template of every workload floe-infra configures: a digest of what it reads (see config_digest).
CONFIG_DIGEST_ENV = "FLOE_CONFIG_DIGEST"


def config_digest(objects: Sequence[k8s.core.v1.ConfigMap | k8s.core.v1.Secret],
                  *extra: pulumi.Input[str]) -> pulumi.Output[str]:
    """A short digest of the versions of the ConfigMaps and Secrets a workload reads, and of `extra`.

    Kubernetes restarts nothing when a ConfigMap or Secret changes (and never updates files mounted
    with subPath): a workload carrying this digest in its pod template (`FLOE_CONFIG_DIGEST`) rolls
    when one of them changes, a rotated password or a new setting included. Object versions
    (`resourceVersion`) change exactly when the object is written, and carry no value of a Secret.
    """
    versions = [o.metadata.apply(lambda m: (m.resource_version or "") if m else "") for o in objects]
    return pulumi.Output.all(*versions, *extra).apply(
        lambda parts: hashlib.sha256("\n".join(str(p) for p in parts).encode()).hexdigest()[:16])


def config_digest_env(objects: Sequence[k8s.core.v1.ConfigMap | k8s.core.v1.Secret],
                      *extra: pulumi.Input[str]) -> dict[str, Any]:
    """`config_digest` as an env var entry of a Helm values env list."""
    return {"name": CONFIG_DIGEST_ENV, "value": config_digest(objects, *extra)}
