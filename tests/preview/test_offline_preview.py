"""`floe-infra preview --offline` and `floe-infra diff`: the demo, previewed without any credential."""

from __future__ import annotations

import functools
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from floe_infra.cli import main
from floe_infra.errors import ExitCode
from floe_infra.platform import generated
from floe_infra.preview.diff import compare, load_document, markdown
from floe_infra.preview.offline import StackPreview, offline_preview, stack_config
from floe_infra.preview.report import dot_graph, json_document, text_report
from floe_infra.preview.runtime import fake_secret
from tests.conftest import DEMO_PIPELINE, DEMO_PLATFORM, REPO

RELEASE = "kubernetes:helm.sh/v3:Release"
# The demo's stack files cannot hold its data team's private key: previews assume CI sets it.
ASSUMED = ("floe:tenantKey",)
ASSUME = ["--assume-secret", "floe:tenantKey"]
SECURE_KEY = "  floe:tenantKey:\n    secure: AAABAKx-ciphertext-the-preview-never-decrypts==\n"


@functools.cache
def demo(stack: str = "local") -> tuple[StackPreview, ...]:
    return tuple(offline_preview(REPO, stack, [DEMO_PIPELINE], {}, assumed_secrets=ASSUMED))


def pipeline_copy(tmp_path: Path) -> Path:
    """A copy of the demo pipeline project to modify."""
    target = tmp_path / "pipeline"
    skipped = shutil.ignore_patterns("__pycache__", ".floe", "target", "logs")
    shutil.copytree(DEMO_PIPELINE.parent, target, ignore=skipped)
    return target / "floe.yaml"


def test_the_offline_preview_is_deterministic():
    first = json_document(demo("dev"))
    second = json_document(offline_preview(REPO, "dev", [DEMO_PIPELINE], {}, assumed_secrets=ASSUMED))
    assert first == second


