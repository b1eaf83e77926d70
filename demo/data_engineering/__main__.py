"""The pipeline project of floe.yaml: its code location, tables and Cube models on the platform."""

from floe_infra.pipeline.program import run_pipeline

run_pipeline()
