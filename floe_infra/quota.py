"""Namespace quota arithmetic shared by the platform (which plans what it runs) and the guardrails."""

from __future__ import annotations

import re

# The ResourceQuota keys floe-infra plans, and the annotation prefix carrying the plan on the quota.
QUOTA_KEYS = ("pods", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
PLANNED_ANNOTATION = "floe.dev/planned-"
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$")
_FACTORS = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def quantity(text: str) -> float:
    """A Kubernetes quantity as a number: CPU in cores, memory in bytes."""
    match = _QUANTITY.match(str(text).strip())
    if match is None or match.group(2) not in _FACTORS:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    return float(match.group(1)) * _FACTORS[match.group(2)]
