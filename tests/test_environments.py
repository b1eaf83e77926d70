"""`floe-infra new-environment`: an environment in one step, previewed offline and in CI's matrices at once."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from floe_infra.cli import main
from floe_infra.errors import ExitCode
from tests.conftest import REPO

PIPELINE_DIR = Path("demo", "data_engineering")


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A scratch copy of this repository's projects: the platform project, the demo and the policy configs."""
    root = tmp_path / "repo"
    skipped = shutil.ignore_patterns("__pycache__", ".floe", "target", "logs", "*.duckdb")
    shutil.copytree(REPO / "demo", root / "demo", ignore=skipped)
    shutil.copytree(REPO / "policy" / "config", root / "policy" / "config")
    for path in [REPO / "Pulumi.yaml", REPO / "__main__.py", *REPO.glob("Pulumi.*.yaml")]:
        shutil.copy(path, root / path.name)
    return root


def staging_platform(root: Path) -> Path:
    """The staging platform.yaml the platform team writes first: dev's, in its own namespace and buckets."""
    dev = (root / "demo" / "platform" / "platform.dev.yaml").read_text()
    path = root / "demo" / "platform" / "platform.staging.yaml"
    path.write_text(dev.replace("floe-dev", "floe-staging").replace(".dev.", ".staging.")
                    .replace("environment: dev\n", "environment: staging\n"))
    return path


def new_environment(root: Path, *args: str) -> int:
    return main(["new-environment", *args, "--project-dir", str(root)])


def _documented_block() -> str:
    """The shell block of docs/ci.md that adds the staging environment."""
    [block] = [b for b in re.findall(r"```bash\n(.*?)```", (REPO / "docs" / "ci.md").read_text(), flags=re.DOTALL)
               if "floe-infra new-environment staging" in b]
    return block


