"""The GitHub Actions workflows: valid against GitHub's schemas, least privilege, wired to the guardrails.

actionlint cannot be installed here (its binary comes from GitHub releases), so this is the
structural equivalent: SchemaStore's workflow schema (vendored by check-jsonschema), `bash -n` on
every script, zizmor's security audit, and the rules this project holds its workflows to.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from floe_infra.ci import affected, deploy_order, pipeline_projects, platform_stacks
from floe_infra.cli import main
from floe_infra.errors import ExitCode
from tests.conftest import DEMO_PIPELINE, REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
SCRIPTS = sorted((REPO / ".github" / "scripts").glob("*.sh"))
# An action pinned to a commit, its version in a comment; or a workflow of this repository at this commit.
PINNED = re.compile(r"^\s*(- )?uses: ([\w.-]+/[\w./-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+"
                    r"|\./\.github/workflows/[\w.-]+\.yml(  # zizmor: ignore\[self-repository\])?)$")


class _GitHubLoader(yaml.SafeLoader):
    """YAML as GitHub reads it: `on` is a key, not the boolean true of YAML 1.1."""


_GitHubLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_GitHubLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_GitHubLoader)


def schema(name: str) -> dict[str, Any]:
    vendor = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / name
    return json.loads(vendor.read_text())


def jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return workflow["jobs"]


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in jobs(workflow).values() for step in job.get("steps", [])]


def test_there_are_preview_and_deploy_workflows_and_their_scripts():
    assert [p.name for p in WORKFLOWS] == ["deploy-environment.yml", "deploy.yml", "drift.yml", "preview.yml"]
    assert [p.name for p in SCRIPTS] == ["offline-check.sh", "setup.sh"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_match_githubs_workflow_schema(path: Path):
    jsonschema.validate(load(path), schema("github-workflows.json"))


def test_every_script_is_valid_bash():
    scripts = [(path.name, step["run"]) for path in WORKFLOWS for step in steps(load(path)) if "run" in step]
    scripts += [(path.name, path.read_text()) for path in SCRIPTS]
    assert len(scripts) >= 8
    for name, script in scripts:
        # Expressions are substituted before bash runs: stand in a plain word.
        text = re.sub(r"\$\{\{.*?\}\}", "EXPR", script)
        result = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{name}: {result.stderr}\n{script}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment(path: Path):
    lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(- )?uses:", line)]
    assert lines
    assert [line for line in lines if not PINNED.match(line)] == []


def test_zizmor_finds_nothing_at_its_default_persona():
    zizmor = Path(sys.executable).with_name("zizmor")
    result = subprocess.run([str(zizmor), "--offline", "--no-progress", "--color", "never",
                             str(REPO / ".github" / "workflows")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_is_expanded_inside_a_script_and_no_checkout_keeps_its_token(path: Path):
    document = load(path)
    # Values reach scripts through `env:`: an expression in `run:` is pasted into the script before bash runs.
    assert [step["run"] for step in steps(document) if "run" in step and "${{" in step["run"]] == []
    checkouts = [step for step in steps(document) if step.get("uses", "").startswith("actions/checkout@")]
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)
    assert "secrets: inherit" not in path.read_text()


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_least_privilege(path: Path):
    workflow = load(path)
    assert workflow["permissions"] in ({"contents": "read"}, {"contents": "read", "id-token": "write"})
    for name, job in jobs(workflow).items():
        granted = job.get("permissions", {})
        writes = {k for k, v in granted.items() if v == "write"}
        comments = any(s.get("with", {}).get("comment-on-pr") for s in job.get("steps", [])) or any(
            "gh pr comment" in s.get("run", "") for s in job.get("steps", []))
        files_issues = any(re.search(r"\bgh issue (create|comment)\b", s.get("run", "")) for s in job.get("steps", []))
        assert ("pull-requests" in writes) == comments, f"{path.name}:{name}"
        assert ("issues" in writes) == files_issues, f"{path.name}:{name}"
        assert writes <= {"pull-requests", "issues", "id-token"}, f"{path.name}:{name}"


def test_previews_run_the_policy_pack_and_comment_and_forks_get_no_secrets():
    workflow = load(REPO / ".github/workflows/preview.yml")
    # Labelled and unlabelled too: the label accepting risky changes runs the offline check again.
    assert workflow["on"] == {"pull_request": {"branches": ["main"], "types": [
        "opened", "synchronize", "reopened", "labeled", "unlabeled"]}}
    platform = jobs(workflow)["platform"]
    assert "head.repo.full_name == github.repository" in platform["if"]
    [pulumi] = [s for s in platform["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["diff"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["policyPackConfigs"] == "policy/config/${{ matrix.stack }}.json"
    assert pulumi["with"]["cloud-url"] == "${{ env.PULUMI_BACKEND_URL }}"
    offline = jobs(workflow)["offline"]
    assert "if" not in offline  # every PR, forks included: it needs no secret
    assert "secrets." not in json.dumps(offline)
    assert "permissions" not in offline  # the workflow's contents: read; the PR's code runs here
    # The comment is posted by a job that runs none of the PR's code, also when the check failed (its reason).
    comment = jobs(workflow)["comment"]
    assert comment["needs"] == "offline"
    assert comment["if"].startswith("${{ !cancelled() && ")
    assert not [s for s in comment["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    [upload] = [s for s in offline["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "${{ !cancelled() }}"


def test_drift_is_checked_daily_and_reported_by_a_job_that_runs_no_repository_code():
    workflow = load(REPO / ".github/workflows/drift.yml")
    assert [entry["cron"] for entry in workflow["on"]["schedule"]] == ["17 5 * * *"]
    detect, report = jobs(workflow)["detect"], jobs(workflow)["report"]
    # Read-only preview environments: the drift check can read the stacks but cannot deploy them.
    assert detect["environment"] == "${{ matrix.stack }}-preview"
    # The environments come from the stack files, not from a list here.
    assert detect["strategy"]["matrix"]["stack"] == report["strategy"]["matrix"]["stack"] == \
        "${{ fromJSON(needs.environments.outputs.stacks) }}"
    [order] = [s for s in jobs(workflow)["environments"]["steps"] if s.get("id") == "order"]
    assert order["run"] == 'floe-infra ci environments >> "$GITHUB_OUTPUT"'
    [pulumi] = [s for s in detect["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["refresh"] is True
    assert pulumi["with"]["expect-no-changes"] is True
    # A drifted stack still gets its report: the preview's failure is recorded, not fatal.
    assert pulumi["continue-on-error"] is True
    assert report["needs"] == ["environments", "detect"]
    assert report["if"].startswith("always() && ")
    assert report["permissions"] == {"issues": "write"}
    assert not [s for s in report["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert "secrets." not in json.dumps(report)


def test_data_teams_prs_reach_no_platform_secret():
    """A pipeline's PR runs the PR's code with its tenant's own read-only catalog credential, and nothing else."""
    workflow = load(REPO / ".github/workflows/preview.yml")
    tables = jobs(workflow)["tables"]
    assert tables["environment"] == "${{ matrix.stack }}-${{ matrix.project.name }}-preview"
    # Each touched pipeline's stacks of the deployed environments, from the stack files.
    assert tables["strategy"]["matrix"] == {"include": "${{ fromJSON(needs.changes.outputs.tables) }}"}
    used = set(re.findall(r"secrets\.(\w+)", json.dumps(tables)))
    assert used == {"FLOE_CATALOG_CREDENTIAL"}
    # The platform's secrets are only ever in the platform tier's environments.
    for path in WORKFLOWS:
        for name, job in jobs(load(path)).items():
            if "PULUMI_CONFIG_PASSPHRASE" in json.dumps(job) and "floe-platform" in json.dumps(job):
                assert job["environment"] in ("${{ matrix.stack }}-preview", "${{ inputs.stack }}"), name


