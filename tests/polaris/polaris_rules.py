"""Apache Polaris 1.7.0's rules, as the fake applies them: settings, privileges, operations, locations, secrets.

Written from Polaris' source at tag `apache-polaris-1.7.0` (github.com/apache/polaris); each block names
the file it mirrors. `tests/polaris/test_polaris_core.py` checks the tables and primitives here against
polaris-core 1.7.0's own classes, run from the jar on Maven Central. Where this module and Polaris
differ, this module is wrong.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

# --- settings: polaris-core/.../config/FeatureConfiguration.java, BehaviorChangeConfiguration.java ---------------


@dataclass(frozen=True)
class Setting:
    """A boolean Polaris setting: realm-wide under `key`, per catalog under its catalog property keys."""

    key: str
    default: bool
    catalog_key: str | None = None
    legacy_catalog_key: str | None = None


DROP_WITH_PURGE_ENABLED = Setting("DROP_WITH_PURGE_ENABLED", False, "polaris.config.drop-with-purge.enabled",
                                  "drop-with-purge.enabled")
ALLOW_NAMESPACE_CUSTOM_LOCATION = Setting("ALLOW_NAMESPACE_CUSTOM_LOCATION", False,
                                          "polaris.config.namespace-custom-location.enabled")
ALLOW_NAMESPACE_LOCATION_OVERLAP = Setting("ALLOW_NAMESPACE_LOCATION_OVERLAP", False)
ADD_TRAILING_SLASH_TO_LOCATION = Setting("ADD_TRAILING_SLASH_TO_LOCATION", True,
                                         "polaris.config.add-trailing-slash-to-location")
ENABLE_CREDENTIAL_RESET = Setting("ENABLE_CREDENTIAL_RESET", True)
ENABLE_FINE_GRAINED_UPDATE_TABLE_PRIVILEGES = Setting(
    "ENABLE_FINE_GRAINED_UPDATE_TABLE_PRIVILEGES", True, "polaris.config.enable-fine-grained-update-table-privileges")
SETTINGS = (DROP_WITH_PURGE_ENABLED, ALLOW_NAMESPACE_CUSTOM_LOCATION, ALLOW_NAMESPACE_LOCATION_OVERLAP,
            ADD_TRAILING_SLASH_TO_LOCATION, ENABLE_CREDENTIAL_RESET, ENABLE_FINE_GRAINED_UPDATE_TABLE_PRIVILEGES)


def resolve(setting: Setting, realm: Mapping[str, object], catalog: Mapping[str, str] | None = None) -> bool:
    """`PolarisConfiguration.resolveValue`: the catalog property, else its legacy key, else the realm's value,
    else the default; a string is read as Java's `Boolean.valueOf` reads it (only `true`, any case, is true)."""
    value: object = None
    if catalog is not None:
        for key in (setting.catalog_key, setting.legacy_catalog_key):
            if key is not None and value is None:
                value = catalog.get(key)
    if value is None:
        value = realm.get(setting.key)
    if value is None:
        return setting.default
    return value if isinstance(value, bool) else str(value).lower() == "true"


# --- privileges: polaris-core/.../auth/PolarisAuthorizerImpl.java SUPER_PRIVILEGES -------------------------------

_CONTENT = ("CATALOG_MANAGE_CONTENT", "CATALOG_MANAGE_METADATA")
_TABLE_WRITE = (*_CONTENT, "TABLE_FULL_METADATA", "TABLE_WRITE_DATA", "TABLE_WRITE_PROPERTIES")
_TABLE_STRUCTURE = (*_TABLE_WRITE, "TABLE_MANAGE_STRUCTURE")

