"""The Polaris client: tokens, realm header, retries, errors, against a spec-validating fake Polaris."""

from __future__ import annotations

import pytest

from floe_infra.errors import CatalogUnreachableError
from floe_infra.polaris.client import PolarisClient, PolarisConnection, PolarisError, encode_namespace
from tests.polaris.fake_polaris import Fault

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
    client = PolarisClient(root, sleep=lambda _: None, clock=lambda: now[0])
    client.token()
    client.token()
    assert polaris.calls.count("POST /api/catalog/v1/oauth/tokens") == 1
    now[0] += 3600 - 30  # inside the refresh margin
    client.token()
    assert polaris.calls.count("POST /api/catalog/v1/oauth/tokens") == 2


def test_503_is_retried_with_exponential_backoff(polaris, root):
    slept = []
    client = PolarisClient(root, sleep=slept.append, backoff=0.5)
    polaris.faults += [Fault(503), Fault(503)]
    new_catalog(client)
    assert slept == [0.5, 1.0]
    assert polaris.catalogs["lakehouse"]["name"] == "lakehouse"


def test_429_honours_retry_after(polaris, root):
    slept = []
    client = PolarisClient(root, sleep=slept.append)
    polaris.faults.append(Fault(429, {"Retry-After": "7"}))
    new_catalog(client)
    assert slept == [7.0]


def test_retries_stop_and_report_polaris_message(polaris, root):
    client = PolarisClient(root, sleep=lambda _: None, retries=2)
    polaris.faults += [Fault(503)] * 3
    with pytest.raises(PolarisError, match=r"create catalog lakehouse: HTTP 503: injected 503"):
        new_catalog(client)


def test_conflict_names_the_object_and_carries_polaris_message(client):
    new_catalog(client)
    with pytest.raises(PolarisError) as caught:
        new_catalog(client)
    assert caught.value.status == 409
    assert str(caught.value) == ("create catalog lakehouse: HTTP 409: Cannot create Catalog lakehouse. "
                                 "Catalog already exists")


def test_bad_credentials_fail_with_the_client_id_but_never_the_secret(polaris):
    client = PolarisClient(PolarisConnection(polaris.url, "root", "wrong-secret-value"), sleep=lambda _: None)
    with pytest.raises(PolarisError) as caught:
        client.get_catalog("lakehouse")
    assert "get an OAuth2 token for client root: HTTP 401" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)


def test_unreachable_polaris_is_reported_with_its_url_and_the_setting_to_fix():
    client = PolarisClient(PolarisConnection("http://127.0.0.1:9", "root", "x"), sleep=lambda _: None, retries=1)
    with pytest.raises(CatalogUnreachableError, match=r"Polaris at http://127\.0\.0\.1:9 is unreachable from this "
                                                      r"machine .*management_url"):
        client.get_catalog("lakehouse")


def test_multi_level_namespaces_use_the_unit_separator(client, polaris):
    new_catalog(client)
    client.create_namespace("lakehouse", ["bronze"], {})
    client.create_namespace("lakehouse", ["bronze", "sales"], {"owner": "sales"})
    assert encode_namespace(["bronze", "sales"]) == "bronze%1Fsales"
    assert client.get_namespace("lakehouse", ["bronze", "sales"]) == {"owner": "sales"}
    assert client.list_namespaces("lakehouse", ["bronze"]) == [["bronze", "sales"]]
    polaris.add_table("lakehouse", ("bronze", "sales"), "orders")
    assert client.tables_under("lakehouse", ["bronze"]) == ["bronze.sales.orders"]
