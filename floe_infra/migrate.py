"""`floe-infra migrate passwords`: floe-infra 0.1's generated passwords become pulumi-random RandomPasswords.

floe-infra 0.1 generated each platform credential with `GeneratedPassword`, a dynamic resource of its
own; later releases use pulumi-random's `RandomPassword` (floe_infra/platform/generated.py). A stack
created by 0.1 keeps its values: this command, run in the platform project on one stack, drives the
Pulumi CLI through these steps and stops at the first that fails, saying what it did:

1. read each GeneratedPassword's value from the stack's state (`pulumi stack export --show-secrets`);
2. preview the program with those values to adopt (`generated.IMPORTS_ENV`): refused unless the only
   changes are each RandomPassword's import (its value is its import ID) and each GeneratedPassword's
   delete, so no new value can reach a Secret or a service;
3. `pulumi up --exclude` the GeneratedPasswords: each RandomPassword adopts its value, the old
   resources stay;
4. record in state the options floe-infra declares for each adopted password (`special: false`, its
   `keepers`) where the import recorded the provider's import defaults, through `pulumi stack export`
   and `pulumi stack import`; without this the next `pulumi up` would replace every adopted value;
5. `pulumi up --refresh=false`: the GeneratedPasswords leave the state, nothing else changes;
6. preview once more, expecting no changes.

Each step can run again: after a failure, rerunning the command continues where it stopped.

The values never leave this process but through a file readable by the user only (deleted when the
command ends) whose path the program reads from the environment; nothing prints them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe_infra.errors import ExitCode, FloeError
from floe_infra.platform import generated

# Every Pulumi command of the migration is bounded: a preview or an update of a platform, or a state read.
UPDATE_TIMEOUT_SECONDS = 3600
STATE_TIMEOUT_SECONDS = 600
# The Terraform bridge's record of a resource's raw Terraform state, among its outputs.
RAW_STATE_DELTA = "__pulumi_raw_state_delta"
# Steps a preview shows for resources it does not change (the projects refresh on every operation).
UNCHANGED_OPS = frozenset({"same", "refresh", "read"})


class MigrationError(FloeError):
    """Raised when a step of the migration fails; the message says which and what state the stack is in."""

    exit_code = ExitCode.RUNTIME


class MigrationRefusedError(MigrationError):
    """Raised when adopting the values would change more than the passwords' resources."""

    exit_code = ExitCode.REFUSED


@dataclass(frozen=True)
class LegacyPassword:
    """A GeneratedPassword of floe-infra 0.1 as its stack's state holds it."""

    urn: str
    name: str
    value: str
    rotation: int


def _plain(value: Any) -> Any:
    """A state value with its secret envelope (`pulumi stack export --show-secrets`) opened."""
    if isinstance(value, dict) and "plaintext" in value:
        return json.loads(value["plaintext"])
    return value


def legacy_passwords(export: Mapping[str, Any]) -> dict[str, LegacyPassword]:
    """The GeneratedPasswords of a decrypted stack export, by resource name.

    Raises:
        MigrationError: When one has no value in state.
    """
    found: dict[str, LegacyPassword] = {}
    for resource in export.get("deployment", {}).get("resources") or []:
        if resource.get("type") != generated.LEGACY_TYPE:
            continue
        urn = resource["urn"]
        outputs = resource.get("outputs") or {}
        value = _plain(outputs.get("result"))
        if not isinstance(value, str) or not value:
            raise MigrationError(f"{urn} has no value in the stack's state: nothing to adopt")
        name = urn.rsplit("::", 1)[-1]
        found[name] = LegacyPassword(urn, name, value, int(_plain(outputs.get("rotation")) or 0))
    return found


