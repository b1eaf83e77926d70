"""`floe-infra migrate passwords`: floe-infra 0.1's generated passwords become pulumi-random RandomPasswords.

floe-infra 0.1 generated each platform credential with `GeneratedPassword`, a dynamic resource of its
own; later releases use pulumi-random's `RandomPassword` (floe_infra/platform/generated.py). A stack
created by 0.1 keeps its values: this command, run in the platform project on one stack after the
upgrade is installed and before anything else, drives the Pulumi CLI through these steps and stops at
the first that fails, saying what it did:

1. read each GeneratedPassword's value from the stack's state (`pulumi stack export --show-secrets`);
2. preview the program with those values to adopt (`generated.IMPORTS_ENV`, no refresh): each
   RandomPassword that takes a GeneratedPassword's place must import its value (the password is its
   import ID); then `pulumi up` the same with every other change the preview shows excluded
   (`--exclude`, `--exclude-dependents`): only the imports happen;
3. through `pulumi stack export` and `pulumi stack import`: record each adopted password as floe-infra
   declares it (`special: false`, its rotation as `keepers`; the import recorded pulumi-random's import
   defaults, and the next `pulumi up` would replace the values), point what depended on a
   GeneratedPassword (the Secrets) at its RandomPassword, and drop the GeneratedPasswords from the
   state;
4. preview: no RandomPassword changes. What else the preview shows is the rest of the upgrade, for
   the user to review and apply with `pulumi up`.

No Secret or workload is written by the migration: every value stays where it was. Each step can run
again: after a failure, rerunning the command continues where it stopped. The values never leave this
process but through a file readable by the user only (deleted when the command ends) whose path the
program reads from the environment; nothing prints them.
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
# What an adopted password's step may be: an import, or nothing on a rerun after it was imported.
ADOPTING_OPS = frozenset({"import", "same"})
# Steps of a preview that change nothing.
UNCHANGED_OPS = frozenset({"same", "refresh", "read"})


class MigrationError(FloeError):
    """Raised when a step of the migration fails; the message says which and what state the stack is in."""

    exit_code = ExitCode.RUNTIME


class MigrationRefusedError(MigrationError):
    """Raised when the values cannot all be adopted as they are; nothing was changed."""

    exit_code = ExitCode.REFUSED


@dataclass(frozen=True)
class LegacyPassword:
    """A GeneratedPassword of floe-infra 0.1 as its stack's state holds it."""

    urn: str
    name: str
    value: str
    rotation: int

    @property
    def adopted_urn(self) -> str:
        """The RandomPassword that takes its place: same parent, same name."""
        head, _, name = self.urn.rpartition("::")
        return f"{head.removesuffix(generated.LEGACY_TYPE)}{generated.TYPE}::{name}"


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


def unadopted(preview: Mapping[str, Any], legacy: Mapping[str, LegacyPassword]) -> list[str]:
    """The GeneratedPasswords whose RandomPassword a `pulumi preview --json` of the adoption does not import."""
    ops = {step.get("urn"): step.get("op") for step in preview.get("steps") or []}
    return sorted(f"{p.urn} ({ops.get(p.adopted_urn) or 'not declared'})"
                  for p in legacy.values() if ops.get(p.adopted_urn) not in ADOPTING_OPS)


def other_changes(preview: Mapping[str, Any], legacy: Mapping[str, LegacyPassword]) -> list[str]:
    """The URNs a `pulumi preview --json` of the adoption changes besides the imports: the GeneratedPasswords'
    deletes and whatever else the release changes, which the adoption's update leaves out. Providers stay
    in: the imports need theirs, and a provider alone changes nothing outside the state."""
    adopting = {p.adopted_urn for p in legacy.values()}
    return [step["urn"] for step in preview.get("steps") or []
            if step.get("op") not in UNCHANGED_OPS and step.get("urn") not in adopting
            and not _type_of(step.get("urn", "")).startswith("pulumi:providers:")]


def _type_of(urn: str) -> str:
    """The resource type of a URN (`urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`)."""
    parts = urn.split("::", 3)
    return parts[2].rsplit("$", 1)[-1] if len(parts) == 4 else ""


def password_changes(preview: Mapping[str, Any]) -> list[str]:
    """The changes a `pulumi preview --json` would make to RandomPasswords."""
    return [f"{step['op']} {step['urn']}" for step in preview.get("steps") or []
            if _type_of(step.get("urn", "")) == generated.TYPE and step.get("op") not in UNCHANGED_OPS]


