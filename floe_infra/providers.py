"""The stable import path of every dynamic provider floe-infra pickles into stack state.

Pulumi stores a dynamic resource's provider pickled by reference: a module path and a class name
that every later `pulumi up`, `refresh` and `destroy` imports again, for as long as the resource
lives. Each provider class therefore declares this module as its `__module__`, and this module
finds the class wherever its code lives now, so code can move without breaking existing stacks.
State written before this module existed names the classes' own modules
(`floe_infra.polaris.resources`, `floe_infra.iceberg.resource`): those names stay importable too
(tests/polaris/test_provider_state.py deletes resources from such state).

Classes are looked up lazily, so pickling a platform resource does not import the tables engine.
Every provider derives from `DynamicProvider`, which declares this module as its `__module__` and
lets the provider process exit without Python's final collection (`floe_infra.process`).
"""

from __future__ import annotations

import importlib
from typing import Any

import pulumi.dynamic as dynamic

from floe_infra.process import skip_final_collection

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


class DynamicProvider(dynamic.ResourceProvider):
    """Base of floe-infra's dynamic providers: pickled under this module's path, wherever their code lives."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__module__ = __name__

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        # The SDK configures each provider once, in the provider process, before its first call; that process
        # lives for one operation and the engine waits for it to exit.
        skip_final_collection()


def __getattr__(name: str) -> Any:
    if name not in LOCATIONS:
        raise AttributeError(f"module {__name__!r} has no provider {name!r}")
    return getattr(importlib.import_module(LOCATIONS[name]), name)
