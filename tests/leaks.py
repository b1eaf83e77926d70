"""Finding secret values where they must not be: plaintext inputs, Helm values, ConfigMaps, outputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi.runtime import rpc

from floe_infra.preview.runtime import ProgramRun

SINK_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:core/v1:ConfigMap")


def strings(value: Any, wrapped: bool = False) -> Iterator[tuple[str, bool]]:
    """(string, inside a secret wrapper) for every string of a value."""
    if rpc.is_rpc_secret(value):
        yield from strings(rpc.unwrap_rpc_secret(value), True)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key), wrapped
            yield from strings(item, wrapped)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, wrapped)
    elif isinstance(value, str):
        yield value, wrapped


def leaks(run: ProgramRun, secrets: set[str]) -> list[str]:
    """Where a secret value appears in plaintext, or anywhere at all in Helm values, ConfigMaps, labels,
    annotations or non-secret stack outputs (places that are stored or shown in plaintext)."""
    found = []
    for resource in run.resources:
        for where, data in (("inputs", resource.inputs), ("outputs", resource.outputs)):
            sink = resource.type in SINK_TYPES
            metadata = data.get("metadata", {}) if isinstance(data, dict) else {}
            for text, wrapped in strings(data):
                if any(secret in text for secret in secrets) and (sink or not wrapped):
                    found.append(f"{resource.type} {resource.name} {where}")
            for text, _ in strings({k: metadata.get(k) for k in ("labels", "annotations")}):
                if any(secret in text for secret in secrets):
                    found.append(f"{resource.type} {resource.name} metadata")
    for key, value in run.outputs.items():
        if key not in run.secret_outputs and any(s in text for text, _ in strings(value) for s in secrets):
            found.append(f"stack output {key}")
    return sorted(set(found))


def without_secret_wrappers(value: Any) -> Any:
    """Inputs with secret wrappers removed, as an API server or a policy pack receives them."""
    if rpc.is_rpc_secret(value):
        return without_secret_wrappers(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: without_secret_wrappers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secret_wrappers(v) for v in value]
    return value
