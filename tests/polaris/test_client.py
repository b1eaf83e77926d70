"""The Polaris client: tokens, realm header, retries, errors, against a spec-validating fake Polaris."""

from __future__ import annotations

import pytest
import requests

from floe_infra.errors import CatalogBusyError, CatalogUnreachableError
from floe_infra.http import HttpPolicy, error_message
from floe_infra.polaris.client import PolarisClient, PolarisConnection, PolarisError, encode_namespace
from tests.loopback import FAST, Fault

STORAGE = {"storageType": "S3", "allowedLocations": ["s3://floe-bronze/"], "endpoint": "http://minio:9000",
           "pathStyleAccess": True, "region": "us-east-1", "stsUnavailable": True}


def new_catalog(client: PolarisClient, name: str = "lakehouse") -> None:
    client.create_catalog({"name": name, "type": "INTERNAL",
                           "properties": {"default-base-location": "s3://floe-bronze/lakehouse"},
                           "storageConfigInfo": STORAGE})


def test_every_call_carries_the_realm_header_and_a_bearer_token(polaris, client):
    seen = []
    original = client.session.request

    def spy(method, url, **kwargs):
        seen.append(kwargs["headers"])
        return original(method, url, **kwargs)

    client.session.request = spy
    new_catalog(client)
    assert all(h["Polaris-Realm"] == "POLARIS" for h in seen)
    assert seen[-1]["Authorization"].startswith("Bearer token-")
    assert polaris.calls[0] == "POST /api/catalog/v1/oauth/tokens"


def test_an_expired_token_is_refreshed_once_and_the_call_succeeds(polaris, client):
    new_catalog(client)
    polaris.expire_tokens()
    assert client.get_catalog("lakehouse")["name"] == "lakehouse"
    assert polaris.calls[-3:] == ["GET /api/management/v1/catalogs/lakehouse", "POST /api/catalog/v1/oauth/tokens",
                                  "GET /api/management/v1/catalogs/lakehouse"]


def test_token_is_reused_until_shortly_before_it_expires(polaris, root):
    now = [1000.0]
    client = PolarisClient(root, policy=FAST, clock=lambda: now[0])
    client.token()
    client.token()
    assert polaris.calls.count("POST /api/catalog/v1/oauth/tokens") == 1
    now[0] += 3600 - 30  # inside the refresh margin
    client.token()
    assert polaris.calls.count("POST /api/catalog/v1/oauth/tokens") == 2


