"""`floe-infra migrate passwords`: reading 0.1's values, checking the adoption, recording options, the sequence.

The Pulumi CLI itself runs in the e2e (tests/e2e/test_password_migration.py); here each step's logic
runs on state and preview documents shaped as the CLI prints them, and the sequence against a recording
stand-in of the CLI.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from floe_infra import migrate
from floe_infra.cli import main
from floe_infra.errors import ExitCode
from floe_infra.migrate import (
    LegacyPassword,
    MigrationError,
    MigrationRefusedError,
    PulumiCli,
    legacy_passwords,
    migrate_passwords,
    record_declared_options,
    unexpected_changes,
)
from floe_infra.platform import generated

PARENT = "urn:pulumi:prod::floe-platform::floe:platform:Stack$floe:platform:Secrets"
ROOT_URN = f"{PARENT}${generated.LEGACY_TYPE}::floe-secrets-polaris-root"
DB_URN = f"{PARENT}${generated.LEGACY_TYPE}::floe-secrets-postgresql-dagster"
SECRET_URN = f"{PARENT}$kubernetes:core/v1:Secret::floe-secrets-floe-polaris-root"
ROOT_VALUE = "rootValueOfRelease01xxxxxxxxxxxxxxxxxxxx"  # obviously fake test values
DB_VALUE = "dagsterDbValueOfRelease01xxxxxxxxxxxxxxx"


def secret(value: Any) -> dict[str, str]:
    """A secret as `pulumi stack export --show-secrets` prints it."""
    return {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": json.dumps(value)}


def decrypted_export() -> dict[str, Any]:
    return {"version": 3, "deployment": {"resources": [
        {"urn": PARENT, "type": "floe:platform:Secrets"},
        {"urn": ROOT_URN, "type": generated.LEGACY_TYPE, "id": "9c1f",
         "inputs": {"length": 40, "rotation": 0}, "outputs": {"length": 40, "rotation": 0,
                                                             "result": secret(ROOT_VALUE)}},
        {"urn": DB_URN, "type": generated.LEGACY_TYPE, "id": "77ab",
         "inputs": {"length": 40, "rotation": 2}, "outputs": {"length": 40, "rotation": 2, "result": secret(DB_VALUE)}},
        {"urn": SECRET_URN, "type": "kubernetes:core/v1:Secret", "outputs": {"stringData": secret({"a": "b"})}},
    ]}}


PASSWORDS = legacy_passwords(decrypted_export())


def test_the_values_and_rotations_of_release_01_are_read_from_the_decrypted_state():
    found = legacy_passwords(decrypted_export())
    assert found == {
        "floe-secrets-polaris-root": LegacyPassword(ROOT_URN, "floe-secrets-polaris-root", ROOT_VALUE, 0),
        "floe-secrets-postgresql-dagster": LegacyPassword(DB_URN, "floe-secrets-postgresql-dagster", DB_VALUE, 2),
    }


def test_a_password_without_a_value_in_state_is_refused():
    export = decrypted_export()
    export["deployment"]["resources"][1]["outputs"].pop("result")
    with pytest.raises(MigrationError, match=r"floe-secrets-polaris-root has no value"):
        legacy_passwords(export)


def adopted_urn(legacy_urn: str) -> str:
    """The URN of the RandomPassword that adopts a GeneratedPassword's value: same parent, same name."""
    return legacy_urn.replace(generated.LEGACY_TYPE, generated.TYPE)


def preview(*steps: tuple[str, str]) -> dict[str, Any]:
    return {"steps": [{"op": op, "urn": urn} for op, urn in steps]}


def test_an_adoption_that_only_imports_and_drops_the_passwords_is_accepted():
    document = preview(("refresh", ROOT_URN), ("same", SECRET_URN), ("import", adopted_urn(ROOT_URN)),
                       ("import", adopted_urn(DB_URN)), ("delete", ROOT_URN), ("delete", DB_URN))
    assert unexpected_changes(document, PASSWORDS) == []


