"""Where tenant pods may connect outside the platform namespace: declared, or refused at the endpoint's line."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent, indent

import pytest

from floe_infra.config.egress import egress_destination, tenant_external_endpoints
from floe_infra.config.loader import load_platform
from floe_infra.config.tenancy import resolve_tenants
from floe_infra.errors import ConfigError, Problem

# A platform whose tenant uses an external database (Dagster's instance database) and an external collector.
PLATFORM = dedent("""\
    version: "1.2.0"
    storage:
      default: {bucket: floe-data, endpoint: http://minio:9000}
    catalogs:
      default: {uri: http://polaris:8181/api/catalog, warehouse: lakehouse}
    compute:
      default: {type: duckdb}
    layers:
      gold: {name: gold, storage_ref: default, namespace: lakehouse.gold}
    observability:
      otlp_endpoint: http://otel-collector.observability.svc.cluster.local:4317
    deployment:
      services:
        object_storage: {deploy: true}
        tracing: {deploy: false}
        database: {deploy: false, host: db.example.com, admin_secret_ref: floe-db-admin}
      tenants:
        sales: {writes: [gold], reads: [gold]}
    """)


def platform_with(write_yaml, network: str = "", text: str = PLATFORM) -> Path:
    """The platform with `deployment.tenant_network` set to `network` (YAML under that key)."""
    if network:
        text = text + "  tenant_network:\n" + indent(dedent(network).strip() + "\n", "    ")
    return write_yaml(text, "platform.yaml")


def problems(path: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_platform(path, env={})
    return caught.value.problems


def test_an_external_endpoint_without_a_destination_is_refused_at_its_line(write_yaml):
    found = {(p.line, p.path): p.message for p in problems(platform_with(write_yaml))}
    assert sorted(found) == [(11, "observability.otlp_endpoint"), (16, "deployment.services.database.host")]
    database = found[(16, "deployment.services.database.host")]
    assert database.startswith("tenant pods reach the external database db.example.com:5432; a NetworkPolicy matches "
                               "addresses, which platform.yaml does not give for it: declare where it is under "
                               "deployment.tenant_network.egress.database")
    assert "allow any address on port 5432 on purpose with `open: true`" in database


def test_declared_destinations_are_what_the_policy_allows(write_yaml):
    path = platform_with(write_yaml, """
        egress:
          database: {cidrs: [10.20.32.0/20, 10.20.48.0/20]}
          tracing: {service: {namespace: observability, pod_labels: {app.kubernetes.io/name: otel-collector}}}
        """)
    platform = load_platform(path, env={}).config
    [sales] = resolve_tenants(platform).values()
    destinations = {e.service: egress_destination(platform, e) for e in tenant_external_endpoints(platform, sales)}
    assert destinations["database"].cidrs == ["10.20.32.0/20", "10.20.48.0/20"]
    assert destinations["tracing"].service.pod_labels == {"app.kubernetes.io/name": "otel-collector"}


@pytest.mark.parametrize(("network", "path", "message"), [
    ("egress: {database: {cidrs: [10.0.0.0/8], open: true}, tracing: {open: true}}",
     "deployment.tenant_network.egress.database",
     "give exactly one of cidrs (address ranges), service (pods of another namespace) and open: true"),
    ("egress: {database: {cidrs: [0.0.0.0/0]}, tracing: {open: true}}",
     "deployment.tenant_network.egress.database.cidrs[0]",
     "'0.0.0.0/0' is every address: allow any address on purpose with `open: true` instead"),
    ("egress: {database: {cidrs: [10.0.0.1/8]}, tracing: {open: true}}",
     "deployment.tenant_network.egress.database.cidrs[0]", "'10.0.0.1/8' is not a network in CIDR notation"),
    ("egress: {database: {open: true}, tracing: {service: {namespace: obs, pod_labels: {'-bad': x}}}}",
     "deployment.tenant_network.egress.tracing.service.pod_labels.-bad", "'-bad' is not a Kubernetes label key"),
    ("egress: {database: {open: true}, tracing: {open: true}, object_storage: {open: true}}",
     "deployment.tenant_network.egress.object_storage",
     "the platform deploys its object storage in its namespace, where tenant pods reach it by its pods' labels: "
     "remove this entry"),
    ("egress: {database: {open: true}, tracing: {open: true}, cache: {open: true}}",
     "deployment.tenant_network.egress.cache", "input should be 'catalog', 'object_storage', 'database'"),
])
def test_a_destination_says_exactly_one_thing_and_names_only_external_services(write_yaml, network: str, path: str,
                                                                                message: str):
    found = problems(platform_with(write_yaml, network))
    assert [p.path for p in found] == [path]
    assert message in found[0].message


def test_an_external_catalog_behind_a_secret_ref_needs_its_ports(write_yaml):
    text = PLATFORM.replace("uri: http://polaris:8181/api/catalog", "uri: {secret_ref: floe-catalog-uri}").replace(
        "    object_storage: {deploy: true}\n", "    object_storage: {deploy: true}\n    catalog: {deploy: false}\n")
    assert "catalog: {deploy: false}" in text
    network = "egress: {database: {open: true}, tracing: {open: true}, catalog: {cidrs: [10.9.0.0/16]}}"
    [problem] = problems(platform_with(write_yaml, network, text))
    assert problem.path == "catalogs.default.uri"
    assert "on ports platform.yaml does not show: list them under deployment.tenant_network.egress.catalog.ports" \
        in problem.message
    fixed = network.replace("cidrs: [10.9.0.0/16]", "cidrs: [10.9.0.0/16], ports: [8181]")
    assert load_platform(platform_with(write_yaml, fixed, text), env={})


def test_a_platform_without_tenants_needs_no_destination(write_yaml):
    text = PLATFORM.replace("  tenants:\n    sales: {writes: [gold], reads: [gold]}\n", "")
    assert "tenants" not in text
    assert load_platform(write_yaml(text, "platform.yaml"), env={})
