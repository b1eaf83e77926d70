"""The Polaris client under injected faults: typed errors in bounded time, and a rerun that converges."""

from __future__ import annotations

import time

import pytest

from floe_infra.errors import CatalogResponseError, CatalogTimeoutError, CatalogUnreachableError
from floe_infra.polaris.client import PolarisClient
from tests.loopback import SHORT, Fault
from tests.polaris.test_client import new_catalog

GET = "GET /api/management/v1/catalogs/lakehouse"
BOUND = 10.0  # seconds: far above what each fault costs, far below "hangs"


@pytest.fixture
def short(polaris, client, root) -> PolarisClient:
    """A client with a 0.5 s read timeout, on a Polaris that holds the lakehouse catalog."""
    new_catalog(client)  # the fake loads its specs on the first request: not under the short timeout
    return PolarisClient(root, policy=SHORT)


@pytest.mark.parametrize(("fault", "error", "message"), [
    (Fault(kind="hang", match=GET), CatalogTimeoutError,
     r"get catalog lakehouse: http://127\.0\.0\.1:\d+ accepted the connection but sent no answer within 0\.5 s; "
     r"the server is stuck or overloaded: try again later"),
    (Fault(kind="not_json", match=GET), CatalogResponseError,
     r"get catalog lakehouse: http://127\.0\.0\.1:\d+ answered HTTP 200 with a body that is not JSON \(text/html: "
     r"'<html><body>Please sign in.*check that the URL is Polaris'"),
    (Fault(kind="truncate", match=GET), CatalogResponseError, r"get catalog lakehouse: .* body that is not JSON"),
    (Fault(kind="cut", match=GET), CatalogResponseError,
     r"get catalog lakehouse: the answer of http://127\.0\.0\.1:\d+ was cut short"),
])
def test_a_lost_or_spoilt_answer_is_a_typed_error_in_bounded_time_and_a_rerun_converges(
        polaris, short, fault, error, message):
    polaris.faults += [fault, Fault(kind=fault.kind, match=fault.match)]  # the one retry of a read fails too
    started = time.monotonic()
    with pytest.raises(error, match=message):
        short.get_catalog("lakehouse")
    assert time.monotonic() - started < BOUND
    polaris.faults.clear()
    assert short.get_catalog("lakehouse")["name"] == "lakehouse"


def test_a_reset_connection_on_a_read_is_retried(polaris, short):
    polaris.faults.append(Fault(kind="reset", match=GET))
    assert short.get_catalog("lakehouse")["name"] == "lakehouse"
    assert polaris.calls.count(GET) == 2


def test_connections_reset_through_every_retry_are_reported_with_the_url(polaris, short):
    polaris.faults += [Fault(kind="reset", match=GET)] * 2
    with pytest.raises(CatalogUnreachableError, match=r"get catalog lakehouse: the connection to "
                                                      r"http://127\.0\.0\.1:\d+ was lost before an answer arrived"):
        short.get_catalog("lakehouse")


def test_a_create_that_never_gets_an_answer_is_not_sent_twice_and_a_rerun_converges(polaris, short):
    polaris.faults.append(Fault(kind="hang", match="POST /api/management/v1/principal-roles"))
    started = time.monotonic()
    with pytest.raises(CatalogTimeoutError, match=r"create principal role analysts: .* no answer within 0\.5 s"):
        short.create_principal_role("analysts")
    assert time.monotonic() - started < BOUND
    assert polaris.calls.count("POST /api/management/v1/principal-roles") == 1
    assert short.get_principal_role("analysts") is None  # the hanging request was never processed
    short.create_principal_role("analysts")
    assert short.get_principal_role("analysts") is not None