# privilege -> every privilege that confers it (itself included); a privilege not listed is conferred by itself only
SUPER_PRIVILEGES: dict[str, frozenset[str]] = {p: frozenset(s) | {p} for p, s in {
    "SERVICE_MANAGE_ACCESS": (),
    "CATALOG_MANAGE_ACCESS": (),
    "CATALOG_ROLE_USAGE": (),
    "PRINCIPAL_ROLE_USAGE": (),
    "NAMESPACE_CREATE": (*_CONTENT, "NAMESPACE_FULL_METADATA"),
    "TABLE_CREATE": (*_CONTENT, "TABLE_FULL_METADATA"),
    "VIEW_CREATE": (*_CONTENT, "VIEW_FULL_METADATA"),
    "NAMESPACE_DROP": (*_CONTENT, "NAMESPACE_FULL_METADATA"),
    "TABLE_DROP": (*_CONTENT, "TABLE_FULL_METADATA"),
    "VIEW_DROP": (*_CONTENT, "VIEW_FULL_METADATA"),
    "NAMESPACE_LIST": (*_CONTENT, "NAMESPACE_CREATE", "NAMESPACE_FULL_METADATA", "NAMESPACE_READ_PROPERTIES",
                       "NAMESPACE_WRITE_PROPERTIES"),
    "TABLE_LIST": (*_CONTENT, "TABLE_CREATE", "TABLE_FULL_METADATA", "TABLE_READ_DATA", "TABLE_READ_PROPERTIES",
                   "TABLE_WRITE_DATA", "TABLE_WRITE_PROPERTIES"),
    "VIEW_LIST": (*_CONTENT, "VIEW_CREATE", "VIEW_FULL_METADATA", "VIEW_READ_PROPERTIES", "VIEW_WRITE_PROPERTIES"),
    "NAMESPACE_READ_PROPERTIES": (*_CONTENT, "NAMESPACE_FULL_METADATA", "NAMESPACE_WRITE_PROPERTIES"),
    "TABLE_READ_PROPERTIES": (*_TABLE_WRITE, "TABLE_READ_DATA"),
    "VIEW_READ_PROPERTIES": (*_CONTENT, "VIEW_FULL_METADATA", "VIEW_WRITE_PROPERTIES"),
    "NAMESPACE_WRITE_PROPERTIES": (*_CONTENT, "NAMESPACE_FULL_METADATA"),
    "TABLE_WRITE_PROPERTIES": _TABLE_WRITE,
    "VIEW_WRITE_PROPERTIES": (*_CONTENT, "VIEW_FULL_METADATA"),
    "TABLE_ASSIGN_UUID": _TABLE_STRUCTURE,
    "TABLE_UPGRADE_FORMAT_VERSION": _TABLE_STRUCTURE,
    "TABLE_ADD_SCHEMA": _TABLE_STRUCTURE,
    "TABLE_SET_CURRENT_SCHEMA": _TABLE_STRUCTURE,
    "TABLE_ADD_PARTITION_SPEC": _TABLE_STRUCTURE,
    "TABLE_ADD_SORT_ORDER": _TABLE_STRUCTURE,
    "TABLE_SET_DEFAULT_SORT_ORDER": _TABLE_STRUCTURE,
    "TABLE_ADD_SNAPSHOT": _TABLE_WRITE,
    "TABLE_SET_SNAPSHOT_REF": _TABLE_WRITE,
    "TABLE_REMOVE_SNAPSHOTS": _TABLE_STRUCTURE,
    "TABLE_REMOVE_SNAPSHOT_REF": _TABLE_STRUCTURE,
    "TABLE_SET_LOCATION": _TABLE_STRUCTURE,
    "TABLE_SET_PROPERTIES": _TABLE_STRUCTURE,
    "TABLE_REMOVE_PROPERTIES": _TABLE_STRUCTURE,
    "TABLE_SET_STATISTICS": _TABLE_STRUCTURE,
    "TABLE_REMOVE_STATISTICS": _TABLE_STRUCTURE,
    "TABLE_REMOVE_PARTITION_SPECS": _TABLE_STRUCTURE,
    "TABLE_MANAGE_STRUCTURE": _TABLE_WRITE,
    # Reading data is not conferred by CATALOG_MANAGE_METADATA (what a catalog's catalog_admin holds).
    "TABLE_READ_DATA": ("CATALOG_MANAGE_CONTENT", "TABLE_WRITE_DATA"),
    "TABLE_WRITE_DATA": ("CATALOG_MANAGE_CONTENT",),
    "NAMESPACE_FULL_METADATA": _CONTENT,
    "TABLE_FULL_METADATA": _CONTENT,
    "VIEW_FULL_METADATA": _CONTENT,
    "CATALOG_MANAGE_METADATA": ("CATALOG_MANAGE_CONTENT",),
    "CATALOG_MANAGE_CONTENT": (),
    # Only the principal itself may rotate its credentials: no privilege, not even SERVICE_MANAGE_ACCESS, confers it.
    "PRINCIPAL_ROTATE_CREDENTIALS": (),
    "PRINCIPAL_RESET_CREDENTIALS": ("SERVICE_MANAGE_ACCESS",),
}.items()}


