"""Tenants with their defaults filled in: the identity and namespaces of each hosted pipeline."""

from __future__ import annotations

from dataclasses import dataclass

from floe_infra.config.platform import PlatformConfig


@dataclass(frozen=True)
class Tenant:
    """A pipeline hosted by the platform, fully resolved.

    Attributes:
        name: Pipeline name (floe.yaml `name`), also the Kubernetes-facing name.
        service_account: Polaris principal name.
        principal_role: Polaris principal role name.
        namespace: The tenant's namespace level inside each layer it writes.
        writes: Layers whose tenant namespace it owns (read and write).
        reads: Layers it reads in full.
        code_server_port: gRPC port of its Dagster code server.
        credential_rotation: Rotation counter of its catalog credentials.
        public_key: Key its credentials are sealed to, if any.
    """

    name: str
    service_account: str
    principal_role: str
    namespace: str
    writes: tuple[str, ...]
    reads: tuple[str, ...]
    code_server_port: int
    credential_rotation: int
    public_key: str | None

    @property
    def code_location(self) -> str:
        """Dagster code location (and code-server Service) name; unique in the namespace."""
        return f"code-{self.name}"

    @property
    def credentials_secret(self) -> str:
        """Kubernetes Secret holding the tenant's catalog client id and secret."""
        return f"{self.name}-catalog-credentials"

    def namespace_in(self, layer_levels: tuple[str, ...]) -> tuple[str, ...]:
        """The tenant's Iceberg namespace inside a layer's namespace."""
        return (*layer_levels, self.namespace)


def resolve_tenants(platform: PlatformConfig) -> dict[str, Tenant]:
    """Every tenant of the platform, defaults applied, in declaration order."""
    all_layers = tuple(platform.layers)
    out: dict[str, Tenant] = {}
    for name, cfg in platform.deployment.tenants.items():
        service_account = cfg.service_account or name
        out[name] = Tenant(
            name=name,
            service_account=service_account,
            principal_role=cfg.principal_role or service_account.replace("-", "_"),
            namespace=cfg.namespace or name.replace("-", "_"),
            writes=tuple(cfg.writes) if cfg.writes is not None else all_layers,
            reads=tuple(cfg.reads) if cfg.reads is not None else all_layers,
            code_server_port=cfg.code_server_port,
            credential_rotation=cfg.credential_rotation,
            public_key=cfg.public_key,
        )
    return out
