"""The code location's `Definitions`: assets, and the jobs and schedules floe.yaml declares.

`dagster code-server start -m orchestration.definitions` loads this module. Jobs and schedules
are not repeated here: they are read from floe.yaml (the copy the platform mounts, or the
project's own when run locally), so the data team declares them in one place.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from dagster import (
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
)
from dagster_dbt import DbtCliResource

from orchestration.assets import PROJECT_DIR, LakehouseResource, bronze_tables, dbt_models, dbt_project


def pipeline_file() -> Path:
    """floe.yaml: the platform's compiled copy in the cluster, the project's own elsewhere."""
    mounted = os.environ.get("FLOE_PIPELINE_FILE")
    return Path(mounted) if mounted and Path(mounted).is_file() else PROJECT_DIR / "floe.yaml"


def selection(terms: list[str]) -> AssetSelection:
    """floe.yaml's selection terms: `group:x`, `tag:k=v`, `*`, or an asset key `a/b`; `+` before a term
    adds what it depends on, `+` after adds what depends on it."""
    selected = AssetSelection.assets()
    for raw in terms:
        upstream, downstream = raw.startswith("+"), raw.endswith("+")
        term = raw.strip("+")
        if term == "*":
            part = AssetSelection.all()
        elif term.startswith("group:"):
            part = AssetSelection.groups(term.removeprefix("group:"))
        elif term.startswith("tag:"):
            key, _, value = term.removeprefix("tag:").partition("=")
            part = AssetSelection.tag(key, value)
        else:
            part = AssetSelection.assets(AssetKey(term.split("/")))
        if upstream:
            part = part.upstream()
        if downstream:
            part = part.downstream()
        selected = selected | part
    return selected


def jobs_and_schedules(orchestration: Mapping[str, Any]) -> tuple[list[Any], list[ScheduleDefinition]]:
    """floe.yaml's `orchestration.jobs` and `orchestration.schedules` as Dagster objects."""
    jobs = {name: define_asset_job(name, selection=selection(job["selection"]), description=job.get("description"),
                                   tags=job.get("tags"))
            for name, job in (orchestration.get("jobs") or {}).items()}
    schedules = [ScheduleDefinition(name=name, job=jobs[spec["job"]], cron_schedule=spec["cron_schedule"],
                                    execution_timezone=spec.get("timezone", "UTC"), description=spec.get("description"),
                                    default_status=DefaultScheduleStatus.RUNNING if spec.get("enabled", True)
                                    else DefaultScheduleStatus.STOPPED)
                 for name, spec in (orchestration.get("schedules") or {}).items()]
    return list(jobs.values()), schedules


def dbt_executable() -> str:
    """dbt from PATH, or the one installed next to this interpreter (a virtualenv that is not activated)."""
    return shutil.which("dbt") or str(Path(sys.executable).parent / "dbt")


def build_definitions() -> Definitions:
    """Everything this code location serves."""
    pipeline = yaml.safe_load(pipeline_file().read_text(encoding="utf-8"))
    jobs, schedules = jobs_and_schedules(pipeline.get("orchestration") or {})
    return Definitions(
        assets=[bronze_tables, dbt_models],
        jobs=jobs,
        schedules=schedules,
        resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
                   "lakehouse": LakehouseResource()},
    )


defs = build_definitions()
