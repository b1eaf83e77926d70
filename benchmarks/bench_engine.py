"""The real engine's cost of floe-infra: no-op previews of the platform and the pipeline against the engine's floor.

Starts the e2e world (tests/e2e/world.py: a control plane on loopback, Polaris over Apache Iceberg's
REST catalog, the Pulumi CLI with a file:// backend), deploys the platform and the demo pipeline,
and deploys two floor projects: trivial Python programs that register as many ConfigMaps, through
the same kubernetes provider and with the same `refresh: always`, as the platform and the pipeline
stacks hold resources. Then it times `pulumi preview --expect-no-changes` of the four, interleaved
round by round (so machine noise hits them alike), and prints the medians and each stack's ratio to
its floor: wall time, and the CPU time of the preview's whole process tree (the CLI, the language
host, the program, the provider plugins), which a busy machine stretches far less than wall time.
Python caches bytecode for every process, as it does on a user's machine (an environment that sets
PYTHONDONTWRITEBYTECODE would have each preview compile floe-infra's modules again); the cache is
kept in the benchmark's temporary directory, not in the source tree.

With `--phases N` it then runs N more interleaved rounds with the engine's log on (`-v=7`, engine
only) and prints where each preview's time goes, from the engine's own log lines: start-up (state,
language host, the providers of the stack's state), the refresh, the program's start (Python and its
imports, up to its first registration), its registrations and the steps they cause, the program's
exit, and the shutdown of the plugins.

    .venv/bin/python benchmarks/bench_engine.py [--rounds 5] [--phases 3]     # needs ./dev.sh toolchain
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime
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

# The engine's log lines (at -v=7, engine only) that close each phase of a preview, in order.
PHASES = (
    ("start-up", "applying step refresh"),
    ("refresh", "langhost[python].Run("),
    ("program start", "ResourceMonitor.RegisterResource received"),
    ("registrations", "step executor has completed"),
    ("program exit", "Program exited"),
    ("shutdown", "Update(preview=true) complete"),
)
TIERS = ("platform", "pipeline")


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


def children_cpu() -> float:
    """CPU seconds of this process's finished children and theirs (the CLI reaps its plugins and programs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_preview(stack: Stack) -> tuple[float, float]:
    """Wall and CPU seconds of one no-op preview."""
    cpu, start = children_cpu(), time.monotonic()
    stack.preview("--expect-no-changes")
    return time.monotonic() - start, children_cpu() - cpu


def phases(log: str) -> dict[str, float]:
    """Seconds of each phase of a preview, from its engine log (JSON lines on stderr)."""
    times: list[datetime] = []
    pending = list(PHASES)
    for line in log.splitlines():
        try:
            record = json.loads(line) if line.startswith("{") else None
        except ValueError:
            record = None  # a provider's own log line, not the engine's
        if record is None:
            continue
        # Nanosecond timestamps: microseconds are plenty.
        stamp = datetime.fromisoformat(record["time"][:26].rstrip("Z"))
        if not times:
            times.append(stamp)
        if pending and pending[0][1] in record.get("msg", ""):
            times.append(stamp)
            pending.pop(0)
    if pending:
        raise RuntimeError(f"the engine log has no line for the end of phase {pending[0][0]!r}")
    spans = zip(PHASES, times[:-1], times[1:], strict=True)
    return {name: (end - begin).total_seconds() for (name, _), begin, end in spans}


def phase_table(stacks: dict[str, Stack], rounds: int) -> None:
    """Per-phase medians of `rounds` interleaved, logged previews of every stack."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in stacks}
    for _ in range(rounds):
        for name, stack in stacks.items():
            samples[name].append(phases(stack.preview("--expect-no-changes", "-v=7", "--logtostderr").stderr))
    print(f"\nwhere the time goes (seconds, median of {rounds} logged rounds):")
    print(f"  {'':16}" + "".join(f"{name:>15}" for name, _ in PHASES) + f"{'total':>10}")
    for name, runs in samples.items():
        medians = {phase: statistics.median(run[phase] for run in runs) for phase, _ in PHASES}
        print(f"  {name:16}" + "".join(f"{medians[p]:15.2f}" for p, _ in PHASES) + f"{sum(medians.values()):10.2f}")


def main() -> int:
    # openapi-core cannot model the specs' OAuth2 flow; the fake Polaris checks security itself.
    warnings.filterwarnings("ignore", "Unsupported scheme type")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of previews (median reported)")
    parser.add_argument("--phases", type=int, default=0, help="logged rounds for the per-phase table (0: none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as directory, e2e_world(Path(directory)) as world:
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(directory) / "pycache")
        print("deploying the platform, the pipeline and their floors ...", flush=True)
        world.platform.up()
        world.pipeline.up()
        counts = {"platform": resource_count(world.platform.export()),
                  "pipeline": resource_count(world.pipeline.export())}
        stacks = {"platform": world.platform, "pipeline": world.pipeline,
                  "platform floor": floor_stack(world, "platform", counts["platform"]),
                  "pipeline floor": floor_stack(world, "pipeline", counts["pipeline"])}
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in stacks}
        for round_ in range(args.rounds):
            for name, stack in stacks.items():
                samples[name].append(timed_preview(stack))
            print(f"round {round_ + 1}/{args.rounds}: "
                  + ", ".join(f"{n} {s[-1][0]:.2f} s ({s[-1][1]:.2f} s CPU)" for n, s in samples.items()), flush=True)
        wall = {name: statistics.median(w for w, _ in values) for name, values in samples.items()}
        cpu = {name: statistics.median(c for _, c in values) for name, values in samples.items()}
        print(f"\nno-op `pulumi preview`, median of {args.rounds} interleaved rounds (wall | CPU of its processes):")
        for tier in TIERS:
            floor = f"{tier} floor"
            print(f"  {tier:8} {counts[tier]:4} resources  {wall[tier]:6.2f} s   floor {wall[floor]:6.2f} s   "
                  f"ratio {wall[tier] / wall[floor]:5.2f}x  |  CPU {cpu[tier]:6.2f} s   floor {cpu[floor]:6.2f} s   "
                  f"ratio {cpu[tier] / cpu[floor]:5.2f}x")
        if args.phases:
            phase_table(stacks, args.phases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
