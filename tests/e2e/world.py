"""The e2e world: a control plane, Polaris over a real Iceberg REST catalog, the Pulumi CLI, two stacks.

Shared by the scenario (tests/e2e/test_scenario.py) and the engine benchmark
(benchmarks/bench_engine.py). Everything it starts is stopped when the context exits.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from floe_infra.polaris.sealing import generate_keypair
from tests.conftest import DEMO, REPO
from tests.e2e.catalog import IcebergRestPolaris
from tests.e2e.cluster import ControlPlane, control_plane
from tests.e2e.engine import Pulumi, Stack
from tests.e2e.iceberg_rest import iceberg_rest_server
from tests.e2e.kube import Cluster, ObjectRef

TOOLCHAIN_TIMEOUT_SECONDS = 30


def toolchain_bin_dir() -> Path:
    """The directory of built tools (`./dev.sh toolchain` builds them).

    Raises:
        RuntimeError: When the toolchain is not built.
    """
    result = subprocess.run([sys.executable, str(REPO / "tools" / "toolchain.py"), "bin-dir"], capture_output=True,
                            text=True, timeout=TOOLCHAIN_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the e2e toolchain is not built: run `./dev.sh toolchain` ({result.stderr.strip()})")
    return Path(result.stdout.strip())


STACK = "e2e"
NAMESPACE = "floe"
CHARTS = REPO / "tests" / "e2e" / "charts"
PLATFORM_CHARTS = ("minio", "polaris", "jaeger", "dagster", "cube", "cubestore")
IMAGE = "ghcr.io/floe-demo/ecommerce-analytics:1.0.0"
ROOT_SECRET = "floe-polaris-root"
CREDENTIAL_KEY = re.compile(r"(?i)password|secret|token|credential|rootuser")
PIPELINE_PASSPHRASE = "floe-e2e-pipeline-tier-passphrase"  # a test-only key for state in a temp dir


class ClusterBootstrappedPolaris(IcebergRestPolaris):
    """The fake Polaris, its realm bootstrapped from the platform's Secret as Polaris' pod does.

    Polaris reads `POLARIS_BOOTSTRAP_CREDENTIALS` from the Secret the platform generates when it
    bootstraps a realm, once; afterwards the root credential changes only through the management
    API (a persistent realm). The fake reads that Secret from the API server the first time root
    asks for a token after the Secret exists.
    """

    def __init__(self, *args: Any, cluster: Cluster, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cluster = cluster
        self.bootstrapped = False

    def lose_realm(self) -> None:
        """Empty the realm; root comes back from the Secret, as Polaris bootstraps an empty realm on start."""
        super().lose_realm()
        self.clients.clear()
        self.bootstrapped = False

    def _token(self, raw: bytes) -> Any:
        if not self.bootstrapped:
            secret = self.cluster.get(ObjectRef("v1", "Secret", ROOT_SECRET, NAMESPACE))
            if secret is not None:
                _realm, client_id, client_secret = base64.b64decode(
                    secret.data["POLARIS_BOOTSTRAP_CREDENTIALS"]).decode().split(",", 2)
                self.clients[client_id] = client_secret
                self.bootstrapped = True
        return super()._token(raw)


@dataclass
class World:
    """Everything the scenario's steps share."""

    workdir: Path
    plane: ControlPlane
    cluster: Cluster
    polaris: IcebergRestPolaris
    pulumi: Pulumi
    platform: Stack
    pipeline: Stack
    tenant_private_key: str
    # The CrossGuard pack (`--policy-pack`), run by the engine through the language host.
    policy_dir: Path
    failed: list[str] = field(default_factory=list)


@contextmanager
def e2e_world(workdir: Path) -> Iterator[World]:
    """Start everything, configure the platform and pipeline stacks (nothing deployed yet); stop it all after."""
    bin_dir = toolchain_bin_dir()
    public_key, private_key = generate_keypair()
    # The inputs the scenario changes live in the workdir: the platform file and a copy of the pipeline. A public
    # key is no endpoint or name, so platform.yaml does not expand it from the environment: it is written in.
    platform_file = workdir / "platform.yaml"
    platform_file.write_text((REPO / "tests" / "e2e" / "platform.yaml").read_text()
                             .replace("${TENANT_PUBLIC_KEY}", public_key))
    pipeline_dir = workdir / "pipeline"
    shutil.copytree(DEMO / "data_engineering", pipeline_dir,
                    ignore=shutil.ignore_patterns(".floe", "__pycache__", "target", "*.duckdb"))
    # The platform project is this checkout's Pulumi.yaml and __main__.py: copied too, so that the
    # stack's settings (`pulumi stack init` writes the passphrase salt beside Pulumi.yaml) stay out of it.
    platform_dir = workdir / "platform"
    platform_dir.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copyfile(REPO / name, platform_dir / name)
    # The policy pack too: CI installs its own virtualenv beside it (docs/ci.md); the copy names this one.
    policy_dir = workdir / "policy"
    shutil.copytree(REPO / "policy", policy_dir, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    for project_file in (platform_dir / "Pulumi.yaml", pipeline_dir / "Pulumi.yaml", policy_dir / "PulumiPolicy.yaml"):
        # The copies run in this checkout's virtualenv (the originals point at it relatively).
        project = yaml.safe_load(project_file.read_text())
        project["runtime"]["options"]["virtualenv"] = str(Path(sys.prefix))
        project_file.write_text(yaml.safe_dump(project))
    saved_env = {k: os.environ.get(k) for k in ("FLOE_E2E_POLARIS_URL",)}
    try:
        with iceberg_rest_server(workdir / "iceberg") as iceberg, control_plane(bin_dir, workdir / "cluster") as plane:
            # Polaris: the spec-validated fake's management API, tables in Apache Iceberg's REST catalog.
            polaris = ClusterBootstrappedPolaris(iceberg, cluster=Cluster(plane.kubeconfig))
            os.environ["FLOE_E2E_POLARIS_URL"] = polaris.start()
            pulumi = Pulumi(bin_dir, workdir)
            platform = Stack(pulumi, platform_dir, STACK, workdir / "Pulumi.platform-e2e.yaml")
            platform.init({
                "floe:platformFile": str(platform_file),
                "floe:kubeconfig": str(plane.kubeconfig),
                "floe:chartSources": {c: {"path": str(CHARTS / c)} for c in PLATFORM_CHARTS},
            })
            # The pipeline tier's own passphrase: its StackReference still reads the platform's (non-secret) contract.
            pipeline = Stack(pulumi, pipeline_dir, STACK, workdir / "Pulumi.pipeline-e2e.yaml",
                             passphrase=PIPELINE_PASSPHRASE)
            pipeline.init({
                "floe:image": IMAGE,
                "floe:kubeconfig": str(plane.kubeconfig),
                "floe:chartSources": {"dagster-user-deployments": {"path": str(CHARTS / "dagster-user-deployments")}},
            }, secrets={"floe:tenantKey": private_key})
            try:
                yield World(workdir, plane, Cluster(plane.kubeconfig), polaris, pulumi, platform, pipeline,
                            private_key, policy_dir)
            finally:
                polaris.stop()
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
