"""Catalog governance dynamic resources, driven method by method against the spec-validating fake Polaris."""

from __future__ import annotations

from typing import Any

import pytest

from floe_infra.polaris.client import NamespaceNotEmptyError
from floe_infra.polaris.resources import (
    CatalogProvider,
    CatalogRoleProvider,
    NamespaceProvider,
    PrincipalProvider,
    PrincipalRoleProvider,
)
from floe_infra.polaris.sealing import generate_keypair, unseal

STORAGE = {"storageType": "S3", "allowedLocations": ["s3://floe-bronze/"], "endpoint": "http://minio:9000",
           "pathStyleAccess": True, "region": "us-east-1", "stsUnavailable": True}


@pytest.fixture
def base(polaris) -> dict[str, Any]:
    return {"connection": {"url": polaris.url, "realm": "POLARIS", "scope": "PRINCIPAL_ROLE:ALL"},
            "credential": "root:root-secret-for-tests"}


def catalog_props(base, **extra):
    return {**base, "name": "lakehouse", "properties": {"default-base-location": "s3://floe-bronze/lakehouse"},
            "storage": dict(STORAGE), "allow_delete_with_tables": False, **extra}


def namespace_props(base, levels=("bronze",), **extra):
    return {**base, "catalog": "lakehouse", "namespace": list(levels), "properties": {"location": "s3://b/bronze"},
            "allow_delete_with_tables": False, **extra}


@pytest.fixture
def with_catalog(base):
    return CatalogProvider().create(catalog_props(base))


def test_catalog_create_then_rerun_makes_no_write_call(polaris, base):
    provider = CatalogProvider()
    created = provider.create(catalog_props(base))
    assert created.id == "lakehouse"
    assert polaris.catalogs["lakehouse"]["storageConfigInfo"]["endpoint"] == "http://minio:9000"
    writes = len(polaris.writes)
    provider.create(catalog_props(base))
    provider.update("lakehouse", created.outs, catalog_props(base))
    assert len(polaris.writes) == writes


def test_catalog_update_sends_the_current_entity_version(polaris, base, with_catalog):
    changed = catalog_props(base, storage={**STORAGE, "allowedLocations": ["s3://floe-bronze/", "s3://floe-gold/"]})
    diff = CatalogProvider().diff("lakehouse", with_catalog.outs, changed)
    assert (diff.changes, diff.replaces) == (True, [])
    outs = CatalogProvider().update("lakehouse", with_catalog.outs, changed).outs
    assert outs["entity_version"] == 2
    assert polaris.catalogs["lakehouse"]["storageConfigInfo"]["allowedLocations"] == [
        "s3://floe-bronze/", "s3://floe-gold/"]


def test_catalog_rename_is_a_replacement(base, with_catalog):
    assert CatalogProvider().diff("lakehouse", with_catalog.outs, catalog_props(base, name="warehouse")).replaces == [
        "name"]


def test_catalog_create_converges_after_a_409_race(polaris, base):
    CatalogProvider().create(catalog_props(base))
    polaris.catalogs["lakehouse"]["storageConfigInfo"]["endpoint"] = "http://old:9000"
    outs = CatalogProvider().create(catalog_props(base)).outs
    assert polaris.catalogs["lakehouse"]["storageConfigInfo"]["endpoint"] == "http://minio:9000"
    assert outs["entity_version"] == 2


def test_check_requires_a_base_location(base):
    result = CatalogProvider().check({}, catalog_props(base, properties={}))
    assert [(f.property, f.reason) for f in result.failures] == [("properties", "default-base-location is required")]


def test_namespace_create_update_properties_and_no_op(polaris, base, with_catalog):
    provider = NamespaceProvider()
    created = provider.create(namespace_props(base))
    assert created.id == "lakehouse.bronze"
    changed = namespace_props(base, properties={"owner": "platform"})
    provider.update(created.id, created.outs, changed)
    assert polaris.namespaces[("lakehouse", ("bronze",))] == {"owner": "platform"}
    writes = len(polaris.writes)
    provider.update(created.id, changed, changed)
    assert len(polaris.writes) == writes


def test_deleting_a_namespace_with_tables_is_refused_unless_allowed(polaris, base, with_catalog):
    provider = NamespaceProvider()
    parent = provider.create(namespace_props(base)).outs
    child = provider.create(namespace_props(base, ("bronze", "sales"))).outs
    polaris.add_table("lakehouse", ("bronze", "sales"), "orders")
    with pytest.raises(NamespaceNotEmptyError, match=r"namespace lakehouse\.bronze\.sales holds 1 tables "
                                                     r"\(bronze\.sales\.orders\); refusing"):
        provider.delete("lakehouse.bronze.sales", child)
    assert ("lakehouse", ("bronze", "sales")) in polaris.namespaces
    with pytest.raises(NamespaceNotEmptyError):
        provider.delete("lakehouse.bronze", parent)
    provider.delete("lakehouse.bronze.sales", {**child, "allow_delete_with_tables": True})
    assert ("lakehouse", ("bronze", "sales")) not in polaris.namespaces
    provider.delete("lakehouse.bronze", parent)
    assert polaris.namespaces == {}


