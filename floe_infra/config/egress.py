"""The external endpoints tenant pods use, and where a NetworkPolicy may let them connect.

Every external endpoint a tenant uses (an external catalog, database, collector or lineage server;
AWS S3 and STS for its IAM role) needs a destination: the IP address in its URL, or what
`deployment.tenant_network.egress` declares for its service (address ranges, pods of another
namespace, or any address on its ports, `open: true`). Without one, platform.yaml is refused at the
line naming the endpoint: no tenant reaches the whole internet by default. The platform's
`TenantAccess` builds each tenant's NetworkPolicy from the same functions, so what `validate`
accepts is what the policy allows.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from floe_infra.config.network import EgressDestination, EgressService
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.tenancy import Tenant, resolve_tenants, storage_identity, tenant_storage_profiles
from floe_infra.config.yaml_source import Path_

HTTPS_PORT = 443
# Any address: only where platform.yaml opts in (`open: true`).
OPEN_CIDRS = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class ExternalEndpoint:
    """An endpoint outside the platform namespace that tenant pods connect to.

    Attributes:
        service: Its key under `deployment.tenant_network.egress`.
        what: What it is, for messages (`the external database rds.example.com:5432`).
        host: Its host name or address; empty where platform.yaml does not show it.
        ports: Its TCP ports; empty where platform.yaml does not show them.
        path: Where platform.yaml names it.
    """

    service: EgressService
    what: str
    host: str
    ports: tuple[int, ...]
    path: Path_


def _url_endpoint(service: EgressService, what: str, url: str, default_port: int, path: Path_) -> ExternalEndpoint:
    parts = urlsplit(url)
    port = parts.port or (HTTPS_PORT if parts.scheme == "https" else default_port)
    return ExternalEndpoint(service, f"{what} {url}", parts.hostname or "", (port,), path)


def tenant_external_endpoints(platform: PlatformConfig, tenant: Tenant) -> list[ExternalEndpoint]:
    """The endpoints outside the platform namespace that the tenant's pods use, in a stable order."""
    svc, obs = platform.deployment.services, platform.observability
    out: list[ExternalEndpoint] = []
    if not svc.catalog.deploy:
        layers = [layer for layer in (*tenant.writes, *tenant.reads) if layer in platform.layers]
        for name in dict.fromkeys(platform.layers[layer].catalog_ref for layer in layers):
            profile = platform.catalogs.get(name)
            if profile is None:
                continue
            path = ("catalogs", name, "uri")
            out.append(_url_endpoint("catalog", f"catalog '{name}' at", profile.uri, 80, path)
                       if isinstance(profile.uri, str) else
                       ExternalEndpoint("catalog", f"catalog '{name}' (its URI is a secret_ref)", "", (), path))
    irsa = [p for p in tenant_storage_profiles(platform, tenant) if storage_identity(platform, p) == "irsa"]
    if irsa:
        out.append(ExternalEndpoint("object_storage", "AWS S3 and STS (the tenant's IAM role)", "", (HTTPS_PORT,),
                                    ("storage", irsa[0], "credentials")))
    if svc.orchestration.deploy and not svc.database.deploy:
        # Dagster OSS: code servers and run workers use the instance database (docs/security.md).
        out.append(ExternalEndpoint("database", f"the external database {svc.database.host}:{svc.database.port}",
                                    svc.database.host or "", (svc.database.port,),
                                    ("deployment", "services", "database", "host")))
    if obs.traces and not svc.tracing.deploy and obs.otlp_endpoint:
        out.append(_url_endpoint("tracing", "the OTLP collector", obs.otlp_endpoint, 4317,
                                 ("observability", "otlp_endpoint")))
    if obs.lineage and not svc.lineage.deploy and obs.lineage_endpoint:
        out.append(_url_endpoint("lineage", "the OpenLineage endpoint", obs.lineage_endpoint, 80,
                                 ("observability", "lineage_endpoint")))
    return out


def address_of(host: str) -> str | None:
    """The host as a single-address network (`10.0.0.5/32`) when it is an IP address, else None."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return f"{address}/{address.max_prefixlen}"


def egress_destination(platform: PlatformConfig, endpoint: ExternalEndpoint) -> EgressDestination | None:
    """Where the endpoint's traffic may go: what platform.yaml declares for its service, or its own address."""
    declared = platform.deployment.tenant_network.egress.get(endpoint.service)
    if declared is not None:
        return declared
    if (address := address_of(endpoint.host)) and endpoint.ports:
        return EgressDestination(cidrs=[address])
    return None


def check_tenant_egress(platform: PlatformConfig) -> Iterator[tuple[Path_, str]]:
    """Every external endpoint tenants use has a destination (with ports); declared ones are really external."""
    reported: set[tuple[str, str]] = set()
    for tenant in resolve_tenants(platform).values():
        for endpoint in tenant_external_endpoints(platform, tenant):
            if (endpoint.service, endpoint.what) in reported:
                continue
            reported.add((endpoint.service, endpoint.what))
            where = f"deployment.tenant_network.egress.{endpoint.service}"
            destination = egress_destination(platform, endpoint)
            if destination is None:
                ports = ", ".join(map(str, endpoint.ports)) or "<port>"
                yield endpoint.path, (
                    f"tenant pods reach {endpoint.what}; a NetworkPolicy matches addresses, which platform.yaml does "
                    f"not give for it: declare where it is under {where} (`cidrs: [...]`, or `service: {{namespace, "
                    f"pod_labels}}` for pods of another namespace), or allow any address on port {ports} on purpose "
                    "with `open: true` (docs/security.md)")
            elif not endpoint.ports and not destination.ports:
                yield endpoint.path, (f"tenant pods reach {endpoint.what}, on ports platform.yaml does not show: "
                                      f"list them under {where}.ports")
    external = {e.service for t in resolve_tenants(platform).values() for e in tenant_external_endpoints(platform, t)}
    for service in platform.deployment.tenant_network.egress:
        if service not in external and getattr(platform.deployment.services, service).deploy:
            yield ("deployment", "tenant_network", "egress", service), (
                f"the platform deploys its {service.replace('_', ' ')} in its namespace, where tenant pods reach it "
                "by its pods' labels: remove this entry")
