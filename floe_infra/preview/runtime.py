"""Run a Pulumi program under the SDK's mock runtime and record every resource it registers.

This is Pulumi's documented unit-test path (`pulumi.runtime.set_mocks`), used here for two
things: the offline preview (no CLI, no cloud credentials) and the test suite. The recording
monitor keeps what the mocks alone do not: parent, dependencies, provider, protect and
retain-on-delete of each resource, with secret inputs still marked as secrets.

Programs run through the public `pulumi.runtime.test`. Two settings have no public setter and are
set on the SDK's settings module: the project directory a program sees (`get_root_directory`) and
the reset of the root stack between runs in one process. pyproject.toml pins the SDK to the minor
version the suites run, so a change there fails the tests, not a user.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import string
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings

from floe_infra import charts
from floe_infra.errors import FloeError
from floe_infra.platform import generated

VERSIONED_KINDS = frozenset({"kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap"})
# The engine's builtin function behind StackReference (the pipeline program reads its contract with it).
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"

ORGANIZATION = "organization"
SECRET_MARKER = "[secret]"
_ALPHANUMERIC = string.ascii_letters + string.digits


def fake_secret(seed: str, length: int = 40) -> str:
    """A deterministic stand-in for a generated secret (same seed, same value; never a real secret)."""
    digest = hashlib.shake_256(seed.encode()).digest(length)
    return "".join(_ALPHANUMERIC[b % len(_ALPHANUMERIC)] for b in digest)


def replace_secrets(value: Any, marker: Any) -> Any:
    """`value` (as registered) with every secret replaced by `marker`."""
    if rpc.is_rpc_secret(value):
        return marker
    if isinstance(value, dict):
        return {k: replace_secrets(v, marker) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_secrets(v, marker) for v in value]
    return value


def deterministic_seal(public_key: str, credentials: dict[str, str], seed: str) -> str:
    """A libsodium sealed box whose ephemeral key derives from `seed`, so offline runs repeat exactly.

    Opens with `floe_infra.polaris.sealing.unseal` like any sealed box; only mocks use it.
    """
    from nacl.bindings import crypto_box, crypto_scalarmult_base

    recipient = base64.b64decode(public_key)
    ephemeral_secret = hashlib.sha256(f"floe-offline-seal:{seed}".encode()).digest()
    ephemeral_public = crypto_scalarmult_base(ephemeral_secret)
    nonce = hashlib.blake2b(ephemeral_public + recipient, digest_size=24).digest()
    message = json.dumps(credentials, sort_keys=True).encode()
    return base64.b64encode(ephemeral_public + crypto_box(message, nonce, recipient, ephemeral_secret)).decode()


class DuplicateResourceError(FloeError):
    """Raised when a program registers two resources under one URN (the engine refuses that)."""


@dataclass
class RegisteredResource:
    """A resource the program registered, as the engine would have received it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str]
    provider: str
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    # `import_`: the ID of an existing resource to adopt instead of creating one.
    import_id: str = ""
    ignore_changes: list[str] = field(default_factory=list)