def test_deleting_a_catalog_with_tables_is_refused_unless_allowed(polaris, base, with_catalog):
    NamespaceProvider().create(namespace_props(base))
    polaris.add_table("lakehouse", ("bronze",), "orders")
    with pytest.raises(NamespaceNotEmptyError, match="catalog lakehouse holds 1 tables"):
        CatalogProvider().delete("lakehouse", with_catalog.outs)
    CatalogProvider().delete("lakehouse", {**with_catalog.outs, "allow_delete_with_tables": True})
    assert polaris.catalogs == {}


def test_catalog_role_holds_exactly_the_declared_grants(polaris, base, with_catalog):
    provider = CatalogRoleProvider()
    grants = [{"type": "namespace", "namespace": ["bronze"], "privilege": p}
              for p in ("TABLE_READ_DATA", "TABLE_LIST")]
    props = {**base, "catalog": "lakehouse", "name": "layer_bronze_reader", "grants": grants}
    created = provider.create(props)
    polaris.catalog_roles[("lakehouse", "layer_bronze_reader")].append(
        {"type": "catalog", "privilege": "CATALOG_MANAGE_CONTENT"})  # drift: someone granted more
    provider.update(created.id, created.outs, props)
    assert sorted(g["privilege"] for g in polaris.catalog_roles[("lakehouse", "layer_bronze_reader")]) == [
        "TABLE_LIST", "TABLE_READ_DATA"]
    writes = len(polaris.writes)
    provider.update(created.id, props, props)
    assert len(polaris.writes) == writes


def test_principal_role_holds_exactly_the_declared_catalog_roles(polaris, base, with_catalog):
    for role in ("a", "b"):
        CatalogRoleProvider().create({**base, "catalog": "lakehouse", "name": role, "grants": []})
    provider = PrincipalRoleProvider()
    first = {**base, "name": "sales", "catalog_roles": [{"catalog": "lakehouse", "role": "a"}]}
    created = provider.create(first)
    second = {**base, "name": "sales", "catalog_roles": [{"catalog": "lakehouse", "role": "b"}]}
    provider.update(created.id, created.outs, second)
    assert polaris.principal_roles["sales"] == {"lakehouse": {"b"}}


def test_principal_credentials_are_returned_sealed_and_rotated(polaris, base):
    public, private = generate_keypair()
    PrincipalRoleProvider().create({**base, "name": "sales", "catalog_roles": []})
    provider = PrincipalProvider()
    props = {**base, "name": "sales-pipeline", "principal_roles": ["sales"], "rotation": 0, "public_key": public}
    created = provider.create(props)
    outs = created.outs
    assert polaris.clients[outs["client_id"]] == outs["client_secret"]
    assert unseal(private, outs["sealed_credentials"]) == {"client_id": outs["client_id"],
                                                           "client_secret": outs["client_secret"]}
    assert polaris.principals["sales-pipeline"]["roles"] == {"sales"}
    same = provider.update(created.id, outs, props).outs
    assert same["client_secret"] == outs["client_secret"]
    assert same["sealed_credentials"] == outs["sealed_credentials"]
    rotated = provider.update(created.id, outs, {**props, "rotation": 1}).outs
    assert rotated["client_secret"] != outs["client_secret"]
    assert outs["client_id"] not in polaris.clients  # the old credentials stopped working
    assert unseal(private, rotated["sealed_credentials"])["client_secret"] == rotated["client_secret"]


def test_creating_an_existing_principal_rotates_to_learn_its_credentials(polaris, base):
    provider = PrincipalProvider()
    props = {**base, "name": "sales-pipeline", "principal_roles": [], "rotation": 0, "public_key": None}
    provider.create(props)
    again = provider.create(props).outs
    assert polaris.clients[again["client_id"]] == again["client_secret"]
    assert again["sealed_credentials"] is None
    assert "POST /api/management/v1/principals/sales-pipeline/rotate" in polaris.calls


def test_dynamic_providers_pickle_without_any_credential(base):
    import dill

    for provider in (CatalogProvider(), NamespaceProvider(), CatalogRoleProvider(), PrincipalRoleProvider(),
                     PrincipalProvider()):
        pickled = dill.dumps(provider, recurse=True)
        assert b"root-secret-for-tests" not in pickled
        assert len(pickled) < 4000
