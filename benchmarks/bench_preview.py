"""Benchmark: the offline preview against the SDK's floor, for the demo and a platform of 100 pipelines.

The floor is what the mock runtime costs for the same registrations without floe-infra: for
every stack the preview runs, a program registering the same resources as bare custom, provider
and component resources under the same harness. The same registrations: the engine receives
the same types, names, inputs, parents, dependencies, providers and resource options, and the
same stack outputs (`floor` checks this for every stack); the SDK does that work for any program
declaring those resources. They are instances of trivial subclasses, as every real resource is,
so the SDK records each one's source position and stack trace for the floor too (see
`BareCustom`). Per-property dependencies are not replayed (the floor's inputs are plain values).
The ratio preview / floor is what floe-infra adds: loading and validating YAML, reading the
contract, building the components, the guardrails and the table plans. Target (issue 7): <= 1.5,
and cost growing linearly with the number of pipelines (the per-pipeline cost is printed for
several sizes). Preview and floor alternate in rounds so machine noise hits both alike.

Run: .venv/bin/python benchmarks/bench_preview.py [--pipelines 100] [--tables 20] [--rounds 2]
"""

from __future__ import annotations

import argparse
import gc
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.sync_await import _sync_await

from floe_infra.contract import CONTRACT_OUTPUT
from floe_infra.preview.offline import OFFLINE_TENANT_PUBLIC_KEY, StackPreview, offline_preview
from floe_infra.preview.runtime import ProgramRun, run_program

REPO = Path(__file__).resolve().parent.parent
PROVIDER_TYPE = "pulumi:providers:"
COLUMNS = [{"name": "id", "type": "long", "required": True}, {"name": "customer", "type": "string"},
           {"name": "amount", "type": "decimal(12,2)"}, {"name": "created_at", "type": "timestamptz"}]


def synthetic_platform(root: Path, pipelines: int) -> Path:
    """The demo platform project with `pipelines` tenants."""
    project = root / "platform"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, project / name)
    platform = yaml.safe_load((REPO / "demo/platform/platform.yaml").read_text())
    platform["deployment"]["tenants"] = {f"team-{i:03d}": {"writes": ["bronze", "silver"], "reads": ["gold"],
                                                         "code_server_port": 4000 + i,
                                                         "public_key": OFFLINE_TENANT_PUBLIC_KEY}
                                         for i in range(pipelines)}
    # A code server per tenant: no laptop quota holds a hundred (guardrail quota-fits); none here.
    platform["infrastructure"]["lifecycle"]["resource_quotas"]["enabled"] = False
    (project / "platform.yaml").write_text(yaml.safe_dump(platform))
    (project / "Pulumi.local.yaml").write_text("config:\n  floe:platformFile: platform.yaml\n")
    return project


def synthetic_pipelines(root: Path, pipelines: int, tables: int) -> list[Path]:
    """`pipelines` pipeline projects of `tables` tables each."""
    files = []
    for i in range(pipelines):
        project = root / f"team-{i:03d}"
        project.mkdir()
        (project / "Pulumi.yaml").write_text(f"name: team-{i:03d}\nruntime: python\n")
        shutil.copy(REPO / "demo/data_engineering/__main__.py", project / "__main__.py")
        # As `pulumi config set --secret floe:tenantKey` leaves it (the preview never decrypts it).
        (project / "Pulumi.local.yaml").write_text(f"config:\n  floe:image: registry.local/team-{i:03d}:1.0.0\n"
                                                   "  floe:tenantKey:\n    secure: v1:stand-in\n")
        floe = {"name": f"team-{i:03d}", "version": "1.0.0",
                "tables": [{"name": f"t{t:02d}", "layer": "bronze" if t % 2 else "silver", "columns": COLUMNS,
                            "identifier_fields": ["id"], "partition_by": [{"column": "created_at",
                                                                            "transform": "day"}]}
                           for t in range(tables)],
                "orchestration": {"jobs": {"load": {"type": "batch", "selection": ["*"]}}}}
        (project / "floe.yaml").write_text(yaml.safe_dump(floe))
        files.append(project / "floe.yaml")
    return files


