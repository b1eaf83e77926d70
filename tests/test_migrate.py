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
    adopt_in_state,
    legacy_passwords,
    migrate_passwords,
    other_changes,
    password_changes,
    unadopted,
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


def test_the_adopting_password_has_the_same_parent_and_name():
    assert PASSWORDS["floe-secrets-polaris-root"].adopted_urn == f"{PARENT}${generated.TYPE}::floe-secrets-polaris-root"
    top = LegacyPassword(f"urn:pulumi:s::p::{generated.LEGACY_TYPE}::top", "top", "v", 0)
    assert top.adopted_urn == f"urn:pulumi:s::p::{generated.TYPE}::top"


def preview(*steps: tuple[str, str]) -> dict[str, Any]:
    return {"steps": [{"op": op, "urn": urn} for op, urn in steps]}


def test_an_adoption_that_imports_every_value_is_accepted_also_when_run_again():
    assert unadopted(preview(("import", adopted_urn(ROOT_URN)), ("import", adopted_urn(DB_URN))), PASSWORDS) == []
    assert unadopted(preview(("same", adopted_urn(ROOT_URN)), ("import", adopted_urn(DB_URN))), PASSWORDS) == []


@pytest.mark.parametrize("op", ["create", "replace", None])
def test_a_value_that_would_be_drawn_anew_or_not_adopted_is_reported(op: str | None):
    steps = [("import", adopted_urn(ROOT_URN))] + ([(op, adopted_urn(DB_URN))] if op else [])
    assert unadopted(preview(*steps), PASSWORDS) == [f"{DB_URN} ({op or 'not declared'})"]


POLICY_URN = f"{PARENT}$kubernetes:networking.k8s.io/v1:NetworkPolicy::floe-egress"


def test_what_the_release_changes_besides_the_imports_is_left_out_of_the_adoption():
    document = preview(("same", STACK_URN), ("refresh", SECRET_URN), ("create", PROVIDER),
                       ("import", adopted_urn(ROOT_URN)), ("same", adopted_urn(DB_URN)), ("create", POLICY_URN),
                       ("update", SECRET_URN), ("delete", ROOT_URN), ("delete", DB_URN))
    assert other_changes(document, PASSWORDS) == [POLICY_URN, SECRET_URN, ROOT_URN, DB_URN]


def test_only_changes_to_random_passwords_count_against_the_migration():
    cube = f"{PARENT}${generated.TYPE}::floe-secrets-cube-api"
    document = preview(("same", adopted_urn(ROOT_URN)), ("refresh", cube), ("update", SECRET_URN),
                       ("create", POLICY_URN), ("replace", cube))
    assert password_changes(document) == [f"replace {cube}"]


PROVIDER = "urn:pulumi:prod::floe-platform::pulumi:providers:random::default_4_21_4"
STACK_URN = "urn:pulumi:prod::floe-platform::pulumi:pulumi:Stack::floe-platform-prod"


def stored_state() -> dict[str, Any]:
    """What `pulumi stack export` prints after the targeted import (secrets encrypted): the old resources
    first, the provider and the imported passwords after them."""
    imported = {"inputs": {"length": 40, "lower": True, "number": True, "numeric": True, "special": True,
                           "upper": True},
                "outputs": {"__meta": '{"schema_version":"3"}', "length": 40, "special": True, "upper": True,
                            "result": {"ciphertext": "v1:value"}, "bcryptHash": {"ciphertext": "v1:hash"},
                            "__pulumi_raw_state_delta": {"obj": {"ps": {"keepers": {"ciphertext": "v1:null"}}}}},
                "parent": PARENT, "provider": f"{PROVIDER}::0d4c", "importID": "the value"}
    return {"version": 3, "deployment": {"resources": [
        {"urn": STACK_URN, "type": "pulumi:pulumi:Stack"},
        {"urn": PARENT, "type": "floe:platform:Secrets"},
        {"urn": ROOT_URN, "type": generated.LEGACY_TYPE, "parent": PARENT},
        {"urn": DB_URN, "type": generated.LEGACY_TYPE, "parent": PARENT},
        {"urn": SECRET_URN, "type": "kubernetes:core/v1:Secret", "parent": PARENT,
         "dependencies": [ROOT_URN, f"{PARENT}$kubernetes:core/v1:Namespace::ns"],
         "propertyDependencies": {"stringData": [ROOT_URN]}, "outputs": {"note": ROOT_URN}},
        {"urn": PROVIDER, "type": "pulumi:providers:random"},
        {"urn": adopted_urn(ROOT_URN), "type": generated.TYPE, **json.loads(json.dumps(imported))},
        {"urn": adopted_urn(DB_URN), "type": generated.TYPE, **json.loads(json.dumps(imported))},
    ]}}


