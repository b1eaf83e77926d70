"""Reading Polaris back (the refresh that starts every operation) with a refused credential, or with Polaris down.

The table providers' side is in tests/iceberg/test_rotation.py; both go through `floe_infra.refresh`.
"""

from __future__ import annotations

import re
import socket
import time
import traceback
from functools import partial

import pytest

from floe_infra.errors import CatalogUnreachableError
from floe_infra.polaris import resources
from floe_infra.polaris.client import PolarisClient
from floe_infra.polaris.resources import CatalogProvider, CatalogRoleProvider, NamespaceProvider
from tests.loopback import SHORT
from tests.polaris.test_resources import catalog_props, namespace_props

OLD, NEW = "root:root-secret-for-tests", "root:rotated-root-secret-0123456789"


@pytest.fixture
def connection(polaris) -> dict[str, str]:
    return {"url": polaris.url, "realm": "POLARIS", "scope": "PRINCIPAL_ROLE:ALL"}


def test_a_root_credential_polaris_refuses_keeps_the_state_and_warns_once(polaris, connection, provider_warnings):
    base = {"connection": connection, "credential": OLD, "provider_version": 1}
    catalog = CatalogProvider().create(catalog_props(base))
    namespace = NamespaceProvider().create(namespace_props(base))
    polaris.clients["root"] = NEW.partition(":")[2]  # rotated, and the `pulumi up` that did it was interrupted
    resources.forget_all()  # this operation's provider process is another one than the one that created them
    assert CatalogProvider().read(catalog.id, catalog.outs).outs == catalog.outs
    assert NamespaceProvider().read(namespace.id, namespace.outs).outs == namespace.outs
    [warning] = provider_warnings
    assert warning.startswith(f"{polaris.url} refused the credential this stack's state holds for root of realm "
                              "POLARIS, probably rotated since the last `pulumi up`: what it manages there is not "
                              "read back in this operation, and `pulumi up` reconciles it with the credential the "
                              "program declares (get an OAuth2 token for client root: HTTP 401: ")
    # Once the program declared the credential in effect (`check`), reads use it and see what Polaris holds.
    polaris.namespaces.pop(("lakehouse", ("bronze",)))
    NamespaceProvider().check(namespace.outs, namespace_props({**base, "credential": NEW}))
    assert NamespaceProvider().read(namespace.id, namespace.outs).id is None


def test_polaris_down_fails_the_first_read_once_naming_it_and_what_to_do(polaris, connection, monkeypatch):
    monkeypatch.setattr(resources, "PolarisClient", partial(PolarisClient, policy=SHORT))
    base = {"connection": connection, "credential": OLD, "provider_version": 1}
    catalog = CatalogProvider().create(catalog_props(base))
    role = CatalogRoleProvider().create({**base, "catalog": "lakehouse", "name": "reader", "grants": []})
    with socket.socket() as probe:  # a port nobody listens on: Polaris is down
        probe.bind(("127.0.0.1", 0))
        down = {**connection, "url": f"http://127.0.0.1:{probe.getsockname()[1]}"}
    with pytest.raises(CatalogUnreachableError, match=(
            rf"^get an OAuth2 token for client root: cannot connect to {re.escape(down['url'])} \(tried 5 times, "
            r"1 s each\): .*; check deployment\.services\.catalog\.management_url and that Polaris runs; this "
            r"project reads back what exists before every operation \(`refresh: always`\); `pulumi preview "
            r"--refresh=false` previews from state without reaching it$")) as failed:
        CatalogProvider().read(catalog.id, {**catalog.outs, "connection": down})
    assert "\n" not in str(failed.value)
    assert traceback.format_exception(failed.value) == [f"floe_infra.errors.CatalogUnreachableError: {failed.value}\n"]
    started = time.monotonic()
    moved = {**role.outs, "connection": down}
    assert CatalogRoleProvider().read(role.id, moved).outs == moved  # not attempted: the operation fails anyway
    assert time.monotonic() - started < 0.1
