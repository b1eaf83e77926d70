"""The platform project (`floe-platform`): one platform stack per environment."""

from floe_infra.platform.program import run_platform

run_platform()
