"""`deployment.tenant_network`: where tenant pods may connect beyond the platform's own services.

Inside the platform namespace, a tenant's NetworkPolicy names the platform's pods by their labels.
Outside it, floe-infra knows an endpoint's host name but not the addresses behind it, and a
NetworkPolicy matches addresses: these models say where each external service is (address ranges,
pods of another namespace, or any address on purpose) and where the cluster's DNS is. Which
endpoints need them, and the check that each has one, are in `egress.py`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from floe_infra.config.base import FloeModel, KubernetesName

# The services a tenant may reach outside the platform namespace, by their key under deployment.services.
EgressService = Literal["catalog", "object_storage", "database", "tracing", "lineage"]
_LABEL_NAME_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_PREFIX_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def check_label_key(value: str) -> str:
    """A Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters."""
    prefix, _, name = value.rpartition("/")
    if (prefix and (len(prefix) > 253 or not _LABEL_PREFIX_RE.fullmatch(prefix))) or not _LABEL_NAME_RE.fullmatch(name):
        raise ValueError(f"'{value}' is not a Kubernetes label key: write [prefix/]name, the name at most 63 "
                         "letters, digits, '-', '_' or '.', starting and ending with a letter or digit")
    return value


def check_label_value(value: str) -> str:
    """A Kubernetes label value: at most 63 letters, digits, '-', '_' or '.' (or empty)."""
    if value and not _LABEL_NAME_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', "
                         "starting and ending with a letter or digit")
    return value


def check_cidr(value: str) -> str:
    """An IPv4 or IPv6 network without host bits, and never the whole address space (that is `open: true`)."""
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a network in CIDR notation ({exc}), e.g. 10.0.32.0/20") from None
    if network.prefixlen == 0:
        raise ValueError(f"'{value}' is every address: allow any address on purpose with `open: true` instead")
    return str(network)


LabelKey = Annotated[str, AfterValidator(check_label_key)]
LabelValue = Annotated[str, AfterValidator(check_label_value)]
Cidr = Annotated[str, AfterValidator(check_cidr)]
Port = Annotated[int, Field(ge=1, le=65535)]


class InClusterService(FloeModel):
    """Pods of another namespace of the cluster, selected by their labels."""

    namespace: KubernetesName = Field(description="Their namespace.")
    pod_labels: dict[LabelKey, LabelValue] = Field(
        min_length=1, description="Labels every one of those pods carries (a pod selector).")


class EgressDestination(FloeModel):
    """Where tenant pods may reach one external service: exactly one of cidrs, service and open."""

    cidrs: list[Cidr] | None = Field(
        default=None, min_length=1, description="Address ranges of the service (CIDR), e.g. the subnets of a database.")
    service: InClusterService | None = Field(
        default=None, description="The service's pods, when it runs in another namespace of the cluster.")
    open: bool = Field(
        default=False, description="Any address, on the service's ports only: an explicit opt-in for endpoints whose "
                                   "addresses are not fixed (AWS S3 and STS outside a VPC endpoint).")
    ports: list[Port] | None = Field(
        default=None, min_length=1,
        description="TCP ports, when platform.yaml does not show them (a catalog URI from a secret_ref).")

    @model_validator(mode="after")
    def check_one_destination(self) -> Self:
        """Exactly one kind of destination."""
        given = [name for name, value in (("cidrs", self.cidrs), ("service", self.service), ("open", self.open))
                 if value]
        if len(given) != 1:
            raise ValueError("give exactly one of cidrs (address ranges), service (pods of another namespace) and "
                             f"open: true (any address on the service's ports){f'; got {given}' if given else ''}")
        return self


class DnsConfig(FloeModel):
    """The cluster's DNS: the only place tenant pods send DNS queries (UDP and TCP port 53)."""

    namespace: KubernetesName = Field(default="kube-system", description="Namespace of the DNS pods.")
    pod_labels: dict[LabelKey, LabelValue] = Field(
        default_factory=lambda: {"k8s-app": "kube-dns"}, min_length=1,
        description="Labels of the DNS pods (CoreDNS and kube-dns carry k8s-app: kube-dns on kind, EKS, GKE and AKS).")
    cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Addresses answering DNS besides those pods, e.g. NodeLocal DNSCache's 169.254.20.10/32.")


class TenantNetworkConfig(FloeModel):
    """Where tenant pods may connect beyond the platform's own services (docs/security.md)."""

    dns: DnsConfig = Field(default_factory=DnsConfig, description="The cluster's DNS.")
    egress: dict[EgressService, EgressDestination] = Field(
        default_factory=dict,
        description="Per external service tenant pods use (catalog, object_storage, database, tracing, lineage), "
                    "where it is. Needed for every one whose URL holds a host name rather than an IP address.")
