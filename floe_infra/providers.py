"""The stable import path of every dynamic provider floe-infra pickles into stack state.

Pulumi stores a dynamic resource's provider pickled by reference: a module path and a class name
that every later `pulumi up`, `refresh` and `destroy` imports again, for as long as the resource
lives. Each provider class therefore declares this module as its `__module__`, and this module
finds the class wherever its code lives now, so code can move without breaking existing stacks.
State written before this module existed names the classes' own modules
(`floe_infra.polaris.resources`, `floe_infra.iceberg.resource`): those names stay importable too
(tests/polaris/test_provider_state.py deletes resources from such state).

Classes are looked up lazily, so pickling a platform resource does not import the tables engine.
"""

from __future__ import annotations

import importlib
from typing import Any

# Class name -> module holding its code. Never remove an entry while stacks may hold the class.
LOCATIONS = {
    "CatalogProvider": "floe_infra.polaris.resources",
    "NamespaceProvider": "floe_infra.polaris.resources",
    "CatalogRoleProvider": "floe_infra.polaris.resources",
    "PrincipalRoleProvider": "floe_infra.polaris.resources",
    "PrincipalProvider": "floe_infra.polaris.resources",
    "RootCredentialProvider": "floe_infra.polaris.resources",
    "IcebergTableProvider": "floe_infra.iceberg.resource",
    "TableSetProvider": "floe_infra.iceberg.table_set",
    "GeneratedPasswordProvider": "floe_infra.platform.generated",
}


def __getattr__(name: str) -> Any:
    if name not in LOCATIONS:
        raise AttributeError(f"module {__name__!r} has no provider {name!r}")
    return getattr(importlib.import_module(LOCATIONS[name]), name)
