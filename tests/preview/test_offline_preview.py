"""`floe-infra preview --offline` and `floe-infra diff`: the demo, previewed without any credential."""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path

import pytest

from floe_infra.cli import main
from floe_infra.platform import generated
from floe_infra.preview.diff import load_document, markdown_diff
from floe_infra.preview.offline import StackPreview, offline_preview, stack_config
from floe_infra.preview.report import dot_graph, json_document, text_report
from floe_infra.preview.runtime import fake_secret
from tests.conftest import DEMO_PIPELINE, REPO

RELEASE = "kubernetes:helm.sh/v3:Release"


@functools.cache
def demo(stack: str = "local") -> tuple[StackPreview, ...]:
    return tuple(offline_preview(REPO, stack, [DEMO_PIPELINE], {}))


def pipeline_copy(tmp_path: Path) -> Path:
    """A copy of the demo pipeline project to modify."""
    target = tmp_path / "pipeline"
    skipped = shutil.ignore_patterns("__pycache__", ".floe", "target", "logs")
    shutil.copytree(DEMO_PIPELINE.parent, target, ignore=skipped)
    return target / "floe.yaml"


def test_the_offline_preview_is_deterministic():
    first = json_document(demo("dev"))
    second = json_document(offline_preview(REPO, "dev", [DEMO_PIPELINE], {}))
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
    assert "+ bronze.ecommerce_analytics.orders       create     8" in text
    assert "    add partition field month(ordered_at)" in text


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
                 str(DEMO_PIPELINE), "--json", str(out_json), "--dot", str(out_dot)])
    assert code == 0
    assert load_document(out_json)["stacks"][1]["project"] == "ecommerce-analytics"
    assert out_dot.read_text().startswith("digraph")
    assert "guardrails: all passed on floe-platform/local" in capsys.readouterr().out


def test_cli_preview_fails_with_status_3_on_a_mandatory_guardrail(tmp_path: Path, capsys):
    pipeline = pipeline_copy(tmp_path)
    (pipeline.parent / "Pulumi.local.yaml").write_text("config:\n  floe:image: acme/sales:latest\n")
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
    (pipeline.parent / "Pulumi.local.yaml").write_text("config: {}\n")
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
    base = json_document(offline_preview(REPO, "local", [pipeline], {}))
    text = pipeline.read_text()
    text = text.replace("  - name: products\n", "  - name: product_catalog\n")  # a new table, the old one gone
    text = text.replace("      - {name: status, type: string}\n",
                        "      - {name: status, type: string}\n      - {name: channel, type: string}\n")
    pipeline.write_text(text)
    (pipeline.parent / "Pulumi.local.yaml").write_text("config:\n  floe:image: floe-demo/ecommerce-analytics:1.1.0\n")
    head = json_document(offline_preview(REPO, "local", [pipeline], {}))
    (tmp_path / "base.json").write_text(base)
    (tmp_path / "head.json").write_text(head)
    markdown = markdown_diff(load_document(tmp_path / "base.json"), load_document(tmp_path / "head.json"))
    assert "### `ecommerce-analytics/local`: 1 to add, " in markdown
    assert "### `floe-platform/local`: 0 to add, 0 to change, 0 to delete" in markdown
    assert "- `pulumi-python:dynamic/iceberg:IcebergTable` **ecommerce-analytics-tables-bronze-product_catalog**" \
           in markdown.split("**Added**")[1]
    assert "**ecommerce-analytics-tables-bronze-products**" in markdown.split("**Removed**")[1]
    changed = markdown.split("**Changed**")[1]
    assert "`inputs.values.deployments[0].image.tag`: `1.0.0` → `1.1.0`" in changed
    assert "`inputs.table.columns[3].name`: `ordered_at` → `channel`" in changed


def test_diff_refuses_files_that_are_not_previews(tmp_path: Path, capsys):
    (tmp_path / "x.json").write_text('{"stacks": []}')
    assert main(["diff", str(tmp_path / "x.json"), str(tmp_path / "x.json")]) == 2
    assert "is not a `floe-infra preview --offline --json` document" in capsys.readouterr().err


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_demo_environment_previews_offline(stack: str):
    previews = demo(stack)
    assert [p.label for p in previews] == [f"floe-platform/{stack}", f"ecommerce-analytics/{stack}"]
    assert not any(p.blocked for p in previews)
