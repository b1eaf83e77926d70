"""Generated passwords: pulumi-random RandomPasswords, and the adoption of floe-infra 0.1's values."""

from __future__ import annotations

import json
import traceback
from pathlib import Path

import pytest
from pulumi.runtime import rpc

from floe_infra.platform import generated
from floe_infra.platform.generated import GeneratedPasswordProvider, PasswordMigrationError
from floe_infra.preview.runtime import fake_secret
from tests.platform.conftest import demo_run, run_platform_stack

ROOT_PASSWORD = "floe-secrets-polaris-root"
ADOPTED = "adoptedValueFromRelease01xxxxxxxxxxxxxxx"  # an obviously fake test value, 40 characters


def test_every_generated_value_is_an_alphanumeric_random_password_of_its_length():
    run = demo_run("local")
    passwords = {r.name: r.inputs for r in run.of_type(generated.TYPE)}
    assert passwords[ROOT_PASSWORD] == {"length": 40, "special": False, "keepers": {"rotation": "0"}}
    assert passwords["floe-secrets-polaris-token-key"]["length"] == 48
    assert passwords["floe-secrets-minio-root-user"]["length"] == 20
    assert {inputs["special"] for inputs in passwords.values()} == {False}
    assert run.of_type(generated.LEGACY_TYPE) == []


def test_a_password_is_drawn_by_the_provider_not_imported_outside_a_migration(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(generated.IMPORTS_ENV, raising=False)
    run = demo_run("local")
    assert {(r.import_id, tuple(r.ignore_changes)) for r in run.of_type(generated.TYPE)} == {("", ())}


def test_during_a_migration_each_password_adopts_its_current_value_and_the_secret_holds_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    imports = tmp_path / "imports.json"
    imports.write_text(json.dumps({ROOT_PASSWORD: ADOPTED}))
    monkeypatch.setenv(generated.IMPORTS_ENV, str(imports))
    run = run_platform_stack("local", "demo/platform/platform.yaml")
    root = run.named(ROOT_PASSWORD)
    assert root.import_id == ADOPTED
    assert root.ignore_changes == ["special", "keepers"]
    # Only the passwords the file names are adopted; the others are drawn as usual.
    assert run.named("floe-secrets-postgresql-admin").import_id == ""
    data = rpc.unwrap_rpc_secret(run.named("floe-secrets-floe-polaris-root").inputs["stringData"])
    assert data["CLIENT_SECRET"] == ADOPTED
    assert data["POLARIS_BOOTSTRAP_CREDENTIALS"] == f"POLARIS,root,{ADOPTED}"
    assert fake_secret(ROOT_PASSWORD) != ADOPTED


def test_a_malformed_imports_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    imports = tmp_path / "imports.json"
    imports.write_text(json.dumps({ROOT_PASSWORD: 40}))
    monkeypatch.setenv(generated.IMPORTS_ENV, str(imports))
    with pytest.raises(PasswordMigrationError, match="is not a JSON object of strings"):
        generated.pending_imports()


def test_refreshing_a_stack_of_release_01_stops_once_with_what_to_do(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(generated, "_REFUSED", [])
    props = {"length": 40, "rotation": 0, "result": ADOPTED}
    with pytest.raises(PasswordMigrationError, match=r"run `floe-infra migrate passwords --stack <stack>`") as refused:
        GeneratedPasswordProvider().read("3f2a", props)
    # What the dynamic provider host reports (traceback.format_exc): the message alone, as one line.
    assert traceback.format_exception(refused.value) == [
        f"floe_infra.platform.generated.PasswordMigrationError: {refused.value}\n"]
    # The operation fails on the first refusal; the provider's other reads do not repeat it.
    read = GeneratedPasswordProvider().read("9c1e", props)
    assert (read.id, read.outs) == ("9c1e", props)


def test_deleting_a_release_01_password_removes_nothing_outside_the_state():
    assert GeneratedPasswordProvider().delete("3f2a", {"length": 40, "rotation": 0, "result": ADOPTED}) is None
