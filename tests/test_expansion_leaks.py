"""A CI secret in the environment reaches no output: platform.yaml expands endpoints and names only.

docs/ci.md gives the `tables` job `FLOE_CATALOG_CREDENTIAL` (a tenant's catalog credential) and the deploy
jobs `FLOE_TENANT_KEY`. Here both are set to canaries while every command a CI job runs writes its text,
JSON, DOT, diff and errors, on a platform.yaml that uses expansion as the docs allow and on ones that try to
pull the canaries in; no output holds a canary.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from floe_infra.cli import main
from floe_infra.errors import ExitCode
from tests.conftest import DEMO_PIPELINE, DEMO_PLATFORM, REPO

CANARIES = {"FLOE_CATALOG_CREDENTIAL": "fake-canary-client:fake-canary-secret-7f3a9c",
            "FLOE_TENANT_KEY": "floe-tenant-private-key:fake-canary-key-0b1d"}
ASSUME = ["--assume-secret", "floe:tenantKey"]


class Outputs:
    """Everything the commands printed or wrote, to be searched for the canaries."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.texts: dict[str, str] = {}

    def run(self, label: str, *args: str, files: tuple[Path, ...] = ()) -> tuple[int, str, str]:
        """Exit code, stdout and stderr of one command."""
        code = main(list(args))
        captured = self.capsys.readouterr()
        self.texts[label] = captured.out + captured.err
        for file in files:
            if file.exists():
                self.texts[f"{label}: {file.name}"] = file.read_text()
        return code, captured.out, captured.err

    def leaks(self) -> list[str]:
        return [f"{label} holds {name}" for label, text in self.texts.items()
                for name, value in CANARIES.items() if value in text or value.split(":")[-1] in text]


def _project(tmp_path: Path, platform_text: str) -> Path:
    """A platform project (Pulumi.yaml, __main__.py, a local stack) around `platform_text`."""
    project = tmp_path / "platform"
    project.mkdir(exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, project / name)
    (project / "platform.yaml").write_text(platform_text)
    (project / "Pulumi.local.yaml").write_text("config:\n  floe:platformFile: platform.yaml\n")
    return project


@pytest.fixture
def canaries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FLOE_PLATFORM_BUCKET", "floe-local-platform")
    monkeypatch.chdir(tmp_path)  # `tables plan --embedded` keeps its catalog under ./.floe


def test_no_output_of_a_valid_platform_holds_a_ci_secret(canaries, tmp_path: Path, capsys):
    # The demo, with a bucket name from the environment as the docs allow.
    text = DEMO_PLATFORM.read_text().replace("bucket: floe-local-platform", "bucket: ${FLOE_PLATFORM_BUCKET}")
    assert "${FLOE_PLATFORM_BUCKET}" in text
    project = _project(tmp_path, text)
    platform = project / "platform.yaml"
    out = Outputs(capsys)
    base, head, dot = tmp_path / "base.json", tmp_path / "head.json", tmp_path / "graph.dot"
    assert out.run("validate", "validate", "--platform", str(platform), "--pipeline", str(DEMO_PIPELINE))[0] == 0
    assert out.run("validate --json", "validate", "--platform", str(platform), "--pipeline", str(DEMO_PIPELINE),
                   "--json")[0] == 0
    assert out.run("contract export", "contract", "export", "--platform", str(platform))[0] == 0
    assert out.run("tables plan", "tables", "plan", "--platform", str(platform), "--pipeline", str(DEMO_PIPELINE),
                   "--embedded")[0] == 0
    preview = ["preview", "--stack", "local", "--project-dir", str(project), "--pipeline", str(DEMO_PIPELINE),
               *ASSUME]
    assert out.run("preview", *preview, "--json", str(base), "--dot", str(dot), files=(base, dot))[0] == 0
    platform.write_text(text.replace("deployment.environment: local", "deployment.environment: local-2"))
    assert out.run("preview (head)", *preview, "--json", str(head), files=(head,))[0] == 0
    assert out.run("diff", "diff", str(base), str(head))[0] == 0
    assert "floe-local-platform" in out.texts["contract export"], "the expansion happened"
    assert "local-2" in out.texts["diff"], "the diff shows the change"
    assert out.leaks() == []