def test_the_adoption_is_completed_in_state_as_a_created_password_would_be_recorded():
    export = stored_state()
    assert adopt_in_state(export, PASSWORDS) == sorted([adopted_urn(ROOT_URN), adopted_urn(DB_URN)])
    resources = export["deployment"]["resources"]
    # The GeneratedPasswords gone; each resource after what it refers to (the Secret now depends on a password
    # the import listed after it), as `pulumi stack import` requires, the order otherwise kept.
    assert [r["urn"] for r in resources] == [STACK_URN, PARENT, PROVIDER, adopted_urn(ROOT_URN), SECRET_URN,
                                             adopted_urn(DB_URN)]
    seen: set[str] = set()
    for resource in resources:
        refs = [resource.get("parent"), (resource.get("provider") or "").rsplit("::", 1)[0],
                *resource.get("dependencies", [])]
        assert [r for r in refs if r and r in {x["urn"] for x in resources} and r not in seen] == [], resource["urn"]
        seen.add(resource["urn"])
    root, db = resources[3], resources[5]
    assert root["inputs"] == {"length": 40, "special": False, "keepers": {"rotation": "0"}}
    assert root["outputs"] == {"__meta": '{"schema_version":"3"}', "length": 40, "special": False, "upper": True,
                               "keepers": {"rotation": "0"}, "result": {"ciphertext": "v1:value"},
                               "bcryptHash": {"ciphertext": "v1:hash"}}
    assert db["inputs"]["keepers"] == db["outputs"]["keepers"] == {"rotation": "2"}
    secret = resources[4]
    assert secret["dependencies"] == [adopted_urn(ROOT_URN), f"{PARENT}$kubernetes:core/v1:Namespace::ns"]
    assert secret["propertyDependencies"] == {"stringData": [adopted_urn(ROOT_URN)]}
    assert secret["outputs"] == {"note": ROOT_URN}, "values are never rewritten"


def test_completing_an_adoption_without_the_imported_passwords_is_refused():
    export = stored_state()
    export["deployment"]["resources"].pop()
    with pytest.raises(MigrationError, match=r"no imported RandomPassword in state for .*postgresql-dagster"):
        adopt_in_state(export, PASSWORDS)


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


ADOPTION = preview(("create", PROVIDER), ("import", adopted_urn(ROOT_URN)), ("import", adopted_urn(DB_URN)),
                   ("create", POLICY_URN), ("delete", ROOT_URN), ("delete", DB_URN))
AFTER = preview(("same", adopted_urn(ROOT_URN)), ("same", adopted_urn(DB_URN)), ("update", SECRET_URN))


def scripted(adoption: dict[str, Any], after: dict[str, Any] = AFTER) -> RecordingCli:
    return RecordingCli({
        "stack export --show-secrets": ok(json.dumps(decrypted_export())),
        "preview --json --refresh=false": ok(json.dumps(adoption)),
        "stack export": ok(json.dumps(stored_state())),
        "preview --json": ok(json.dumps(after)),
    })


def test_the_migration_imports_only_the_passwords_then_completes_them_in_state_and_checks():
    cli = scripted(ADOPTION)
    steps: list[str] = []
    assert migrate_passwords(cli, steps.append) == 2
    commands = [args for args, _ in cli.calls]
    left_out = ("--exclude-dependents", "--exclude", POLICY_URN, "--exclude", ROOT_URN, "--exclude", DB_URN)
    assert commands == [
        ("stack", "export", "--show-secrets"),
        ("preview", "--json", "--refresh=false"),
        ("up", "--yes", "--skip-preview", "--refresh=false", *left_out),
        ("stack", "export"),
        ("stack", "import", "--file", commands[4][3]),
        ("preview", "--json"),
    ]
    # Only the adoption's preview and update get the values, in a file only the user can read.
    values = {"floe-secrets-polaris-root": ROOT_VALUE, "floe-secrets-postgresql-dagster": DB_VALUE}
    assert [imports for _, imports in cli.calls] == [None, (values, "0o600"), (values, "0o600"), None, None, None]
    assert generated.LEGACY_TYPE not in {r["type"] for r in cli.imported_state["deployment"]["resources"]}
    assert not any(ROOT_VALUE in step for step in steps)
    assert steps[-1].startswith("previewed: no RandomPassword changes; 1 other change(s) of this release remain")


def test_an_adoption_that_would_draw_a_value_anew_changes_nothing():
    cli = scripted(preview(("import", adopted_urn(ROOT_URN)), ("create", adopted_urn(DB_URN))))
    with pytest.raises(MigrationRefusedError, match=r"nothing was changed[\s\S]*postgresql-dagster \(create\)"):
        migrate_passwords(cli, lambda _: None)
    assert [args[0] for args, _ in cli.calls] == ["stack", "preview"]


def test_a_password_the_program_would_still_change_after_the_migration_fails_it():
    cli = scripted(ADOPTION, preview(("replace", adopted_urn(ROOT_URN))))
    with pytest.raises(MigrationError, match=r"would still change them:\s+replace .*polaris-root"):
        migrate_passwords(cli, lambda _: None)


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