@pytest.mark.parametrize(("op", "urn"), [
    ("update", SECRET_URN),  # a new value would reach a Secret
    ("replace", adopted_urn(ROOT_URN)),
    ("create", adopted_urn(ROOT_URN)),  # drawn anew instead of adopted
    ("import", f"{PARENT}${generated.TYPE}::floe-secrets-cube-api"),  # not one of 0.1's passwords
    ("delete", SECRET_URN),
])
def test_any_other_change_in_the_adoption_is_reported(op: str, urn: str):
    assert unexpected_changes(preview(("import", adopted_urn(ROOT_URN)), (op, urn)), PASSWORDS) == [f"{op} {urn}"]


def test_the_options_floe_declares_are_recorded_on_the_adopted_passwords_only():
    # What an import records: pulumi-random's import defaults, and the bridge's raw state saying "no keepers".
    imported = {"inputs": {"length": 40, "lower": True, "number": True, "numeric": True, "special": True,
                           "upper": True},
                "outputs": {"__meta": '{"schema_version":"3"}', "length": 40, "special": True, "upper": True,
                            "result": {"ciphertext": "v1:value"}, "bcryptHash": {"ciphertext": "v1:hash"},
                            "__pulumi_raw_state_delta": {"obj": {"ps": {"keepers": {"ciphertext": "v1:null"}}}}}}
    created = {"inputs": {"length": 48, "special": False, "keepers": {"rotation": "0"}},
               "outputs": {"length": 48, "special": False, "keepers": {"rotation": "0"},
                           "__pulumi_raw_state_delta": {"obj": {"ps": {"keepers": {"map": {}}}}}}}
    export = {"deployment": {"resources": [
        {"urn": adopted_urn(ROOT_URN), "type": generated.TYPE, **json.loads(json.dumps(imported))},
        {"urn": adopted_urn(DB_URN), "type": generated.TYPE, **json.loads(json.dumps(imported))},
        {"urn": f"{PARENT}${generated.TYPE}::floe-secrets-cube-api", "type": generated.TYPE,
         **json.loads(json.dumps(created))},
    ]}}
    changed = record_declared_options(export, PASSWORDS)
    assert changed == [adopted_urn(ROOT_URN), adopted_urn(DB_URN)]
    root, db, cube = export["deployment"]["resources"]
    assert root["inputs"] == {"length": 40, "special": False, "keepers": {"rotation": "0"}}
    assert root["outputs"] == {"__meta": '{"schema_version":"3"}', "length": 40, "special": False, "upper": True,
                               "keepers": {"rotation": "0"}, "result": {"ciphertext": "v1:value"},
                               "bcryptHash": {"ciphertext": "v1:hash"}}
    assert db["inputs"]["keepers"] == db["outputs"]["keepers"] == {"rotation": "2"}
    assert {k: cube[k] for k in ("inputs", "outputs")} == created
    recorded = json.dumps(export)
    assert record_declared_options(export, PASSWORDS) == changed
    assert json.dumps(export) == recorded, "running it again changes nothing more"


class RecordingCli(PulumiCli):
    """The CLI's answers, scripted per command; every call is recorded with the imports it was given."""

    def __init__(self, answers: dict[str, subprocess.CompletedProcess[str]]) -> None:
        super().__init__(Path("."), "prod")
        object.__setattr__(self, "answers", answers)
        object.__setattr__(self, "calls", [])
        object.__setattr__(self, "imported_state", None)

    def run(self, *args: str, timeout: float, env: Any = None, stack_config: bool = False) -> Any:
        imports = None
        if env and generated.IMPORTS_ENV in env:
            path = Path(env[generated.IMPORTS_ENV])
            imports = (json.loads(path.read_text()), oct(path.stat().st_mode & 0o777))
        if args[:2] == ("stack", "import"):
            self.imported_state = json.loads(Path(args[3]).read_text())
        self.calls.append((args, imports))
        key = " ".join(a for a in args if not a.startswith("urn:"))
        return self.answers.get(key, ok(""))


