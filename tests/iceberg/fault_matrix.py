"""The fault matrix of `tables apply` over REST: each fault, its outcome, and whether a rerun converges.

Shared by the fault tests (short timeouts) and `benchmarks/bench_table_faults.py` (the default
policy, to report the time to fail a user sees). Every case starts from a table holding rows,
applies a change (qty int -> long: a plan, a load and a commit) with the fault injected, then
removes what is left of the fault and applies again: the rerun must converge (the plan is
unchanged afterwards) with every row and the table's identity kept. Cases with a credential run
against a catalog that is its own OAuth2 server, as Polaris is: every request needs a token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from floe_infra.errors import (
    CatalogBusyError,
    CatalogCredentialError,
    CatalogResponseError,
    CatalogTimeoutError,
    CatalogUnreachableError,
    FloeError,
)
from floe_infra.http import HttpPolicy
from floe_infra.iceberg.catalogs import CatalogTarget, open_catalog
from floe_infra.iceberg.engine import apply_tables, plan_tables
from floe_infra.iceberg.plan import Action
from tests.iceberg.conftest import NAMESPACE, table
from tests.iceberg.rest_catalog import RestCatalogServer
from tests.loopback import FAST, Fault

TABLE = "/v1/namespaces/bronze.sales/tables/orders"
LOAD, COMMIT = f"GET {TABLE}", f"POST {TABLE}"
TOKEN = "POST /v1/oauth/tokens"
CLIENT, SECRET = "floe-client", "a-fake-client-secret-for-tests"
ROWS = 3
BEFORE = table(columns=[{"name": "id", "type": "long", "required": True}, {"name": "qty", "type": "int"}])
AFTER = table(columns=[{"name": "id", "type": "long", "required": True}, {"name": "qty", "type": "long"}])


@dataclass(frozen=True)
class Case:
    """One fault: what is injected, and the outcome expected (`error` None: the apply succeeds); `credential`:
    the catalog asks for a token and the apply sends one."""

    name: str
    faults: tuple[Fault, ...]
    error: type[FloeError] | None = None
    message: str = ""
    credential: bool = False


CASES = [
    Case("catalog never answers (config request)", (Fault(kind="hang", match="GET /v1/config"),) * 2,
         CatalogTimeoutError, r"connect to the catalog: .* accepted the connection but sent no answer within"),
    Case("catalog never answers (commit)", (Fault(kind="hang", match=COMMIT),), CatalogTimeoutError,
         r"apply table bronze\.sales\.orders: .* sent no answer within"),
    Case("429 with Retry-After: 1", (Fault(429, {"Retry-After": "1"}, match=LOAD),)),
    Case("429 with Retry-After: 86400", (Fault(429, {"Retry-After": "86400"}, match=LOAD),), CatalogBusyError,
         r"plan table bronze\.sales\.orders: http://.* answered HTTP 429 and asks to retry after 86400 s, longer "
         r"than floe-infra waits \(\d+ s\); nothing was changed"),
    Case("503 on a read, twice", (Fault(503, match=LOAD),) * 2),
    Case("503 on every read", (Fault(503, match=LOAD),) * 5, CatalogBusyError,
         r"plan table bronze\.sales\.orders: the catalog at .* is overloaded or unavailable \(Injected: injected "
         r"503\), also after the retries that are safe; try again later"),
    Case("503 on the commit (no Retry-After)", (Fault(503, match=COMMIT),), CatalogBusyError,
         r"apply table bronze\.sales\.orders: .* is overloaded or unavailable"),
    Case("connection reset on a read", (Fault(kind="reset", match=LOAD),)),
    Case("connection reset on the commit", (Fault(kind="reset", match=COMMIT),), CatalogUnreachableError,
         r"apply table bronze\.sales\.orders: the connection to .* was lost before an answer arrived"),
    Case("connection reset after the commit", (Fault(kind="reset_after", match=COMMIT),)),
    Case("truncated JSON (load)", (Fault(kind="truncate", match=LOAD),), CatalogResponseError,
         r"plan table bronze\.sales\.orders: the catalog at .* sent an answer that is not the Iceberg REST JSON"),
    Case("truncated JSON (commit answer)", (Fault(kind="truncate", match=COMMIT),)),
    Case("connection cut mid-answer (load)", (Fault(kind="cut", match=LOAD),) * 2, CatalogResponseError,
         r"plan table bronze\.sales\.orders: the answer of .* was cut short"),
    Case("commit applied, then HTTP 500", (Fault(500, kind="after", match=COMMIT),)),
    Case("non-JSON answer (HTML page)", (Fault(kind="not_json", match=LOAD),), CatalogResponseError,
         r"sent an answer that is not the Iceberg REST JSON expected"),
    Case("credential set: token endpoint never answers", (Fault(kind="hang", match=TOKEN),), CatalogTimeoutError,
         r"get a token from the catalog: http://.*/v1/oauth/tokens accepted the connection but sent no answer within",
         credential=True),
    Case("credential set: token refused (HTTP 401)", (Fault(401, match=TOKEN),), CatalogCredentialError,
         r"get a token from the catalog: http://.*/v1/oauth/tokens refused the credential \(HTTP 401: injected 401\)",
         credential=True),
    Case("credential set: 429 on the token, Retry-After: 1", (Fault(429, {"Retry-After": "1"}, match=TOKEN),),
         credential=True),
    Case("credential set: 429 on every token request", (Fault(429, match=TOKEN),) * 5, CatalogBusyError,
         r"get a token from the catalog: http://.*/v1/oauth/tokens is overloaded or unavailable \(HTTP 429",
         credential=True),
]


@dataclass(frozen=True)
class Outcome:
    """What one case did."""

    error: FloeError | None
    seconds: float
    converged: bool
    rows_kept: bool


def target(server: RestCatalogServer, case: Case) -> CatalogTarget:
    """The catalog as the apply reaches it: with the credential when the case has one."""
    return CatalogTarget(uri=server.url, warehouse="lakehouse", credential=f"{CLIENT}:{SECRET}" if case.credential
                         else None)


def prepare(server: RestCatalogServer, case: Case) -> str:
    """The table as it was before: created, holding rows; returns its uuid."""
    catalog = open_catalog(target(server, case), policy=FAST)
    catalog.create_namespace(NAMESPACE[:1])
    catalog.create_namespace(NAMESPACE)
    apply_tables(catalog, [BEFORE], create_namespaces=False)
    live = catalog.load_table((*NAMESPACE, "orders"))
    live.append(pa.Table.from_pylist([{"id": i, "qty": i} for i in range(ROWS)], schema=live.schema().as_arrow()))
    return str(catalog.load_table((*NAMESPACE, "orders")).metadata.table_uuid)


def run_case(root: Path, case: Case, policy: HttpPolicy) -> Outcome:
    """Prepare, apply with the fault, then rerun without it; the server is stopped in every case."""
    server = RestCatalogServer(root, credentials={CLIENT: SECRET} if case.credential else None)
    server.start()
    try:
        uuid = prepare(server, case)
        server.faults += list(case.faults)
        started = time.monotonic()
        error = None
        try:
            catalog = open_catalog(target(server, case), policy=policy)
            apply_tables(catalog, [AFTER], create_namespaces=False)
        except FloeError as exc:
            error = exc
        seconds = time.monotonic() - started
        server.faults.clear()
        catalog = open_catalog(target(server, case), policy=FAST)
        apply_tables(catalog, [AFTER], create_namespaces=False)
        converged = plan_tables(catalog, [AFTER], create_namespaces=False)[0].action is Action.UNCHANGED
        live = catalog.load_table((*NAMESPACE, "orders"))
        rows = sorted(live.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
        kept = str(live.metadata.table_uuid) == uuid and rows == [{"id": i, "qty": i} for i in range(ROWS)]
        assert server.errors == [], server.errors
        return Outcome(error, seconds, converged, kept)
    finally:
        server.stop()