@pytest.fixture
def slept(monkeypatch) -> list[float]:
    """The waits urllib3's Retry makes, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", waits.append)
    return waits


def test_503_on_a_read_is_retried_with_capped_exponential_backoff_and_jitter(polaris, root, slept):
    client = PolarisClient(root, policy=HttpPolicy(backoff=0.5, backoff_max=1.5, jitter=0.25))
    new_catalog(client)
    polaris.faults += [Fault(503, match="GET /api/management/v1/catalogs/lakehouse")] * 3
    assert client.get_catalog("lakehouse")["name"] == "lakehouse"
    assert polaris.calls.count("GET /api/management/v1/catalogs/lakehouse") == 4
    assert len(slept) == 2  # urllib3 retries the first failure at once, then backs off
    assert 1.0 <= slept[0] <= 1.25
    assert slept[1] == 1.5  # 2 s plus jitter, capped


def test_503_on_a_create_is_not_retried_without_retry_after(polaris, client):
    polaris.faults.append(Fault(503))
    with pytest.raises(PolarisError, match=r"create catalog lakehouse: HTTP 503: injected 503 \(still failing"):
        new_catalog(client)
    assert polaris.calls.count("POST /api/management/v1/catalogs") == 1


def test_429_and_503_with_retry_after_are_retried_after_the_wait_asked(polaris, root, slept):
    client = PolarisClient(root, policy=FAST)
    polaris.faults += [Fault(429, {"Retry-After": "3"}), Fault(503, {"Retry-After": "2"})]
    new_catalog(client)
    assert slept == [3, 2]
    assert polaris.catalogs["lakehouse"]["name"] == "lakehouse"


def test_retry_after_longer_than_the_cap_fails_at_once_naming_the_wait(polaris, root, slept):
    client = PolarisClient(root, policy=HttpPolicy(retry_after_max=30))
    polaris.faults.append(Fault(429, {"Retry-After": "86400"}))
    with pytest.raises(CatalogBusyError, match=r"create catalog lakehouse: http://127\.0\.0\.1:\d+/api/management/"
                                               r"v1/catalogs answered HTTP "
                                               r"429 and asks to retry after 86400 s, longer than floe-infra waits "
                                               r"\(30 s\); nothing was changed by that request: try again later"):
        new_catalog(client)
    assert slept == []


def test_retries_stop_and_report_polaris_message(polaris, root):
    client = PolarisClient(root, policy=HttpPolicy(retries=2, backoff=0, jitter=0))
    new_catalog(client)
    polaris.faults += [Fault(503, match="GET")] * 3
    with pytest.raises(PolarisError, match=r"get catalog lakehouse: HTTP 503: injected 503 \(still failing after "
                                           r"the retries: try again later\)"):
        client.get_catalog("lakehouse")


def test_conflict_names_the_object_and_carries_polaris_message(client):
    new_catalog(client)
    with pytest.raises(PolarisError) as caught:
        new_catalog(client)
    assert caught.value.status == 409
    assert str(caught.value) == ("create catalog lakehouse: HTTP 409: Cannot create Catalog lakehouse. "
                                 "Catalog already exists")


def test_bad_credentials_fail_with_the_client_id_but_never_the_secret(polaris):
    client = PolarisClient(PolarisConnection(polaris.url, "root", "wrong-secret-value"), policy=FAST)
    with pytest.raises(PolarisError) as caught:
        client.get_catalog("lakehouse")
    assert "get an OAuth2 token for client root: HTTP 401" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)


def test_unreachable_polaris_is_reported_with_its_url_and_the_setting_to_fix():
    client = PolarisClient(PolarisConnection("http://127.0.0.1:9", "root", "x"),
                           policy=HttpPolicy(retries=1, backoff=0, jitter=0))
    with pytest.raises(CatalogUnreachableError, match=r"get an OAuth2 token for client root: cannot connect to "
                                                      r"http://127\.0\.0\.1:9 \(tried 2 times, 5 s each\).*"
                                                      r"check deployment\.services\.catalog\.management_url"):
        client.get_catalog("lakehouse")


def test_multi_level_namespaces_use_the_unit_separator(client, polaris):
    new_catalog(client)
    client.create_namespace("lakehouse", ["bronze"], {"location": "s3://floe-bronze/bronze/"})
    client.create_namespace("lakehouse", ["bronze", "sales"], {"location": "s3://floe-bronze/bronze/sales/",
                                                               "owner": "sales"})
    assert encode_namespace(["bronze", "sales"]) == "bronze%1Fsales"
    assert client.get_namespace("lakehouse", ["bronze", "sales"]) == {"location": "s3://floe-bronze/bronze/sales/",
                                                                      "owner": "sales"}
    assert client.list_namespaces("lakehouse", ["bronze"]) == [["bronze", "sales"]]
    polaris.add_table("lakehouse", ("bronze", "sales"), "orders")
    assert client.tables_under("lakehouse", ["bronze"]) == ["bronze.sales.orders"]


def _answer(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content, response.reason = status, body, "Unauthorized"
    return response


@pytest.mark.parametrize(("body", "message"), [
    # RFC 6749 5.2, what Polaris' token endpoint answers (OAuthUtils.getResponseFromError)
    (b'{"error": "invalid_client", "error_description": "bad client credentials"}',
     "invalid_client: bad client credentials"),
    # the Iceberg REST error model, which the management API shares
    (b'{"error": {"message": "Principal not found", "type": "NotFoundException", "code": 404}}',
     "Principal not found"),
    (b"<html>proxy error</html>", "<html>proxy error</html>"),
    (b"", "Unauthorized"),
])
def test_an_error_quotes_the_servers_own_message(body: bytes, message: str):
    assert error_message(_answer(401, body)) == message
