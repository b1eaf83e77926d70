"""Catalog governance dynamic resources, driven method by method against the spec-validating fake Polaris."""

from __future__ import annotations

import json
from typing import Any

import pytest

from floe_infra.polaris.client import NamespaceLocationError, NamespaceNotEmptyError
from floe_infra.polaris.resources import (
    CatalogProvider,
    CatalogRoleProvider,
    NamespaceProvider,
    PrincipalProvider,
    PrincipalRoleProvider,
)
from floe_infra.polaris.sealing import SealingError, generate_keypair, unseal
from tests.polaris.conftest import accepts

STORAGE = {"storageType": "S3", "allowedLocations": ["s3://floe-bronze/"], "endpoint": "http://minio:9000",
           "pathStyleAccess": True, "region": "us-east-1", "stsUnavailable": True}


@pytest.fixture
def base(polaris) -> dict[str, Any]:
    return {"connection": {"url": polaris.url, "realm": "POLARIS", "scope": "PRINCIPAL_ROLE:ALL"},
            "credential": "root:root-secret-for-tests"}


def catalog_props(base, **extra):
    return {**base, "name": "lakehouse", "properties": {"default-base-location": "s3://floe-bronze/lakehouse"},
            "storage": dict(STORAGE), "allow_delete_with_tables": False, **extra}


def location(levels=("bronze",)) -> str:
    """Where Polaris accepts a namespace of the catalog of `catalog_props` (in its allowed s3://floe-bronze/)."""
    return f"s3://floe-bronze/{'/'.join(levels)}/"


