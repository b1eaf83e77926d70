"""A running fake Polaris per test, and a client logged in as its root principal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from floe_infra.polaris.client import PolarisClient, PolarisConnection, PolarisError
from floe_infra.polaris.grants import GovernancePlan
from floe_infra.polaris.resources import (
    CatalogProvider,
    CatalogRoleProvider,
    NamespaceProvider,
    PrincipalProvider,
    PrincipalRoleProvider,
)
from tests.loopback import FAST
from tests.polaris.fake_polaris import FakePolaris


@pytest.fixture
def polaris() -> Iterator[FakePolaris]:
    fake = FakePolaris()
    fake.url = fake.start()  # type: ignore[attr-defined]
    yield fake
    fake.stop()
    assert fake.violations == [], "requests or responses the OpenAPI specs reject"


@pytest.fixture
def root(polaris: FakePolaris) -> PolarisConnection:
    return PolarisConnection(url=polaris.url, client_id="root", client_secret="root-secret-for-tests")  # type: ignore[attr-defined]


@pytest.fixture
def client(root: PolarisConnection) -> PolarisClient:
    return PolarisClient(root, policy=FAST)


def accepts(polaris: FakePolaris, client_id: str, secret: str) -> bool:
    """Whether Polaris gives these credentials a token (what every client asks for first)."""
    try:
        PolarisClient(PolarisConnection(url=polaris.url, client_id=client_id, client_secret=secret),  # type: ignore[attr-defined]
                      policy=FAST).token()
    except PolarisError as exc:
        if exc.status == 401:
            return False
        raise
    return True


ROOT = {"realm": "POLARIS", "scope": "PRINCIPAL_ROLE:ALL"}


def apply_governance(url: str, plan: GovernancePlan, storage: dict[str, object] | None = None,
                     public_keys: dict[str, str] | None = None) -> dict[str, dict[str, object]]:
    """Create what a governance plan declares, as the platform program does (its providers, as root, in its
    dependency order); returns each tenant's principal outputs. `storage` adds to each catalog's storage
    configuration (an S3 catalog with the plan's allowed locations)."""
    root = {"connection": {"url": url, **ROOT}, "credential": "root:root-secret-for-tests"}
    for warehouse, spec in plan.catalogs.items():
        CatalogProvider().create({**root, "name": warehouse, "allow_delete_with_tables": False,
                                  "properties": spec.properties,
                                  "storage": {"storageType": "S3", "allowedLocations": list(spec.allowed_locations),
                                              **(storage or {})}})
    for ns in plan.namespaces:
        NamespaceProvider().create({**root, "catalog": ns.catalog, "namespace": list(ns.levels),
                                    "properties": ns.properties, "allow_delete_with_tables": False})
    for role in plan.roles:
        CatalogRoleProvider().create({**root, "catalog": role.catalog, "name": role.name, "grants": list(role.grants)})
    principals = {}
    for tenant in plan.tenants:
        PrincipalRoleProvider().create({**root, "name": tenant.tenant.principal_role, "catalog_roles": [
            {"catalog": c, "role": r} for c, r in tenant.catalog_roles]})
        principals[tenant.tenant.name] = PrincipalProvider().create({
            **root, "name": tenant.tenant.service_account, "principal_roles": [tenant.tenant.principal_role],
            "rotation": 0, "public_key": (public_keys or {}).get(tenant.tenant.name)}).outs
    return principals
