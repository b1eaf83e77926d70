"""The command line: exit codes, output on stdout, problems on stderr, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from functools import partial
from pathlib import Path

from floe_infra import tables_cli
from floe_infra.cli import main
from floe_infra.errors import ExitCode
from floe_infra.iceberg.catalogs import open_catalog
from tests.conftest import COMPAT, DEMO_PIPELINE, DEMO_PLATFORM, REPO, requires_compat
from tests.loopback import SHORT


def test_validate_demo_exits_zero_and_summarises_services(capsys):
    status = main(["validate", "--platform", str(DEMO_PLATFORM), "--pipeline", str(DEMO_PIPELINE)])
    out = capsys.readouterr().out
    assert status == 0
    assert "service  catalog: deploys Apache Polaris (release floe-polaris)" in out
    assert "service  object_storage: deploys MinIO (release floe-minio)" in out
    assert "layer    bronze: namespace lakehouse.bronze" in out
    assert "tenant   ecommerce-analytics: principal ecommerce-analytics" in out
    assert out.rstrip().endswith("valid")


def test_validate_reports_referenced_services_with_their_endpoints(capsys, write_yaml):
    path = write_yaml(
        "storage:\n  default: {bucket: floe-data}\n"
        "observability:\n  otlp_endpoint: http://collector:4317\n"
        "deployment:\n  services:\n    tracing: {deploy: false}\n    semantic: {deploy: false}\n"
    )
    assert main(["validate", "--platform", str(path)]) == 0
    out = capsys.readouterr().out
    assert "service  tracing: references Jaeger at http://collector:4317" in out
    assert "service  semantic: does not deploy or reference Cube" in out
    assert "storage  default: bucket floe-data (aws, us-east-1)" in out


@requires_compat
def test_validate_invalid_file_exits_two_with_located_problems(capsys):
    invalid = COMPAT / "invalid" / "floe-invalid.yaml"
    status = main(["validate", "--platform", str(DEMO_PLATFORM), "--pipeline", str(invalid)])
    err = capsys.readouterr().err.splitlines()
    assert status == 2
    assert err[:3] == [
        f"{invalid}:7:1: version: required field is missing",
        f"{invalid}:10:10: compute: '123-invalid' is not a valid name: it must start with a letter and contain "
        "only letters, digits, '-' and '_'",
        f"{invalid}:14:11: transforms[0].type: input should be 'dbt'; got 'invalid_transform_type'",
    ]
    assert err[-1] == "3 problem(s) found"


def test_console_script_runs_as_module_without_traceback(tmp_path: Path):
    bad = tmp_path / "platform.yaml"
    bad.write_bytes(b"storage: [\xff\n")
    result = subprocess.run([sys.executable, "-m", "floe_infra", "validate", "--platform", str(bad)],
                            capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{bad}:1:11: file is not valid UTF-8 (byte 0xff); save it as UTF-8" in result.stderr


def test_schema_command_writes_files(tmp_path: Path, capsys):
    assert main(["schema", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "platform.schema.json").exists()
    assert "wrote" in capsys.readouterr().out


def test_tables_apply_creates_the_demo_tables_in_the_embedded_catalog(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["--platform", str(DEMO_PLATFORM), "--pipeline", str(DEMO_PIPELINE), "--embedded"]
    assert main(["tables", "apply", *args]) == 0
    captured = capsys.readouterr()
    assert "[4/4] bronze.ecommerce_analytics.order_items: create" in captured.err
    assert "4 tables: 4 create" in captured.out
    assert (tmp_path / ".floe" / "catalog.db").is_file()
    assert main(["tables", "plan", *args]) == 0
    assert "4 tables: 4 unchanged" in capsys.readouterr().out


def test_tables_plan_reports_an_unreachable_catalog_by_its_uri(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tables_cli, "open_catalog", partial(open_catalog, policy=SHORT))  # no backoff waits
    status = main(["tables", "plan", "--platform", str(DEMO_PLATFORM), "--pipeline", str(DEMO_PIPELINE),
                   "--catalog-uri", "http://127.0.0.1:9/api/catalog"])
    err = capsys.readouterr().err
    assert status == ExitCode.RUNTIME == 1
    assert err.startswith("error: connect to the catalog: cannot connect to http://127.0.0.1:9/api/catalog (tried 5 "
                          "times, 1 s each)")
    assert not (tmp_path / ".floe").exists(), "never falls back to the embedded catalog"


def test_tenant_keygen_writes_a_private_key_file_and_prints_only_the_public_key(tmp_path: Path, capsys):
    from floe_infra.polaris.sealing import seal, unseal

    key_file = tmp_path / "tenant.key"
    assert main(["tenant", "keygen", "--private-key-file", str(key_file)]) == 0
    out = capsys.readouterr().out
    private = key_file.read_text().strip()
    public = out.splitlines()[1].strip()
    assert private not in out
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert unseal(private, seal(public, {"client_id": "a", "client_secret": "b"})) == {"client_id": "a",
                                                                                      "client_secret": "b"}
    assert main(["tenant", "keygen", "--private-key-file", str(key_file)]) == 2
