"""The upgrade of a platform stack created by floe-infra 0.1: its generated passwords move to pulumi-random.

A platform is deployed by the previous release's code (its GeneratedPassword dynamic resources, from
git history), on a control plane of its own. The current release refuses to touch it until the
documented `floe-infra migrate passwords` ran (docs/operations.md); the migration writes no value, no
Secret and no pod; the upgrade's `pulumi up` then applies the rest of the release with every value
kept, and a rotation of an adopted password draws a new alphanumeric value that reaches Polaris.
"""

from __future__ import annotations

import base64
import io
import string
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from floe_infra.platform import generated
from tests.conftest import REPO
from tests.e2e.cluster import die_with_parent
from tests.e2e.conftest import Clock
from tests.e2e.world import NAMESPACE, ROOT_SECRET, STACK, World, e2e_world

pytestmark = pytest.mark.e2e
# The last commit of main whose platform generated its passwords itself (floe-infra 0.1's GeneratedPassword).
# Its code deploys against this checkout's test doubles (the fake Polaris, the stand-in charts): if they
# come to refuse what it does, the module has served its purpose once no 0.1 stack is left to migrate.
PREVIOUS_RELEASE = "d114147f68b9446fd73ec920eb7b7eab45511b17"
MIGRATE_TIMEOUT_SECONDS = 1800
GENERATED = "floe.dev/secret-origin=generated"


def previous_release_code(target: Path) -> Path:
    """The previous release's `floe_infra` package, from git history, under `target`."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", PREVIOUS_RELEASE, "floe_infra"],
                             capture_output=True, timeout=120, check=False)
    if archive.returncode != 0:
        pytest.fail(f"the previous release {PREVIOUS_RELEASE[:12]} is not in this clone's history (a shallow "
                    f"clone? run `git fetch --unshallow`): {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with e2e_world(tmp_path_factory.mktemp("e2e-upgrade")) as world:
        yield world


@pytest.fixture(scope="module")
def failed() -> list[str]:
    return []


@pytest.fixture
def step(upgrade: World, failed: list[str], request: pytest.FixtureRequest) -> Iterator[World]:
    """A step of this module: it runs only if every earlier one passed."""
    if failed:
        pytest.fail(f"an earlier step failed: {failed[0]}")
    yield upgrade
    if getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed:
        failed.append(request.node.name)


def _generated_secrets(world: World) -> dict[str, tuple[str, dict[str, str]]]:
    """Each Secret the platform generates: its resourceVersion and its data."""
    return {s.metadata.name: (s.metadata.resourceVersion, dict(s.data or {}))
            for s in world.cluster.list("v1", "Secret", NAMESPACE, label_selector=GENERATED)}


def _pods(world: World) -> set[tuple[str, str]]:
    return {(p.metadata.name, p.metadata.uid) for p in world.cluster.list("v1", "Pod", NAMESPACE)}


def _resources(world: World, type_: str) -> list[dict[str, Any]]:
    return [r for r in world.platform.export()["deployment"]["resources"] if r["type"] == type_]


def _secret_value(world: World, name: str, key: str) -> str:
    [secret] = [s for s in world.cluster.list("v1", "Secret", NAMESPACE) if s.metadata.name == name]
    return base64.b64decode(secret.data[key]).decode()


def test_m1_a_stack_of_the_previous_release_keeps_every_value_through_the_migration(
        step: World, clock: Clock, tmp_path: Path):
    old_code = {"PYTHONPATH": str(previous_release_code(tmp_path / "previous-release"))}
    with clock("m1a platform up (previous release)"):
        step.platform.up(env=old_code)
    assert step.cluster.wait_workloads_ready(NAMESPACE) == []
    legacy = _resources(step, generated.LEGACY_TYPE)
    assert len(legacy) >= 8, "the previous release generated the platform's passwords itself"
    secrets, pods, root = _generated_secrets(step), _pods(step), step.polaris.clients["root"]

    # The current release touches nothing before the migration and says what to do.
    with clock("m1b platform preview (current release, not migrated)"):
        refused = step.platform.preview(check=False)
    assert refused.returncode != 0
    assert "run `floe-infra migrate passwords --stack <stack>` in the platform project first" in (
        refused.stdout + refused.stderr)

    # The documented command, in the platform project (the e2e keeps its stack config outside it).
    floe_infra = Path(sys.executable).with_name("floe-infra")
    with clock("m1c floe-infra migrate passwords"):
        migrated = subprocess.run(
            [str(floe_infra), "migrate", "passwords", "--stack", STACK, "--config-file",
             str(step.platform.config_file)],
            cwd=step.platform.project_dir, env=step.pulumi.env(), capture_output=True, text=True,
            timeout=MIGRATE_TIMEOUT_SECONDS, check=False, preexec_fn=die_with_parent)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert f"found {len(legacy)} generated password(s)" in migrated.stdout
    assert "previewed: no RandomPassword changes" in migrated.stdout

    assert _resources(step, generated.LEGACY_TYPE) == []
    adopted = _resources(step, generated.TYPE)
    assert sorted(r["urn"].rsplit("::", 1)[-1] for r in adopted) == sorted(
        r["urn"].rsplit("::", 1)[-1] for r in legacy)
    # Same values, same Secret objects (never written), no pod replaced, Polaris' root unchanged.
    assert _generated_secrets(step) == secrets
    assert _pods(step) == pods
    assert step.polaris.clients["root"] == root
    for resource in adopted:
        assert "ciphertext" in resource["outputs"]["result"], "the value stays secret in state"
        assert resource["inputs"]["special"] is False

    # The rest of the upgrade, as the command says: every value kept, then nothing left to change.
    with clock("m1d platform up (the rest of the upgrade)"):
        step.platform.up()
    assert {name: data for name, (_version, data) in _generated_secrets(step).items()} == {
        name: data for name, (_version, data) in secrets.items()}
    assert step.polaris.clients["root"] == root
    assert step.cluster.wait_workloads_ready(NAMESPACE) == []
    with clock("m1e platform preview (no changes)"):
        step.platform.preview("--expect-no-changes")


def test_m2_rotating_an_adopted_password_draws_a_new_alphanumeric_value_that_reaches_polaris(
        step: World, clock: Clock):
    before = _secret_value(step, ROOT_SECRET, "CLIENT_SECRET")
    platform_file = step.workdir / "platform.yaml"
    platform = yaml.safe_load(platform_file.read_text())
    platform["deployment"]["rotate"] = {ROOT_SECRET: 1}
    platform_file.write_text(yaml.safe_dump(platform, sort_keys=False))
    with clock("m2 platform up (rotate an adopted password)"):
        step.platform.up()
    after = _secret_value(step, ROOT_SECRET, "CLIENT_SECRET")
    assert after != before
    assert len(after) == 40
    assert set(after) <= set(string.ascii_letters + string.digits)
    assert step.polaris.clients["root"] == after
    step.platform.preview("--expect-no-changes")