def test_the_json_lists_every_helm_release_with_chart_repository_version_namespace_and_values():
    document = json.loads(json_document(demo()))
    releases = [r for s in document["stacks"] for r in s["resources"] if r["type"] == RELEASE]
    names = sorted(r["inputs"]["name"] for r in releases)
    assert names == ["code-ecommerce-analytics", "floe-cube", "floe-cubestore", "floe-dagster", "floe-jaeger",
                     "floe-minio", "floe-polaris"]
    for release in releases:
        inputs = release["inputs"]
        assert inputs["chart"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", inputs["version"])
        assert inputs["namespace"] == "floe"
        assert isinstance(inputs["values"], dict)
        assert inputs.get("repositoryOpts", {}).get("repo", "").startswith("https://") or \
            inputs["chart"].startswith(".floe/charts/")
    dependencies = {r["name"]: r["dependencies"] for s in document["stacks"] for r in s["resources"]}
    assert any("floe-database-setup" in d for d in dependencies["floe-orchestration-dagster"])


def test_secrets_are_masked_in_the_json():
    previews = demo()
    document = json_document(previews)
    values = {fake_secret(r.name, int(r.inputs["length"])) for p in previews
              for r in p.run.of_type(generated.TYPE)}
    assert values
    assert not [s for s in values if s in document]
    assert '"stringData": "[secret]"' in document


def test_the_text_report_shows_the_tree_guardrails_and_table_plans():
    text = "\n".join(text_report(demo()))
    assert "floe-platform/local (platform): " in text
    assert "      + kubernetes:helm.sh/v3:Release floe-catalog-polaris  floe/floe-polaris: chart polaris 1.7.0" in text
    assert "guardrails: all passed on ecommerce-analytics/local" in text
    # A warm demo's tables exist in the embedded catalog: the preview says what it plans against.
    assert ("Iceberg tables of ecommerce-analytics/local, planned against an empty catalog (a new stack; "
            "`floe-infra tables plan` compares with a live or the embedded catalog):") in text
    assert re.search(r"^\+ +bronze\.ecommerce_analytics\.orders +create +8$", text, flags=re.MULTILINE)
    assert "    add partition field month(ordered_at)" in text


def test_the_resource_count_the_docs_quote_is_the_previews():
    platform = demo()[0]
    text = " ".join((REPO / "docs" / "operations.md").read_text().split())
    assert f"the demo platform's {len(platform.run.resources)} resources, as `floe-infra preview --stack local` " \
           "counts them" in text


def test_the_dot_graph_has_every_resource_and_its_edges():
    previews = demo()
    dot = dot_graph(previews)
    assert dot.startswith("digraph floe {")
    count = sum(len(p.run.resources) for p in previews)
    assert len(re.findall(r"^    \".*\" \[label=", dot, flags=re.MULTILINE)) == count
    pipeline = previews[1].run
    configmap = pipeline.named("ecommerce-analytics-runtime-files").urn
    release = pipeline.named("ecommerce-analytics-code-release").urn
    assert f'"{configmap}" -> "{release}";' in dot
    assert f'"{pipeline.named("ecommerce-analytics-code").urn}" -> "{release}" [style=dashed, color=gray];' in dot


def test_stack_config_replaces_encrypted_values_and_namespaces_keys(tmp_path: Path):
    (tmp_path / "Pulumi.yaml").write_text("name: sales\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  floe:image: a/b:1\n  region: eu-west-1\n  floe:tenantKey:\n    secure: AAABAKx==\n"
        "  floe:secret-db:\n    username: app\n    password:\n      secure: AAABAOy==\n")
    config, secrets = stack_config(tmp_path, "dev")
    assert config["floe:image"] == "a/b:1"
    assert config["sales:region"] == "eu-west-1"
    assert config["floe:tenantKey"] == fake_secret("floe:tenantKey")
    assert json.loads(config["floe:secret-db"]) == {"username": "app",
                                                    "password": fake_secret("floe:secret-db.password")}
    assert sorted(secrets) == ["floe:secret-db", "floe:tenantKey"]


def test_cli_preview_writes_json_and_dot_and_exits_zero(tmp_path: Path, capsys):
    out_json, out_dot = tmp_path / "preview.json", tmp_path / "graph.dot"
    code = main(["preview", "--offline", "--stack", "local", "--project-dir", str(REPO), "--pipeline",
                 str(DEMO_PIPELINE), "--json", str(out_json), "--dot", str(out_dot), *ASSUME])
    assert code == 0
    assert load_document(out_json)["stacks"][1]["project"] == "ecommerce-analytics"
    assert out_dot.read_text().startswith("digraph")
    assert "guardrails: all passed on floe-platform/local" in capsys.readouterr().out


def test_cli_preview_fails_with_status_3_on_a_mandatory_guardrail(tmp_path: Path, capsys):
    pipeline = pipeline_copy(tmp_path)
    (pipeline.parent / "Pulumi.local.yaml").write_text("config:\n  floe:image: acme/sales:latest\n" + SECURE_KEY)
    code = main(["preview", "--offline", "--stack", "local", "--project-dir", str(REPO), "--pipeline", str(pipeline)])
    captured = capsys.readouterr()
    assert code == 3
    assert "x [mandatory] no-latest-images: ecommerce-analytics-code-release: values.deployments[0].image pins no" \
           in captured.out
    assert "mandatory guardrails fail on ecommerce-analytics/local" in captured.err
    # The same stack with the rule made advisory by its policy config passes, with the warning shown.
    policy = tmp_path / "local.json"
    policy.write_text('{"no-latest-images": "advisory"}')
    code = main(["preview", "--offline", "--stack", "local", "--project-dir", str(REPO), "--pipeline", str(pipeline),
                 "--policy-config", str(policy)])
    assert code == 0
    assert "! [advisory] no-latest-images" in capsys.readouterr().out


def test_cli_preview_reports_program_errors_and_bad_policy_configs(tmp_path: Path, capsys):
    pipeline = pipeline_copy(tmp_path)
    (pipeline.parent / "Pulumi.local.yaml").write_text("config:\n" + SECURE_KEY)
    assert main(["preview", "--offline", "--stack", "local", "--project-dir", str(REPO), "--pipeline",
                 str(pipeline)]) == 2
    assert "error: floe:image is not set" in capsys.readouterr().err
    policy = tmp_path / "bad.json"
    policy.write_text('{"no-such-rule": "advisory"}')
    assert main(["preview", "--offline", "--stack", "local", "--project-dir", str(REPO),
                 "--policy-config", str(policy)]) == 2
    assert "unknown guardrail no-such-rule" in capsys.readouterr().err


def test_diff_reports_added_removed_and_changed_resources_and_fields(tmp_path: Path):
    pipeline = pipeline_copy(tmp_path)
    base = json_document(offline_preview(REPO, "local", [pipeline], {}, assumed_secrets=ASSUMED))
    text = pipeline.read_text()
    text = text.replace("  - name: products\n", "  - name: product_catalog\n")  # a new table, the old one gone
    text = text.replace("      - {name: status, type: string}\n",
                        "      - {name: status, type: string}\n      - {name: channel, type: string}\n")
    pipeline.write_text(text)
    (pipeline.parent / "Pulumi.local.yaml").write_text("config:\n  floe:image: floe-demo/ecommerce-analytics:1.1.0\n")
    head = json_document(offline_preview(REPO, "local", [pipeline], {}, assumed_secrets=ASSUMED))
    (tmp_path / "base.json").write_text(base)
    (tmp_path / "head.json").write_text(head)
    text = markdown(compare(load_document(tmp_path / "base.json"), load_document(tmp_path / "head.json")))
    assert "### `ecommerce-analytics/local`: 1 to add, " in text
    assert "### `floe-platform/local`: 0 to add, 0 to change, 0 to delete" in text
    assert "- `pulumi-python:dynamic/iceberg:IcebergTable` **ecommerce-analytics-tables-bronze-product_catalog**" \
           in text.split("**Added**")[1]
    assert "**ecommerce-analytics-tables-bronze-products**" in text.split("**Removed**")[1]
    changed = text.split("**Changed**")[1]
    assert "`inputs.values.deployments[name=code-ecommerce-analytics].image.tag`: `1.0.0` → `1.1.0`" in changed
    # One column added: the columns after it are not shown as changed.
    assert "`inputs.table.columns[name=channel]`: added `" in changed
    assert "columns[name=ordered_at]" not in changed
    assert "Risky" not in text, "a dropped table the catalog keeps is no risk"


def _document(*resources: dict, guardrails: tuple[dict, ...] = ()) -> dict:
    return {"format": 1, "stacks": [{"project": "floe-platform", "stack": "dev", "resources": list(resources),
                                     "guardrails": list(guardrails)}]}


def _resource(type_: str, name: str, inputs: dict) -> dict:
    return {"urn": f"urn:pulumi:dev::floe-platform::{type_}::{name}", "type": type_, "name": name, "inputs": inputs,
            "dependencies": [], "protect": False, "retain_on_delete": False, "provider": "", "parent": ""}


CATALOG = "pulumi-python:dynamic/polaris:Catalog"
TABLE = "pulumi-python:dynamic/iceberg:IcebergTable"


def test_lists_are_compared_by_identity_not_by_position():
    old = _resource(CATALOG, "c", {"storage": {"allowedLocations": ["s3://b-bronze/", "s3://b-gold/"]},
                                   "grants": [{"type": "catalog", "privilege": "A"}]})
    new = _resource(CATALOG, "c", {"storage": {"allowedLocations": ["s3://a-raw/", "s3://b-bronze/", "s3://b-gold/"]},
                                   "grants": [{"type": "catalog", "privilege": "A"}]})
    [(_, changes)] = compare(_document(old), _document(new)).stacks[0].changed
    assert [c.describe() for c in changes] == ["`inputs.storage.allowedLocations[]`: added `s3://a-raw/`"]


def test_risky_changes_are_flagged():
    bucket = "aws:s3/bucket:Bucket"
    base = _document(
        _resource(bucket, "silver", {"bucket": "floe-silver"}),
        _resource("kubernetes:apps/v1:StatefulSet", "db", {"metadata": {"name": "db"}}),
        _resource(CATALOG, "c", {"properties": {"default-base-location": "s3://floe-bronze/lakehouse"}}),
        _resource(TABLE, "t", {"table": {"name": "orders", "drop_when_removed": True, "columns": []}}),
        _resource(TABLE, "u", {"table": {"name": "users", "columns": [{"name": "id"}, {"name": "email"}]}}),
        _resource(RELEASE, "minio", {"name": "floe-minio", "values": {"buckets": [{"name": "floe-gold"}]}}))
    head = _document(
        _resource(bucket, "silver", {"bucket": "floe-silver-v2"}),
        _resource(CATALOG, "c", {"properties": {"default-base-location": "s3://floe-raw/lakehouse"}}),
        _resource(TABLE, "u", {"table": {"name": "users", "columns": [{"name": "id"}]}}),
        _resource(RELEASE, "minio", {"name": "floe-minio", "values": {"buckets": [{"name": "floe-gold-2"}]}}))
    risks = {(r.resource, r.message.split(" (")[0].split(":")[0]) for r in compare(base, head).risks}
    assert risks == {
        ("silver", "renames bucket floe-silver → floe-silver-v2"),
        ("db", "deletes StatefulSet db, which holds state"),
        ("c", "moves the catalog's locations"),
        ("t", "drops table orders and its data"),
        ("u", "drops column email of table users"),
        ("minio", "no longer creates bucket floe-gold"),
    }
    assert "**⚠ 6 risky changes: review before merging**" in markdown(compare(base, head))


def test_a_namespace_moved_is_risky_but_not_the_trailing_slash_polaris_adds():
    namespace = "pulumi-python:dynamic/polaris:Namespace"
    base = _document(_resource(namespace, "a", {"properties": {"location": "s3://floe-bronze/bronze"}}),
                     _resource(namespace, "b", {"properties": {"location": "s3://floe-bronze/silver/"}}))
    head = _document(_resource(namespace, "a", {"properties": {"location": "s3://floe-bronze/bronze/"}}),
                     _resource(namespace, "b", {"properties": {"location": "s3://floe-gold/silver/"}}))
    assert [(r.resource, r.message.split(" (")[0]) for r in compare(base, head).risks] == [
        ("b", "moves the namespace's location")]


def test_each_failing_guardrail_is_listed_once_with_its_resource_and_fails_the_diff(tmp_path: Path, capsys):
    release = _resource(RELEASE, "jaeger", {"name": "floe-jaeger"})
    violation = {"rule": "no-latest-images", "enforcement": "mandatory", "urn": release["urn"],
                 "message": "values.jaeger.image pins no image tag (latest)"}
    (tmp_path / "base.json").write_text(json.dumps(_document(release)))
    (tmp_path / "head.json").write_text(json.dumps(_document(release, guardrails=(violation, violation))))
    assert main(["diff", str(tmp_path / "base.json"), str(tmp_path / "head.json")]) == ExitCode.GUARDRAIL
    out = capsys.readouterr().out
    assert out.count("no-latest-images") == 1
    assert ("- `no-latest-images` on `kubernetes:helm.sh/v3:Release` **jaeger**: values.jaeger.image pins no image "
            "tag (latest) (new)") in out
    assert main(["diff", str(tmp_path / "base.json"), str(tmp_path / "base.json"), "--exit-code"]) == 0


def test_diff_exit_code_flags_risky_changes(tmp_path: Path, capsys):
    (tmp_path / "base.json").write_text(json.dumps(_document(_resource("aws:s3/bucket:Bucket", "b", {"bucket": "x"}))))
    (tmp_path / "head.json").write_text(json.dumps(_document()))
    args = ["diff", str(tmp_path / "base.json"), str(tmp_path / "head.json")]
    assert main(args) == 0
    assert main([*args, "--exit-code"]) == ExitCode.REFUSED == 4
    assert "deletes Bucket b, which holds state" in capsys.readouterr().out


# --- previews fail where a real preview would ------------------------------------------------------

def test_a_pipeline_stack_without_its_tenant_key_fails_and_suggests_assuming_what_ci_sets(capsys):
    code = main(["preview", "--stack", "local", "--project-dir", str(REPO), "--pipeline", str(DEMO_PIPELINE)])
    assert code == ExitCode.INVALID
    stack_file = DEMO_PIPELINE.parent / "Pulumi.local.yaml"
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: {stack_file} sets no floe:tenantKey, and a pipeline stack is its tenant only with the tenant's "
        "private key. Previewing what CI deploys (its deploy job sets the key from the pipeline's GitHub "
        "environment, docs/ci.md): add `--assume-secret floe:tenantKey`. Deploying from this stack file: "
        f"`pulumi config set --secret floe:tenantKey \"$(cat tenant.key)\"` in {DEMO_PIPELINE.parent}")