def namespace_props(base, levels=("bronze",), **extra):
    return {**base, "catalog": "lakehouse", "namespace": list(levels), "properties": {"location": location(levels)},
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
    assert sorted(polaris.catalogs["lakehouse"]["storageConfigInfo"]["allowedLocations"]) == [
        "s3://floe-bronze/", "s3://floe-gold/"]
    # Polaris keeps the allowed locations as a set and answers in its own order: that is no change.
    assert CatalogProvider().read("lakehouse", outs).outs["storage"] == changed["storage"]
    writes = len(polaris.writes)
    CatalogProvider().update("lakehouse", outs, changed)
    assert len(polaris.writes) == writes


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
    changed = namespace_props(base, properties={"location": location(), "owner": "platform"})
    provider.update(created.id, created.outs, changed)
    assert polaris.namespaces[("lakehouse", ("bronze",))] == {"location": location(), "owner": "platform"}
    writes = len(polaris.writes)
    provider.update(created.id, changed, changed)
    assert len(polaris.writes) == writes


def test_a_namespace_polaris_holds_elsewhere_stops_the_update_with_both_locations(polaris, base, with_catalog):
    provider = NamespaceProvider()
    created = provider.create(namespace_props(base))
    # What Polaris stores (with its trailing '/') reads back as the declared place: no drift, no update.
    older = namespace_props(base, properties={"location": location().rstrip("/")})
    assert provider.read(created.id, older).outs["properties"] == older["properties"]
    writes = len(polaris.writes)
    provider.update(created.id, created.outs, older)
    assert len(polaris.writes) == writes
    moved = namespace_props(base, properties={"location": "s3://floe-gold/bronze/"})
    with pytest.raises(NamespaceLocationError, match=r"namespace lakehouse\.bronze is at s3://floe-bronze/bronze/ in "
                                                     r"Polaris, but platform\.yaml places it at s3://floe-gold/bronze/"):
        provider.update(created.id, created.outs, moved)
    assert len(polaris.writes) == writes, "Polaris refuses every location update: none is sent"


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
    NamespaceProvider().create(namespace_props(base))
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


def test_principal_credentials_leave_the_provider_only_sealed_and_reset(polaris, base):
    public, private = generate_keypair()
    PrincipalRoleProvider().create({**base, "name": "sales", "catalog_roles": []})
    provider = PrincipalProvider()
    props = {**base, "name": "sales-pipeline", "principal_roles": ["sales"], "rotation": 0, "public_key": public}
    created = provider.create(props)
    outs = created.outs
    opened = unseal(private, outs["sealed_credentials"])
    assert accepts(polaris, opened["client_id"], opened["client_secret"])
    assert outs["client_id"] == opened["client_id"]
    # What the platform's state keeps: no secret, in plain text or otherwise, besides the sealed box.
    assert "client_secret" not in outs
    assert opened["client_secret"] not in json.dumps(outs)
    assert polaris.principals["sales-pipeline"]["roles"] == {"sales"}
    calls = len(polaris.calls)
    same = provider.update(created.id, outs, props).outs
    assert same["sealed_credentials"] == outs["sealed_credentials"]
    assert not [c for c in polaris.calls[calls:] if c.endswith("/reset")], "an unchanged principal keeps its secret"
    rotated = provider.update(created.id, outs, {**props, "rotation": 1}).outs
    new = unseal(private, rotated["sealed_credentials"])
    # Polaris keeps the client id (PolarisAdminService.resetCredentials); only the new secret works.
    assert (new["client_id"], rotated["client_id"]) == (opened["client_id"], opened["client_id"])
    assert new["client_secret"] != opened["client_secret"]
    assert not accepts(polaris, opened["client_id"], opened["client_secret"])
    assert accepts(polaris, new["client_id"], new["client_secret"])


def test_a_new_public_key_gets_new_credentials_only_it_opens(polaris, base):
    old_public, old_private = generate_keypair()
    new_public, new_private = generate_keypair()
    provider = PrincipalProvider()
    props = {**base, "name": "sales-pipeline", "principal_roles": [], "rotation": 0, "public_key": old_public}
    created = provider.create(props)
    before = unseal(old_private, created.outs["sealed_credentials"])
    after = provider.update(created.id, created.outs, {**props, "public_key": new_public}).outs
    opened = unseal(new_private, after["sealed_credentials"])
    # The secret is not kept, so the new key cannot get the old credentials re-sealed: they are rotated.
    assert opened["client_secret"] != before["client_secret"]
    assert not accepts(polaris, before["client_id"], before["client_secret"])
    with pytest.raises(SealingError):
        unseal(old_private, after["sealed_credentials"])


def test_state_holding_a_plain_client_secret_is_updated_to_drop_it(polaris, base):
    # Version 1 of the provider kept the client secret in state; version 2 updates every principal once.
    public, _ = generate_keypair()
    provider = PrincipalProvider()
    props = {**base, "name": "sales-pipeline", "principal_roles": [], "rotation": 0, "public_key": public,
             "provider_version": PrincipalProvider.VERSION}
    created = provider.create(props)
    legacy = {**created.outs, "client_secret": "kept-in-state-by-an-older-floe-infra", "provider_version": 1}
    assert provider.diff(created.id, legacy, props).changes is True
    updated = provider.update(created.id, legacy, props).outs
    assert "client_secret" not in updated
    assert updated["sealed_credentials"] == created.outs["sealed_credentials"]


def test_creating_an_existing_principal_resets_it_to_learn_its_credentials(polaris, base):
    public, private = generate_keypair()
    provider = PrincipalProvider()
    props = {**base, "name": "sales-pipeline", "principal_roles": [], "rotation": 0, "public_key": public}
    first = unseal(private, provider.create(props).outs["sealed_credentials"])
    again = provider.create(props).outs
    opened = unseal(private, again["sealed_credentials"])
    assert accepts(polaris, opened["client_id"], opened["client_secret"])
    assert not accepts(polaris, first["client_id"], first["client_secret"])
    assert "POST /api/management/v1/principals/sales-pipeline/reset" in polaris.calls


def test_a_principal_without_a_public_key_keeps_no_credentials_until_it_has_one(polaris, base):
    provider = PrincipalProvider()
    props = {**base, "name": "sales-pipeline", "principal_roles": [], "rotation": 0, "public_key": None}
    created = provider.create(props)
    assert created.outs["sealed_credentials"] is None
    assert "client_secret" not in created.outs
    public, private = generate_keypair()
    keyed = provider.update(created.id, created.outs, {**props, "public_key": public}).outs
    opened = unseal(private, keyed["sealed_credentials"])
    assert accepts(polaris, opened["client_id"], opened["client_secret"])


def test_a_refresh_of_many_resources_asks_polaris_for_one_token(polaris, base, with_catalog):
    # One provider process serves a whole refresh; a token per resource read was a round trip (and, in Polaris, a
    # secret check and a signature) per resource.
    namespaces = [NamespaceProvider().create(namespace_props(base, levels)) for levels in (("bronze",), ("silver",))]
    polaris.calls.clear()
    assert CatalogProvider().read("lakehouse", with_catalog.outs).id == "lakehouse"
    for created in namespaces:
        assert NamespaceProvider().read(created.id, created.outs).id == created.id
    assert polaris.calls.count("POST /api/catalog/v1/oauth/tokens") <= 1
    assert len([c for c in polaris.calls if c.startswith("GET")]) == 3
    polaris.expire_tokens()  # a token that stops working is replaced, once
    assert CatalogProvider().read("lakehouse", with_catalog.outs).id == "lakehouse"


def test_dynamic_providers_pickle_without_any_credential(base):
    import dill

    for provider in (CatalogProvider(), NamespaceProvider(), CatalogRoleProvider(), PrincipalRoleProvider(),
                     PrincipalProvider()):
        pickled = dill.dumps(provider, recurse=True)
        assert b"root-secret-for-tests" not in pickled
        assert len(pickled) < 4000
