"""`floe-infra new-pipeline`: a data team starts its Pulumi project from one command."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import yaml

from floe_infra.cli import main
from floe_infra.preview.runtime import run_program
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
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        assert f"wrote {project / name}" in out
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
    assert f"kept  {project / 'Pulumi.dev.yaml'} (exists)" in out
    assert f"wrote {project / 'Pulumi.staging.yaml'}" in out
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
