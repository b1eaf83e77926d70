"""Inputs as the real Pulumi engine hands them to a dynamic provider (mocks hand them over untouched)."""

from __future__ import annotations

from typing import Any


def as_the_engine_sends(value: Any) -> Any:
    """`value` without its null map entries: the engine drops a property whose value is None."""
    if isinstance(value, dict):
        return {k: as_the_engine_sends(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [as_the_engine_sends(v) for v in value]
    return value