def _replace_urns(value: Any, moved: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return moved.get(value, value)
    if isinstance(value, list):
        return [_replace_urns(v, moved) for v in value]
    if isinstance(value, dict):
        return {k: _replace_urns(v, moved) for k, v in value.items()}
    return value


def adopt_in_state(export: dict[str, Any], legacy: Mapping[str, LegacyPassword]) -> list[str]:
    """Complete the adoption in a stack export (secrets encrypted): returns the adopted URNs.

    Each adopted RandomPassword gets the inputs a created one has (`length`, `special: false`, `keepers`
    with the rotation 0.1 recorded) and the same outputs (its value and hash stay; the value was generated
    from letters and digits only, so `special: false` is what it is). The bridge's record of the raw
    Terraform state, which still says "no keepers", is dropped: the provider derives the state from these
    properties and writes the record again on the next refresh. Every reference to a GeneratedPassword
    (dependencies of the Secrets that hold its value) then names its RandomPassword, the GeneratedPasswords
    leave the state, and each resource comes after what it refers to.

    Raises:
        MigrationError: When a GeneratedPassword has no imported RandomPassword in the export.
    """
    deployment = export.get("deployment", {})
    resources: list[dict[str, Any]] = deployment.get("resources") or []
    by_urn = {r.get("urn"): r for r in resources}
    moved = {p.urn: p.adopted_urn for p in legacy.values() if p.urn in by_urn}
    missing = sorted(old for old, new in moved.items() if new not in by_urn)
    if missing:
        raise MigrationError(f"no imported RandomPassword in state for {', '.join(missing)}: rerun this command")
    adopted = {new: by_urn[new] for new in moved.values()}
    for password in legacy.values():
        resource = adopted.get(password.adopted_urn)
        if resource is None:
            continue
        declared = {"special": False, "keepers": generated.keepers(password.rotation)}
        resource["inputs"] = {"length": (resource.get("inputs") or {}).get("length"), **declared}
        outputs = resource.setdefault("outputs", {})
        outputs.update(declared)
        outputs.pop(RAW_STATE_DELTA, None)
    kept = [{k: v if k in ("inputs", "outputs") else _replace_urns(v, moved) for k, v in r.items()}
            for r in resources if r.get("urn") not in moved]
    deployment["resources"] = in_dependency_order(kept)
    return sorted(adopted)


def _references(resource: Mapping[str, Any]) -> list[str]:
    """The URNs a resource in state refers to: its parent, provider, dependencies and deleted-with."""
    refs = [resource.get("parent") or "", (resource.get("provider") or "").rsplit("::", 1)[0],
            resource.get("deletedWith") or ""]
    refs += resource.get("dependencies") or []
    refs += [urn for urns in (resource.get("propertyDependencies") or {}).values() for urn in urns]
    return [r for r in refs if r]


def in_dependency_order(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources in their order, except that each comes after what it refers to (`pulumi stack import`
    refuses state where a dependency comes later)."""
    by_urn = {r.get("urn"): r for r in resources}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(resource: dict[str, Any]) -> None:
        urn = resource.get("urn", "")
        if urn in placed:
            return
        placed.add(urn)
        for ref in _references(resource):
            if ref in by_urn:
                place(by_urn[ref])
        ordered.append(resource)

    for resource in resources:
        place(resource)
    return ordered


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

    Args:
        cli: The Pulumi CLI on the platform project's stack.
        report: Called with what each step did, when it is done.

    Returns:
        How many passwords were migrated.

    Raises:
        MigrationRefusedError: When a value cannot be adopted as it is.
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

    # No refresh: it would read the GeneratedPasswords (and the update's excludes must all exist before it).
    with tempfile.TemporaryDirectory(prefix="floe-migrate-") as private:
        imports = Path(private) / "imports.json"
        imports.touch(mode=0o600)
        imports.write_text(json.dumps({name: p.value for name, p in legacy.items()}))
        env = {generated.IMPORTS_ENV: str(imports)}
        preview = cli.run("preview", "--json", "--refresh=false", timeout=UPDATE_TIMEOUT_SECONDS, env=env,
                          stack_config=True)
        if preview.returncode != 0:
            raise _failed("the adoption's preview", preview, "nothing was changed")
        steps = json.loads(preview.stdout)
        refused = unadopted(steps, legacy)
        if refused:
            raise MigrationRefusedError("these values would not be adopted by a RandomPassword of this release; "
                                        "nothing was changed:\n  " + "\n  ".join(refused))
        left_out = [arg for urn in other_changes(steps, legacy) for arg in ("--exclude", urn)]
        update = cli.run("up", "--yes", "--skip-preview", "--refresh=false",
                         *(["--exclude-dependents", *left_out] if left_out else []),
                         timeout=UPDATE_TIMEOUT_SECONDS, env=env, stack_config=True)
        if update.returncode != 0:
            raise _failed("`pulumi up` of the imports", update, "rerun this command to continue")
    report(f"imported {len(legacy)} RandomPassword(s) holding the values (nothing else was touched)")

    state = cli.run("stack", "export", timeout=STATE_TIMEOUT_SECONDS)
    if state.returncode != 0:
        raise _failed("`pulumi stack export`", state, "the values are imported: rerun this command to continue")
    deployment = json.loads(state.stdout)
    adopted = adopt_in_state(deployment, legacy)
    with tempfile.TemporaryDirectory(prefix="floe-migrate-") as private:
        edited = Path(private) / "state.json"
        edited.write_text(json.dumps(deployment))
        imported = cli.run("stack", "import", "--file", str(edited), timeout=STATE_TIMEOUT_SECONDS)
    if imported.returncode != 0:
        raise _failed("`pulumi stack import`", imported, "the values are imported: rerun this command to continue")
    report(f"recorded {len(adopted)} RandomPassword(s) as floe-infra declares them, the Secrets depending on "
           f"them; dropped {len(legacy)} GeneratedPassword(s) from the stack's state")

    check = cli.run("preview", "--json", timeout=UPDATE_TIMEOUT_SECONDS, stack_config=True)
    if check.returncode != 0:
        raise _failed("the final preview", check, "the passwords are migrated; review the stack with "
                      "`pulumi preview`")
    steps = json.loads(check.stdout)
    changes = password_changes(steps)
    if changes:
        raise MigrationError("the passwords are migrated, but the program would still change them:\n  "
                             + "\n  ".join(changes))
    others = sum(1 for step in steps.get("steps") or [] if step.get("op") not in UNCHANGED_OPS)
    report(f"previewed: no RandomPassword changes; {others} other change(s) of this release remain: review them "
           f"with `pulumi preview --diff`, then `pulumi up`")
    return len(legacy)
