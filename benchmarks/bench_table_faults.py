"""The fault matrix, measured: each fault injected on loopback, its outcome, the time to fail, and the rerun.

Runs the cases of `tests/iceberg/fault_matrix.py` (`tables apply` over an Iceberg REST catalog)
and a few against the Polaris management client, with the policy a user gets by default
(`floe_infra.http.DEFAULT_POLICY`: 5 s connect, 30 s read timeouts, 4 retries, backoff 0.5 s
doubling to 10 s with 0.5 s jitter, Retry-After honoured up to 30 s), and prints a Markdown table
(the one in docs/tables.md). Cases "credential set" run against a catalog that is its own OAuth2
server (every request needs a token). With the default policy the "never answers" cases take 30-60 s.

Run: .venv/bin/python benchmarks/bench_table_faults.py [--short]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package holds the fake servers

from floe_infra.errors import FloeError
from floe_infra.http import DEFAULT_POLICY, HttpPolicy
from floe_infra.polaris.client import PolarisClient, PolarisConnection
from tests import loopback
from tests.iceberg.fault_matrix import CASES, run_case
from tests.loopback import FAST, SHORT, Fault

POLARIS_GET = "GET /api/management/v1/catalogs/lakehouse"
POLARIS_CASES = [
    ("Polaris: Retry-After: 86400", [Fault(429, {"Retry-After": "86400"}, match=POLARIS_GET)]),
    ("Polaris: never answers (ReadTimeout)", [Fault(kind="hang", match=POLARIS_GET)] * 2),
    ("Polaris: truncated JSON", [Fault(kind="truncate", match=POLARIS_GET)]),
    ("Polaris: connection cut mid-answer", [Fault(kind="cut", match=POLARIS_GET)]),
    ("Polaris: non-JSON answer", [Fault(kind="not_json", match=POLARIS_GET)]),
    ("Polaris: connection reset on a read", [Fault(kind="reset", match=POLARIS_GET)]),
]


def describe(error: FloeError | None) -> str:
    if error is None:
        return "succeeds"
    return f"`{type(error).__name__}`, rc 1: {str(error).split(': ', 1)[-1][:90]}..."


def polaris_rows(policy: HttpPolicy) -> list[str]:
    try:
        from tests.polaris.fake_polaris import FakePolaris
    except ImportError as exc:  # the fake needs openapi-core and the shared specs
        return [f"| Polaris cases skipped: {exc} | | | |"]
    rows = []
    for name, faults in POLARIS_CASES:
        fake = FakePolaris()
        url = fake.start()
        try:
            connection = PolarisConnection(url=url, client_id="root", client_secret="root-secret-for-tests")
            setup = PolarisClient(connection, policy=FAST)
            setup.create_catalog({"name": "lakehouse", "type": "INTERNAL",
                                  "properties": {"default-base-location": "s3://floe-bronze/lakehouse"},
                                  "storageConfigInfo": {"storageType": "S3",
                                                        "allowedLocations": ["s3://floe-bronze/"]}})
            fake.faults += faults
            client = PolarisClient(connection, policy=policy)
            started, error = time.monotonic(), None
            try:
                client.get_catalog("lakehouse")
            except FloeError as exc:
                error = exc
            seconds = time.monotonic() - started
            fake.faults.clear()
            converged = client.get_catalog("lakehouse") is not None
        finally:
            fake.stop()
        rows.append(f"| {name} | {describe(error)} | {seconds:.2f} s | {'yes' if converged else 'NO'} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="0.5 s read timeout, no backoff (the tests' policy)")
    args = parser.parse_args()
    policy = SHORT if args.short else DEFAULT_POLICY
    # A hanging request must outlast every timeout and retry of the policy, or it ends as a closed connection.
    loopback.HANG_LIMIT = 3 * (policy.read_retries + 1) * policy.read_timeout
    print(f"policy: {policy}\n")
    print("| fault | outcome | time to fail | converged on rerun, nothing lost |")
    print("|---|---|---|---|")
    for case in CASES:
        with tempfile.TemporaryDirectory() as root:
            outcome = run_case(Path(root), case, policy)
        kept = "yes" if outcome.converged and outcome.rows_kept else "NO"
        print(f"| {case.name} | {describe(outcome.error)} | {outcome.seconds:.2f} s | {kept} |", flush=True)
    for row in polaris_rows(policy):
        print(row, flush=True)


if __name__ == "__main__":
    main()
