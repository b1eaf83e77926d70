"""Kubernetes Secrets of the platform: which ones it generates, which it takes from config, which must exist.

A `secret_ref` in platform.yaml names a Secret in the platform namespace. Three origins:
- generated: the platform deploys the service that owns the credential, so it generates the
  value (a pulumi-random `RandomPassword`, floe_infra/platform/generated.py) and creates the Secret;
- provided: the stack config holds it (`pulumi config set --secret --path 'floe:secret-<name>.<KEY>'`),
  and the platform creates the Secret from it;
- external: the Secret must already exist (External Secrets, Vault, Sealed Secrets...).
Values only ever travel as Pulumi secrets into Secret `stringData`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from floe_infra.config.base import SecretReference
from floe_infra.config.credentials import CredentialMode
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import resolve_tenants, tenant_storage_secret
from floe_infra.errors import FloeError
from floe_infra.platform.generated import generated_password, pending_imports
from floe_infra.platform.kubernetes import object_meta
from floe_infra.topology import Provisioner, Topology, provisioner_of


class Origin(StrEnum):
    """Where a Secret's values come from."""

    GENERATED = "generated"
    PROVIDED = "provided"
    EXTERNAL = "external"


@dataclass(frozen=True)
class Random:
    """A generated alphanumeric value, shared by every key that names the same `id`."""

    id: str
    length: int = 40


@dataclass(frozen=True)
class Literal:
    """A fixed, non-secret value (a user name, a JDBC URL)."""

    value: str


@dataclass(frozen=True)
class Template:
    """Text with `{id}` placeholders of Random values (`POLARIS,root,{polaris-root}`)."""

    text: str
    ids: tuple[str, ...]


KeySource = Random | Literal | Template


@dataclass(frozen=True)
class SecretSpec:
    """One Kubernetes Secret the platform knows about."""

    name: str
    component: str
    origin: Origin
    keys: dict[str, KeySource] = field(default_factory=dict)


def storage_credentials_secret(platform: PlatformConfig, profile_name: str) -> str | None:
    """Secret of a storage profile's static S3 credentials (None for IAM roles / workload identity)."""
    creds = platform.storage[profile_name].credentials
    if creds.mode != CredentialMode.STATIC:
        return None
    return creds.secret_ref or f"{platform.deployment.name}-s3-credentials"


def polaris_root_secret(platform: PlatformConfig) -> str:
    """Secret with the Polaris root principal's credentials (platform stack only)."""
    return f"{platform.deployment.name}-polaris-root"


def database_secret(platform: PlatformConfig, service: str) -> str:
    """Secret with a service's PostgreSQL credentials."""
    return f"{platform.deployment.name}-{service}-db"


def plan_secrets(platform: PlatformConfig, topology: Topology, configured: frozenset[str]) -> dict[str, SecretSpec]:
    """Every Secret of the platform, by name, with its origin and (for generated ones) keys.

    Args:
        platform: The validated platform.yaml.
        topology: What it deploys.
        configured: Secret names provided in stack config (`floe:secret-<name>`).
    """
    dep = platform.deployment
    svc = dep.services
    n = dep.name
    specs: dict[str, SecretSpec] = {}

    def generated(name: str, component: str, **keys: KeySource) -> None:
        specs[name] = SecretSpec(name, component, Origin.GENERATED, dict(keys))

    if svc.object_storage.deploy:
        generated(f"{n}-minio-root", "object-storage", rootUser=Random("minio-root-user", 20),
                  rootPassword=Random("minio-root-password"))
        for tenant in resolve_tenants(platform).values():
            if (secret := tenant_storage_secret(platform, tenant)) is not None:
                # Each tenant's own MinIO user (its policy: ObjectStorage); the user name is the access key id.
                generated(secret, "object-storage", AWS_ACCESS_KEY_ID=Literal(secret),
                          AWS_SECRET_ACCESS_KEY=Random(f"s3-{secret}"))
        for profile in platform.storage:
            secret = storage_credentials_secret(platform, profile)
            if secret and provisioner_of(platform, platform.storage[profile]) is Provisioner.MINIO:
                # The access key id is a MinIO user name, not a secret; the secret key is generated.
                generated(secret, "object-storage", AWS_ACCESS_KEY_ID=Literal(secret),
                          AWS_SECRET_ACCESS_KEY=Random(f"s3-{secret}"))

    if svc.catalog.deploy:
        generated(polaris_root_secret(platform), "catalog", CLIENT_ID=Literal("root"),
                  CLIENT_SECRET=Random("polaris-root"),
                  POLARIS_BOOTSTRAP_CREDENTIALS=Template("POLARIS,root,{polaris-root}", ("polaris-root",)),
                  TOKEN_KEY=Random("polaris-token-key", 48))
        for catalog in platform.catalogs.values():
            creds = catalog.credentials
            if isinstance(creds.client_id, SecretReference):
                generated(creds.client_id.secret_ref, "catalog", **{creds.client_id.env_key: Literal("root")})
            if creds.client_secret is not None:
                generated(creds.client_secret.secret_ref, "catalog",
                          **{creds.client_secret.env_key: Random("polaris-root")})

    if svc.database.deploy:
        generated(f"{n}-postgresql-admin", "database", username=Literal("postgres"),
                  password=Random("postgresql-admin"))
    database_host = topology.endpoint("database", "postgres")
    for service, deployed, database in (
        ("dagster", svc.orchestration.deploy, "dagster"),
        ("marquez", svc.lineage.deploy, "marquez"),
        ("polaris", svc.catalog.deploy and dep.environment != "local", "polaris"),
    ):
        if deployed:
            generated(database_secret(platform, service), "database", username=Literal(service),
                      password=Random(f"postgresql-{service}"),
                      jdbcUrl=Literal(f"jdbc:postgresql://{database_host}/{database}"))
    if svc.orchestration.deploy:
        # The Dagster charts read the password from this Secret under this exact key.
        generated(f"{n}-dagster-postgresql", "orchestration", **{"postgresql-password": Random("postgresql-dagster")})
    if svc.semantic.deploy:
        generated(f"{n}-cube-api", "semantic", CUBEJS_API_SECRET=Random("cube-api", 48))

    for name, component in referenced_secrets(platform):
        if name not in specs:
            specs[name] = SecretSpec(name, component, Origin.PROVIDED if name in configured else Origin.EXTERNAL)
    return specs


