"""`floe-infra tables`: JSON plans, distinct exit codes, typed errors without tracebacks, concurrent applies."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest
import yaml
from filelock import FileLock
from pyiceberg.types import StringType

from floe_infra import tables_cli
from floe_infra.cli import main
from floe_infra.errors import ExitCode
from floe_infra.iceberg import engine
from floe_infra.iceberg.catalogs import embedded_target, open_catalog
from tests.conftest import DEMO_PLATFORM, REPO
from tests.iceberg.rest_catalog import RestCatalogServer
from tests.loopback import FAST, SHORT, Fault

ORDERS = {"name": "orders", "layer": "bronze", "columns": [{"name": "order_id", "type": "long", "required": True},
                                                            {"name": "channel", "type": "string"}]}


def floe_yaml(directory: Path, *tables: dict) -> Path:
    """A floe.yaml of the demo tenant declaring these tables."""
    path = directory / "floe.yaml"
    path.write_text(yaml.safe_dump({"name": "ecommerce-analytics", "version": "1.0.0", "tables": list(tables)}))
    return path


def tables(action: str, pipeline: Path, *extra: str) -> int:
    return main(["tables", action, "--platform", str(DEMO_PLATFORM), "--pipeline", str(pipeline), *extra])


@pytest.fixture
def here(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_plan_json_lists_every_table_with_its_action_changes_reasons_and_drift(here, capsys):
    pipeline = floe_yaml(here, ORDERS)
    assert tables("apply", pipeline, "--embedded") == ExitCode.OK
    catalog = open_catalog(embedded_target(here))
    with catalog.load_table(("bronze", "ecommerce_analytics", "orders")).update_schema() as update:
        update.add_column("coupon", StringType())
    capsys.readouterr()
    changed = {**ORDERS, "columns": [*ORDERS["columns"], {"name": "note", "type": "string"}]}
    floe_yaml(here, changed, {**ORDERS, "name": "returns"})
    assert tables("plan", pipeline, "--embedded", "--json") == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == 1
    assert document["catalog"].startswith("sqlite:///")
    assert [(t["table"], t["action"]) for t in document["tables"]] == [
        ("bronze.ecommerce_analytics.orders", "evolve"), ("bronze.ecommerce_analytics.returns", "create")]
    orders = document["tables"][0]
    assert orders["changes"] == [{"kind": "add column", "target": "note", "detail": "string",
                                  "text": "add column note: string", "opt_in": None, "never": False}]
    assert orders["drift"] == ["column coupon: string (added outside floe-infra; left as is)"]
    assert document["summary"] == {"create": 1, "adopt": 0, "evolve": 1, "unchanged": 0, "refused": 0}


def test_a_refused_change_exits_4_and_applies_nothing_of_that_table(here, capsys):
    pipeline = floe_yaml(here, ORDERS)
    assert tables("apply", pipeline, "--embedded") == ExitCode.OK
    capsys.readouterr()
    floe_yaml(here, {**ORDERS, "columns": [ORDERS["columns"][0], {"name": "channel", "type": "int"}],
                     "allow_breaking_changes": ["drop_columns", "make_required", "replace_partitioning"]})
    assert tables("apply", pipeline, "--embedded", "--json") == ExitCode.REFUSED
    captured = capsys.readouterr()
    [orders] = json.loads(captured.out)["tables"]
    assert orders["action"] == "refused"
    # At the column in floe.yaml, as validation problems are (yaml.safe_dump puts it on line 11).
    assert orders["reasons"][0].startswith(f"{pipeline}:11:5: tables[0].columns[1]: change type channel: string -> "
                                           "int is never applied")
    assert "1 table(s) refused" in captured.err
    schema = open_catalog(embedded_target(here)).load_table(("bronze", "ecommerce_analytics", "orders")).schema()
    assert str(schema.find_field("channel").field_type) == "string"


@pytest.fixture
def rest(tmp_path: Path, monkeypatch):
    """A loopback REST catalog holding the demo tenant's namespace; the CLI talks to it with short timeouts."""
    server = RestCatalogServer(tmp_path / "catalog")
    server.start()
    catalog = open_catalog(tables_cli.CatalogTarget(uri=server.url, warehouse="lakehouse"), policy=FAST)
    catalog.create_namespace(("bronze",))
    catalog.create_namespace(("bronze", "ecommerce_analytics"))
    monkeypatch.setattr(tables_cli, "open_catalog", partial(open_catalog, policy=SHORT))
    yield server
    server.stop()