@dataclass
class ProgramRun:
    """Everything a program run under mocks produced."""

    resources: list[RegisteredResource]
    outputs: dict[str, Any]
    secret_outputs: set[str]

    def of_type(self, type_: str) -> list[RegisteredResource]:
        """Resources of one type token, in registration order."""
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> RegisteredResource:
        """The resource with this logical name."""
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks returning inputs as state, deterministic ids, secret generated passwords, stack references."""

    def __init__(self, stack_references: Mapping[str, tuple[dict[str, Any], list[str]]] | None = None,
                 tenant_public_key: str | None = None) -> None:
        self.stack_references = dict(stack_references or {})
        # Offline previews seal the credentials of every tenant that has a public key to one throwaway
        # key they can open; a tenant without one gets none, as on a real platform.
        self.tenant_public_key = tenant_public_key

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(args.inputs.get("name", args.name))
            # An unknown stack has no outputs (raising inside a mock RPC would poison the next run).
            outputs, secret_names = self.stack_references.get(name, ({}, []))
            return name, {"name": name, "outputs": outputs, "secretOutputNames": secret_names}
        if args.typ == "pulumi-python:dynamic/polaris:Principal":
            # What the provider returns: credentials Polaris generated, sealed to the tenant's key.
            credentials = {"client_id": f"{args.inputs['name']}-client-id", "client_secret": fake_secret(args.name)}
            state["client_id"] = credentials["client_id"]
            key = args.inputs.get("public_key") and (self.tenant_public_key or args.inputs["public_key"])
            state["sealed_credentials"] = deterministic_seal(key, credentials, args.name) if key else None
        if args.typ == generated.TYPE:
            # The random provider's value: an imported one is its import ID.
            rotation = int((args.inputs.get("keepers") or {}).get("rotation") or 0)
            seed = args.name if rotation == 0 else f"{args.name}#{rotation}"
            value = args.resource_id or fake_secret(seed, int(args.inputs["length"]))
            state["result"] = pulumi.Output.secret(value)
        if args.typ in VERSIONED_KINDS:
            # The API server's object version: it changes exactly when what is written changes.
            written = json.dumps(args.inputs, sort_keys=True, default=str).encode()
            state["metadata"] = {**(state.get("metadata") or {}),
                                 "resourceVersion": str(int(hashlib.sha256(written).hexdigest()[:8], 16))}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == READ_STACK_OUTPUTS:
            name = str(args.args.get("name"))
            outputs, secret_names = self.stack_references.get(name, ({}, []))
            return {"name": name, "outputs": outputs, "secretOutputNames": secret_names}
        return {}


class RecordingMonitor(mocks.MockMonitor):
    """A mock monitor that also records the registration options of every resource."""

    def __init__(self, mocks_: RecordingMocks) -> None:
        super().__init__(mocks_)
        self.registered: list[RegisteredResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered.append(RegisteredResource(
                urn=response.urn, type=request.type, name=request.name, parent=request.parent,
                custom=bool(request.custom), inputs=rpc.deserialize_properties(request.object),
                dependencies=list(request.dependencies), provider=request.provider,
                protect=bool(request.protect), retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace), id=response.id,
                import_id=request.importId, ignore_changes=list(request.ignoreChanges)))
        return response


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a bounded burst of allocations, then back as it was.

    A program run allocates a few dozen objects per registration (outputs, futures, tasks) that
    live until the run ends. Each burst triggers collections, and the full ones walk every object
    the process holds (the SDKs' modules, validators' schemas, earlier runs' records): a third of a
    run's time. What a run leaves in cycles is collected by the next collection after it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@collector_paused()
def run_program(
    program: Callable[[], Any],
    *,
    project: str,
    stack: str,
    root_directory: Path,
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    stack_references: Mapping[str, tuple[dict[str, Any], list[str]]] | None = None,
    preview: bool = False,
    tenant_public_key: str | None = None,
    chart_downloads: bool = False,
) -> ProgramRun:
    """Run `program` as project/stack under the mock runtime and return what it registered.

    Args:
        program: The Pulumi program (what `__main__.py` runs).
        project: Project name (`Pulumi.yaml` `name`).
        stack: Stack name.
        root_directory: The project directory, for `pulumi.get_root_directory()`.
        config: Stack config as `namespace:key` -> string value.
        secret_keys: Config keys that are secrets.
        stack_references: Outputs (and secret output names) of stacks the program references,
            by fully qualified name `organization/project/stack`.
        preview: Run as a preview (unknown values stay unknown).
        tenant_public_key: Seal the credentials of every mocked principal that has a public key to this key
            instead of its own.
        chart_downloads: Let the program fetch the local chart copies its releases name (off: nothing reads them
            under mocks, and an offline preview touches no network).
    """
    recording = RecordingMocks(stack_references, tenant_public_key)
    monitor = RecordingMonitor(recording)
    # set_mocks keeps an existing root stack resource: drop it, or outputs of an earlier run leak in.
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(recording, project=project, stack=stack, preview=preview, monitor=monitor,
                             organization=ORGANIZATION)
    settings.SETTINGS.root_directory = str(root_directory)
    pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys or []))
    def run() -> None:
        with charts.downloads(chart_downloads):
            program()  # what a program returns is no Output to wait for

    # The SDK's public test runner: runs the program and waits for every registration it started.
    pulumi.runtime.test(run)()
    outputs: dict[str, Any] = {}
    secret: set[str] = set()
    duplicates = sorted(urn for urn, count in Counter(r.urn for r in monitor.registered).items() if count > 1)
    if duplicates:
        raise DuplicateResourceError(
            f"{len(duplicates)} resource URN(s) registered more than once, which `pulumi preview` refuses: "
            f"{', '.join(duplicates)}; two resources got the same logical name (tenants, layers or tables alike?)")
    registrations = {r.urn: r for r in monitor.registered}

    async def collect() -> None:
        exported = dict(getattr(pulumi.runtime.get_root_resource(), "outputs", {}) or {})
        for key, value in exported.items():
            out = pulumi.Output.from_input(value)
            outputs[key] = await out.future()
            if await out.is_secret():
                secret.add(key)
        for urn, reg in monitor.get_registered_resources().items():
            if urn in registrations:
                # Through the wire format, as the engine stores state: secrets stay marked as secrets.
                wire = await rpc.serialize_properties(reg.state, {})
                registrations[urn].outputs = rpc.deserialize_properties(wire)

    pulumi.runtime.test(lambda: pulumi.Output.from_input(collect()))()
    return ProgramRun(monitor.registered, outputs, secret)