def test_a_tenant_key_in_plain_text_fails_as_pulumi_preview_would(tmp_path: Path, capsys):
    pipeline = pipeline_copy(tmp_path)
    (pipeline.parent / "Pulumi.local.yaml").write_text("config:\n  floe:image: a/b:1\n  floe:tenantKey: abc\n")
    assert main(["preview", "--stack", "local", "--project-dir", str(REPO), "--pipeline", str(pipeline)]) == 2
    assert "floe:tenantKey is stored in plain text" in capsys.readouterr().err


def _platform_project(tmp_path: Path, text: str) -> Path:
    project = tmp_path / "platform"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, project / name)
    (project / "platform.yaml").write_text(text)
    (project / "Pulumi.local.yaml").write_text("config:\n  floe:platformFile: platform.yaml\n")
    return project


def test_a_tenant_without_a_public_key_fails_the_pipeline_preview(tmp_path: Path, capsys):
    platform = _platform_project(tmp_path, re.sub(r"\n *public_key: \S+", "", DEMO_PLATFORM.read_text()))
    pipeline = pipeline_copy(tmp_path)
    (pipeline.parent / "Pulumi.local.yaml").write_text("config:\n  floe:image: a/b:1\n" + SECURE_KEY)
    code = main(["preview", "--stack", "local", "--project-dir", str(platform), "--pipeline", str(pipeline)])
    assert code == ExitCode.INVALID
    assert "publishes no catalog credentials for tenant 'ecommerce-analytics'" in capsys.readouterr().err