def test_the_documented_new_environment_is_written_previewed_offline_and_in_the_ci_matrices(repository: Path,
                                                                                             capsys):
    # The docs' commands as written, in a shell, with this floe-infra on the PATH.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", _documented_block()], cwd=repository,
                            env={**os.environ, "PATH": path}, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    pipeline = PIPELINE_DIR
    assert result.stdout.splitlines()[:5] == [
        "wrote   Pulumi.staging.yaml",
        f"wrote   {pipeline / 'Pulumi.staging.yaml'}",
        "wrote   policy/config/staging.json",
        "updated Pulumi.prod.yaml (deployed after staging now)",
        "",
    ]
    assert f"  1. create the stacks: `pulumi stack init staging` in . (the platform project) and in {pipeline}" \
        in result.stdout
    assert "`staging-ecommerce-analytics` (with FLOE_TENANT_KEY) and `staging-ecommerce-analytics-preview`" in \
        result.stdout
    # The preview of both tiers, as the pull request's check runs it.
    assert "floe-platform/staging (platform): " in result.stdout
    assert "guardrails: all passed on ecommerce-analytics/staging" in result.stdout
    pipeline = repository / PIPELINE_DIR
    staging = repository / "demo" / "platform" / "platform.staging.yaml"
    # The files: the platform's stack, the pipeline's (dev's image, no key), the policy, and prod now after staging.
    assert yaml.safe_load((repository / "Pulumi.staging.yaml").read_text()) == {"config": {
        "floe:platformFile": "demo/platform/platform.staging.yaml", "floe:deployAfter": "dev"}}
    assert yaml.safe_load((pipeline / "Pulumi.staging.yaml").read_text()) == {"config": {
        "floe:image": "ghcr.io/floe-demo/ecommerce-analytics:1.0.0"}}
    assert (repository / "policy" / "config" / "staging.json").read_text() == \
        (REPO / "policy" / "config" / "dev.json").read_text()
    prod = (repository / "Pulumi.prod.yaml").read_text()
    assert prod == (REPO / "Pulumi.prod.yaml").read_text().replace("floe:deployAfter: dev", "floe:deployAfter: staging")

    # CI: the deploy order and the matrices of the pull request workflow include it.
    assert main(["ci", "environments", "--project-dir", str(repository)]) == 0
    assert capsys.readouterr().out == 'stacks=["dev", "staging", "prod"]\n'
    assert main(["ci", "changes", "--all", "--deployed", "--project-dir", str(repository), "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)
    assert changes["platform"] == ["dev", "prod", "staging"]
    assert [(t["stack"], t["platform"]) for t in changes["tables"]] == [
        ("dev", "demo/platform/platform.dev.yaml"), ("prod", "demo/platform/platform.prod.yaml"),
        ("staging", "demo/platform/platform.staging.yaml")]

    # Again: everything is kept, nothing moves.
    assert new_environment(repository, "staging", "--platform", str(staging), "--after", "dev") == 0
    again = capsys.readouterr().out
    assert "wrote" not in again
    assert "updated" not in again
    assert again.count("(exists)") == 3


def test_values_encrypted_for_another_stack_are_not_copied_but_listed(repository: Path, capsys):
    pipeline = repository / PIPELINE_DIR
    (pipeline / "Pulumi.dev.yaml").write_text(
        "config:\n  floe:image: a/b:1\n  floe:platformStack: acme/floe-platform/dev\n"
        "  floe:kubeconfig:\n    secure: AAABAKx-ciphertext==\n")
    staging = staging_platform(repository)
    assert new_environment(repository, "staging", "--platform", str(staging), "--after", "dev") == 0
    assert yaml.safe_load((pipeline / "Pulumi.staging.yaml").read_text())["config"] == {
        "floe:image": "a/b:1", "floe:platformStack": "acme/floe-platform/staging"}
    assert f"in {pipeline}: `pulumi config set --secret floe:kubeconfig ...` (encrypted for another stack: not " \
           "copied)" in capsys.readouterr().out


def test_an_environment_deployed_first_sets_the_image_by_hand(repository: Path, capsys):
    staging = staging_platform(repository)
    assert new_environment(repository, "staging", "--platform", str(staging), "--after", "main") == 0
    out = capsys.readouterr().out
    assert f"updated {repository / 'Pulumi.dev.yaml'} (deployed after staging now)" in out
    assert f"in {repository / PIPELINE_DIR}: `pulumi config set floe:image ...` (the pipeline's image)" in out
    assert main(["ci", "environments", "--project-dir", str(repository)]) == 0
    assert capsys.readouterr().out == 'stacks=["staging", "dev", "prod"]\n'


@pytest.mark.parametrize(("args", "message"), [
    (["staging", "--after", "qa"], "--after qa: CI does not deploy a stack 'qa' (deployed, in order: dev, prod); "
                                   "name one of those, or `main` to deploy 'staging' first"),
    (["main", "--after", "dev"], "'main' cannot name an environment"),
    (["stag ing", "--after", "dev"], "'stag ing' cannot name an environment"),
    (["staging", "--after", "dev", "--platform", "demo/platform/nope.yaml"],
     "demo/platform/nope.yaml does not exist: write the environment's platform.yaml first"),
])
def test_arguments_that_do_not_fit_are_refused_before_anything_is_written(args: list[str], message: str,
                                                                          repository: Path, monkeypatch, capsys):
    monkeypatch.chdir(repository)
    staging_platform(repository)
    platform = [] if "--platform" in args else ["--platform", "demo/platform/platform.staging.yaml"]
    before = sorted(p.relative_to(repository) for p in repository.rglob("*"))
    assert main(["new-environment", *args, *platform]) == ExitCode.INVALID
    assert message in capsys.readouterr().err
    assert sorted(p.relative_to(repository) for p in repository.rglob("*")) == before


def test_a_platform_yaml_that_does_not_validate_is_refused_at_its_line(repository: Path, capsys):
    staging = staging_platform(repository)
    staging.write_text(staging.read_text().replace("namespace: floe-staging", "namespace: Floe_Staging"))
    assert new_environment(repository, "staging", "--platform", str(staging), "--after", "dev") == ExitCode.INVALID
    assert f"{staging}:11:14: deployment.namespace: " in capsys.readouterr().err
    assert not (repository / "Pulumi.staging.yaml").exists()