def subsuming(privilege: str) -> frozenset[str]:
    """`PolarisAuthorizerImpl.subsumingPrivilegesOf`: the privileges that confer `privilege`."""
    return SUPER_PRIVILEGES.get(privilege, frozenset({privilege}))


# --- operations: polaris-core/.../auth/RbacOperationSemantics.java --------------------------------------------------

# operation -> (privileges needed on the target, privileges needed on the secondary)
OPERATIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {op: (frozenset(t), frozenset(s)) for op, (t, s) in {
    "LIST_NAMESPACES": (("NAMESPACE_LIST",), ()),
    "CREATE_NAMESPACE": (("NAMESPACE_CREATE",), ()),
    "LOAD_NAMESPACE_METADATA": (("NAMESPACE_READ_PROPERTIES",), ()),
    "NAMESPACE_EXISTS": (("NAMESPACE_LIST",), ()),
    "DROP_NAMESPACE": (("NAMESPACE_DROP",), ()),
    "UPDATE_NAMESPACE_PROPERTIES": (("NAMESPACE_WRITE_PROPERTIES",), ()),
    "LIST_TABLES": (("TABLE_LIST",), ()),
    "CREATE_TABLE_DIRECT": (("TABLE_CREATE",), ()),
    "CREATE_TABLE_DIRECT_WITH_WRITE_DELEGATION": (("TABLE_CREATE", "TABLE_WRITE_DATA"), ()),
    "CREATE_TABLE_STAGED": (("TABLE_CREATE",), ()),
    "CREATE_TABLE_STAGED_WITH_WRITE_DELEGATION": (("TABLE_CREATE", "TABLE_WRITE_DATA"), ()),
    "REGISTER_TABLE": (("TABLE_CREATE",), ()),
    "LOAD_TABLE": (("TABLE_READ_PROPERTIES",), ()),
    "LOAD_TABLE_WITH_READ_DELEGATION": (("TABLE_READ_DATA",), ()),
    "LOAD_TABLE_WITH_WRITE_DELEGATION": (("TABLE_WRITE_DATA",), ()),
    "UPDATE_TABLE": (("TABLE_WRITE_PROPERTIES",), ()),
    "UPDATE_TABLE_FOR_STAGED_CREATE": (("TABLE_CREATE",), ()),
    "DROP_TABLE_WITHOUT_PURGE": (("TABLE_DROP",), ()),
    "DROP_TABLE_WITH_PURGE": (("TABLE_DROP", "TABLE_WRITE_DATA"), ()),
    "TABLE_EXISTS": (("TABLE_LIST",), ()),
    "RENAME_TABLE": (("TABLE_DROP",), ("TABLE_LIST", "TABLE_CREATE")),
    "COMMIT_TRANSACTION": (("TABLE_WRITE_PROPERTIES", "TABLE_CREATE"), ()),
    "REPORT_READ_METRICS": (("TABLE_READ_DATA",), ()),
    "REPORT_WRITE_METRICS": (("TABLE_WRITE_DATA",), ()),
    "ROTATE_CREDENTIALS": (("PRINCIPAL_ROTATE_CREDENTIALS",), ()),
    "RESET_CREDENTIALS": (("PRINCIPAL_RESET_CREDENTIALS",), ()),
    "ASSIGN_TABLE_UUID": (("TABLE_ASSIGN_UUID",), ()),
    "UPGRADE_TABLE_FORMAT_VERSION": (("TABLE_UPGRADE_FORMAT_VERSION",), ()),
    "ADD_TABLE_SCHEMA": (("TABLE_ADD_SCHEMA",), ()),
    "SET_TABLE_CURRENT_SCHEMA": (("TABLE_SET_CURRENT_SCHEMA",), ()),
    "ADD_TABLE_PARTITION_SPEC": (("TABLE_ADD_PARTITION_SPEC",), ()),
    "ADD_TABLE_SORT_ORDER": (("TABLE_ADD_SORT_ORDER",), ()),
    "SET_TABLE_DEFAULT_SORT_ORDER": (("TABLE_SET_DEFAULT_SORT_ORDER",), ()),
    "ADD_TABLE_SNAPSHOT": (("TABLE_ADD_SNAPSHOT",), ()),
    "SET_TABLE_SNAPSHOT_REF": (("TABLE_SET_SNAPSHOT_REF",), ()),
    "REMOVE_TABLE_SNAPSHOTS": (("TABLE_REMOVE_SNAPSHOTS",), ()),
    "REMOVE_TABLE_SNAPSHOT_REF": (("TABLE_REMOVE_SNAPSHOT_REF",), ()),
    "SET_TABLE_LOCATION": (("TABLE_SET_LOCATION",), ()),
    "SET_TABLE_PROPERTIES": (("TABLE_SET_PROPERTIES",), ()),
    "REMOVE_TABLE_PROPERTIES": (("TABLE_REMOVE_PROPERTIES",), ()),
    "SET_TABLE_STATISTICS": (("TABLE_SET_STATISTICS",), ()),
    "REMOVE_TABLE_STATISTICS": (("TABLE_REMOVE_STATISTICS",), ()),
    "REMOVE_TABLE_PARTITION_SPECS": (("TABLE_REMOVE_PARTITION_SPECS",), ()),
}.items()}

