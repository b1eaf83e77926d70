"""`floe-infra new-environment`: an environment in one step, previewed offline and in CI's matrices at once."""

from __future__ import annotations

import json
import shutil
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
    # The staging platform.yaml the platform team writes first: dev's, in its own namespace and buckets.
    dev = (root / "demo" / "platform" / "platform.dev.yaml").read_text()
    (root / "demo" / "platform" / "platform.staging.yaml").write_text(
        dev.replace("environment: dev", "environment: staging").replace("floe-dev", "floe-staging")
        .replace("deployment.environment: dev", "deployment.environment: staging").replace(".dev.", ".staging."))
    return root


def new_environment(root: Path, *args: str) -> int:
    return main(["new-environment", *args, "--project-dir", str(root)])


def test_a_new_environment_is_written_previewed_offline_and_in_the_ci_matrices(repository: Path, capsys):
    staging = repository / "demo" / "platform" / "platform.staging.yaml"
    assert new_environment(repository, "staging", "--platform", str(staging), "--after", "dev") == 0
    out = capsys.readouterr().out
    pipeline = repository / PIPELINE_DIR
    assert out.splitlines()[:5] == [
        f"wrote   {repository / 'Pulumi.staging.yaml'}",
        f"wrote   {pipeline / 'Pulumi.staging.yaml'}",
        f"wrote   {repository / 'policy' / 'config' / 'staging.json'}",
        f"updated {repository / 'Pulumi.prod.yaml'} (deployed after staging now)",
        "",
    ]
    assert f"  1. create the stacks: `pulumi stack init staging` in {repository} and in {pipeline}" in out
    assert "`staging-ecommerce-analytics` (with FLOE_TENANT_KEY) and `staging-ecommerce-analytics-preview`" in out
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

    # The offline preview of both tiers, as the pull request's check runs it.
    assert main(["preview", "--offline", "--stack", "staging", "--project-dir", str(repository), "--pipeline",
                 str(pipeline / "floe.yaml"), "--assume-secret", "floe:tenantKey"]) == 0
    report = capsys.readouterr().out
    assert "floe-platform/staging (platform): " in report
    assert "guardrails: all passed on ecommerce-analytics/staging" in report

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
    staging = repository / "demo" / "platform" / "platform.staging.yaml"
    assert new_environment(repository, "staging", "--platform", str(staging), "--after", "dev") == 0
    assert yaml.safe_load((pipeline / "Pulumi.staging.yaml").read_text())["config"] == {
        "floe:image": "a/b:1", "floe:platformStack": "acme/floe-platform/staging"}
    assert f"in {pipeline}: `pulumi config set --secret floe:kubeconfig ...` (encrypted for another stack: not " \
           "copied)" in capsys.readouterr().out


def test_an_environment_deployed_first_sets_the_image_by_hand(repository: Path, capsys):
    staging = repository / "demo" / "platform" / "platform.staging.yaml"
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
    platform = [] if "--platform" in args else ["--platform", "demo/platform/platform.staging.yaml"]
    before = sorted(p.relative_to(repository) for p in repository.rglob("*"))
    assert main(["new-environment", *args, *platform]) == ExitCode.INVALID
    assert message in capsys.readouterr().err
    assert sorted(p.relative_to(repository) for p in repository.rglob("*")) == before


def test_a_platform_yaml_that_does_not_validate_is_refused_at_its_line(repository: Path, capsys):
    staging = repository / "demo" / "platform" / "platform.staging.yaml"
    staging.write_text(staging.read_text().replace("namespace: floe-staging", "namespace: Floe_Staging"))
    assert new_environment(repository, "staging", "--platform", str(staging), "--after", "dev") == ExitCode.INVALID
    assert f"{staging}:11:14: deployment.namespace: " in capsys.readouterr().err
    assert not (repository / "Pulumi.staging.yaml").exists()