def unexpected_changes(preview: Mapping[str, Any], legacy: Mapping[str, LegacyPassword]) -> list[str]:
    """What a `pulumi preview --json` of the adoption would change beyond the migration's own steps."""
    unexpected = []
    old_urns = {p.urn for p in legacy.values()}
    for step in preview.get("steps") or []:
        op, urn = step.get("op"), step.get("urn", "")
        name = urn.rsplit("::", 1)[-1]
        if op in UNCHANGED_OPS:
            continue
        if op == "import" and _type_of(urn) == generated.TYPE and name in legacy:
            continue
        if op == "delete" and urn in old_urns:
            continue
        unexpected.append(f"{op} {urn}")
    return unexpected


def _type_of(urn: str) -> str:
    """The resource type of a URN (`urn:pulumi:stack::project::parent$type::name`)."""
    return urn.split("::")[2].rsplit("$", 1)[-1]


def record_declared_options(export: dict[str, Any], legacy: Mapping[str, LegacyPassword]) -> list[str]:
    """Record each adopted RandomPassword as floe-infra declares it, where the import recorded the provider's
    import defaults. Returns the URNs it changed.

    Its inputs become what a created one has (`length`, `special: false`, `keepers` with the rotation 0.1
    recorded), and so do the same outputs; the value and its hash stay. The value was generated by 0.1
    from letters and digits only, so `special: false` is what it is. The bridge's record of the raw
    Terraform state, which still says "no keepers", is dropped: the provider derives the state from these
    properties, and writes that record again on the next refresh.
    """
    changed = []
    for resource in export.get("deployment", {}).get("resources") or []:
        name = resource.get("urn", "").rsplit("::", 1)[-1]
        if resource.get("type") != generated.TYPE or name not in legacy:
            continue
        declared = {"special": False, "keepers": generated.keepers(legacy[name].rotation)}
        inputs = resource.get("inputs") or {}
        resource["inputs"] = {"length": inputs.get("length"), **declared}
        outputs = resource.setdefault("outputs", {})
        outputs.update(declared)
        outputs.pop(RAW_STATE_DELTA, None)
        changed.append(resource["urn"])
    return changed


