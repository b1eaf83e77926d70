"""`floe-infra ci gate`: the verdict of the offline check from the previews of base and head.

The whole check, run as the workflow runs it on a git repository, is in tests/test_workflows.py; these
are the rules of the verdict on results written by hand (what offline-check.sh leaves per stack).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from floe_infra.cli import main
from floe_infra.errors import ExitCode
from floe_infra.preview.report import JSON_FORMAT

BUCKET = "aws:s3/bucket:Bucket"


def _document(*resources: dict[str, Any], guardrails: tuple[dict[str, str], ...] = ()) -> dict[str, Any]:
    return {"format": JSON_FORMAT, "stacks": [{"project": "floe-platform", "stack": "dev", "kind": "platform",
                                               "resources": list(resources), "guardrails": list(guardrails)}]}


def _bucket(name: str) -> dict[str, Any]:
    return {"urn": f"urn:pulumi:dev::floe-platform::{BUCKET}::{name}", "type": BUCKET, "name": name,
            "inputs": {"bucket": name}}


def _side(directory: Path, **stacks: tuple[int, dict[str, Any] | None, str]) -> Path:
    """Results as offline-check.sh writes them: per stack its status, document and stderr."""
    directory.mkdir(parents=True)
    for stack, (status, document, errors) in stacks.items():
        (directory / f"{stack}.status").write_text(f"{status}\n")
        (directory / f"{stack}.err").write_text(errors)
        if document is not None:
            (directory / f"{stack}.json").write_text(json.dumps(document))
    return directory


def gate(tmp_path: Path, base: dict[str, Any], head: dict[str, Any], capsys, *labels: str) -> tuple[int, str]:
    code = main(["ci", "gate", str(_side(tmp_path / "base", **base)), str(_side(tmp_path / "head", **head)),
                 "--labels", json.dumps(list(labels))])
    return code, capsys.readouterr().out


PASSES = (0, _document(_bucket("data")), "")
BROKEN = (2, None, "error: floe.yaml has problems:\nfloe.yaml:3:7: name: 'x y' is not a valid pipeline name\n")


def test_a_stack_that_fails_on_head_only_fails_the_check_with_its_error(tmp_path: Path, capsys):
    code, comment = gate(tmp_path, {"dev": PASSES}, {"dev": BROKEN}, capsys)
    assert code == ExitCode.INVALID
    assert comment.startswith("## Offline check\n\n**✗ fails (exit 2)**\n\n- `dev`: the offline preview fails on head "
                              "(exit 2); it passes on base:\n  ~~~text\n  error: floe.yaml has problems:\n  "
                              "floe.yaml:3:7: name: 'x y' is not a valid pipeline name\n  ~~~\n")


def test_a_stack_that_fails_on_base_too_is_not_held_against_the_pull_request(tmp_path: Path, capsys):
    code, comment = gate(tmp_path, {"dev": BROKEN}, {"dev": BROKEN}, capsys)
    assert code == ExitCode.OK
    assert "- `dev`: the offline preview fails on base too (exit 2), so this pull request is not held to it" in comment


def test_a_new_stack_must_preview(tmp_path: Path, capsys):
    code, comment = gate(tmp_path, {"dev": PASSES}, {"dev": PASSES, "staging": BROKEN}, capsys)
    assert code == ExitCode.INVALID
    assert "- `staging`: the offline preview fails on head (exit 2); a new stack:" in comment


def test_a_removed_stack_is_a_risky_change(tmp_path: Path, capsys):
    code, comment = gate(tmp_path, {"dev": PASSES, "prod": PASSES}, {"dev": PASSES}, capsys)
    assert code == ExitCode.REFUSED
    assert "deletes Bucket data, which holds state" in comment


def test_only_guardrails_failing_on_head_alone_fail_the_check(tmp_path: Path, capsys):
    old = {"rule": "no-latest-images", "enforcement": "mandatory", "urn": "", "message": "old"}
    new = {"rule": "container-resources", "enforcement": "mandatory", "urn": "", "message": "new"}
    base = {"dev": (3, _document(guardrails=(old,)), "")}
    assert gate(tmp_path / "a", base, {"dev": (3, _document(guardrails=(old,)), "")}, capsys)[0] == ExitCode.OK
    code, comment = gate(tmp_path / "b", base, {"dev": (3, _document(guardrails=(old, new)), "")}, capsys)
    assert code == ExitCode.GUARDRAIL
    assert "- `dev`: 1 mandatory guardrail failure on head, none of them on base: `container-resources` on the " \
           "stack: new" in comment


def test_the_most_severe_failure_decides_the_exit_status(tmp_path: Path, capsys):
    head = {"dev": (0, _document(_bucket("renamed")), ""), "prod": BROKEN}
    code, comment = gate(tmp_path, {"dev": PASSES, "prod": PASSES}, head, capsys)
    assert code == ExitCode.INVALID
    assert "1 risky change (below, under **Risky**)" in comment


def test_head_that_cannot_be_installed_fails_the_check_with_the_install_log(tmp_path: Path, capsys):
    head = tmp_path / "head"
    head.mkdir()
    (head / "setup.failed").touch()
    (head / "setup.log").write_text("ERROR: No matching distribution found for pulumi==99\n")
    assert main(["ci", "gate", str(_side(tmp_path / "base", dev=PASSES)), str(head)]) == ExitCode.RUNTIME
    assert "ERROR: No matching distribution found for pulumi==99" in capsys.readouterr().out


@pytest.mark.parametrize("labels", ["{", '{"name": "x"}', "[1]"])
def test_labels_that_are_not_a_json_list_of_names_are_an_error(labels: str, tmp_path: Path, capsys):
    base, head = _side(tmp_path / "base", dev=PASSES), _side(tmp_path / "head", dev=PASSES)
    assert main(["ci", "gate", str(base), str(head), "--labels", labels]) == ExitCode.INVALID
    assert capsys.readouterr().err.startswith("error: --labels takes the pull request's label names as a JSON list")


def test_missing_results_say_how_to_make_them(tmp_path: Path, capsys):
    assert main(["ci", "gate", str(tmp_path / "base"), str(tmp_path / "head")]) == ExitCode.INVALID
    assert capsys.readouterr().err == (f"error: {tmp_path / 'base'} does not exist: run the offline previews first "
                                       "(.github/scripts/offline-check.sh)\n")


def test_errors_are_quoted_in_a_fence_they_cannot_close(tmp_path: Path, capsys):
    broken = (2, None, "error: ~~~~ and ``` inside\n")
    _, comment = gate(tmp_path, {"dev": PASSES}, {"dev": broken}, capsys)
    assert "  ~~~~~text\n  error: ~~~~ and ``` inside\n  ~~~~~\n" in comment
