"""The GitHub Actions workflows: valid against GitHub's schemas, least privilege, wired to the guardrails.

actionlint cannot be installed here (its binary comes from GitHub releases), so this is the
structural equivalent: SchemaStore's workflow schema (vendored by check-jsonschema), `bash -n` on
every script, zizmor's security audit, and the rules this project holds its workflows to.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from floe_infra.ci import affected, pipeline_projects, platform_stacks
from floe_infra.cli import main
from floe_infra.errors import ExitCode
from tests.conftest import REPO

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


def test_there_are_preview_and_deploy_workflows_and_a_setup_script():
    assert [p.name for p in WORKFLOWS] == ["deploy-environment.yml", "deploy.yml", "drift.yml", "preview.yml"]
    assert [p.name for p in SCRIPTS] == ["setup.sh"]


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
    assert workflow["on"] == {"pull_request": {"branches": ["main"]}}
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
    # The comment is posted by a job that runs none of the PR's code.
    comment = jobs(workflow)["comment"]
    assert comment["needs"] == "offline"
    assert not [s for s in comment["steps"] if s.get("uses", "").startswith("actions/checkout@")]


def test_drift_is_checked_daily_and_reported_by_a_job_that_runs_no_repository_code():
    workflow = load(REPO / ".github/workflows/drift.yml")
    assert [entry["cron"] for entry in workflow["on"]["schedule"]] == ["17 5 * * *"]
    detect, report = jobs(workflow)["detect"], jobs(workflow)["report"]
    # Read-only preview environments: the drift check can read the stacks but cannot deploy them.
    assert detect["environment"] == "${{ matrix.stack }}-preview"
    assert detect["strategy"]["matrix"]["stack"] == report["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    [pulumi] = [s for s in detect["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["refresh"] is True
    assert pulumi["with"]["expect-no-changes"] is True
    # A drifted stack still gets its report: the preview's failure is recorded, not fatal.
    assert pulumi["continue-on-error"] is True
    assert report["needs"] == "detect"
    assert report["if"] == "always()"
    assert report["permissions"] == {"issues": "write"}
    assert not [s for s in report["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert "secrets." not in json.dumps(report)


def test_data_teams_prs_reach_no_platform_secret():
    """A pipeline's PR runs the PR's code with its tenant's own read-only catalog credential, and nothing else."""
    workflow = load(REPO / ".github/workflows/preview.yml")
    tables = jobs(workflow)["tables"]
    assert tables["environment"] == "${{ matrix.stack }}-${{ matrix.project.name }}-preview"
    assert tables["strategy"]["matrix"]["project"] == "${{ fromJSON(needs.changes.outputs.pipelines) }}"
    used = set(re.findall(r"secrets\.(\w+)", json.dumps(tables)))
    assert used == {"FLOE_CATALOG_CREDENTIAL"}
    # The platform's secrets are only ever in the platform tier's environments.
    for path in WORKFLOWS:
        for name, job in jobs(load(path)).items():
            if "PULUMI_CONFIG_PASSPHRASE" in json.dumps(job) and "floe-platform" in json.dumps(job):
                assert job["environment"] in ("${{ matrix.stack }}-preview", "${{ inputs.stack }}"), name


def test_deploys_go_to_dev_then_to_prod_through_protected_environments():
    deploy = load(REPO / ".github/workflows/deploy.yml")
    assert deploy["on"]["push"] == {"branches": ["main"]}
    assert jobs(deploy)["prod"]["needs"] == "dev"
    assert {j["with"]["stack"] for j in jobs(deploy).values()} == {"dev", "prod"}
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


def test_every_stack_the_workflows_use_has_a_policy_config():
    for stack in ("dev", "prod"):
        assert (REPO / "policy" / "config" / f"{stack}.json").is_file()
        assert stack in platform_stacks(REPO)


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
    assert json.loads(capsys.readouterr().out) == {"platform": ["dev"], "pipelines": [{"dir": "sales",
                                                                                       "name": "sales"}]}


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
