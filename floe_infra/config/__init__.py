"""Configuration models of both tiers and their loader.

`platform.yaml` (platform team) -> `PlatformConfig`; `floe.yaml` (data team) -> `PipelineConfig`.
Models are plain pydantic; nothing here imports Pulumi.
"""

from floe_infra.config.loader import Loaded, load_configuration, load_pipeline, load_platform
from floe_infra.config.pipeline import PipelineConfig
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import Tenant, resolve_tenants

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
