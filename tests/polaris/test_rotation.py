"""Rotating the root credential: Polaris gets the new value first, and deletes from old state keep working."""

from __future__ import annotations

from typing import Any

import pytest

from floe_infra import live_credentials
from floe_infra.polaris.client import PolarisError
from floe_infra.polaris.resources import CatalogProvider, NamespaceProvider, RootCredentialProvider, identity
from tests.polaris.conftest import accepts
from tests.polaris.test_resources import catalog_props, namespace_props

OLD, NEW = "root:root-secret-for-tests", "root:rotated-root-secret-0123456789"


@pytest.fixture
def connection(polaris) -> dict[str, str]:
    return {"url": polaris.url, "realm": "POLARIS", "scope": "PRINCIPAL_ROLE:ALL"}


def root(connection: dict[str, str], credential: str) -> dict[str, Any]:
    return {"connection": connection, "credential": credential, "provider_version": 1}


def test_the_root_credential_is_checked_against_polaris_on_create(connection):
    assert RootCredentialProvider().create(root(connection, OLD)).outs["credential"] == OLD
    with pytest.raises(PolarisError, match="does not accept the root credential of the Secret the platform"):
        RootCredentialProvider().create(root(connection, NEW))


def test_a_new_root_credential_is_set_in_polaris_with_the_old_one(polaris, connection):
    provider = RootCredentialProvider()
    created = provider.create(root(connection, OLD))
    assert provider.diff(created.id, created.outs, root(connection, NEW)).changes is True
    provider.update(created.id, created.outs, root(connection, NEW))
    assert polaris.clients["root"] == NEW.partition(":")[2]
    # A reset, so the old secret stops working at once (a Polaris rotation would keep it as the secondary).
    assert not accepts(polaris, "root", OLD.partition(":")[2])
    assert accepts(polaris, "root", NEW.partition(":")[2])


def test_a_realm_that_has_the_new_credential_already_is_left_alone(polaris, connection):
    provider = RootCredentialProvider()
    created = provider.create(root(connection, OLD))
    polaris.clients["root"] = NEW.partition(":")[2]  # an in-memory realm re-bootstrapped from the new Secret
    writes = len(polaris.writes)
    provider.update(created.id, created.outs, root(connection, NEW))
    assert len(polaris.writes) == writes


def test_after_a_rotation_a_delete_from_old_state_uses_the_credential_the_program_declares(polaris, connection):
    base = {"connection": connection, "credential": OLD}
    CatalogProvider().create(catalog_props(base))
    namespace = NamespaceProvider().create(namespace_props(base))  # its state holds the old credential
    rotated = RootCredentialProvider().create(root(connection, OLD))
    RootCredentialProvider().update(rotated.id, rotated.outs, root(connection, NEW))
    with pytest.raises(PolarisError) as refused:
        NamespaceProvider().delete(namespace.id, namespace.outs)
    assert refused.value.status == 401
    # What the engine does in the same `pulumi up`: check every declared resource (new credential),
    # then delete the removed ones from their old state.
    CatalogProvider().check({}, catalog_props({"connection": connection, "credential": NEW}))
    NamespaceProvider().delete(namespace.id, namespace.outs)
    assert ("lakehouse", ("bronze",)) not in polaris.namespaces


def test_a_credential_unknown_during_a_preview_is_not_recorded(connection):
    live_credentials.remember(connection["url"], identity(connection), "04da6b54-80e4-46f7-96ec-b56ff0331ba9")
    assert live_credentials.current(connection["url"], identity(connection), OLD) == OLD
