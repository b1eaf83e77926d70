"""Workloads roll when a ConfigMap or Secret they read changes: `FLOE_CONFIG_DIGEST` in their pod templates.

The mock runtime gives ConfigMaps and Secrets a version that changes with what is written, as the
API server does, so these runs see what a real `pulumi up` would change.
"""

from __future__ import annotations

from typing import Any

import pytest

from floe_infra.kube.rollout import CONFIG_DIGEST_ENV
from floe_infra.preview.runtime import ProgramRun
from tests.conftest import REPO
from tests.platform.conftest import DEMO_STACKS, run_platform_stack, values

DEV = DEMO_STACKS["dev"]
DEV_TEXT = (REPO / DEV).read_text()


def digest(env: list[dict[str, Any]] | dict[str, Any]) -> str:
    if isinstance(env, dict):
        return env[CONFIG_DIGEST_ENV]
    [entry] = [e for e in env if e["name"] == CONFIG_DIGEST_ENV]
    return entry["value"]


def digests(run: ProgramRun) -> dict[str, str]:
    """The digest in every workload floe-infra configures, by workload."""
    dagster = values(run, "floe-orchestration-dagster")
    cubestore = values(run, "floe-semantic-cubestore")
    marquez = run.named("floe-lineage-api").inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    return {
        "minio": digest(values(run, "floe-storage-minio")["environment"]),
        "polaris": digest(values(run, "floe-catalog-polaris")["extraEnv"]),
        "dagster-webserver": digest(dagster["dagsterWebserver"]["env"]),
        "dagster-daemon": digest(dagster["dagsterDaemon"]["env"]),
        "cube": digest(values(run, "floe-semantic-cube")["extraEnvVars"]),
        "cubestore-router": digest(cubestore["router"]["extraEnvVars"]),
        "cubestore-workers": digest(cubestore["workers"]["extraEnvVars"]),
        "marquez": digest(marquez),
    }


def setup_job_name(run: ProgramRun) -> str:
    return run.named("floe-database-setup").inputs["metadata"]["name"]


@pytest.fixture(scope="module")
def before() -> ProgramRun:
    return run_platform_stack("dev", DEV)


def test_every_workload_reading_our_configmaps_or_secrets_carries_the_digest(before):
    assert all(len(value) == 16 for value in digests(before).values())


def test_rotating_the_dagster_database_password_rolls_what_reads_it_and_reruns_the_setup(before, write_yaml):
    rotate = DEV_TEXT.replace("deployment:\n", "deployment:\n  rotate: {floe-dagster-db: 1}\n", 1)
    rotated = run_platform_stack("dev", str(write_yaml(rotate, "platform.dev.yaml")))
    changed = {w for w, value in digests(rotated).items() if value != digests(before)[w]}
    assert changed == {"dagster-webserver", "dagster-daemon"}
    # The setup Job that sets the role's password runs again under a new name.
    assert setup_job_name(rotated) != setup_job_name(before)


def test_a_new_transform_setting_rolls_dagster_only(before, write_yaml):
    changed_env = DEV_TEXT.replace('DUCKDB_THREADS: "4"', 'DUCKDB_THREADS: "8"')
    assert changed_env != DEV_TEXT
    run = run_platform_stack("dev", str(write_yaml(changed_env, "platform.dev.yaml")))
    changed = {w for w, value in digests(run).items() if value != digests(before)[w]}
    assert changed == {"dagster-webserver", "dagster-daemon"}
    assert setup_job_name(run) == setup_job_name(before)
