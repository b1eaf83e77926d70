"""`floe-infra new-pipeline`: a data team starts its Pulumi project from one command."""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from floe_infra.cli import main
from floe_infra.config.loader import load_pipeline
from floe_infra.errors import ExitCode
from floe_infra.preview.runtime import run_program
from tests.conftest import REPO
from tests.pipeline.conftest import IMAGE, PIPELINE_DIR, platform_contract, tenant_keys


def team_project(tmp_path: Path) -> Path:
    project = tmp_path / "sales"
    project.mkdir()
    shutil.copy(PIPELINE_DIR / "floe.yaml", project / "floe.yaml")
    shutil.copytree(PIPELINE_DIR / "semantic", project / "semantic")
    return project


def test_new_pipeline_writes_a_project_that_deploys_on_the_platform(tmp_path: Path, capsys):
    project = team_project(tmp_path)
    assert main(["new-pipeline", str(project), "--stack", "dev", "--stack", "prod"]) == 0
    out = capsys.readouterr().out
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt", "Pulumi.dev.yaml", "Pulumi.prod.yaml",
                 ".gitignore"):
        assert f"wrote   {project / name}" in out
    assert f"wrote   {project / 'floe.yaml'}" not in out, "an existing floe.yaml is kept"
    pulumi_yaml = yaml.safe_load((project / "Pulumi.yaml").read_text())
    assert pulumi_yaml["name"] == "ecommerce-analytics"
    assert pulumi_yaml["runtime"]["name"] == "python"
    assert pulumi_yaml["config"]["pulumi:disable-default-providers"] == ["kubernetes"]
    assert yaml.safe_load((project / "Pulumi.dev.yaml").read_text()) == {"config": {}}
    assert "floe:tenantKey" in (project / "Pulumi.dev.yaml").read_text()
    # The generated __main__.py is a working pipeline program.
    run = run_program(lambda: runpy.run_path(str(project / "__main__.py")), project="ecommerce-analytics",
                      stack="dev", root_directory=project,
                      config={"floe:image": IMAGE, "floe:tenantKey": tenant_keys()[1]},
                      secret_keys=["floe:tenantKey"],
                      stack_references={"organization/floe-platform/dev": ({"contract": platform_contract("dev")},
                                                                           [])})
    assert run.outputs["code_location"] == "code-ecommerce-analytics"


def test_running_it_again_keeps_every_existing_file(tmp_path: Path, capsys):
    project = team_project(tmp_path)
    assert main(["new-pipeline", str(project)]) == 0
    (project / "Pulumi.dev.yaml").write_text("config:\n  floe:image: acme/sales:2.0.0\n")
    capsys.readouterr()
    assert main(["new-pipeline", str(project), "--stack", "dev", "--stack", "staging",
                 "--platform-stack", "acme/floe-platform/staging"]) == 0
    out = capsys.readouterr().out
    assert f"kept    {project / 'Pulumi.dev.yaml'} (exists)" in out
    assert f"wrote   {project / 'Pulumi.staging.yaml'}" in out
    assert (project / "Pulumi.dev.yaml").read_text() == "config:\n  floe:image: acme/sales:2.0.0\n"
    staging = yaml.safe_load((project / "Pulumi.staging.yaml").read_text())
    assert staging == {"config": {"floe:platformStack": "acme/floe-platform/staging"}}


def test_an_invalid_floe_yaml_writes_nothing(tmp_path: Path, capsys):
    (tmp_path / "floe.yaml").write_text("name: Bad Name\nversion: 1\n")
    assert main(["new-pipeline", str(tmp_path)]) == 2
    assert "floe.yaml:1:" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["floe.yaml"]


def test_a_bad_stack_name_is_refused(tmp_path: Path, capsys):
    assert main(["new-pipeline", str(team_project(tmp_path)), "--stack", "my stack"]) == 2
    assert "a stack name uses letters" in capsys.readouterr().err