def test_deploys_go_through_the_environments_one_at_a_time_in_the_order_of_the_stack_files():
    deploy = load(REPO / ".github/workflows/deploy.yml")
    assert deploy["on"]["push"] == {"branches": ["main"]}
    order, each = jobs(deploy)["environments"], jobs(deploy)["deploy"]
    [step] = [s for s in order["steps"] if s.get("id") == "order"]
    assert step["run"] == 'floe-infra ci environments >> "$GITHUB_OUTPUT"'
    assert each["needs"] == "environments"
    assert each["strategy"] == {"max-parallel": 1, "fail-fast": True,
                                "matrix": {"stack": "${{ fromJSON(needs.environments.outputs.stacks) }}"}}
    assert each["with"] == {"stack": "${{ matrix.stack }}"}
    for stack in ("dev", "prod"):
        assert stack not in json.dumps(deploy["jobs"]), "the environments come from the stack files"
    environment = load(REPO / ".github/workflows/deploy-environment.yml")
    assert environment["concurrency"]["cancel-in-progress"] is False
    # Two tiers, each in GitHub environments holding only its own secrets.
    assert jobs(environment)["platform"]["environment"] == "${{ inputs.stack }}"
    assert jobs(environment)["pipelines"]["environment"] == "${{ inputs.stack }}-${{ matrix.project.name }}"
    for name in ("platform", "pipelines"):
        [pulumi] = [s for s in jobs(environment)[name]["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["policyPacks"] == "policy"
    assert "platform" in jobs(environment)["pipelines"]["needs"]
    # The tenant's key comes from its pipeline's environment, as a secret config of this run only.
    [pulumi] = [s for s in jobs(environment)["pipelines"]["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert yaml.safe_load(pulumi["with"]["config-map"]) == {
        "floe:tenantKey": {"value": "${{ secrets.FLOE_TENANT_KEY }}", "secret": True}}


def test_the_workflows_read_their_environments_from_the_stack_files():
    assert deploy_order(REPO) == ["dev", "prod"]
    for stack in deploy_order(REPO):
        assert (REPO / "policy" / "config" / f"{stack}.json").is_file()
        assert stack in platform_stacks(REPO)
    for path in WORKFLOWS:
        text = path.read_text()
        for listed in ("[dev, prod]", "--stack dev", "local dev prod", "stack: dev", "stack: prod"):
            assert listed not in text, f"{path.name} lists environments: {listed}"


# --- which stacks a change touches ------------------------------------------------------------

def test_the_repository_projects_are_found():
    assert [(p.dir, p.name) for p in pipeline_projects(REPO)] == [("demo/data_engineering", "ecommerce-analytics")]
    assert platform_stacks(REPO) == {"dev": "demo/platform/platform.dev.yaml", "local": "demo/platform/platform.yaml",
                                     "prod": "demo/platform/platform.prod.yaml"}


@pytest.mark.parametrize(("changed", "platform", "pipelines"), [
    # A platform change can break the pipelines on it (a layer removed, Dagster no longer deployed).
    (["demo/platform/platform.prod.yaml"], ["prod"], ["demo/data_engineering"]),
    (["Pulumi.dev.yaml"], ["dev"], ["demo/data_engineering"]),
    (["demo/data_engineering/floe.yaml"], [], ["demo/data_engineering"]),
    (["demo/data_engineering/semantic/orders.yml"], [], ["demo/data_engineering"]),
    (["floe_infra/platform/storage.py"], ["dev", "local", "prod"], ["demo/data_engineering"]),
    (["policy/config/prod.json"], ["dev", "local", "prod"], ["demo/data_engineering"]),
    (["docs/ci.md", "README.md"], [], []),
])
def test_changes_map_to_the_stacks_they_touch(changed: list[str], platform: list[str], pipelines: list[str]):
    result = affected(REPO, changed)
    assert result.platform == platform
    assert [p.dir for p in result.pipelines] == pipelines


def test_the_stack_filter_and_everything():
    assert affected(REPO, ["floe_infra/cli.py"], ["dev", "prod"]).platform == ["dev", "prod"]
    assert affected(REPO, None, ["prod"]).platform == ["prod"]


def _repository(tmp_path: Path) -> Path:
    """A git repository with a platform stack `dev` and two pipelines: one on `dev`, one on `shared`."""
    root = tmp_path / "repo"
    (root / "platform").mkdir(parents=True)
    (root / "platform" / "platform.yaml").write_text("storage: {default: {bucket: floe-data}}\n")
    (root / "Pulumi.dev.yaml").write_text("config:\n  floe:platformFile: platform/platform.yaml\n")
    (root / "Pulumi.shared.yaml").write_text("config:\n  floe:platformFile: platform/shared.yaml\n")
    for name, stack_file in (("sales", "config:\n  floe:image: a/b:1\n"),
                             ("risk", "config:\n  floe:platformStack: acme/floe-platform/shared\n")):
        (root / name).mkdir()
        (root / name / "floe.yaml").write_text(f"name: {name}\nversion: 1.0.0\n")
        (root / name / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
        (root / name / "Pulumi.dev.yaml").write_text(stack_file)
    for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base"]):
        subprocess.run(["git", "-C", str(root), *command], check=True, capture_output=True, timeout=60)
    return root


def test_a_platform_change_marks_the_pipelines_deployed_on_that_platform_stack(tmp_path: Path):
    root = _repository(tmp_path)
    result = affected(root, ["platform/platform.yaml"])
    assert result.platform == ["dev"]
    assert [p.dir for p in result.pipelines] == ["sales"], "risk deploys onto floe-platform/shared, not dev"
    assert [p.dir for p in affected(root, ["Pulumi.shared.yaml"]).pipelines] == ["risk"]


def test_ci_changes_lists_what_a_commit_touches_as_json(tmp_path: Path, capsys):
    root = _repository(tmp_path)
    (root / "platform" / "platform.yaml").write_text("storage: {default: {bucket: floe-data-2}}\n")
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam",
                    "rename"], check=True, capture_output=True, timeout=60)
    assert main(["ci", "changes", "--base", "HEAD~1", "--project-dir", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "platform": ["dev"], "pipelines": [{"dir": "sales", "name": "sales"}],
        "tables": [{"project": {"dir": "sales", "name": "sales"}, "stack": "dev",
                    "platform": "platform/platform.yaml"}]}


def test_ci_changes_outside_git_is_a_clear_error(tmp_path: Path, capsys):
    assert main(["ci", "changes", "--base", "origin/main", "--project-dir", str(tmp_path)]) == ExitCode.RUNTIME
    err = capsys.readouterr().err
    assert err == f"error: {tmp_path} is not inside a git repository: run this in a checkout of the repository, " \
                  "or list every stack with --all\n"
    assert "usage" not in err


def test_ci_changes_against_an_unknown_base_says_how_to_fetch_it(tmp_path: Path, capsys):
    root = _repository(tmp_path)
    assert main(["ci", "changes", "--base", "origin/main", "--project-dir", str(root)]) == ExitCode.RUNTIME
    assert "git knows no commit 'origin/main': fetch it first" in capsys.readouterr().err


# --- which environments CI deploys, and in which order ------------------------------------------

def _stack_files(root: Path, **deploy_after: str | None) -> Path:
    """A platform project whose stacks deploy after the named ones (None: not deployed), with policy configs."""
    (root / "policy" / "config").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: floe-platform\nruntime: python\n")
    for stack, after in deploy_after.items():
        line = f"  floe:deployAfter: {after}\n" if after else ""
        (root / f"Pulumi.{stack}.yaml").write_text(f"config:\n  floe:platformFile: {stack}.yaml\n{line}")
        (root / "policy" / "config" / f"{stack}.json").write_text('{"all": "mandatory"}\n')
    return root


def test_ci_environments_prints_the_deploy_order_of_the_stack_files(tmp_path: Path, capsys):
    root = _stack_files(tmp_path, local=None, prod="staging", dev="main", staging="dev", qa="dev")
    assert main(["ci", "environments", "--project-dir", str(root)]) == 0
    # Each after the one it names; two after the same one by name.
    assert capsys.readouterr().out == 'stacks=["dev", "qa", "staging", "prod"]\n'


@pytest.mark.parametrize(("deploy_after", "message"), [
    ({"dev": "main", "prod": "stagin"}, "Pulumi.prod.yaml: floe:deployAfter is 'stagin', which CI does not deploy "
                                        "(deployed: dev, prod); name one of those, or `main` to deploy prod first"),
    ({"dev": "prod", "prod": "dev"}, "floe:deployAfter of dev, prod go round in a circle: one of them must follow a "
                                     "deployed stack, or `main`"),
])
def test_a_deploy_order_that_cannot_be_followed_is_an_error(deploy_after: dict[str, str], message: str,
                                                            tmp_path: Path, capsys):
    root = _stack_files(tmp_path, **deploy_after)
    assert main(["ci", "environments", "--project-dir", str(root)]) == ExitCode.INVALID
    assert capsys.readouterr().err == f"error: {message}\n"


def test_a_deployed_stack_without_its_policy_config_is_an_error(tmp_path: Path, capsys):
    root = _stack_files(tmp_path, dev="main")
    (root / "policy" / "config" / "dev.json").unlink()
    assert main(["ci", "environments", "--project-dir", str(root)]) == ExitCode.INVALID
    assert capsys.readouterr().err.startswith("error: CI deploys stack 'dev' with the guardrails' configuration "
                                              "policy/config/dev.json, which does not exist: create it")


def test_ci_changes_deployed_leaves_out_the_stacks_ci_does_not_deploy(capsys):
    assert main(["ci", "changes", "--all", "--deployed", "--project-dir", str(REPO), "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)
    assert changes["platform"] == ["dev", "prod"]
    assert [(t["stack"], t["platform"]) for t in changes["tables"]] == [
        ("dev", "demo/platform/platform.dev.yaml"), ("prod", "demo/platform/platform.prod.yaml")]


# --- the offline check of a pull request, run as the workflow runs it -----------------------------

FIXTURE_PLATFORM = """\
version: "1.2.0"
deployment:
  environment: dev
  name: floe
  namespace: floe-dev
  services:
    object_storage: {deploy: true}
    catalog: {management_url: "https://polaris.dev.floe.example.com"}
    tracing: {deploy: false}
    lineage: {deploy: false}
    orchestration: {deploy: false}
    semantic: {deploy: false}
  tenants:
    sales: {writes: [bronze], reads: [bronze], public_key: VWc1jS1sCH/WYqQ5E1DGvr5z260+3hF7oE/+/wCFqwg=}
storage:
  bronze: &minio
    type: s3
    endpoint: http://floe-minio.floe-dev.svc.cluster.local:9000
    bucket: floe-dev-bronze
    path_style_access: true
    credentials: {mode: static, secret_ref: floe-s3-credentials}
  default: {<<: *minio, bucket: floe-dev-platform}
layers:
  bronze: {name: bronze, storage_ref: bronze, namespace: lakehouse.bronze}
catalogs:
  default:
    type: polaris
    uri: http://floe-polaris.floe-dev.svc.cluster.local:8181/api/catalog
    warehouse: lakehouse
    credentials:
      mode: oauth2
      client_id: {secret_ref: floe-polaris-root-client-id}
      client_secret: {secret_ref: floe-polaris-root-client-secret}
      scope: PRINCIPAL_ROLE:ALL
compute:
  default: {type: duckdb, properties: {path: ":memory:"}}
"""
FIXTURE_PIPELINE = """\
name: sales
version: "1.0.0"
tables:
  - name: orders
    layer: bronze
    doc: Orders as received
    columns:
      - {name: order_id, type: long, required: true}
      - {name: amount, type: double}
"""
GIT = ["-c", "user.name=t", "-c", "user.email=t@example.com"]


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *GIT, *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def base_repository(tmp_path_factory) -> Path:
    """The base branch of a small repository: the platform project with a `dev` environment CI deploys, one
    pipeline on it, the policy config, and this repository's offline check script."""
    root = tmp_path_factory.mktemp("offline-check") / "origin"
    for name in ("Pulumi.yaml", "__main__.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, root / name)
    (root / "Pulumi.dev.yaml").write_text("config:\n  floe:platformFile: platform/platform.yaml\n"
                                          "  floe:deployAfter: main\n")
    (root / "platform").mkdir()
    (root / "platform" / "platform.yaml").write_text(FIXTURE_PLATFORM)
    (root / "policy" / "config").mkdir(parents=True)
    (root / "policy" / "config" / "dev.json").write_text('{"all": "mandatory"}\n')
    (root / "sales").mkdir()
    (root / "sales" / "floe.yaml").write_text(FIXTURE_PIPELINE)
    (root / "sales" / "Pulumi.yaml").write_text("name: sales\nruntime: python\n")
    shutil.copy(DEMO_PIPELINE.parent / "__main__.py", root / "sales" / "__main__.py")
    (root / "sales" / "Pulumi.dev.yaml").write_text("config: {}\n")
    (root / ".github" / "scripts").mkdir(parents=True)
    shutil.copy(REPO / ".github" / "scripts" / "offline-check.sh", root / ".github" / "scripts")
    (root / "requirements.txt").write_text("# the tests install nothing: each checkout gets .venv/bin/floe-infra\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    return root


def _checkout(origin: Path, path: Path) -> None:
    """A checkout of `origin`, with floe-infra in its .venv as the workflow's install leaves it (this one)."""
    subprocess.run(["git", "clone", "-q", str(origin), str(path)], check=True, capture_output=True, timeout=60)
    (path / ".venv" / "bin").mkdir(parents=True)
    floe_infra = path / ".venv" / "bin" / "floe-infra"
    floe_infra.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m floe_infra "$@"\n')
    floe_infra.chmod(0o755)


def offline_check(origin: Path, work: Path, change: dict[str, tuple[str, str]],
                  labels: tuple[str, ...] = ()) -> tuple[int, str]:
    """Run the offline job's check step, as GitHub runs it, on base and on head = base + `change`
    ({file: (old, new)}); its exit status and the PR comment it wrote."""
    work.mkdir()
    _checkout(origin, work / "base")
    _checkout(origin, work / "head")
    for name, (old, new) in change.items():
        path = work / "head" / name
        assert old in path.read_text(), name
        path.write_text(path.read_text().replace(old, new))
    _git(work / "head", "commit", "-qam", "the pull request")
    [step] = [s for s in jobs(load(REPO / ".github/workflows/preview.yml"))["offline"]["steps"]
              if s.get("name") == "Offline check of base and head"]
    assert step["env"] == {"PR_LABELS": "${{ toJSON(github.event.pull_request.labels.*.name) }}"}
    summary = work / "summary.md"
    env = {**os.environ, "PR_LABELS": json.dumps(list(labels), indent=2), "GITHUB_STEP_SUMMARY": str(summary)}
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=work,
                            env=env, capture_output=True, text=True, timeout=600, check=False)
    comment = (work / "offline-diff.md").read_text()
    assert summary.read_text() == comment, "the job summary is the comment"
    assert {p.name for p in (work / "preview" / "head").iterdir()} >= {"dev.status", "dev.err", "dev.txt"}
    return result.returncode, comment


BUCKET_RENAME = {"platform/platform.yaml": ("bucket: floe-dev-bronze", "bucket: floe-dev-raw")}


FAILS = "**✗ fails (exit {})**"
HEAD_FAILS = "- `dev`: the offline preview fails on head (exit 2); it passes on base:"
CATALOG = 'catalog: {management_url: "https://polaris.dev.floe.example.com"'
# case: (change, PR labels, exit status, what the PR comment says)
CASES = {
    "harmless change": ({"sales/floe.yaml": ("doc: Orders as received", "doc: Orders, as received")}, (),
                        ExitCode.OK, ["**✓ passes**", "### `sales/dev`: 0 to add, 2 to change, 0 to delete",
                                      "`inputs.table.doc`: `Orders as received` → `Orders, as received`"]),
    "broken floe.yaml": ({"sales/floe.yaml": ("type: double", "type: dubble")}, (),
                         ExitCode.INVALID, [FAILS.format(2), HEAD_FAILS,
                                            "sales/floe.yaml:9:30: tables[0].columns[1].type: 'dubble' is not an "
                                            "Iceberg type"]),
    "broken platform.yaml": ({"platform/platform.yaml": ("namespace: floe-dev", "namespace: Floe_Dev")}, (),
                             ExitCode.INVALID, [FAILS.format(2), HEAD_FAILS,
                                                "platform/platform.yaml:5:14: deployment.namespace: "]),
    "guardrail failure": ({"platform/platform.yaml": (CATALOG + "}", CATALOG + ", image_tag: latest}")}, (),
                          ExitCode.GUARDRAIL, [FAILS.format(3), "- `dev`: 2 mandatory guardrail failures on head, none "
                                               "of them on base: `no-latest-images` on `kubernetes:batch/v1:Job` "
                                               "**floe-catalog-bootstrap**: image apache/polaris-admin-tool:latest "
                                               "uses the mutable tag latest; `no-latest-images` on "
                                               "`kubernetes:helm.sh/v3:Release` **floe-catalog-polaris**"]),
    "risky change without acceptance": (
        BUCKET_RENAME, ("documentation",), ExitCode.REFUSED,
        [FAILS.format(4), "- 6 risky changes (below, under **Risky**): each can lose data or leave it behind. When "
         "intended, a maintainer adds the label `accept-risky-changes` to this pull request",
         "- **floe-storage-minio**: no longer creates bucket floe-dev-bronze"]),
    "risky change accepted": (
        BUCKET_RENAME, ("documentation", "accept-risky-changes"), ExitCode.OK,
        ["**✓ passes**", "- 6 risky changes (below) accepted with the label `accept-risky-changes`",
         "- **floe-storage-minio**: no longer creates bucket floe-dev-bronze"]),
}


@pytest.mark.heavy
@pytest.mark.parametrize("case", list(CASES))
def test_the_offline_check_fails_a_pull_request_that_breaks_what_base_passes(case: str, base_repository: Path,
                                                                               tmp_path: Path):
    change, labels, status, says = CASES[case]
    code, comment = offline_check(base_repository, tmp_path / "work", change, labels)
    assert code == status, f"{case}:\n{comment}"
    for text in says:
        assert text in comment, f"{case}: {text!r} not in\n{comment}"
