"""Benchmark: loading a multi-megabyte platform.yaml, and refusing a YAML alias bomb.

Targets (issue 2): `floe-infra validate` on a 5 MB platform.yaml in under 10 s; an alias bomb
refused in under 1 s without growing memory past 200 MB. Each case runs in a fresh process so
its peak RSS is its own; the 5 MB case is also timed against PyYAML's own `safe_load` of the same
file in the same run, as a ratio (machines here are noisy: absolute times vary, ratios less so).

Run: .venv/bin/python benchmarks/bench_config.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    mode, path = sys.argv[1], sys.argv[2]
    start = time.perf_counter()
    if mode == "validate":
        from floe_infra.cli import main
        import contextlib, io
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status = main(["validate", "--platform", path])
    else:
        import yaml
        yaml.load(open(path, encoding="utf-8"), Loader=yaml.CSafeLoader)
        status = 0
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"status": status, "seconds": elapsed, "peak_mb": peak_mb}))
""")


def run(mode: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def big_platform(path: Path, megabytes: float = 5.0) -> Path:
    lines = ['version: "1.2.0"', "storage:", "  default: {bucket: floe-data}", "observability:", "  attributes:"]
    size, i = sum(len(line) + 1 for line in lines), 0
    while size < megabytes * 1024 * 1024:
        line = f"    attribute.number.{i:07d}: value-{i:07d}-padding-padding-padding"
        lines.append(line)
        size += len(line) + 1
        i += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def alias_bomb(path: Path, levels: int = 9, width: int = 9) -> Path:
    # 9^9 = 387 million leaves once expanded; a few hundred bytes on disk.
    lines = ["storage:", "  default: {bucket: floe-data}", "observability:", "  attributes:",
             '    a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        big = big_platform(Path(tmp) / "big.yaml")
        bomb = alias_bomb(Path(tmp) / "bomb.yaml")
        size_mb = big.stat().st_size / 1024 / 1024
        baseline = run("safe_load", big)
        validate = run("validate", big)
        refused = run("validate", bomb)

    print(f"5 MB platform.yaml ({size_mb:.1f} MB):")
    print(f"  floe-infra validate   {validate['seconds']:6.2f} s  peak {validate['peak_mb']:6.0f} MB  "
          f"exit {validate['status']}  (target < 10 s)")
    print(f"  yaml CSafeLoader load {baseline['seconds']:6.2f} s  peak {baseline['peak_mb']:6.0f} MB")
    print(f"  ratio validate / plain load: {validate['seconds'] / baseline['seconds']:.2f}x")
    print("alias bomb (9 levels x 9 aliases):")
    print(f"  floe-infra validate   {refused['seconds']:6.2f} s  peak {refused['peak_mb']:6.0f} MB  "
          f"exit {refused['status']}  (target refused < 1 s, < 200 MB)")
    ok = (validate["status"] == 0 and validate["seconds"] < 10 and refused["status"] == 2
          and refused["seconds"] < 1 and refused["peak_mb"] < 200)
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