@pytest.mark.parametrize(("where", "replace"), [
    ("observability.attributes.note", ("deployment.environment: local",
                                       'deployment.environment: local\n    note: "${FLOE_CATALOG_CREDENTIAL}"')),
    ("storage.default.bucket", ("bucket: floe-local-platform", "bucket: ${FLOE_CATALOG_CREDENTIAL}")),
    ("deployment.tenants.ecommerce-analytics.public_key", ("public_key: VWc1jS1sCH/WYqQ5E1DGvr5z260+3hF7oE/+/wCFqwg=",
                                                           "public_key: ${FLOE_TENANT_KEY}")),
])
def test_a_platform_yaml_that_names_a_ci_secret_is_refused_by_every_command_without_echoing_it(
        canaries, tmp_path: Path, capsys, where: str, replace: tuple[str, str]):
    text = DEMO_PLATFORM.read_text()
    assert replace[0] in text
    project = _project(tmp_path, text.replace(*replace))
    platform = project / "platform.yaml"
    line = next(i for i, row in enumerate(platform.read_text().splitlines(), 1) if "${FLOE_" in row)
    out = Outputs(capsys)
    json_out = tmp_path / "preview.json"
    commands = {
        "validate": ["validate", "--platform", str(platform), "--pipeline", str(DEMO_PIPELINE)],
        "validate --json": ["validate", "--platform", str(platform), "--json"],
        "contract export": ["contract", "export", "--platform", str(platform)],
        "tables plan": ["tables", "plan", "--platform", str(platform), "--pipeline", str(DEMO_PIPELINE), "--embedded"],
        "preview": ["preview", "--stack", "local", "--project-dir", str(project), "--pipeline", str(DEMO_PIPELINE),
                    "--json", str(json_out), *ASSUME],
    }
    for label, args in commands.items():
        code, stdout, err = out.run(label, *args, files=(json_out,))
        assert code == ExitCode.INVALID, label
        if label == "validate --json":
            [problem] = [p for p in json.loads(stdout)["problems"] if "is not expanded" in p["message"]]
            assert (problem["line"], problem["path"]) == (line, where)
        else:
            assert f"{platform}:{line}:" in err, (label, err)
            assert f"{where}: ${{FLOE_" in err, (label, err)
        assert "its name says it holds a credential" in out.texts[label]
    assert out.leaks() == []


def test_a_ci_secret_pasted_into_an_allowed_variable_is_never_echoed(canaries, monkeypatch, tmp_path: Path, capsys):
    # Misuse the docs cannot prevent: the secret in a variable named like a bucket. It is not a valid bucket
    # name, and the errors name the variable instead of repeating what it holds.
    monkeypatch.setenv("FLOE_PLATFORM_BUCKET", CANARIES["FLOE_CATALOG_CREDENTIAL"])
    text = DEMO_PLATFORM.read_text().replace("bucket: floe-local-platform", "bucket: ${FLOE_PLATFORM_BUCKET}")
    platform = _project(tmp_path, text) / "platform.yaml"
    out = Outputs(capsys)
    for label, args in {"validate": ["validate", "--platform", str(platform)],
                        "tables plan": ["tables", "plan", "--platform", str(platform), "--pipeline",
                                        str(DEMO_PIPELINE), "--embedded"]}.items():
        code, _, err = out.run(label, *args)
        assert code == ExitCode.INVALID
        assert "storage.default.bucket: bucket the value of ${FLOE_PLATFORM_BUCKET} breaks the S3 naming rules" in err
    assert out.leaks() == []