# runtime/service/.../catalog/iceberg/IcebergCatalogHandler.java getUpdateTableAuthorizableOperations: the operation
# each table update (its `action` in the Iceberg REST API) needs when fine-grained update privileges are on.
UPDATE_OPERATIONS = {
    "assign-uuid": "ASSIGN_TABLE_UUID", "upgrade-format-version": "UPGRADE_TABLE_FORMAT_VERSION",
    "add-schema": "ADD_TABLE_SCHEMA", "set-current-schema": "SET_TABLE_CURRENT_SCHEMA",
    "add-spec": "ADD_TABLE_PARTITION_SPEC", "add-sort-order": "ADD_TABLE_SORT_ORDER",
    "set-default-sort-order": "SET_TABLE_DEFAULT_SORT_ORDER", "add-snapshot": "ADD_TABLE_SNAPSHOT",
    "set-snapshot-ref": "SET_TABLE_SNAPSHOT_REF", "remove-snapshots": "REMOVE_TABLE_SNAPSHOTS",
    "remove-snapshot-ref": "REMOVE_TABLE_SNAPSHOT_REF", "set-location": "SET_TABLE_LOCATION",
    "set-properties": "SET_TABLE_PROPERTIES", "remove-properties": "REMOVE_TABLE_PROPERTIES",
    "set-statistics": "SET_TABLE_STATISTICS", "remove-statistics": "REMOVE_TABLE_STATISTICS",
    "remove-partition-specs": "REMOVE_TABLE_PARTITION_SPECS",
}