def test_a_stack_file_with_the_encrypted_tenant_key_previews(tmp_path: Path, capsys):
    pipeline = pipeline_copy(tmp_path)
    (pipeline.parent / "Pulumi.local.yaml").write_text("config:\n  floe:image: a/b:1\n" + SECURE_KEY)
    assert main(["preview", "--stack", "local", "--project-dir", str(REPO), "--pipeline", str(pipeline)]) == 0
    assert "assumed:" not in capsys.readouterr().out


def test_a_stack_without_its_file_is_named_not_blamed_on_config(capsys):
    assert main(["preview", "--stack", "staging", "--project-dir", str(REPO)]) == ExitCode.INVALID
    err = capsys.readouterr().err
    assert err == (f"error: {REPO / 'Pulumi.staging.yaml'} does not exist: {REPO} has no stack 'staging' (stacks: "
                   "dev, local, prod); a new environment gets its stack files with `floe-infra new-environment "
                   "staging` (docs/ci.md), a single project with `pulumi stack init staging` in that directory\n")


def test_a_misspelt_stack_gets_the_stack_it_resembles(tmp_path: Path, capsys):
    project = _platform_project(tmp_path, "storage: {default: {bucket: floe-data}}\n")
    (project / "Pulumi.staging.yaml").write_text("config:\n  floe:platformFile: platform.yaml\n")
    assert main(["preview", "--stack", "stagin", "--project-dir", str(project)]) == ExitCode.INVALID
    assert capsys.readouterr().err == (f"error: {project / 'Pulumi.stagin.yaml'} does not exist: {project} has no "
                                       "stack 'stagin' (stacks: local, staging); did you mean `staging`?\n")