def ok(stdout: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([], code, stdout, "")


def stored_state() -> dict[str, Any]:
    """What `pulumi stack export` prints after the imports (secrets encrypted)."""
    return {"deployment": {"resources": [
        {"urn": adopted_urn(u), "type": generated.TYPE, "inputs": {"special": True}, "outputs": {"special": True}}
        for u in (ROOT_URN, DB_URN)]}}


def scripted(preview_steps: dict[str, Any]) -> RecordingCli:
    return RecordingCli({
        "stack export --show-secrets": ok(json.dumps(decrypted_export())),
        "preview --json": ok(json.dumps(preview_steps)),
        "stack export": ok(json.dumps(stored_state())),
    })


ADOPTION = preview(("import", adopted_urn(ROOT_URN)), ("import", adopted_urn(DB_URN)), ("delete", ROOT_URN),
                   ("delete", DB_URN))


def test_the_migration_imports_records_the_options_then_drops_the_old_resources_and_checks():
    cli = scripted(ADOPTION)
    steps: list[str] = []
    assert migrate_passwords(cli, steps.append) == 2
    commands = [args for args, _ in cli.calls]
    assert commands == [
        ("stack", "export", "--show-secrets"),
        ("preview", "--json"),
        ("up", "--yes", "--skip-preview", "--exclude", ROOT_URN, "--exclude", DB_URN),
        ("stack", "export"),
        ("stack", "import", "--file", commands[4][3]),
        ("up", "--yes", "--skip-preview", "--refresh=false"),
        ("preview", "--expect-no-changes"),
    ]
    # Only the adoption's preview and update get the values, in a file only the user can read.
    values = {"floe-secrets-polaris-root": ROOT_VALUE, "floe-secrets-postgresql-dagster": DB_VALUE}
    assert [imports for _, imports in cli.calls] == [None, (values, "0o600"), (values, "0o600"), None, None, None,
                                                      None]
    assert {r["inputs"]["special"] for r in cli.imported_state["deployment"]["resources"]} == {False}
    assert not any(ROOT_VALUE in step for step in steps)
    assert steps[-1] == "previewed again: no changes"


def test_an_adoption_that_would_change_anything_else_changes_nothing():
    cli = scripted(preview(*[(s["op"], s["urn"]) for s in ADOPTION["steps"]], ("update", SECRET_URN)))
    with pytest.raises(MigrationRefusedError, match=r"nothing was changed[\s\S]*update .*floe-polaris-root"):
        migrate_passwords(cli, lambda _: None)
    assert [args[0] for args, _ in cli.calls] == ["stack", "preview"]


def test_a_stack_without_release_01_passwords_has_nothing_to_migrate():
    cli = RecordingCli({"stack export --show-secrets": ok(json.dumps({"deployment": {"resources": []}}))})
    steps: list[str] = []
    assert migrate_passwords(cli, steps.append) == 0
    assert steps == ["stack prod holds no password generated by floe-infra 0.1: nothing to migrate"]
    assert len(cli.calls) == 1


def test_a_failed_export_never_prints_the_decrypted_state():
    cli = RecordingCli({"stack export --show-secrets": subprocess.CompletedProcess([], 255, ROOT_VALUE, "no stack")})
    with pytest.raises(MigrationError, match="no stack") as failure:
        migrate_passwords(cli, lambda _: None)
    assert ROOT_VALUE not in str(failure.value)


def test_the_command_without_a_pulumi_cli_says_so(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.setattr(migrate.shutil, "which", lambda _: None)
    assert main(["migrate", "passwords", "--stack", "prod"]) == ExitCode.RUNTIME
    assert "the Pulumi CLI (`pulumi`) is not on PATH" in capsys.readouterr().err