# polaris-core/.../persistence/AtomicOperationMetaStoreManager.java createCatalogAtomically: a new catalog's
# catalog_admin role holds these on the catalog, and the service_admin principal role (root's) holds catalog_admin.
CATALOG_ADMIN = "catalog_admin"
SERVICE_ADMIN = "service_admin"
CATALOG_ADMIN_PRIVILEGES = ("CATALOG_MANAGE_ACCESS", "CATALOG_MANAGE_METADATA")


# --- locations: polaris-core/.../storage/StorageLocation.java, aws/S3Location.java, azure/AzureLocation.java -----

_S3 = re.compile(r"^(s3a?):(.+)$")
_AZURE = re.compile(r"^(abfss?|wasbs?)://([^/?#]+)(.*)?$")


def ensure_trailing_slash(location: str) -> str:
    """`StorageLocation.ensureTrailingSlash`."""
    return location if location.endswith("/") else location + "/"


@dataclass(frozen=True)
class StorageLocation:
    """`StorageLocation.of`: an S3 location (`s3` and `s3a` alike), an Azure one, or a plain one (local paths
    normalized to `file:///`). Two locations are equal when these fields are."""

    kind: str  # "s3", "azure" or "plain"
    location: str  # s3 and azure: without the scheme; plain: the normalized string
    container: str = ""  # azure: container@account
    path: str = ""  # azure: the path below the container

    @classmethod
    def of(cls, location: str) -> StorageLocation:
        azure = _AZURE.match(location)
        if azure:
            container, _, host = azure[2].partition("@")
            return cls("azure", location.split(":", 1)[1], f"{container}@{host.split('.', 1)[0]}",
                       (azure[3] or "").removeprefix("/"))
        s3 = _S3.match(location)
        if s3:
            return cls("s3", s3[2])
        if location.startswith("file:/"):
            location = "file:///" + location[len("file:"):].lstrip("/")
        elif location.startswith("/"):
            location = "file:///" + location.lstrip("/")
        return cls("plain", location)

    def is_child_of(self, parent: StorageLocation) -> bool:
        """`isChildOf`: this location, slash-terminated, starts with the parent's (a location is its own child);
        locations of different kinds never are."""
        if self.kind != parent.kind:
            return False
        if self.kind == "azure":
            return self.container == parent.container and ("/" + ensure_trailing_slash(self.path)).startswith(
                "/" + ensure_trailing_slash(parent.path))
        return ensure_trailing_slash(self.location).startswith(ensure_trailing_slash(parent.location))


def strip_slashes(location: str) -> str:
    """`LocalIcebergCatalog.stripLeadingTrailingSlash`: every leading slash, one trailing slash."""
    location = location.lstrip("/")
    return location[:-1] if location.endswith("/") else location


# --- principal secrets: polaris-core/.../entity/PolarisPrincipalSecrets.java ----------------------------------------


class PrincipalSecrets:
    """A principal's client id with a main and a secondary secret, kept as salted hashes."""

    def __init__(self, principal: str, client_id: str, main: str | None = None) -> None:
        self.principal = principal
        self.client_id = client_id
        self.salt = secrets.token_hex(8)
        # As the constructor taking a caller's secret (resetCredentials, bootstrap): that or a random main, and a
        # random secondary nobody is ever shown.
        self.main = main if main is not None else secrets.token_hex(16)
        self.main_hash = self._hash(self.main)
        self.secondary_hash = self._hash(secrets.token_hex(16))

    def _hash(self, secret: str) -> str:
        return hashlib.sha256(f"{secret}:{self.salt}".encode()).hexdigest()

    def rotate(self, new_secondary_hash: str) -> None:
        """`rotateSecrets`: the given hash (the old main's) becomes the secondary, and a new main is drawn."""
        self.secondary_hash = new_secondary_hash
        self.main = secrets.token_hex(16)
        self.main_hash = self._hash(self.main)

    def matches(self, secret: str) -> bool:
        """`matchesSecret`: the main or the secondary secret."""
        return self._hash(secret) in (self.main_hash, self.secondary_hash)
