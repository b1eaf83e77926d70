"""Which contracts a pipeline deploys on: the reader's version against what the contract needs.

This floe-infra is a reader of contract `READER_VERSION` (a constant of the code, 1.3). A pipeline on an
older floe-infra cannot be run here, so the tests move the story one minor up, honestly: they build the
contract JSON a newer platform would publish (1.4, with fields this reader does not know) and check
that this reader is refused when that contract needs 1.4 readers, and deploys when it does not. The
platform side (what it says it needs) is checked on the real platform program.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from floe_infra.cli import main
from floe_infra.contract import CONTRACT_VERSION, READER_VERSION, PlatformContract, parse_contract, unknown_fields
from floe_infra.errors import ContractError, ExitCode
from floe_infra.preview.runtime import ProgramRun
from tests.conftest import DEMO_PIPELINE, DEMO_PLATFORM
from tests.pipeline.conftest import demo_pipeline, platform_contract, run_pipeline_stack
from tests.pipeline.test_pipeline_errors import run_error
from tests.platform.conftest import run_platform_stack

TENANT = "ecommerce-analytics"
RELEASE = "kubernetes:helm.sh/v3:Release"


def registered(run: ProgramRun) -> list[tuple[str, str]]:
    """Every resource a run registered, with its inputs, in a stable order."""
    return sorted((r.urn, json.dumps(r.inputs, sort_keys=True, default=str)) for r in run.resources)


def newer_contract(min_reader: str) -> dict[str, Any]:
    """The contract a 1.4 platform would publish for the demo: two fields this 1.3 reader does not know, one of
    them per tenant (pods would have to act on it), and the readers it needs."""
    contract = platform_contract() | {"contract_version": "1.4.0", "min_reader_version": min_reader,
                                      "maintenance": {"window": "sun 02:00"}}
    contract["tenants"][TENANT]["storage_credentials_expiry"] = "2027-01-01T00:00:00Z"
    return contract


def test_this_floe_infra_is_a_reader_of_its_own_contract_version():
    assert READER_VERSION == ".".join(CONTRACT_VERSION.split(".")[:2]) == "1.3"


def test_a_reader_older_than_the_contract_needs_refuses_to_deploy_naming_both_versions_and_the_upgrade():
    message = run_error(contract=newer_contract("1.4"))
    assert ("the platform contract (version 1.4.0) needs pipelines that read contract 1.4 or later, but this "
            "floe-infra reads contract 1.3 (1.3.0)") in message
    # What it would have ignored, so the data team sees why.
    assert f"(maintenance, tenants.{TENANT}.storage_credentials_expiry)" in message
    assert "upgrade floe-infra in the pipeline project (its requirements.txt) to a release that reads contract 1.4" \
        in message


@pytest.mark.parametrize("min_reader", ["1.3", "1.1"])
def test_a_reader_the_contract_does_not_exclude_deploys_and_ignores_what_it_does_not_know(min_reader: str):
    run = run_pipeline_stack(newer_contract(min_reader))
    # Exactly what it deploys on the contract of its own version: the unknown fields change nothing.
    assert registered(run) == registered(demo_pipeline())


def test_unknown_fields_are_found_at_every_level_the_reader_models():
    contract = newer_contract("1.4")
    contract["dagster"]["run_retries"] = 3
    contract["storage"]["default"]["kms_key"] = "alias/x"
    assert sorted(unknown_fields(PlatformContract, contract)) == [
        "dagster.run_retries", "maintenance", "storage.default.kms_key",
        f"tenants.{TENANT}.storage_credentials_expiry"]
    assert unknown_fields(PlatformContract, platform_contract()) == []


def test_a_contract_says_it_needs_key_rotation_readers_once_a_tenants_keys_were_rotated(tmp_path: Path):
    # The 1.1-reader-against-1.2 story as the platform tells it: a 1.1 pipeline would ignore
    # storage_credentials_rotation and keep the revoked keys, so once a tenant's keys are rotated, the contract
    # needs 1.2 readers; before that, 1.1 readers are enough.
    assert parse_contract(platform_contract()).min_reader_version == "1.1"
    path = tmp_path / "platform.yaml"
    path.write_text(DEMO_PLATFORM.read_text().replace(
        "deployment:\n", f"deployment:\n  rotate: {{{TENANT}-s3-credentials: 1}}\n", 1))
    rotated = parse_contract(run_platform_stack("local", str(path)).outputs["contract"])
    assert rotated.min_reader_version == "1.2"


def test_a_malformed_reader_version_is_a_precise_error():
    with pytest.raises(ContractError, match=r"malformed at min_reader_version: 'soon' is not 1\.MINOR"):
        parse_contract(platform_contract() | {"min_reader_version": "soon"})


def test_validate_against_a_contract_file_refuses_it_the_same_way(tmp_path: Path, capsys):
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(newer_contract("1.4")))
    assert main(["validate", "--pipeline", str(DEMO_PIPELINE), "--contract", str(path)]) == ExitCode.INVALID
    assert f"{path}: the platform contract (version 1.4.0) needs pipelines that read contract 1.4" \
        in capsys.readouterr().err


# --- the upgrade window: the previous major beside the new one ------------------------------------------------

def next_major() -> dict[str, Any]:
    """A contract a 2.0 platform would publish: another shape (what a major version may change)."""
    contract = copy.deepcopy(platform_contract()) | {"contract_version": "2.0.0", "min_reader_version": "2.0"}
    contract["tenants"] = {name: {"identity": tenant} for name, tenant in contract["tenants"].items()}
    return contract


def test_during_the_upgrade_window_a_pipeline_deploys_on_the_contract_of_its_own_major(caplog):
    # (Under the mock runtime, the engine's warnings go to Python logging.)
    with caplog.at_level(logging.WARNING):
        run = run_pipeline_stack(next_major(), other_outputs={"contract_v1": platform_contract()})
    assert registered(run) == registered(demo_pipeline())
    [warning] = [r.getMessage() for r in caplog.records if "upgrade window" in r.getMessage()]
    assert ("the platform publishes contract 2.0.0 and, for pipelines that read 1.x, contract 1.3.0 as "
            "`contract_v1` during its upgrade window: this pipeline deploys on the latter") in warning
    assert "upgrade floe-infra in the pipeline project to a release that reads 2.x" in warning


def test_after_the_upgrade_window_a_pipeline_is_refused_with_the_upgrade_it_needs():
    message = run_error(contract=next_major())
    assert "exports contract version 2.0.0, but this floe-infra reads contract version 1.x (1.3.0)" in message
    assert "upgrade floe-infra in the pipeline project to a release that reads 2.x" in message
    assert "`pulumi stack output contract_v1 --json`" in message


def test_a_window_output_of_the_same_major_is_not_preferred_over_the_contract():
    # Only a newer `contract` sends the reader to `contract_v1`: a stale one beside a current contract is ignored.
    stale = platform_contract() | {"namespace": "elsewhere"}
    run = run_pipeline_stack(platform_contract(), other_outputs={"contract_v1": stale})
    assert {r.inputs.get("namespace") for r in run.of_type(RELEASE)} == {"floe"}
