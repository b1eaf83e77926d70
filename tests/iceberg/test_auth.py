"""The catalog's OAuth2 token, fetched through floe-infra's AuthManager: bounded, shared, renewed, typed errors.

Against the loopback REST catalog acting as its own OAuth2 server (as Polaris does). The faults of
the token request (silent, 401, 429) are rows of the fault matrix (`test_faults.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from floe_infra.errors import CatalogCredentialError
from floe_infra.iceberg.catalogs import CatalogTarget, open_catalog
from tests.iceberg.fault_matrix import CLIENT, SECRET, TOKEN
from tests.iceberg.rest_catalog import RestCatalogServer
from tests.loopback import FAST


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RestCatalogServer]:
    server = RestCatalogServer(tmp_path, credentials={CLIENT: SECRET})
    server.start()
    yield server
    server.stop()


def test_opening_a_catalog_asks_for_one_token_and_every_request_carries_it(server: RestCatalogServer):
    target = CatalogTarget(server.url, "lakehouse", f"{CLIENT}:{SECRET}", "PRINCIPAL_ROLE:r")
    catalog = open_catalog(target, policy=FAST)
    catalog.create_namespace(("bronze",))
    assert catalog.list_namespaces() == [("bronze",)]
    # The server answers 401 to any request without a token it issued: these all carried one.
    assert [c for c in server.calls if c == TOKEN] == [TOKEN]
    assert server.calls[:2] == [TOKEN, "GET /v1/config"]


def test_a_token_close_to_its_expiry_is_renewed_before_the_next_request(server: RestCatalogServer):
    server.token_lifetime = 30  # inside the renewal margin: every request needs a new one
    catalog = open_catalog(CatalogTarget(server.url, "lakehouse", f"{CLIENT}:{SECRET}"), policy=FAST)
    catalog.list_namespaces()
    assert server.calls.count(TOKEN) == 2  # the config request's, then the listing's


def test_a_refused_credential_is_a_credential_error_naming_the_token_endpoint(server: RestCatalogServer):
    with pytest.raises(CatalogCredentialError, match=re.escape(
            f"get a token from the catalog: {server.url}/v1/oauth/tokens refused the credential (HTTP 401: "
            "invalid_client: bad client credentials); check the credential")):
        open_catalog(CatalogTarget(server.url, "lakehouse", f"{CLIENT}:not-the-secret"), policy=FAST)


def test_without_a_credential_no_token_is_asked_for_and_the_catalog_refuses(server: RestCatalogServer):
    with pytest.raises(CatalogCredentialError, match="refused the credential"):
        open_catalog(CatalogTarget(server.url, "lakehouse"), policy=FAST)
    assert TOKEN not in server.calls
