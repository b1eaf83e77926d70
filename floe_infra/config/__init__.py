"""Configuration models of both tiers and their loader.

`platform.yaml` (platform team) -> `PlatformConfig`; `floe.yaml` (data team) -> `PipelineConfig`.
Models are plain pydantic; nothing here imports Pulumi.

The names below are imported on first use: importing one small module of this package (the key
codecs in `base`, which the Polaris provider process needs) does not build every model's schema.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from floe_infra.config.loader import Loaded, load_configuration, load_pipeline, load_platform
    from floe_infra.config.pipeline import PipelineConfig
    from floe_infra.config.platform import PlatformConfig
    from floe_infra.config.tenancy import Tenant, resolve_tenants

_EXPORTS = {
    "Loaded": "floe_infra.config.loader",
    "PipelineConfig": "floe_infra.config.pipeline",
    "PlatformConfig": "floe_infra.config.platform",
    "Tenant": "floe_infra.config.tenancy",
    "load_configuration": "floe_infra.config.loader",
    "load_pipeline": "floe_infra.config.loader",
    "load_platform": "floe_infra.config.loader",
    "resolve_tenants": "floe_infra.config.tenancy",
}

__all__ = [
    "Loaded",
    "PipelineConfig",
    "PlatformConfig",
    "Tenant",
    "load_configuration",
    "load_pipeline",
    "load_platform",
    "resolve_tenants",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