class BareCustom(pulumi.CustomResource):
    """A custom resource of any type, under a class of its own as every provider's resources are.

    The SDK records each registration's source position and stack trace, taken from the stack
    outside the resource class's own constructor (`_get_stack_trace`: the third `__init__` frame
    up, after Resource's and CustomResource's). A bare `pulumi.CustomResource(...)` has only two,
    so the SDK skipped that work for the floor while doing it for every registration of any real
    program. With a subclass it records the floor program's stack; the preview's deeper stack
    (the project's `__main__.py`, floe-infra's components) stays counted as floe-infra's cost.
    """

    def __init__(self, type_: str, name: str, inputs: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(type_, name, inputs, opts)


class BareProvider(pulumi.ProviderResource):
    """A provider resource of any package, under a class of its own (see `BareCustom`)."""

    def __init__(self, package: str, name: str, inputs: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(package, name, inputs, opts)


class BareComponent(pulumi.ComponentResource):
    """A component resource of any type, under a class of its own (see `BareCustom`)."""

    def __init__(self, type_: str, name: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__(type_, name, None, opts)


def bare_program(run: ProgramRun, reference: str | None) -> Callable[[], None]:
    """A program registering what `run` registered, with the same options, and exporting its outputs."""
    def program() -> None:
        if reference is not None:
            # A pipeline reads the platform's contract: so does its floor.
            _sync_await(pulumi.StackReference(reference).get_output_details(CONTRACT_OUTPUT))
        created: dict[str, pulumi.Resource] = {}
        for r in run.resources:  # parents, providers and dependencies first, as the program registered them
            opts = pulumi.ResourceOptions(
                parent=created.get(r.parent), depends_on=[created[urn] for urn in r.dependencies],
                # A provider reference is `<urn>::<id>`.
                provider=created[r.provider.rsplit("::", 1)[0]] if r.provider else None,
                protect=r.protect, retain_on_delete=r.retain_on_delete, delete_before_replace=r.delete_before_replace)
            if r.type.startswith(PROVIDER_TYPE):
                created[r.urn] = BareProvider(r.type.removeprefix(PROVIDER_TYPE), r.name, r.inputs, opts)
            elif r.custom:
                created[r.urn] = BareCustom(r.type, r.name, r.inputs, opts)
            else:
                created[r.urn] = BareComponent(r.type, r.name, opts)
        for key, value in run.outputs.items():
            pulumi.export(key, pulumi.Output.secret(value) if key in run.secret_outputs else value)
    return program


def _recorded(run: ProgramRun) -> tuple[list[tuple[Any, ...]], dict[str, Any], set[str]]:
    """What the engine would receive from a run: every registration's fields (in any order: registrations
    reach the monitor as their parents resolve), and the stack's outputs."""
    return (sorted(((r.urn, r.type, r.name, r.parent, r.custom, r.inputs, sorted(r.dependencies), r.provider,
                     r.protect, r.retain_on_delete, r.delete_before_replace) for r in run.resources),
                   key=lambda fields: fields[0]), run.outputs, run.secret_outputs)


def floor(previews: list[StackPreview]) -> float:
    """Seconds the bare programs of `previews` take; each must register exactly what its stack's program did."""
    contract = previews[0].run.outputs[CONTRACT_OUTPUT]
    reference = "organization/floe-platform/local"
    runs: list[ProgramRun] = []
    gc.collect()  # the preview's garbage, collected before the clock starts (see `preview`)
    start = time.perf_counter()
    for index, p in enumerate(previews):
        pipeline = index > 0
        runs.append(run_program(bare_program(p.run, reference if pipeline else None), project=p.project,
                                stack=p.stack, root_directory=REPO,
                                stack_references={reference: ({CONTRACT_OUTPUT: contract}, [])} if pipeline else None))
    elapsed = time.perf_counter() - start
    for p, run in zip(previews, runs, strict=True):
        assert _recorded(run) == _recorded(p.run), f"the floor of {p.label} registers something else"
    return elapsed


def preview(platform: Path, files: list[Path]) -> tuple[float, list[StackPreview]]:
    # The floor's garbage (and the previous round's), collected before the clock starts: each side pays
    # for collecting what it leaves itself, not for what the other left.
    gc.collect()
    start = time.perf_counter()
    previews = offline_preview(platform, "local", files, {}, assumed_secrets=("floe:tenantKey",))
    elapsed = time.perf_counter() - start
    assert not any(p.blocked for p in previews)
    return elapsed, previews


def measure(label: str, platform: Path, files: list[Path], rounds: int) -> tuple[float, float, int]:
    best_preview = best_floor = float("inf")
    total = 0
    for _ in range(rounds):
        elapsed, previews = preview(platform, files)
        best_preview = min(best_preview, elapsed)
        best_floor = min(best_floor, floor(previews))
        total = sum(len(p.run.resources) for p in previews)
    print(f"{label:<34} {total:>7} resources  preview {best_preview:7.2f} s  floor {best_floor:7.2f} s  "
          f"ratio {best_preview / best_floor:5.2f}")
    return best_preview, best_floor, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument("--tables", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    measure("demo (platform + 1 pipeline)", REPO, [REPO / "demo/data_engineering/floe.yaml"], args.rounds)
    per_pipeline = []
    for size in sorted({max(1, args.pipelines // 4), max(1, args.pipelines // 2), args.pipelines}):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            platform = synthetic_platform(root, size)
            files = synthetic_pipelines(root, size, args.tables)
            seconds, _, _ = measure(f"{size} pipelines x {args.tables} tables", platform, files, args.rounds)
            per_pipeline.append((size, seconds / size))
    print("per pipeline: " + ", ".join(f"{size}: {cost * 1000:.0f} ms" for size, cost in per_pipeline)
          + f"  (largest / smallest: {per_pipeline[-1][1] / per_pipeline[0][1]:.2f}; linear ~ 1.0)")


if __name__ == "__main__":
    main()
