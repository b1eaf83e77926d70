"""The command line: exit codes, output on stdout, problems on stderr, never a traceback."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

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
    assert out.rstrip().endswith("valid: checked against the platform")


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
    assert re.search(r"^created +bronze\.ecommerce_analytics\.order_items$", captured.out, flags=re.MULTILINE)
    assert captured.out.rstrip().endswith("applied: 4 created")
    assert (tmp_path / ".floe" / "catalog.db").is_file()
    assert main(["tables", "plan", *args]) == 0
    assert "4 tables: 4 unchanged" in capsys.readouterr().out
    assert main(["tables", "apply", *args]) == 0
    assert capsys.readouterr().out.rstrip().endswith("applied: 4 unchanged"), "apply says it changed nothing"


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


# --- one shape: subcommands, help, exit codes -------------------------------------------------------

def test_no_arguments_prints_the_help_and_exits_zero(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: floe-infra")
    for command in ("validate", "contract", "tables", "preview", "diff", "ci", "new-pipeline"):
        assert f"    {command}" in out


@pytest.mark.parametrize("group", ["tables", "ci", "tenant", "charts", "contract"])
def test_a_command_group_alone_prints_its_help(group: str, capsys):
    assert main([group]) == 0
    assert capsys.readouterr().out.startswith(f"usage: floe-infra {group}")


def test_tables_plan_help_is_the_help_of_plan(capsys):
    assert main(["tables", "plan", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: floe-infra tables plan")
    assert "--contract CONTRACT_JSON" in out
    assert "exit codes:" in out


def test_the_parser_imports_neither_pulumi_nor_pyiceberg_so_help_answers_at_once():
    code = ("import sys, floe_infra.cli as cli; cli.build_parser(); "
            "print([m for m in ('pulumi', 'pyiceberg') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout == "[]\n"


def _exit_codes_in_help(*command: str) -> list[int]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*command, "--help"]) == 0
    return [int(code) for code in re.findall(r"^  (\d)  ", out.getvalue().split("exit codes:\n", 1)[1],
                                             flags=re.MULTILINE)]


@pytest.mark.parametrize(("command", "codes"), [
    # tables never evaluates a guardrail: no 3.
    (("tables",), [0, 1, 2, 4]),
    (("tables", "plan"), [0, 1, 2, 4]),
    (("tables", "apply"), [0, 1, 2, 4]),
    (("validate",), [0, 2]),
    (("preview",), [0, 2, 3]),
    (("diff",), [0, 2, 3, 4]),
    (("ci", "changes"), [0, 1, 2]),
    (("ci", "environments"), [0, 2]),
    (("ci", "gate"), [0, 1, 2, 3, 4]),
    (("new-environment",), [0, 2]),
    ((), [0, 1, 2, 3, 4]),
])
def test_help_lists_only_the_exit_codes_a_command_can_return(command: tuple[str, ...], codes: list[int]):
    assert _exit_codes_in_help(*command) == codes


def test_tables_help_explains_what_each_of_its_exit_codes_means(capsys):
    assert main(["tables", "apply", "--help"]) == 0
    out = capsys.readouterr().out
    assert "  4  a table's change is refused (the reasons name floe.yaml's line); the others are planned or " \
           "applied" in out
    assert "mandatory guardrail" not in out


def test_usage_errors_exit_with_the_invalid_input_code(capsys):
    assert main(["tables", "frobnicate"]) == ExitCode.INVALID
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_the_exit_codes_are_one_documented_scheme():
    readme = (REPO / "README.md").read_text()
    for code in ExitCode:
        assert f"| {code.value} |" in readme, f"README documents no exit code {code.value}"
    assert [c.value for c in ExitCode] == [0, 1, 2, 3, 4]


def test_the_same_concept_has_the_same_option_everywhere():
    from floe_infra.cli import build_parser

    def options(*path: str) -> set[str]:
        parser = build_parser()
        for name in path:
            parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
        return {o for a in parser._actions for o in a.option_strings}

    for command in (("validate",), ("tables", "plan"), ("tables", "apply"), ("preview",)):
        assert {"--pipeline", "--contract"} <= options(*command), command
    for command in (("preview",), ("ci", "changes")):
        assert "--project-dir" in options(*command)
    for command in (("validate",), ("ci", "changes"), ("preview",)):
        assert "--json" in options(*command)
    assert "--root" not in options("ci", "changes")


def test_schema_writes_into_schemas_by_default(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["schema"]) == 0
    assert (tmp_path / "schemas" / "floe.schema.json").is_file()


def test_an_invalid_floe_yaml_exits_two_with_every_problem_located(tmp_path: Path, capsys):
    bad = tmp_path / "floe.yaml"
    bad.write_text("name: sales\ncompute: 9-bad\ntransforms:\n  - type: spark\n    path: x\n")
    assert main(["validate", "--pipeline", str(bad)]) == ExitCode.INVALID
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{bad}:1:1: version: required field is missing",
        f"{bad}:2:10: compute: '9-bad' is not a valid name: it must start with a letter and contain only "
        "letters, digits, '-' and '_'",
        f"{bad}:4:11: transforms[0].type: input should be 'dbt'; got 'spark'",
        "3 problem(s) found",
    ]


def test_a_private_key_pasted_as_public_key_is_named_with_what_to_paste_instead(tmp_path: Path, capsys):
    from floe_infra.config.keys import encode_private_key

    platform = tmp_path / "platform.yaml"
    private = encode_private_key(bytes(32))  # an obviously fake key
    platform.write_text("storage: {default: {bucket: floe-data}}\ndeployment:\n  tenants:\n    sales:\n"
                        f"      writes: [default]\n      public_key: {private}\n")
    assert main(["validate", "--platform", str(platform)]) == ExitCode.INVALID
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"{platform}:6:19: deployment.tenants.sales.public_key: this is a tenant's private key, not its public key: "
        "paste the public key, the base64 line `floe-infra tenant keygen` prints under \"public key\" (the private "
        "key stays in the pipeline's stack), and make a new key pair: this one is exposed",
        "1 problem(s) found"]
    assert private not in err


def test_a_yaml_syntax_error_is_reported_at_the_line_to_fix(tmp_path: Path, capsys):
    pipeline = tmp_path / "floe.yaml"
    pipeline.write_text("name: sales\nversion 1.0.0\ncompute: default\n")
    assert main(["validate", "--pipeline", str(pipeline)]) == ExitCode.INVALID
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{pipeline}:2:1: YAML syntax error: while scanning a simple key could not find expected ':'; each key "
        "needs ': ' after it; quote a value that spans lines")


# --- contract-first checks for data teams -------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_contract(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "contract.json"
    assert main(["contract", "export", "--platform", str(DEMO_PLATFORM), "--out", str(path)]) == 0
    return path


def test_contract_export_prints_exactly_what_the_platform_stack_exports(demo_contract: Path):
    from floe_infra.preview.offline import OFFLINE_TENANT_PUBLIC_KEY, without_nulls
    from tests.platform.conftest import run_platform_stack

    run = run_platform_stack("local", "demo/platform/platform.yaml")
    exported = json.loads(demo_contract.read_text())
    stack_output = without_nulls(run.outputs["contract"])
    # Only the sealed credentials differ: the preview seals them to its own key, the stack to the tenant's.
    for contract in (exported, stack_output):
        assert contract["tenants"]["ecommerce-analytics"].pop("sealed_credentials")
    assert exported == stack_output
    assert exported["contract_version"] == "1.3.0"
    assert exported["min_reader_version"] == "1.1"
    assert OFFLINE_TENANT_PUBLIC_KEY not in demo_contract.read_text()


def test_validate_checks_a_pipeline_on_its_own_without_any_platform(capsys):
    assert main(["validate", "--pipeline", str(DEMO_PIPELINE)]) == 0
    out = capsys.readouterr().out
    assert "pipeline " in out
    assert "valid: checked on its own" in out


def test_validate_checks_a_pipeline_against_a_contract_file(demo_contract: Path, tmp_path: Path, capsys):
    assert main(["validate", "--pipeline", str(DEMO_PIPELINE), "--contract", str(demo_contract)]) == 0
    assert "valid: checked against the contract of platform 'floe' (local)" in capsys.readouterr().out
    contract = json.loads(demo_contract.read_text())
    tenant = contract["tenants"]["ecommerce-analytics"]
    tenant["writes"], tenant["namespaces"] = ["gold"], {"gold": tenant["namespaces"]["gold"]}
    narrowed = tmp_path / "contract.json"
    narrowed.write_text(json.dumps(contract))
    assert main(["validate", "--pipeline", str(DEMO_PIPELINE), "--contract", str(narrowed)]) == ExitCode.INVALID
    err = capsys.readouterr().err
    assert (f"{DEMO_PIPELINE}:22:12: tables[0].layer: tenant 'ecommerce-analytics' may not write layer 'bronze' "
            "on platform 'floe' (local) (it writes: gold)") in err


def test_validate_json_reports_problems_for_machines(tmp_path: Path, capsys):
    bad = tmp_path / "floe.yaml"
    bad.write_text("name: Sales_Orders\nversion: 1.0.0\n")
    assert main(["validate", "--pipeline", str(bad), "--json"]) == ExitCode.INVALID
    document = json.loads(capsys.readouterr().out)
    assert document["valid"] is False
    assert [(p["line"], p["path"]) for p in document["problems"]] == [(1, "name")]


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not JSON"),
    ('{"contract_version": "2.0.0"}', "exports contract version 2.0.0"),
    ("[]", "exports no `contract` output"),
])
def test_a_bad_contract_file_is_a_precise_error(text: str, message: str, tmp_path: Path, capsys):
    path = tmp_path / "contract.json"
    path.write_text(text)
    assert main(["validate", "--pipeline", str(DEMO_PIPELINE), "--contract", str(path)]) == ExitCode.INVALID
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}")
    assert message in err
    assert main(["validate", "--pipeline", str(DEMO_PIPELINE), "--contract", str(tmp_path / "none.json")]) == 2
    assert "pulumi stack output contract --json" in capsys.readouterr().err


def test_tables_plan_runs_on_a_contract_file(demo_contract: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["tables", "plan", "--pipeline", str(DEMO_PIPELINE), "--contract", str(demo_contract),
                 "--embedded"]) == 0
    assert "4 tables: 4 create" in capsys.readouterr().out


def test_tables_plan_reaches_the_catalog_where_pulumi_up_does(demo_contract: Path, tmp_path: Path, monkeypatch,
                                                               capsys):
    monkeypatch.chdir(tmp_path)
    contract = json.loads(demo_contract.read_text())
    contract["catalogs"]["default"]["deploy_uri"] = "http://127.0.0.1:9/api/catalog"
    (tmp_path / "c.json").write_text(json.dumps(contract))
    monkeypatch.setattr(tables_cli, "open_catalog", partial(open_catalog, policy=SHORT))  # no backoff waits
    assert main(["tables", "plan", "--pipeline", str(DEMO_PIPELINE), "--contract", "c.json"]) == ExitCode.RUNTIME
    assert "cannot connect to http://127.0.0.1:9/api/catalog" in capsys.readouterr().err


def test_a_refused_table_change_exits_with_the_refused_code(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    pipeline = tmp_path / "floe.yaml"
    pipeline.write_text(DEMO_PIPELINE.read_text())
    args = ["--platform", str(DEMO_PLATFORM), "--pipeline", str(pipeline), "--embedded"]
    assert main(["tables", "apply", *args]) == 0
    pipeline.write_text(DEMO_PIPELINE.read_text().replace("{name: first_name, type: string}",
                                                          "{name: first_name, type: long}"))
    capsys.readouterr()
    assert main(["tables", "plan", *args]) == ExitCode.REFUSED == 4
    captured = capsys.readouterr()
    assert "1 table(s) refused" in captured.err
    # The refusal points at the column in floe.yaml, as a validation problem does.
    line = next(n for n, text in enumerate(pipeline.read_text().splitlines(), 1) if "first_name" in text)
    assert f"  ! {pipeline}:{line}:9: tables[0].columns[1]: change type first_name: string -> long is never " \
           "applied" in captured.out


def test_tables_takes_several_pipelines_like_validate_and_preview(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["tables", "plan", "--platform", str(DEMO_PLATFORM), "--pipeline", str(DEMO_PIPELINE),
                 "--pipeline", str(DEMO_PIPELINE), "--embedded"]) == 0
    assert capsys.readouterr().out.count("4 tables: 4 create") == 2