def rotations(platform: PlatformConfig, specs: Mapping[str, SecretSpec]) -> dict[str, int]:
    """The rotation of each generated value: the sum of `deployment.rotate` of the Secrets holding it.

    Raises:
        FloeError: When `deployment.rotate` names a Secret the platform does not generate.
    """
    wanted = platform.deployment.rotate
    foreign = sorted(n for n in wanted if n not in specs or specs[n].origin is not Origin.GENERATED)
    if foreign:
        generated = ", ".join(sorted(n for n, spec in specs.items() if spec.origin is Origin.GENERATED))
        raise FloeError(f"deployment.rotate: {', '.join(foreign)} is not a Secret this platform generates; rotate a "
                        f"Secret from stack config by setting it again, an external one where it lives. Generated "
                        f"here: {generated}")
    out: dict[str, int] = {}
    for name, count in wanted.items():
        ids = {i for source in specs[name].keys.values()
               for i in ((source.id,) if isinstance(source, Random) else getattr(source, "ids", ()))}
        for random_id in ids:
            out[random_id] = out.get(random_id, 0) + count
    return out


def referenced_secrets(platform: PlatformConfig) -> list[tuple[str, str]]:
    """Every Secret name platform.yaml references, with the component that uses it."""
    out: list[tuple[str, str]] = []
    for name, storage in platform.storage.items():
        if isinstance(storage.endpoint, SecretReference):
            out.append((storage.endpoint.secret_ref, "object-storage"))
        secret = storage_credentials_secret(platform, name)
        if secret:
            out.append((secret, "object-storage"))
    for catalog in platform.catalogs.values():
        for ref in (catalog.uri, catalog.credentials.client_id, catalog.credentials.client_secret):
            if isinstance(ref, SecretReference):
                out.append((ref.secret_ref, "catalog"))
    for compute in platform.compute.values():
        if compute.credentials.secret_ref:
            out.append((compute.credentials.secret_ref, "compute"))
    if platform.deployment.services.database.admin_secret_ref:
        out.append((platform.deployment.services.database.admin_secret_ref, "database"))
    return out


class PlatformSecrets(pulumi.ComponentResource):
    """Generated and provided Secrets of the platform, plus handles on generated values."""

    secrets: dict[str, k8s.core.v1.Secret]
    passwords: dict[str, random.RandomPassword]
    specs: dict[str, SecretSpec]

    def __init__(self, name: str, platform: PlatformConfig, specs: Mapping[str, SecretSpec],
                 provided: Mapping[str, pulumi.Output[dict[str, str]]], namespace: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:platform:Secrets", name, None, opts)
        self.specs = dict(specs)
        self.passwords = {}
        self.secrets = {}
        self._rotations = rotations(platform, self.specs)
        # Current values to adopt, by resource name, while `floe-infra migrate passwords` runs.
        self._imports = pending_imports()
        for spec in self.specs.values():
            if spec.origin is Origin.GENERATED:
                data = {key: self._value(name, source) for key, source in spec.keys.items()}
            elif spec.origin is Origin.PROVIDED:
                data = provided[spec.name]
            else:
                continue
            self.secrets[spec.name] = k8s.core.v1.Secret(
                f"{name}-{spec.name}",
                metadata=object_meta(platform, spec.name, spec.component, namespace,
                                     **{"floe.dev/secret-origin": str(spec.origin)}),
                type="Opaque",
                string_data=data,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"secrets": sorted(self.secrets)})

    def _password(self, name: str, source: Random) -> random.RandomPassword:
        if source.id not in self.passwords:
            resource_name = f"{name}-{source.id}"
            self.passwords[source.id] = generated_password(
                resource_name, length=source.length, rotation=self._rotations.get(source.id, 0),
                imported=self._imports.get(resource_name), opts=pulumi.ResourceOptions(parent=self))
        return self.passwords[source.id]

    def _value(self, name: str, source: KeySource) -> pulumi.Input[str]:
        if isinstance(source, Literal):
            return source.value
        if isinstance(source, Random):
            return pulumi.Output.secret(self._password(name, source).result)
        parts = {i: self._password(name, Random(i)).result for i in source.ids}
        return pulumi.Output.secret(pulumi.Output.all(**parts).apply(lambda v: source.text.format(**v)))

    def generated_value(self, random_id: str) -> pulumi.Output[str]:
        """A generated value by its id (e.g. `polaris-root`), as a secret Output."""
        return pulumi.Output.secret(self.passwords[random_id].result)

    def managed(self, *names: str | None) -> list[k8s.core.v1.Secret]:
        """The Secrets of `names` this stack writes (generated or from config); external ones are skipped."""
        return [self.secrets[n] for n in names if n is not None and n in self.secrets]

    def origin(self, secret: str) -> Origin:
        """Where a Secret's values come from."""
        return self.specs[secret].origin

