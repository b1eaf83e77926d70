"""floe-infra: the floe lakehouse platform and its pipelines as Pulumi code."""

__version__ = "0.1.0"
