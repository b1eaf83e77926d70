"""How Polaris keeps and compares a namespace's location in object storage.

Stdlib only: the Polaris provider process compares locations on every namespace it reconciles and
must not build the configuration models to do it (`floe_infra/config/layout.py` computes the
locations themselves).
"""

from __future__ import annotations

# The namespace property Polaris keeps a namespace's location in (PolarisEntityConstants.ENTITY_BASE_LOCATION).
LOCATION = "location"


def without_scheme(location: str) -> str:
    """How Polaris compares S3 locations (`S3Location`): `s3` and `s3a` alike, slash-terminated."""
    rest = location.split(":", 1)[1] if location.startswith(("s3:", "s3a:")) else location
    return rest if rest.endswith("/") else rest + "/"


def same_location(a: str, b: str) -> bool:
    """Whether Polaris takes two namespace locations for the same place (`StorageLocation.equals` after it adds
    the trailing slash)."""
    return without_scheme(a) == without_scheme(b)
