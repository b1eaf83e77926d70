"""`floe-infra maintenance run`: the commands of docs/operations.md as written, and the job's own command."""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField

from floe_infra.cli import main
from tests.conftest import REPO
from tests.iceberg.rest_catalog import RestCatalogServer
from tests.platform.conftest import demo_run

PLATFORM = """\
storage:
  default: {bucket: acme-gold}
layers:
  gold: {name: gold, storage_ref: default, namespace: lakehouse.gold, retention_days: 30}
catalogs:
  default: {uri: 'https://polaris.example.com/api/catalog', warehouse: lakehouse}
"""
SCHEMA = Schema(NestedField(1, "id", LongType(), required=True))
DAY = 86_400


def documented_commands() -> list[str]:
    """The `floe-infra maintenance run` lines of docs/operations.md's "Running it by hand"."""
    text = (REPO / "docs/operations.md").read_text()
    block = re.search(r"### Running it by hand.*?```bash[^\n]*\n(.*?)```", text, re.DOTALL)
    assert block is not None
    return [line.split("#")[0].strip() for line in block.group(1).splitlines()
            if line.startswith("floe-infra maintenance run")]


@pytest.fixture
def catalog_server(tmp_path):
    server = RestCatalogServer(tmp_path / "rest")
    server.start()
    yield server
    server.stop()


def old_table(server: RestCatalogServer):
    """A tenant's table with two snapshots and a file a failed write left, all days old."""
    server.backing.create_namespace(("gold",))
    server.backing.create_namespace(("gold", "sales"))
    table = server.backing.create_table(("gold", "sales", "orders"), SCHEMA,
                                        properties={"history.expire.max-snapshot-age-ms": "1"})
    table.append(pa.table({"id": [1]}, schema=table.schema().as_arrow()))
    table.append(pa.table({"id": [2]}, schema=table.schema().as_arrow()))
    stray = Path(table.location().removeprefix("file://")) / "data" / "left-by-a-failed-write.parquet"
    stray.write_bytes(b"PAR1")
    days_ago = time.time() - 4 * DAY
    os.utime(stray, (days_ago, days_ago))
    return stray


def test_the_documented_commands_run_as_written(catalog_server, tmp_path, monkeypatch, capsys):
    stray = old_table(catalog_server)
    (tmp_path / "platform.yaml").write_text(PLATFORM)
    monkeypatch.chdir(tmp_path)
    dry_run, real_run = documented_commands()
    assert main([*shlex.split(dry_run)[1:], "--catalog-uri", catalog_server.url]) == 0
    out = capsys.readouterr().out
    assert "dry run, nothing changed" in out
    assert "1 snapshots expired, would delete 1 unreferenced files" in out
    assert stray.exists()
    assert len(catalog_server.backing.load_table(("gold", "sales", "orders")).snapshots()) == 2

    assert main([*shlex.split(real_run)[1:], "--catalog-uri", catalog_server.url, "--json"]) == 0
    [report] = json.loads(capsys.readouterr().out)["tables"]
    assert report["table"] == "gold.sales.orders"
    assert len(report["expired_snapshots"]) == 1
    assert report["unreferenced_files"] == [f"file://{stray}"]
    assert not stray.exists()
    table = catalog_server.backing.load_table(("gold", "sales", "orders"))
    assert len(table.snapshots()) == 1
    assert sorted(table.scan().to_arrow()["id"].to_pylist()) == [1, 2]


def test_the_cronjob_runs_the_plan_the_platform_stack_wrote(catalog_server, tmp_path, capsys):
    old_table(catalog_server)
    plan = tmp_path / "plan.json"
    plan.write_text(demo_run("local").named("floe-maintenance-plans").inputs["data"]["gold.json"])
    # The in-cluster catalog URI is not reachable here: the option replaces it, as for a run by hand.
    assert main(["maintenance", "run", "--plan", str(plan), "--catalog-uri", catalog_server.url]) == 0
    assert "1 tables: 1 snapshots expired, deleted 1 unreferenced files" in capsys.readouterr().out


def test_a_layer_without_retention_and_a_bad_plan_are_invalid_input(tmp_path, capsys):
    (tmp_path / "platform.yaml").write_text(PLATFORM.replace(", retention_days: 30", ""))
    assert main(["maintenance", "run", "--platform", str(tmp_path / "platform.yaml"), "--layer", "gold"]) == 2
    assert "layer 'gold' has no retention" in capsys.readouterr().err
    (tmp_path / "plan.json").write_text('{"layer": "gold", "properties": {"s3.secret-access-key": "x"}}')
    assert main(["maintenance", "run", "--plan", str(tmp_path / "plan.json")]) == 2
    assert "is not a maintenance plan" in capsys.readouterr().err


def test_an_unreachable_catalog_is_a_runtime_failure_naming_it(tmp_path, capsys):
    (tmp_path / "platform.yaml").write_text(PLATFORM)
    assert main(["maintenance", "run", "--platform", str(tmp_path / "platform.yaml"), "--layer", "gold",
                 "--catalog-uri", "http://127.0.0.1:9"]) == 1
    assert "http://127.0.0.1:9" in capsys.readouterr().err