@pytest.mark.parametrize(("fault", "message"), [
    (Fault(kind="hang", match="GET /v1/config"),
     r"^error: connect to the catalog: http://127\.0\.0\.1:\d+ accepted the connection but sent no answer within "
     r"0\.5 s; the server is stuck or overloaded: try again later\n$"),
    (Fault(kind="not_json", match="GET /v1/namespaces/bronze.ecommerce_analytics/tables/orders"),
     r"^error: plan table bronze\.ecommerce_analytics\.orders: the catalog at http://127\.0\.0\.1:\d+ sent an answer "
     r"that is not the Iceberg REST JSON expected"),
    (Fault(429, {"Retry-After": "86400"}, match="GET /v1/namespaces/bronze.ecommerce_analytics/tables/orders"),
     r"asks to retry after 86400 s, longer than floe-infra waits \(5 s\); nothing was changed by that request: "
     r"try again later\n$"),
])
def test_a_failing_catalog_exits_1_with_one_line_naming_it_and_no_traceback(here, rest, capsys, fault, message):
    rest.faults += [fault, fault]
    assert tables("apply", floe_yaml(here, ORDERS), "--catalog-uri", rest.url) == ExitCode.RUNTIME
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert "Traceback" not in err
    rest.faults.clear()
    assert tables("apply", floe_yaml(here, ORDERS), "--catalog-uri", rest.url) == ExitCode.OK


def test_a_credential_and_a_token_endpoint_that_never_answers_exit_1_in_bounded_time(here, monkeypatch, capsys):
    """The issue's report: `FLOE_CATALOG_CREDENTIAL=id:secret tables plan --catalog-uri` against a server that
    accepts connections and never answers waited forever in the token request."""
    monkeypatch.setattr(tables_cli, "open_catalog", partial(open_catalog, policy=SHORT))
    monkeypatch.setenv(tables_cli.CREDENTIAL_ENV, "floe-client:a-fake-client-secret-for-tests")
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody ever reads or answers
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}/api/catalog"
        started = time.monotonic()
        code = tables("plan", floe_yaml(here, ORDERS), "--catalog-uri", uri)
        seconds = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == ExitCode.RUNTIME
    assert re.fullmatch(rf"error: get a token from the catalog: {re.escape(uri)}/v1/oauth/tokens accepted the "
                        r"connection but sent no answer within 0\.5 s; the server is stuck or overloaded: try again "
                        r"later\n", err), err
    assert seconds < 10


def test_two_applies_at_once_on_the_embedded_catalog_both_succeed(here, monkeypatch):
    """Both plan `create` at the same moment (a barrier) unless the lock makes one wait for the other."""
    pipeline = floe_yaml(here, ORDERS, {**ORDERS, "name": "returns"})
    barrier = threading.Barrier(2, timeout=2)
    reconcile = engine.reconcile_table

    def racing(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):  # the other waits on the lock: this one goes first
            barrier.wait()
        return reconcile(*args, **kwargs)

    monkeypatch.setattr(engine, "reconcile_table", racing)
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(tables("apply", pipeline, "--embedded")))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [ExitCode.OK, ExitCode.OK]
    catalog = open_catalog(embedded_target(here))
    assert sorted(t[-1] for t in catalog.list_tables(("bronze", "ecommerce_analytics"))) == ["orders", "returns"]


def test_an_apply_waits_for_the_embedded_catalog_lock_and_fails_clearly_when_it_is_held_too_long(
        here, monkeypatch, capsys):
    monkeypatch.setattr("floe_infra.iceberg.catalogs.LOCK_TIMEOUT", 0.5)
    pipeline = floe_yaml(here, ORDERS)
    target = embedded_target(here)
    open_catalog(target)
    with FileLock(f"{target.uri.removeprefix('sqlite:///')}.lock"):
        assert tables("apply", pipeline, "--embedded") == ExitCode.RUNTIME
    assert capsys.readouterr().err.startswith("error: another floe-infra apply has held the embedded catalog's lock ")
    assert tables("apply", pipeline, "--embedded") == ExitCode.OK


@pytest.mark.heavy
def test_an_apply_killed_half_way_converges_on_rerun(here):
    pipeline = floe_yaml(here, *[{**ORDERS, "name": f"t{i:02d}"} for i in range(40)])
    command = [sys.executable, "-m", "floe_infra", "tables", "apply", "--platform", str(DEMO_PLATFORM),
               "--pipeline", str(pipeline), "--embedded"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline() if process.stderr else ""
            if line.startswith("[5/40]") or not line:
                break
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    catalog = open_catalog(embedded_target(here))
    assert 0 < len(catalog.list_tables(("bronze", "ecommerce_analytics"))) < 40
    rerun = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert "Traceback" not in rerun.stderr
    assert len(catalog.list_tables(("bronze", "ecommerce_analytics"))) == 40
