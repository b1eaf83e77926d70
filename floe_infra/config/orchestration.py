"""The orchestration section of floe.yaml: Dagster assets, jobs, schedules and sensors."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field

from floe_infra.config.base import FloeModel, RuntimeSection

MODULE_PATH_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)*$")
FUNCTION_PATH_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)+$")
IDENTIFIER_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")
CRON_FIELD_RE = re.compile(r"^[0-9A-Za-z*,/?#LW-]+$")


def check_module_path(value: str) -> str:
    """A Python module path such as `package.module`."""
    if not MODULE_PATH_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a Python module path (package.module)")
    return value


def check_function_path(value: str) -> str:
    """A `module.function` reference."""
    if not FUNCTION_PATH_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a module.function reference")
    return value


def check_identifier(value: str) -> str:
    """Job, schedule and sensor names: a letter, then letters, digits and '_'."""
    if not IDENTIFIER_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid name: use a letter, then letters, digits and '_'")
    return value


def check_cron(value: str) -> str:
    """A 5- or 6-field cron expression."""
    fields = value.split()
    if len(fields) not in (5, 6) or not all(CRON_FIELD_RE.fullmatch(f) for f in fields):
        raise ValueError(f"'{value}' is not a cron expression with 5 or 6 fields, e.g. '*/5 * * * *'")
    return value


Identifier = Annotated[str, AfterValidator(check_identifier)]
ModulePath = Annotated[str, AfterValidator(check_module_path)]
FunctionPath = Annotated[str, AfterValidator(check_function_path)]
Cron = Annotated[str, AfterValidator(check_cron)]


class DbtObservability(StrEnum):
    """Asset granularity of dbt models in Dagster."""

    PER_MODEL = "per_model"
    JOB_LEVEL = "job_level"


class DbtOrchestration(FloeModel):
    """Where Dagster finds the dbt project and manifest (paths relative to the code image)."""

    manifest_path: str = Field(description="Path to dbt's manifest.json.")
    observability_level: DbtObservability = Field(default=DbtObservability.PER_MODEL, description="Granularity.")
    project_dir: str | None = Field(default=None, description="dbt project directory.")
    profiles_dir: str | None = Field(default=None, description="dbt profiles directory.")
    target: Identifier | None = Field(default=None, description="dbt target name.")


class BatchJob(FloeModel):
    """A job materializing an asset selection."""

    type: Literal["batch"] = Field(default="batch", description="Job kind.")
    selection: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="Asset selection: group:x, tag:x, asset names, +upstream, downstream+."
    )
    description: str | None = Field(default=None, max_length=500, description="What the job does.")
    tags: dict[str, str] | None = Field(default=None, description="Run tags.")


class OpsJob(FloeModel):
    """A job running one Python function."""

    type: Literal["ops"] = Field(default="ops", description="Job kind.")
    target_function: FunctionPath = Field(description="module.function to run.")
    args: dict[str, Any] | None = Field(default=None, description="Keyword arguments (no infrastructure).")
    description: str | None = Field(default=None, max_length=500, description="What the job does.")
    tags: dict[str, str] | None = Field(default=None, description="Run tags.")


JobDefinition = Annotated[BatchJob | OpsJob, Discriminator("type")]


class Schedule(FloeModel):
    """A cron schedule of a job."""

    job: Identifier = Field(description="Job to run (a key of orchestration.jobs).")
    cron_schedule: Cron = Field(description="Cron expression.")
    timezone: str = Field(default="UTC", description="IANA timezone of the schedule.")
    enabled: bool = Field(default=True, description="Whether the schedule starts running.")
    partition_selector: Literal["latest", "all"] | None = Field(default=None, description="Partitions to run.")
    description: str | None = Field(default=None, max_length=500, description="What it is for.")


class FileWatcherSensor(FloeModel):
    """Runs a job when a local file appears."""

    type: Literal["file_watcher"] = Field(default="file_watcher", description="Sensor kind.")
    job: Identifier = Field(description="Job to run.")
    path: str = Field(description="Local directory to watch.")
    pattern: str | None = Field(default=None, description="Regex of file names.")
    poll_interval_seconds: int = Field(default=30, ge=1, description="Polling interval.")
    description: str | None = Field(default=None, max_length=500, description="What it is for.")


class AssetSensor(FloeModel):
    """Runs a job when assets materialize."""

    type: Literal["asset_sensor"] = Field(default="asset_sensor", description="Sensor kind.")
    job: Identifier = Field(description="Job to run.")
    watched_assets: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1, description="Assets.")
    poll_interval_seconds: int = Field(default=30, ge=1, description="Polling interval.")
    description: str | None = Field(default=None, max_length=500, description="What it is for.")


class RunStatusSensor(FloeModel):
    """Runs a job when other jobs reach a status."""

    type: Literal["run_status"] = Field(default="run_status", description="Sensor kind.")
    job: Identifier = Field(description="Job to run.")
    watched_jobs: list[Identifier] = Field(min_length=1, description="Jobs watched.")
    status: Literal["SUCCESS", "FAILURE", "STARTED"] = Field(description="Status that triggers.")
    poll_interval_seconds: int = Field(default=30, ge=1, description="Polling interval.")
    description: str | None = Field(default=None, max_length=500, description="What it is for.")


class CustomSensor(FloeModel):
    """Runs a job when a Python function says so."""

    type: Literal["custom"] = Field(default="custom", description="Sensor kind.")
    job: Identifier = Field(description="Job to run.")
    target_function: FunctionPath = Field(description="module.function deciding.")
    args: dict[str, Any] | None = Field(default=None, description="Keyword arguments.")
    poll_interval_seconds: int = Field(default=30, ge=1, description="Polling interval.")
    description: str | None = Field(default=None, max_length=500, description="What it is for.")


SensorDefinition = Annotated[
    FileWatcherSensor | AssetSensor | RunStatusSensor | CustomSensor, Discriminator("type")
]


class OrchestrationConfig(FloeModel):
    """Dagster definitions declared in floe.yaml."""

    asset_modules: list[ModulePath] = Field(default_factory=list, description="Modules with Dagster assets.")
    dbt: DbtOrchestration | None = Field(default=None, description="dbt integration.")
    partitions: dict[Identifier, RuntimeSection] = Field(default_factory=dict, description="Partitions.")
    assets: dict[str, RuntimeSection] = Field(default_factory=dict, description="Per-asset settings by glob.")
    jobs: dict[Identifier, JobDefinition] = Field(default_factory=dict, description="Jobs by name.")
    schedules: dict[Identifier, Schedule] = Field(default_factory=dict, description="Schedules by name.")
    sensors: dict[Identifier, SensorDefinition] = Field(default_factory=dict, description="Sensors by name.")
    backfills: dict[Identifier, RuntimeSection] = Field(default_factory=dict, description="Backfills.")