def test_a_named_policy_config_that_does_not_exist_is_an_error(tmp_path: Path, capsys):
    missing = tmp_path / "nonexistent.json"
    assert main(["preview", "--stack", "local", "--project-dir", str(REPO), "--policy-config",
                 str(missing)]) == ExitCode.INVALID
    assert capsys.readouterr().err == (f"error: --policy-config {missing} does not exist: give the guardrails' "
                                       "configuration of the stack (policy/config/<stack>.json, docs/ci.md), or "
                                       "leave the option out to read that file\n")


def test_a_pipeline_previewed_without_a_contract_is_told_to_pass_one(monkeypatch, capsys):
    # A data team in its pipeline project, where the platform project is not.
    monkeypatch.chdir(DEMO_PIPELINE.parent)
    assert main(["preview", "--stack", "dev", "--pipeline", "floe.yaml", *ASSUME]) == ExitCode.INVALID
    assert capsys.readouterr().err == (
        "error: . is a pipeline project (floe.yaml beside Pulumi.yaml), not the platform project: preview the "
        "pipeline on the platform's contract with `--contract contract.json` (`pulumi stack output contract --json` "
        "of the deployed platform stack, or `floe-infra contract export --platform platform.yaml`), or name the "
        "platform project with `--project-dir`\n")


