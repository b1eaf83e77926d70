"""`pulumi refresh` on governance resources: `read` reports what Polaris holds, and `diff` then sees the drift."""

from __future__ import annotations

from typing import Any

import pytest

from floe_infra.polaris.resources import (
    CatalogProvider,
    CatalogRoleProvider,
    NamespaceProvider,
    PrincipalProvider,
    PrincipalRoleProvider,
)
from tests.polaris.test_resources import catalog_props, namespace_props


@pytest.fixture
def base(polaris) -> dict[str, Any]:
    return {"connection": {"url": polaris.url, "realm": "POLARIS", "scope": "PRINCIPAL_ROLE:ALL"},
            "credential": "root:root-secret-for-tests"}


@pytest.fixture
def with_catalog(base):
    return CatalogProvider().create(catalog_props(base))


GRANTS = [{"type": "namespace", "namespace": ["bronze"], "privilege": p} for p in ("TABLE_READ_DATA", "TABLE_LIST")]


def test_an_unchanged_catalog_reads_back_as_its_state_with_no_diff(base, with_catalog):
    read = CatalogProvider().read("lakehouse", with_catalog.outs)
    assert read.id == "lakehouse"
    assert CatalogProvider().diff("lakehouse", read.outs, catalog_props(base)).changes is False


def test_a_catalog_deleted_outside_reads_as_gone(polaris, with_catalog):
    del polaris.catalogs["lakehouse"]
    assert not CatalogProvider().read("lakehouse", with_catalog.outs).id


def test_a_storage_location_changed_outside_is_drift_the_next_update_puts_back(polaris, base, with_catalog):
    polaris.catalogs["lakehouse"]["storageConfigInfo"]["allowedLocations"] = ["s3://elsewhere/"]
    read = CatalogProvider().read("lakehouse", with_catalog.outs)
    assert read.outs["storage"]["allowedLocations"] == ["s3://elsewhere/"]
    assert CatalogProvider().diff("lakehouse", read.outs, catalog_props(base)).changes is True
    CatalogProvider().update("lakehouse", read.outs, catalog_props(base))
    assert polaris.catalogs["lakehouse"]["storageConfigInfo"]["allowedLocations"] == ["s3://floe-bronze/"]


def test_a_namespace_dropped_outside_reads_as_gone_and_create_puts_it_back(polaris, base, with_catalog):
    created = NamespaceProvider().create(namespace_props(base))
    assert NamespaceProvider().read(created.id, created.outs).id == created.id
    polaris.namespaces.pop(("lakehouse", ("bronze",)))
    assert not NamespaceProvider().read(created.id, created.outs).id
    NamespaceProvider().create(namespace_props(base))
    assert ("lakehouse", ("bronze",)) in polaris.namespaces


def test_a_grant_revoked_outside_is_drift_and_the_update_grants_it_again(polaris, base, with_catalog):
    NamespaceProvider().create(namespace_props(base))
    props = {**base, "catalog": "lakehouse", "name": "layer_bronze_reader", "grants": GRANTS}
    created = CatalogRoleProvider().create(props)
    unchanged = CatalogRoleProvider().read(created.id, created.outs)
    assert CatalogRoleProvider().diff(created.id, unchanged.outs, props).changes is False
    polaris.catalog_roles[("lakehouse", "layer_bronze_reader")].pop(0)
    read = CatalogRoleProvider().read(created.id, created.outs)
    assert len(read.outs["grants"]) == 1
    assert CatalogRoleProvider().diff(created.id, read.outs, props).changes is True
    CatalogRoleProvider().update(created.id, read.outs, props)
    assert len(polaris.catalog_roles[("lakehouse", "layer_bronze_reader")]) == 2


def test_a_catalog_role_unassigned_outside_is_drift_of_the_principal_role(polaris, base, with_catalog):
    CatalogRoleProvider().create({**base, "catalog": "lakehouse", "name": "writer", "grants": []})
    props = {**base, "name": "sales", "catalog_roles": [{"catalog": "lakehouse", "role": "writer"}]}
    created = PrincipalRoleProvider().create(props)
    polaris.principal_roles["sales"]["lakehouse"].clear()
    read = PrincipalRoleProvider().read(created.id, created.outs)
    assert read.outs["catalog_roles"] == []
    assert PrincipalRoleProvider().diff(created.id, read.outs, props).changes is True


def test_a_principal_deleted_outside_reads_as_gone_and_its_roles_are_read_back(polaris, base):
    PrincipalRoleProvider().create({**base, "name": "sales", "catalog_roles": []})
    props = {**base, "name": "sales-svc", "principal_roles": ["sales"], "rotation": 0, "public_key": None}
    created = PrincipalProvider().create(props)
    read = PrincipalProvider().read(created.id, created.outs)
    assert read.outs["principal_roles"] == ["sales"]
    assert PrincipalProvider().diff(created.id, read.outs, props).changes is False
    polaris.principals.pop("sales-svc")
    assert not PrincipalProvider().read(created.id, created.outs).id
