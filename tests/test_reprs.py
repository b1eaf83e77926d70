"""No repr carries a credential: reprs end up in tracebacks, logs and debuggers' output."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import floe_infra
from floe_infra.config.credential_scan import credential_key
from floe_infra.http import DEFAULT_POLICY
from floe_infra.iceberg.auth import client_credentials_auth
from floe_infra.iceberg.catalogs import CatalogTarget
from floe_infra.polaris.client import PolarisConnection

# Fields named like credentials that hold no credential, with why.
NOT_CREDENTIALS = {
    ("floe_infra.preview.runtime", "ProgramRun", "secret_outputs"),  # the names of secret outputs, not values
}


def credential_fields() -> list[tuple[str, str, dataclasses.Field]]:
    found = []
    for module_info in pkgutil.walk_packages(floe_infra.__path__, "floe_infra."):
        if module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__:
                found += [(module.__name__, name, f) for f in dataclasses.fields(cls)
                          if credential_key(f.name) or "kubeconfig" in f.name]
    return found


def test_every_dataclass_field_named_like_a_credential_is_left_out_of_its_repr():
    fields = credential_fields()
    assert len(fields) >= 10  # CatalogTarget, PolarisConnection, ClusterAccess, the components' Args ...
    shown = [f"{module}.{cls}.{field.name}" for module, cls, field in fields
             if field.repr and (module, cls, field.name) not in NOT_CREDENTIALS]
    assert shown == []


def test_the_catalog_target_and_connection_reprs_hold_no_secret():
    secret = "pol-fake-test-only-secret"
    assert secret not in repr(CatalogTarget("https://polaris/api/catalog", "lakehouse", f"sales:{secret}", "s"))
    assert secret not in repr(PolarisConnection(url="https://polaris", client_id="root", client_secret=secret))


def test_the_catalog_auth_property_holds_no_secret_in_its_repr():
    """pyiceberg keeps its `auth` property in the catalog's properties, which tracebacks may show."""
    secret = "pol-fake-test-only-secret"
    auth = client_credentials_auth("https://polaris/api/catalog", f"sales:{secret}", "PRINCIPAL_ROLE:x", DEFAULT_POLICY)
    assert secret not in repr(auth)
    assert "https://polaris/api/catalog/v1/oauth/tokens" in repr(auth)