def test_a_data_team_previews_its_pipeline_on_a_contract_file(tmp_path: Path, capsys):
    contract = tmp_path / "contract.json"
    assert main(["contract", "export", "--platform", str(DEMO_PLATFORM), "--out", str(contract)]) == 0
    code = main(["preview", "--stack", "local", "--pipeline", str(DEMO_PIPELINE), "--contract", str(contract),
                 *ASSUME, "--json"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert [s["project"] for s in document["stacks"]] == ["ecommerce-analytics"]
    assert any(r["type"] == "pulumi-python:dynamic/iceberg:IcebergTable" for r in document["stacks"][0]["resources"])


def test_the_report_lists_every_assumed_secret(capsys):
    assert main(["preview", "--stack", "local", "--project-dir", str(REPO), "--pipeline", str(DEMO_PIPELINE),
                 *ASSUME]) == 0
    assert "assumed: floe:tenantKey is set as a secret before `pulumi preview` runs" in capsys.readouterr().out


def test_diff_refuses_files_that_are_not_previews(tmp_path: Path, capsys):
    (tmp_path / "x.json").write_text('{"stacks": []}')
    assert main(["diff", str(tmp_path / "x.json"), str(tmp_path / "x.json")]) == 2
    assert "is not a `floe-infra preview --offline --json` document" in capsys.readouterr().err


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_demo_environment_previews_offline(stack: str):
    # Every demo tenant has a public key, so the platform publishes credentials its pipeline can open.
    previews = demo(stack)
    assert [p.label for p in previews] == [f"floe-platform/{stack}", f"ecommerce-analytics/{stack}"]
    assert not any(p.blocked for p in previews)


def test_two_resources_with_one_urn_stop_any_preview_as_the_engine_would(tmp_path: Path):
    import pulumi_kubernetes as k8s

    from floe_infra.preview.runtime import DuplicateResourceError, run_program

    def program() -> None:
        for _ in range(2):  # e.g. two tenants or layers whose names lead to the same logical name
            k8s.core.v1.ConfigMap("twice", data={"a": "b"})

    expected = (r"1 resource URN\(s\) registered more than once, which `pulumi preview` refuses: "
                r"urn:pulumi:local::p::pulumi:pulumi:Stack\$kubernetes:core/v1:ConfigMap::twice")
    with pytest.raises(DuplicateResourceError, match=expected):
        run_program(program, project="p", stack="local", root_directory=tmp_path)


# --- the documented commands run as written ---------------------------------------------------------

def _documented(doc: str, starting: str) -> list[str]:
    """The command of `doc` starting with `starting`, its continuation lines joined, its comment cut."""
    text = (REPO / "docs" / doc).read_text().replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.strip().startswith(starting)]
    return shlex.split(line.split("#", 1)[0])[1:]


def _scratch_repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "demo", root / "demo", ignore=shutil.ignore_patterns("__pycache__", ".floe", "target"))
    shutil.copytree(REPO / "policy" / "config", root / "policy" / "config")
    for path in [REPO / "Pulumi.yaml", REPO / "__main__.py", *REPO.glob("Pulumi.*.yaml")]:
        shutil.copy(path, root / path.name)
    return root


def test_the_local_preview_of_docs_ci_runs_as_written(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(_scratch_repository(tmp_path))
    command = _documented("ci.md", "floe-infra preview --offline --stack dev --pipeline demo/data_engineering")
    assert "--assume-secret" in command
    assert main(command) == 0
    assert main(_documented("ci.md", "floe-infra diff dev.json dev.json")) == 0
    assert "### `floe-platform/dev`: 0 to add, 0 to change, 0 to delete" in capsys.readouterr().out
    assert Path("dev.dot").read_text().startswith("digraph floe {")


def test_the_contract_preview_of_docs_pipeline_stack_runs_as_written(tmp_path: Path, monkeypatch, capsys):
    pipeline = pipeline_copy(tmp_path)
    monkeypatch.chdir(pipeline.parent)
    assert main(["contract", "export", "--platform", str(DEMO_PLATFORM.with_name("platform.dev.yaml")), "--out",
                 "contract.json"]) == 0
    text = " ".join((REPO / "docs" / "pipeline-stack.md").read_text().split())
    [command] = re.findall(r"`floe-infra (preview --stack dev [^`]*)`", text)
    assert main(command.split()) == 0
    assert "guardrails: all passed on ecommerce-analytics/dev" in capsys.readouterr().out
