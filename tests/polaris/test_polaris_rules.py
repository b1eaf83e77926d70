"""The fake Polaris follows Apache Polaris 1.7.0, rule by rule: locations, purge, principal secrets, catalogs.

Each test names the Polaris class and method it mirrors (source at tag apache-polaris-1.7.0 of
github.com/apache/polaris); the authorization rules are in `test_polaris_authz.py`. Where a test and
Polaris disagree, the test (and the fake) is wrong.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from floe_infra.polaris.client import PolarisClient, PolarisError
from tests.polaris.conftest import accepts
from tests.polaris.fake_polaris import FakePolaris

CATALOG = "/api/catalog/v1/lakehouse"
MANAGEMENT = "/api/management/v1"


def new_catalog(client: PolarisClient, allowed: tuple[str, ...] = ("s3://bucket/",), base: str = "s3://bucket/wh",
                **properties: str) -> None:
    client.create_catalog({"name": "lakehouse", "type": "INTERNAL",
                           "properties": {"default-base-location": base, **properties},
                           "storageConfigInfo": {"storageType": "S3", "allowedLocations": list(allowed)}})


def namespace(client: PolarisClient, levels: tuple[str, ...], location: str | None = None) -> dict[str, str]:
    """Create a namespace (with `location` if given) and read back the properties Polaris stored."""
    client.create_namespace("lakehouse", levels, {} if location is None else {"location": location})
    stored = client.get_namespace("lakehouse", levels)
    assert stored is not None
    return stored


def refused(call: Any, status: int, match: str) -> None:
    with pytest.raises(PolarisError) as caught:
        call()
    assert caught.value.status == status, caught.value
    assert match in caught.value.polaris_message


def token(polaris: FakePolaris, client_id: str, secret: str) -> str:
    answer = requests.post(f"{polaris.url}/api/catalog/v1/oauth/tokens", timeout=10, data={  # type: ignore[attr-defined]
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
        "scope": "PRINCIPAL_ROLE:ALL"})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def as_bearer(polaris: FakePolaris, bearer: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{polaris.url}{path}", headers={"Authorization": f"Bearer {bearer}"},  # type: ignore[attr-defined]
                            timeout=10, **kwargs)


# --- namespace locations: runtime/service/.../catalog/iceberg/LocalIcebergCatalog.java ------------------------------


def test_LocalIcebergCatalog_validateNamespaceLocation_puts_a_top_level_namespace_at_an_allowed_location(client):
    # mirrors LocalIcebergCatalog.validateNamespaceLocation (parent: the catalog)
    new_catalog(client, allowed=("s3://bucket/", "s3://other/"))
    assert namespace(client, ("bronze",), "s3://bucket/bronze")["location"] == "s3://bucket/bronze/"
    assert namespace(client, ("silver",), "s3a://other/silver/")["location"] == "s3a://other/silver/"
    refused(lambda: namespace(client, ("gold",), "s3://bucket/lake/gold/"), 400,
            "Namespace gold has a custom location, which is not enabled. Expected a location in: [")
    refused(lambda: namespace(client, ("gold",), "s3://elsewhere/gold/"), 400, "Got location: s3://elsewhere/gold/")


def test_LocalIcebergCatalog_validateNamespaceLocation_puts_a_nested_namespace_at_its_parents_location(client):
    # mirrors LocalIcebergCatalog.validateNamespaceLocation (parent: a namespace)
    new_catalog(client)
    namespace(client, ("bronze",), "s3://bucket/bronze/")
    assert namespace(client, ("bronze", "sales"), "s3://bucket/bronze/sales")["location"] == \
        "s3://bucket/bronze/sales/"
    refused(lambda: namespace(client, ("bronze", "ops"), "s3://bucket/ops/"), 400,
            "Expected location: [s3://bucket/bronze/ops/]. Got location: [s3://bucket/ops/]")


def test_LocalIcebergCatalog_resolveNamespaceLocation_derives_a_missing_location_from_the_parent(client):
    # mirrors LocalIcebergCatalog.resolveNamespaceLocation and resolveLocationForPath: the catalog's
    # default-base-location (stripped of its trailing '/') or the parent's location, plus the name
    new_catalog(client, allowed=("s3://bucket/",), base="s3://bucket/")
    assert namespace(client, ("bronze",))["location"] == "s3://bucket/bronze/"
    assert namespace(client, ("bronze", "sales"))["location"] == "s3://bucket/bronze/sales/"


def test_LocalIcebergCatalog_refuses_the_default_location_when_the_base_location_is_not_allowed_plus_name(client):
    # mirrors LocalIcebergCatalog.createNamespaceInternal: the derived location goes through validateNamespaceLocation
    new_catalog(client, allowed=("s3://bucket/",), base="s3://bucket/wh")
    refused(lambda: namespace(client, ("bronze",)), 400, "Got location: s3://bucket/wh/bronze/")


def test_BehaviorChangeConfiguration_ALLOW_NAMESPACE_CUSTOM_LOCATION_lifts_the_rule_per_catalog(client):
    # mirrors LocalIcebergCatalog.createNamespaceInternal, polaris.config.namespace-custom-location.enabled
    new_catalog(client, **{"polaris.config.namespace-custom-location.enabled": "TRUE"})
    assert namespace(client, ("bronze",), "s3://bucket/anywhere/")["location"] == "s3://bucket/anywhere/"


def test_FeatureConfiguration_ADD_TRAILING_SLASH_TO_LOCATION_off_stores_the_location_as_given(client, polaris):
    # mirrors LocalIcebergCatalog.createNamespaceInternal (realm setting, default on)
    polaris.features["ADD_TRAILING_SLASH_TO_LOCATION"] = False
    new_catalog(client)
    assert namespace(client, ("bronze",), "s3://bucket/bronze")["location"] == "s3://bucket/bronze"


def test_LocalIcebergCatalog_validateNoLocationOverlap_refuses_a_sibling_inside_another(client, polaris):
    # mirrors LocalIcebergCatalog.validateNoLocationOverlap (custom locations on, to reach the overlap rule alone)
    new_catalog(client, **{"polaris.config.namespace-custom-location.enabled": "true"})
    namespace(client, ("bronze",), "s3://bucket/lake/")
    refused(lambda: namespace(client, ("silver",), "s3a://bucket/lake/silver/"), 403,
            "Unable to create entity at location 's3a://bucket/lake/silver/' because it conflicts with existing table "
            "or namespace at location 's3://bucket/lake/'")
    refused(lambda: namespace(client, ("gold",), "s3://bucket/"), 403, "conflicts with existing table or namespace")
    assert namespace(client, ("silver",), "s3://bucket/lake-silver/")["location"] == "s3://bucket/lake-silver/"
    # Only siblings are compared: a child may lie inside its parent.
    assert namespace(client, ("bronze", "sales"), "s3://bucket/lake/sales/")["location"] == "s3://bucket/lake/sales/"
    # Below a namespace, its tables are siblings too.
    polaris.add_table("lakehouse", ("bronze",), "orders")
    refused(lambda: namespace(client, ("bronze", "ops"), "s3://bucket/lake/orders/x/"), 403, "conflicts")


def test_FeatureConfiguration_ALLOW_NAMESPACE_LOCATION_OVERLAP_lifts_the_overlap_rule(client, polaris):
    # mirrors LocalIcebergCatalog.createNamespaceInternal (realm setting, default off)
    polaris.features["ALLOW_NAMESPACE_LOCATION_OVERLAP"] = True
    new_catalog(client, **{"polaris.config.namespace-custom-location.enabled": "true"})
    namespace(client, ("bronze",), "s3://bucket/lake/")
    assert namespace(client, ("silver",), "s3://bucket/lake/silver/")["location"] == "s3://bucket/lake/silver/"


def test_LocalIcebergCatalog_setProperties_refuses_every_location_update(client):
    # mirrors LocalIcebergCatalog.setProperties: it validates the stored namespace with its own path as the parent,
    # which expects '<location>/<name>/', so a `location` update never passes (the same one included)
    new_catalog(client)
    namespace(client, ("bronze",), "s3://bucket/bronze/")
    same = {"location": "s3://bucket/bronze/"}
    refused(lambda: client.update_namespace_properties("lakehouse", ["bronze"], same, []), 400,
            "Expected location: [s3://bucket/bronze/bronze/]")
    client.update_namespace_properties("lakehouse", ["bronze"], {"owner": "platform"}, [])
    assert client.get_namespace("lakehouse", ["bronze"]) == {"location": "s3://bucket/bronze/", "owner": "platform"}


def test_LocalIcebergCatalog_createNamespace_needs_its_parent(client):
    # mirrors CatalogHandler.authorizeCreateNamespaceUnderNamespaceOperationOrThrow: the parent is resolved first
    new_catalog(client)
    refused(lambda: namespace(client, ("lake", "bronze"), "s3://bucket/lake/bronze/"), 404,
            "Namespace does not exist: lake")


# --- purge: LocalIcebergCatalog.java dropTableLike, polaris-core/.../config/FeatureConfiguration.java -----------------


@pytest.fixture
def tenant(polaris: FakePolaris, client: PolarisClient) -> str:
    """A token of a principal writing lakehouse.bronze (TABLE_DROP and TABLE_WRITE_DATA among its grants)."""
    client.create_catalog_role("lakehouse", "writer")
    for privilege in ("TABLE_DROP", "TABLE_WRITE_DATA", "TABLE_LIST", "TABLE_READ_PROPERTIES"):
        client.add_grant("lakehouse", "writer", {"type": "namespace", "namespace": ["bronze"], "privilege": privilege})
    client.create_principal_role("writers")
    client.assign_catalog_role("writers", "lakehouse", "writer")
    credentials = client.create_principal("writer-svc")
    client.assign_principal_role("writer-svc", "writers")
    return token(polaris, credentials["client_id"], credentials["client_secret"])


@pytest.fixture
def bronze(client: PolarisClient, polaris: FakePolaris) -> None:
    new_catalog(client)
    namespace(client, ("bronze",), "s3://bucket/bronze/")
    polaris.add_table("lakehouse", ("bronze",), "orders")


def drop(polaris: FakePolaris, bearer: str, table: str = "orders", purge: bool = True) -> requests.Response:
    return as_bearer(polaris, bearer, "DELETE", f"{CATALOG}/namespaces/bronze/tables/{table}",
                     params={"purgeRequested": str(purge).lower()})


def test_LocalIcebergCatalog_dropTableLike_refuses_a_purge_unless_DROP_WITH_PURGE_ENABLED(polaris, bronze, tenant):
    # mirrors LocalIcebergCatalog.dropTableLike, FeatureConfiguration.DROP_WITH_PURGE_ENABLED (default off)
    answer = drop(polaris, tenant)
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == (
        "Unable to purge entity: orders. To enable this feature, set the Polaris configuration DROP_WITH_PURGE_ENABLED "
        "or the catalog configuration polaris.config.drop-with-purge.enabled")
    assert "orders" in polaris.tables[("lakehouse", ("bronze",))]
    assert drop(polaris, tenant, "missing").status_code == 404, "a table that does not exist is 404 first"
    assert drop(polaris, tenant, purge=False).status_code == 204


@pytest.mark.parametrize("setting", [{"catalog": "polaris.config.drop-with-purge.enabled"},
                                     {"catalog": "drop-with-purge.enabled"}, {"realm": "DROP_WITH_PURGE_ENABLED"}])
def test_FeatureConfiguration_DROP_WITH_PURGE_ENABLED_is_read_from_the_catalog_then_the_realm(polaris, client, bronze,
                                                                                           tenant, setting):
    # mirrors PolarisConfiguration.resolveValue: catalog property, its legacy key, then the realm setting
    if "realm" in setting:
        polaris.features[setting["realm"]] = True
    else:
        catalog = client.get_catalog("lakehouse")
        assert catalog is not None
        client.update_catalog("lakehouse", catalog["entityVersion"], {
            **catalog["properties"], setting["catalog"]: "true"}, catalog["storageConfigInfo"])
    assert drop(polaris, tenant).status_code == 204
    assert "orders" not in polaris.tables[("lakehouse", ("bronze",))]


def test_RbacOperationSemantics_DROP_TABLE_WITH_PURGE_needs_TABLE_WRITE_DATA_which_root_lacks(polaris, client, bronze):
    # mirrors RbacOperationSemantics (DROP_TABLE_WITH_PURGE: TABLE_DROP, TABLE_WRITE_DATA) and
    # AtomicOperationMetaStoreManager.createCatalogAtomically (catalog_admin: CATALOG_MANAGE_ACCESS and
    # CATALOG_MANAGE_METADATA, which confer TABLE_DROP but not TABLE_WRITE_DATA)
    polaris.features["DROP_WITH_PURGE_ENABLED"] = True
    root = token(polaris, "root", "root-secret-for-tests")
    answer = drop(polaris, root)
    assert (answer.status_code, "not authorized for op DROP_TABLE_WITH_PURGE" in answer.text) == (403, True)
    assert drop(polaris, root, purge=False).status_code == 204


# --- principal secrets: polaris-core/.../entity/PolarisPrincipalSecrets.java, PolarisAdminService.java ----------------


@pytest.fixture
def principal(client: PolarisClient) -> dict[str, str]:
    return client.create_principal("svc")


def test_PolarisPrincipalSecrets_rotateSecrets_keeps_the_old_secret_until_the_next_rotation(polaris, principal):
    # mirrors PolarisPrincipalSecrets.rotateSecrets and matchesSecret (main or secondary), with
    # PolarisAdminService.rotateOrResetCredentialsHelper passing the current main secret's hash as the new secondary
    own = token(polaris, principal["client_id"], principal["client_secret"])
    first = as_bearer(polaris, own, "POST", f"{MANAGEMENT}/principals/svc/rotate").json()["credentials"]
    assert first["clientId"] == principal["client_id"]
    assert accepts(polaris, principal["client_id"], principal["client_secret"]), "the old secret still works"
    assert accepts(polaris, first["clientId"], first["clientSecret"])
    second = as_bearer(polaris, own, "POST", f"{MANAGEMENT}/principals/svc/rotate").json()["credentials"]
    assert not accepts(polaris, principal["client_id"], principal["client_secret"]), "gone after the second"
    assert accepts(polaris, first["clientId"], first["clientSecret"]), "the previous one is the secondary now"
    assert accepts(polaris, second["clientId"], second["clientSecret"])


def test_PolarisAdminService_rotateCredentials_is_the_principals_own_not_even_roots(polaris, principal):
    # mirrors PolarisAdminService.authorizeBasicTopLevelEntityOperationOrThrow (isSelfOperation) and
    # PolarisAuthorizerImpl SUPER_PRIVILEGES: nothing confers PRINCIPAL_ROTATE_CREDENTIALS
    root = token(polaris, "root", "root-secret-for-tests")
    answer = as_bearer(polaris, root, "POST", f"{MANAGEMENT}/principals/svc/rotate")
    assert answer.status_code == 403
    assert accepts(polaris, principal["client_id"], principal["client_secret"])


def test_PolarisAdminService_resetCredentials_revokes_the_old_secret_at_once(polaris, client, principal):
    # mirrors PolarisAdminService.resetCredentialsHelper: the current secrets are deleted, a random main secret and a
    # random secondary stored for the same client id (AtomicOperationMetaStoreManager.resetPrincipalSecrets)
    reset = client.reset_credentials("svc")
    assert reset["client_id"] == principal["client_id"]
    assert not accepts(polaris, principal["client_id"], principal["client_secret"])
    assert accepts(polaris, reset["client_id"], reset["client_secret"])


def test_PolarisAdminService_resetCredentials_takes_the_callers_secret_and_client_id(polaris, client, principal):
    # mirrors PolarisAdminService.resetCredentialsHelper with ResetPrincipalRequest.clientId/clientSecret
    reset = client.reset_credentials("svc", "a-secret-the-caller-chose")
    assert reset == {"client_id": principal["client_id"], "client_secret": "a-secret-the-caller-chose"}
    root = token(polaris, "root", "root-secret-for-tests")
    moved = as_bearer(polaris, root, "POST", f"{MANAGEMENT}/principals/svc/reset",
                      json={"clientId": "f174b76a7e1a99e2", "clientSecret": "27029d236abc08e204922b0a07031bc2"})
    assert moved.json()["credentials"]["clientId"] == "f174b76a7e1a99e2"
    assert client.get_principal("svc")["clientId"] == "f174b76a7e1a99e2"  # type: ignore[index]
    assert not accepts(polaris, principal["client_id"], "a-secret-the-caller-chose")
    taken = as_bearer(polaris, root, "POST", f"{MANAGEMENT}/principals/svc/reset", json={"clientId": "root"})
    assert (taken.status_code, "Client ID already in use: root" in taken.text) == (409, True)


def test_PolarisAuthorizerImpl_lets_only_root_reset_credentials(polaris, principal):
    # mirrors PolarisAuthorizerImpl.authorizeOrThrow: RESET_CREDENTIALS is root's alone, even on oneself
    own = token(polaris, principal["client_id"], principal["client_secret"])
    assert as_bearer(polaris, own, "POST", f"{MANAGEMENT}/principals/svc/reset", json={}).status_code == 403


def test_FeatureConfiguration_ENABLE_CREDENTIAL_RESET_off_refuses_resets(polaris, client, principal):
    # mirrors FeatureConfiguration.enforceFeatureEnabledOrThrow (UnsupportedOperationException: 406)
    polaris.features["ENABLE_CREDENTIAL_RESET"] = False
    refused(lambda: client.reset_credentials("svc"), 406, "Feature not enabled: ENABLE_CREDENTIAL_RESET")


def test_JWTBroker_tokens_name_the_principal_so_they_outlive_a_reset_until_they_expire(polaris, client, principal):
    # mirrors JWTBroker.verify (the signature and expiry, never the secret) and DefaultAuthenticator
    # (the principal must still exist)
    own = token(polaris, principal["client_id"], principal["client_secret"])
    client.reset_credentials("svc")
    assert as_bearer(polaris, own, "POST", f"{MANAGEMENT}/principals/svc/rotate").status_code == 200
    client.delete_principal("svc")
    assert as_bearer(polaris, own, "POST", f"{MANAGEMENT}/principals/svc/rotate").status_code == 401


def test_JWTBroker_answers_a_bad_secret_with_unauthorized_client(polaris, principal):
    # mirrors JWTBroker.generateFromClientSecrets and OAuthUtils.getResponseFromError (unauthorized_client: 401)
    answer = requests.post(f"{polaris.url}/api/catalog/v1/oauth/tokens", timeout=10, data={
        "grant_type": "client_credentials", "client_id": principal["client_id"], "client_secret": "not-it",
        "scope": "PRINCIPAL_ROLE:ALL"})
    assert (answer.status_code, answer.json()) == (401, {"error": "unauthorized_client",
                                                         "error_description": "The client is not authorized"})


# --- catalogs: polaris-core/.../entity/CatalogEntity.java, AtomicOperationMetaStoreManager.java ----------------------


def test_CatalogEntity_needs_the_default_base_location_inside_the_allowed_locations(client):
    # mirrors CatalogEntity.Builder.validateDefaultBaseLocation / validateBaseLocationAgainstAllowedList
    refused(lambda: new_catalog(client, allowed=("s3://bucket/",), base="s3://elsewhere/wh"), 400,
            "default-base-location 's3://elsewhere/wh' is not within any of the allowed locations")


def test_CatalogEntity_allows_the_default_base_location_when_no_location_is_given(client, polaris):
    # mirrors CatalogEntity.Builder.setStorageConfigurationInfo: no allowed locations means the base location
    new_catalog(client, allowed=(), base="s3://bucket/wh/")
    assert polaris.catalogs["lakehouse"]["storageConfigInfo"]["allowedLocations"] == ["s3://bucket/wh/"]


def test_AtomicOperationMetaStoreManager_dropEntity_takes_the_grants_on_a_dropped_namespace(client, polaris):
    # mirrors AtomicOperationMetaStoreManager.dropEntity (grant records on the securable) and
    # PolarisAdminService.grantPrivilegeOnNamespaceToRole (the namespace must exist)
    new_catalog(client)
    client.create_catalog_role("lakehouse", "reader")
    grant = {"type": "namespace", "namespace": ["bronze"], "privilege": "TABLE_READ_DATA"}
    refused(lambda: client.add_grant("lakehouse", "reader", grant), 404, "Namespace bronze not found")
    namespace(client, ("bronze",), "s3://bucket/bronze/")
    client.add_grant("lakehouse", "reader", grant)
    client.delete_namespace("lakehouse", ["bronze"])
    namespace(client, ("bronze",), "s3://bucket/bronze/")
    assert client.grants("lakehouse", "reader") == []


def test_AtomicOperationMetaStoreManager_drops_a_catalog_only_without_namespaces_and_own_roles(client, polaris):
    # mirrors AtomicOperationMetaStoreManager.dropEntityIfExists (a catalog: no namespace, no role but catalog_admin)
    new_catalog(client)
    client.create_catalog_role("lakehouse", "reader")
    refused(lambda: client.delete_catalog("lakehouse"), 400, "Catalog lakehouse is not empty")
    client.delete_catalog_role("lakehouse", "reader")
    refused(lambda: client.delete_catalog_role("lakehouse", "catalog_admin"), 400,
            "Catalog admin role cannot be dropped")
    client.delete_catalog("lakehouse")
    assert polaris.catalogs == {}


@pytest.mark.parametrize(("scope", "answer"), [("catalog", "invalid_scope"), ("", "invalid_scope"),
                                               ("PRINCIPAL_ROLE:", "invalid_scope"),
                                               ("PRINCIPAL_ROLE:ALL catalog", "invalid_scope")])
def test_TokenRequestValidator_takes_only_principal_role_scopes(polaris, principal, scope, answer):
    # mirrors TokenRequestValidator.validateForClientCredentialsFlow and validateScope (400, before the secret)
    reply = requests.post(f"{polaris.url}/api/catalog/v1/oauth/tokens", timeout=10, data={
        "grant_type": "client_credentials", "client_id": principal["client_id"],
        "client_secret": principal["client_secret"], "scope": scope})
    assert (reply.status_code, reply.json()["error"]) == (400, answer)


def test_DefaultAuthenticator_refuses_a_token_naming_a_role_the_principal_lacks(polaris, client, principal):
    # mirrors DefaultAuthenticator.resolvePrincipalRoles (AuthenticationFailedException: 401)
    client.create_principal_role("mine")
    client.assign_principal_role("svc", "mine")
    for scope, answer in (("PRINCIPAL_ROLE:mine", 200), ("PRINCIPAL_ROLE:mine PRINCIPAL_ROLE:theirs", 401)):
        reply = requests.post(f"{polaris.url}/api/catalog/v1/oauth/tokens", timeout=10, data={
            "grant_type": "client_credentials", "client_id": principal["client_id"],
            "client_secret": principal["client_secret"], "scope": scope})
        rotate = as_bearer(polaris, reply.json()["access_token"], "POST", f"{MANAGEMENT}/principals/svc/rotate")
        assert rotate.status_code == answer, scope