@dataclass(frozen=True)
class PulumiCli:
    """The Pulumi CLI in a project directory, on one stack."""

    project_dir: Path
    stack: str
    config_file: Path | None = None

    def run(self, *args: str, timeout: float, env: Mapping[str, str] | None = None,
            stack_config: bool = False) -> subprocess.CompletedProcess[str]:
        """A pulumi command; `stack_config` adds the stack's config file (for commands that run the program).

        Raises:
            MigrationError: When the CLI cannot be started, or does not finish in `timeout` seconds.
        """
        cli = shutil.which("pulumi")
        if cli is None:
            raise MigrationError("the Pulumi CLI (`pulumi`) is not on PATH")
        command = [cli, *args, "--stack", self.stack, "--non-interactive"]
        if stack_config and self.config_file is not None:
            command += ["--config-file", str(self.config_file)]
        try:
            return subprocess.run(command, cwd=self.project_dir, env={**os.environ, **(env or {})},
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise MigrationError(f"`pulumi {args[0]}` did not finish in {timeout:.0f} s") from None


def _failed(what: str, result: subprocess.CompletedProcess[str], state: str) -> MigrationError:
    # Pulumi masks secrets in what it prints: its own output says why.
    output = (result.stdout + result.stderr).strip()[-4000:]
    return MigrationError(f"{what} failed (exit {result.returncode}); {state}\n{output}")


def migrate_passwords(cli: PulumiCli, report: Callable[[str], None]) -> int:
    """Move a stack's GeneratedPasswords into RandomPasswords (the module docstring lists the steps).

    Every step can be run again: a rerun after a failure continues where it stopped.

    Args:
        cli: The Pulumi CLI on the platform project's stack.
        report: Called with what each step did, when it is done.

    Returns:
        How many passwords were migrated.

    Raises:
        MigrationRefusedError: When adopting the values would change anything else.
        MigrationError: When a step fails.
    """
    exported = cli.run("stack", "export", "--show-secrets", timeout=STATE_TIMEOUT_SECONDS)
    if exported.returncode != 0:
        # Not the output: with --show-secrets it holds every secret of the stack.
        raise MigrationError(f"`pulumi stack export` failed (exit {exported.returncode}): {exported.stderr[-2000:]}")
    legacy = legacy_passwords(json.loads(exported.stdout))
    del exported
    if not legacy:
        report(f"stack {cli.stack} holds no password generated by floe-infra 0.1: nothing to migrate")
        return 0
    report(f"found {len(legacy)} generated password(s) of floe-infra 0.1 in stack {cli.stack}")

    with tempfile.TemporaryDirectory(prefix="floe-migrate-") as private:
        imports = Path(private) / "imports.json"
        imports.touch(mode=0o600)
        imports.write_text(json.dumps({name: p.value for name, p in legacy.items()}))
        env = {generated.IMPORTS_ENV: str(imports)}

        preview = cli.run("preview", "--json", timeout=UPDATE_TIMEOUT_SECONDS, env=env, stack_config=True)
        if preview.returncode != 0:
            raise _failed("the adoption's preview", preview, "nothing was changed")
        unexpected = unexpected_changes(json.loads(preview.stdout), legacy)
        if unexpected:
            raise MigrationRefusedError(
                "adopting the passwords would also change what this release changes in the stack; nothing was "
                "changed. Apply those changes with the release that created the stack first (or revert them), "
                "then migrate:\n  " + "\n  ".join(unexpected))
        report("previewed: each value is imported into a RandomPassword, each GeneratedPassword dropped, "
                    "nothing else changes")

        # The imports first: the GeneratedPasswords stay in state until the options are recorded.
        kept = [arg for p in legacy.values() for arg in ("--exclude", p.urn)]
        update = cli.run("up", "--yes", "--skip-preview", *kept, timeout=UPDATE_TIMEOUT_SECONDS, env=env,
                         stack_config=True)
        if update.returncode != 0:
            raise _failed("`pulumi up` of the imports", update, "rerun this command to continue")
        report(f"imported {len(legacy)} RandomPassword(s) holding the values")

    state = cli.run("stack", "export", timeout=STATE_TIMEOUT_SECONDS)
    if state.returncode != 0:
        raise _failed("`pulumi stack export`", state, "the values are imported: rerun this command to continue")
    deployment = json.loads(state.stdout)
    changed = record_declared_options(deployment, legacy)
    with tempfile.TemporaryDirectory(prefix="floe-migrate-") as private:
        edited = Path(private) / "state.json"
        edited.write_text(json.dumps(deployment))
        imported = cli.run("stack", "import", "--file", str(edited), timeout=STATE_TIMEOUT_SECONDS)
    if imported.returncode != 0:
        raise _failed("`pulumi stack import`", imported, "the values are imported: rerun this command to continue")
    report(f"recorded special: false and the rotation of {len(changed)} imported password(s)")

    # The GeneratedPasswords leave the state: their provider's delete has nothing outside it to remove (no
    # refresh: outside a migration it refuses to read them).
    dropped = cli.run("up", "--yes", "--skip-preview", "--refresh=false", timeout=UPDATE_TIMEOUT_SECONDS,
                      stack_config=True)
    if dropped.returncode != 0:
        raise _failed("`pulumi up` dropping the GeneratedPasswords", dropped, "rerun this command to continue")
    report(f"dropped {len(legacy)} GeneratedPassword(s) from the stack's state")

    check = cli.run("preview", "--expect-no-changes", timeout=UPDATE_TIMEOUT_SECONDS, stack_config=True)
    if check.returncode != 0:
        raise _failed("the final preview", check, "the migration is complete, but the stack has changes of its own "
                      "pending: review them with `pulumi preview`")
    report("previewed again: no changes")
    return len(legacy)
