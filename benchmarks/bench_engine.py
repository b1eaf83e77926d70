"""The real engine's cost of floe-infra: no-op previews of the platform and the pipeline against the engine's floor.

Starts the e2e world (tests/e2e/world.py: a control plane on loopback, Polaris over Apache Iceberg's
REST catalog, the Pulumi CLI with a file:// backend), deploys the platform and the demo pipeline,
and deploys two floor projects: trivial Python programs that register as many ConfigMaps, through
the same kubernetes provider and with the same `refresh: always`, as the platform and the pipeline
stacks hold resources. Then it times `pulumi preview --expect-no-changes` of the four, interleaved
round by round (so machine noise hits them alike), and prints the medians and each stack's ratio to
its floor.

    .venv/bin/python benchmarks/bench_engine.py [--rounds 5]     # needs ./dev.sh toolchain
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.engine import Stack
from tests.e2e.world import STACK, World, e2e_world

FLOOR_PROGRAM = '''"""The engine's floor: N ConfigMaps through one explicit kubernetes provider, nothing else."""
import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config("floor")
provider = k8s.Provider("floor", kubeconfig=config.require("kubeconfig"), enable_server_side_apply=True)
namespace = k8s.core.v1.Namespace("floor", metadata={"name": config.require("namespace")},
                                  opts=pulumi.ResourceOptions(provider=provider))
for index in range(config.require_int("count")):
    k8s.core.v1.ConfigMap(f"floor-{index}", metadata={"name": f"floor-{index}", "namespace": namespace.metadata.name},
                          data={"index": str(index)}, opts=pulumi.ResourceOptions(provider=provider))
'''


def resource_count(export: dict[str, Any]) -> int:
    """Resources the engine diffs in a preview: everything but the stack and provider resources."""
    return sum(1 for r in export["deployment"]["resources"]
               if r["type"] != "pulumi:pulumi:Stack" and not r["type"].startswith("pulumi:providers:"))


def floor_stack(world: World, name: str, count: int) -> Stack:
    """A deployed floor project with `count` resources in a namespace of its own."""
    project = world.workdir / f"floor-{name}"
    project.mkdir()
    # It refreshes on every operation as floe-infra's projects do, so both sides read every resource back.
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(
        {"name": f"floor-{name}", "runtime": {"name": "python", "options": {"virtualenv": sys.prefix}},
         "options": {"refresh": "always"}}))
    (project / "__main__.py").write_text(FLOOR_PROGRAM)
    stack = Stack(world.pulumi, project, STACK, world.workdir / f"Pulumi.floor-{name}.yaml")
    # The namespace and provider count as two of the resources.
    stack.init({"floor:kubeconfig": str(world.plane.kubeconfig), "floor:namespace": f"floor-{name}",
                "floor:count": str(max(count - 1, 1))})
    stack.up()
    return stack


def timed_preview(stack: Stack) -> float:
    start = time.monotonic()
    stack.preview("--expect-no-changes")
    return time.monotonic() - start


def main() -> int:
    # openapi-core cannot model the specs' OAuth2 flow; the fake Polaris checks security itself.
    warnings.filterwarnings("ignore", "Unsupported scheme type")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of previews (median reported)")
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as directory, e2e_world(Path(directory)) as world:
        print("deploying the platform, the pipeline and their floors ...", flush=True)
        world.platform.up()
        world.pipeline.up()
        counts = {"platform": resource_count(world.platform.export()),
                  "pipeline": resource_count(world.pipeline.export())}
        stacks = {"platform": world.platform, "pipeline": world.pipeline,
                  "platform floor": floor_stack(world, "platform", counts["platform"]),
                  "pipeline floor": floor_stack(world, "pipeline", counts["pipeline"])}
        samples: dict[str, list[float]] = {name: [] for name in stacks}
        for round_ in range(rounds):
            for name, stack in stacks.items():
                samples[name].append(timed_preview(stack))
            print(f"round {round_ + 1}/{rounds}: " + ", ".join(f"{n} {s[-1]:.2f} s" for n, s in samples.items()),
                  flush=True)
        median = {name: statistics.median(values) for name, values in samples.items()}
        print(f"\nno-op `pulumi preview`, median of {rounds} interleaved rounds:")
        for tier in ("platform", "pipeline"):
            floor = median[f"{tier} floor"]
            print(f"  {tier:8} {counts[tier]:4} resources  {median[tier]:6.2f} s   floor {floor:6.2f} s   "
                  f"ratio {median[tier] / floor:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