def test_without_a_floe_yaml_it_writes_a_commented_starter_that_validates(tmp_path: Path, capsys):
    project = tmp_path / "sales-orders"
    assert main(["new-pipeline", str(project)]) == 0
    out = capsys.readouterr().out
    floe_yaml = project / "floe.yaml"
    assert f"wrote   {floe_yaml}" in out
    text = floe_yaml.read_text()
    assert text.startswith("# floe.yaml: the pipeline `sales-orders`")
    loaded = load_pipeline(floe_yaml)
    assert loaded.config.name == "sales-orders"
    assert [t.name for t in loaded.config.tables] == ["events"]
    assert main(["validate", "--pipeline", str(floe_yaml)]) == 0


def test_a_directory_name_that_is_no_pipeline_name_needs_name(tmp_path: Path, capsys):
    assert main(["new-pipeline", str(tmp_path / "Sales_Orders")]) == ExitCode.INVALID
    err = capsys.readouterr().err
    assert "'Sales_Orders' is not a valid pipeline name" in err
    assert "choose one with --name" in err
    assert not (tmp_path / "Sales_Orders").exists()
    assert main(["new-pipeline", str(tmp_path / "Sales_Orders"), "--name", "sales-orders"]) == 0
    assert load_pipeline(tmp_path / "Sales_Orders" / "floe.yaml").config.name == "sales-orders"


def test_the_gitignore_keeps_the_private_key_and_local_state_out_of_git(tmp_path: Path):
    project = team_project(tmp_path)
    (project / ".gitignore").write_text("dist/")
    assert main(["new-pipeline", str(project)]) == 0
    lines = (project / ".gitignore").read_text().splitlines()
    assert lines[0] == "dist/"
    assert {"tenant.key", ".floe/", "venv/"} <= set(lines)
    assert main(["new-pipeline", str(project)]) == 0
    assert (project / ".gitignore").read_text().splitlines() == lines, "added once"


def test_requirements_install_floe_infra_from_where_it_came_from(tmp_path: Path, capsys):
    project = team_project(tmp_path)
    assert main(["new-pipeline", str(project)]) == 0
    lines = [line for line in (project / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    [requirement] = lines
    # The test environment installs floe-infra from this checkout (editable): the requirement points at it.
    assert requirement == f"floe-infra @ {REPO.as_uri()}"
    assert "floe-infra==" not in requirement, "floe-infra is on no public index"
    assert "next steps:" in capsys.readouterr().out
    explicit = tmp_path / "other"
    assert main(["new-pipeline", str(explicit), "--name", "other",
                 "--floe-infra", "floe-infra @ git+https://example.com/acme/floe-infra@v0.1.0"]) == 0
    written = (explicit / "requirements.txt").read_text()
    assert "floe-infra @ git+https://example.com/acme/floe-infra@v0.1.0\n" in written


@pytest.mark.heavy
def test_the_written_requirements_are_installable_and_build_without_warnings(tmp_path: Path):
    project = team_project(tmp_path)
    assert main(["new-pipeline", str(project)]) == 0
    report = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "-v",
                             "--disable-pip-version-check", "--report", str(report),
                             "-r", str(project / "requirements.txt")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    [item] = json.loads(report.read_text())["install"]
    assert item["metadata"]["name"] == "floe-infra"
    assert item["metadata"]["license_expression"] == "Apache-2.0"
    output = result.stdout + result.stderr
    at = output.lower().find("deprecated")
    assert at == -1, f"the build warns: {output[max(0, at - 200):at + 200]}"


def test_next_steps_lead_from_floe_yaml_to_pulumi_up(tmp_path: Path, capsys):
    project = tmp_path / "sales"
    assert main(["new-pipeline", str(project), "--stack", "prod"]) == 0
    steps = capsys.readouterr().out.split("next steps:\n")[1].splitlines()
    assert [s.split(".", 1)[0].strip() for s in steps] == ["1", "2", "3", "4", "5", "6"]
    text = "\n".join(steps)
    for command in ("floe-infra validate --pipeline", "--contract contract.json", "floe-infra tenant keygen",
                    "pip install -r", "pulumi stack init prod", "floe:tenantKey", "pulumi up"):
        assert command in text
