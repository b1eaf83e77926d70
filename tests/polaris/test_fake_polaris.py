"""The fake Polaris holds clients to the real APIs, with or without the spec files beside the checkout."""

from __future__ import annotations

import pytest
import requests

from tests.polaris import fake_polaris
from tests.polaris.fake_polaris import FakePolaris

CATALOG = {"catalog": {"name": "c", "type": "INTERNAL", "properties": {"default-base-location": "s3://b/"},
                       "storageConfigInfo": {"storageType": "S3", "allowedLocations": ["s3://b/"]}}}


@pytest.mark.parametrize("with_spec_files", [False, True])
def test_the_fake_rejects_what_the_polaris_apis_reject(with_spec_files: bool, monkeypatch):
    if with_spec_files and not fake_polaris.spec_files_present():
        pytest.skip("the OpenAPI spec files of ../shared are not beside this checkout")
    monkeypatch.setattr(fake_polaris, "spec_files_present", lambda: with_spec_files)
    fake = FakePolaris()
    url = fake.start()
    try:
        token = requests.post(f"{url}/api/catalog/v1/oauth/tokens", timeout=10, data={
            "grant_type": "client_credentials", "client_id": "root", "client_secret": "root-secret-for-tests",
            "scope": "PRINCIPAL_ROLE:ALL"}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        management = f"{url}/api/management/v1"
        assert requests.post(f"{management}/catalogs", json=CATALOG, headers=auth, timeout=10).status_code == 201
        requests.post(f"{management}/catalogs/c/catalog-roles", json={"catalogRole": {"name": "r"}}, headers=auth,
                      timeout=10)
        assert fake.violations == [], "valid requests pass"
        requests.put(f"{management}/catalogs/c/catalog-roles/r/grants", headers=auth, timeout=10,
                     json={"grant": {"type": "namespace", "namespace": ["a"], "privilege": "NAMESPACE_EXPLODE"}})
        requests.post(f"{management}/principals", json={"principal": {"nam": "typo"}}, headers=auth, timeout=10)
        requests.get(f"{management}/catalogs/c/nowhere", headers=auth, timeout=10)
    finally:
        fake.stop()
    text = "\n".join(fake.violations)
    assert "NamespaceGrant" in text
    assert "NAMESPACE_EXPLODE" in text
    assert "CreatePrincipalRequest" in text
    assert "GET /api/management/v1/catalogs/c/nowhere: no such operation in the Polaris APIs" in text
