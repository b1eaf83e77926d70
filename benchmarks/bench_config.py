"""Benchmark: validating a multi-megabyte platform.yaml against a bare libyaml load of it, and refusing an alias bomb.

The file is the demo platform.yaml with N more storage profiles (10k, 20k, 50k, 100k: 100k makes it about 5 MB),
one in eight of them built on the demo's `<<: *minio` anchor. For each size, in fresh processes taking turns
(so each peak RSS is its own, and load on the machine falls on both alike; round after round over the sizes), it
times:
- `floe-infra validate --platform FILE` (the CLI in-process: parse, credential scan, pydantic models, cross-field
  checks, the summary it prints), and
- a bare `yaml.load(FILE, Loader=yaml.CSafeLoader)` of the same file: libyaml's parse, nothing checked.
Start-up is not timed in either: each process first handles the demo platform.yaml (imports, which floe-infra
makes on first use, and its argument parser cost the same at every size; their time is printed apart). The time
is the process's CPU time (both are single-threaded: on a shared machine, other work slows the wall clock, not
this), the wall time is printed beside it. Each is run `--repeat` times and the fastest run counts: noise only ever
adds time. Peak memory is the largest of the runs.

Targets (issue 21): validate in at most 1.5x the bare load's time and under 250 MB at 100k profiles, with the cost
per profile flat across sizes (largest / smallest <= 1.2). Issue 2: an alias bomb refused in under 1 s and 200 MB.

Run: .venv/bin/python benchmarks/bench_config.py [--sizes 10000 20000 50000 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_PLATFORM = REPO / "demo" / "platform" / "platform.yaml"

CHILD = textwrap.dedent("""
    import contextlib, io, json, resource, sys, time
    mode, path, warm_up = sys.argv[1], sys.argv[2], sys.argv[3]
    started = time.perf_counter()
    if mode == "validate":
        from floe_infra.cli import main
        def work(file):
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
                return main(["validate", "--platform", file]), err.getvalue()
    else:
        import yaml
        def work(file):
            with open(file, encoding="utf-8") as stream:
                yaml.load(stream, Loader=yaml.CSafeLoader)
            return 0, ""
    work(warm_up)  # imports (floe-infra imports most modules on first use), the argument parser: not timed
    ready, ready_cpu = time.perf_counter(), time.process_time()
    status, stderr = work(path)
    done, done_cpu = time.perf_counter(), time.process_time()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"status": status, "seconds": done_cpu - ready_cpu, "wall": done - ready,
                      "startup": ready - started, "peak_mb": peak_mb, "stderr": stderr[-2000:]}))
""")


def run(mode: str, path: Path) -> dict[str, float]:
    """One fresh process: `validate` (floe-infra) or `load` (bare libyaml)."""
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(DEMO_PLATFORM)], capture_output=True,
                         text=True, check=True, cwd=REPO, timeout=600)
    return json.loads(out.stdout)


def big_platform(path: Path, profiles: int) -> Path:
    """The demo platform.yaml with `profiles` more storage profiles after its own."""
    lines = DEMO_PLATFORM.read_text(encoding="utf-8").splitlines()
    at = lines.index("layers:")  # the storage section ends just before it
    extra = [f"  s{i:07d}: {{<<: *minio, bucket: floe-s{i:07d}}}" if i % 8 == 0 else
             f"  s{i:07d}: {{bucket: floe-s{i:07d}, region: eu-west-1}}" for i in range(profiles)]
    path.write_text("\n".join([*lines[:at], *extra, *lines[at:]]) + "\n", encoding="utf-8")
    return path


def alias_bomb(path: Path, levels: int = 9, width: int = 9) -> Path:
    # 9^9 = 387 million leaves once expanded; a few hundred bytes on disk.
    lines = ["storage:", "  default: {bucket: floe-data}", "observability:", "  attributes:",
             '    a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fastest(runs: list[dict[str, float]]) -> dict[str, float]:
    best = dict(min(runs, key=lambda r: r["seconds"]))
    best["peak_mb"] = max(r["peak_mb"] for r in runs)  # memory does not get noisier: the worst is the honest one
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 50_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = {size: big_platform(Path(tmp) / f"platform-{size}.yaml", size) for size in args.sizes}
        loads: dict[int, list[dict[str, float]]] = {size: [] for size in args.sizes}
        validates: dict[int, list[dict[str, float]]] = {size: [] for size in args.sizes}
        # Round after round over every size, so that a busy minute on the machine falls on all of them alike.
        for _ in range(args.repeat):
            for size, big in files.items():
                loads[size].append(run("load", big))
                validates[size].append(run("validate", big))
                if validates[size][-1]["status"] != 0:
                    print(f"validate failed on {size} profiles:\n{validates[size][-1]['stderr']}", file=sys.stderr)
                    return 2
        rows = [(size, files[size].stat().st_size / 1024 / 1024, fastest(loads[size]), fastest(validates[size]))
                for size in args.sizes]
        refused = fastest([run("validate", alias_bomb(Path(tmp) / "bomb.yaml")) for _ in range(args.repeat)])

    print(f"platform.yaml with N more storage profiles; CPU seconds (wall), fastest of {args.repeat} runs taking "
          "turns, start-up not timed")
    print(f"{'profiles':>9} {'MB':>5} | {'load s':>13} {'peak MB':>7} | {'validate s':>13} {'peak MB':>7} "
          f"{'us/profile':>10} | {'ratio':>5}")
    for size, mb, load, validate in rows:
        print(f"{size:>9} {mb:>5.1f} | {load['seconds']:>6.2f} ({load['wall']:>5.2f}) {load['peak_mb']:>7.0f} | "
              f"{validate['seconds']:>6.2f} ({validate['wall']:>5.2f}) {validate['peak_mb']:>7.0f} "
              f"{validate['seconds'] / size * 1e6:>10.1f} | {validate['seconds'] / load['seconds']:>5.2f}")
    startup = min(v["startup"] for _, _, _, v in rows)
    per_profile = [v["seconds"] / size for size, _, _, v in rows]
    growth = max(per_profile) / min(per_profile)
    size, _, load, validate = rows[-1]
    ratio = validate["seconds"] / load["seconds"]
    print(f"start-up of floe-infra validate (imports, the demo platform.yaml; not timed above): {startup:.2f} s")
    print(f"per-profile validate cost, largest / smallest across sizes: {growth:.2f} (target <= 1.2)")
    print(f"at {size} profiles: validate / bare load {ratio:.2f}x (target <= 1.5), peak {validate['peak_mb']:.0f} MB "
          "(target < 250)")
    print(f"alias bomb (9 levels x 9 aliases): refused in {refused['seconds']:.2f} s, "
          f"peak {refused['peak_mb']:.0f} MB, exit {refused['status']} (target: exit 2, < 1 s, < 200 MB)")
    ok = (ratio <= 1.5 and validate["peak_mb"] < 250 and growth <= 1.2 and refused["status"] == 2
          and refused["seconds"] < 1 and refused["peak_mb"] < 200)
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
