"""Tenants as an attacker would declare them: reserved names, names that collide, layers inside layers,
names with a trailing newline, names without end, and tenants that forgot what they may touch."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent, indent

import pytest

from floe_infra.config.loader import load_configuration, load_platform
from floe_infra.config.tenancy import resolve_tenants, storage_grants
from floe_infra.errors import ConfigError, Problem
from floe_infra.polaris.grants import plan_governance

PLATFORM = dedent("""\
    version: "1.2.0"
    storage:
      default: {bucket: floe-data, endpoint: http://minio:9000}
    catalogs:
      default: {uri: http://polaris:8181/api/catalog, warehouse: lakehouse}
    compute:
      default: {type: duckdb}
    layers:
      bronze: {name: bronze, storage_ref: default, namespace: lakehouse.bronze}
      silver: {name: silver, storage_ref: default, namespace: lakehouse.silver}
      gold: {name: gold, storage_ref: default, namespace: lakehouse.gold}
    deployment:
      services:
        object_storage: {deploy: true}
      tenants:
    """)


DEMO_LAYERS = PLATFORM.split("layers:\n", 1)[1].split("deployment:")[0]


def platform_with(write_yaml, tenants: str, layers: str | None = None) -> Path:
    """PLATFORM with these tenants (one per line, as under `tenants:`) and, optionally, these layers."""
    text = PLATFORM + indent(dedent(tenants).strip() + "\n", "    ")
    if layers is not None:
        text = text.replace(DEMO_LAYERS, indent(dedent(layers).strip() + "\n", "  "))
    return write_yaml(text, "platform.yaml")


def problems(path: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_platform(path, env={})
    return caught.value.problems


def messages(path: Path) -> list[str]:
    return [f"{p.line}:{p.path}: {p.message}" for p in problems(path)]


# --- reserved names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("tenant", "field", "value"), [
    ("sales", "service_account", "root"),  # governance would rotate root's secret
    ("sales", "service_account", "Root"),
    ("sales", "principal_role", "service_admin"),  # the tenant would become service admin
    ("sales", "principal_role", "service-admin"),
])
def test_polaris_built_in_names_are_refused_at_the_field(write_yaml, tenant: str, field: str, value: str):
    path = platform_with(write_yaml, f"""
        {tenant}:
          {field}: {value}
          writes: [gold]
          reads: []
        """)
    found = [p for p in problems(path) if "reserved" in p.message]
    assert [(p.line, p.path) for p in found] == [(17, f"deployment.tenants.{tenant}.{field}")]
    assert f"'{value}' is Polaris' own" in found[0].message


def test_a_tenant_named_root_is_refused_even_with_its_defaults(write_yaml):
    found = messages(platform_with(write_yaml, "root: {writes: [], reads: []}\n"))
    assert found == ["16:deployment.tenants.root: 'root' is Polaris' own principal and reserved: a tenant using it "
                     "would take over or lock out catalog governance; choose another service_account"]


def test_tenant_names_of_the_platforms_own_objects_are_refused(write_yaml):
    # `floe-dagster`'s environment ConfigMap would be the platform's Dagster environment, `floe`'s storage Secret
    # the platform's storage key.
    found = messages(platform_with(write_yaml, "floe: {writes: [], reads: []}\n"
                                               "floe-dagster: {writes: [], reads: []}\n"))
    assert [m.split(":")[1] for m in found] == ["deployment.tenants.floe", "deployment.tenants.floe-dagster"]
    assert all("are reserved: the platform's own objects are named so" in m for m in found)


# --- collisions after normalisation ------------------------------------------------------------------


def test_tenants_sharing_a_writer_role_after_normalisation_are_refused(write_yaml):
    # a-b writing layer c and a writing layer b_c would both get catalog role tenant_a_b_c_writer.
    path = platform_with(write_yaml, """
        a-b: {writes: [c], reads: []}
        a: {writes: [b_c], reads: []}
        """, layers="""\
        c: {name: c, storage_ref: default, namespace: lakehouse.c}
        b_c: {name: b_c, storage_ref: default, namespace: lakehouse.b_c}
        """)
    found = messages(path)
    assert found == ["16:deployment.tenants.a.writes: its writer role for layer 'b_c' 'tenant_a_b_c_writer' collides "
                     "with its writer role for layer 'c' of tenant 'a-b' (names are compared without case and '-' vs "
                     "'_'); rename one of them"]


@pytest.mark.parametrize(("second", "what"), [
    ("sales-eu: {service_account: Sales, writes: [], reads: []}", "its service_account 'Sales'"),
    ("sales-eu: {principal_role: SALES, writes: [], reads: []}", "its principal_role 'SALES'"),
    ("sales-eu: {namespace: Sales, writes: [], reads: []}", "its namespace 'Sales'"),
])
def test_principals_roles_and_namespaces_differing_only_in_case_or_dashes_are_refused(write_yaml, second: str,
                                                                                         what: str):
    found = messages(platform_with(write_yaml, f"sales: {{writes: [], reads: []}}\n{second}\n"))
    assert [m for m in found if f"{what} collides with" in m and "of tenant 'sales'" in m], found


@pytest.mark.parametrize("storage", [
    "default: {bucket: floe-data, endpoint: http://minio:9000, credentials: {secret_ref: sales-s3-credentials}}",
    "default: {bucket: floe-data, endpoint: {secret_ref: sales-s3-credentials}}",
])
def test_a_tenant_secret_named_like_a_secret_the_platform_references_is_refused(write_yaml, storage: str):
    # The tenant's storage Secret would overwrite (or be overwritten by) the platform's own Secret of that name,
    # wherever in platform.yaml it is referenced: a profile's credentials or an endpoint given as a secret_ref.
    text = PLATFORM.replace("default: {bucket: floe-data, endpoint: http://minio:9000}", storage)
    found = messages(write_yaml(text + "    sales: {writes: [gold], reads: []}\n", "platform.yaml"))
    assert "16:deployment.tenants.sales: its storage credentials Secret 'sales-s3-credentials' collides with " \
           "Secret 'sales-s3-credentials' of the platform (names are compared without case and '-' vs '_'); " \
           "rename one of them" in found, found


def test_a_layer_listed_twice_is_refused(write_yaml):
    found = messages(platform_with(write_yaml, "sales: {writes: [gold, gold], reads: []}\n"))
    assert found == ["16:deployment.tenants.sales.writes[1]: layer 'gold' is listed twice"]


# --- layers inside layers ----------------------------------------------------------------------------


def test_a_layer_namespace_inside_another_is_refused(write_yaml):
    # Tenant `gold` writing silver would own silver.gold: the whole gold layer.
    path = platform_with(write_yaml, "gold: {writes: [silver], reads: []}\n", layers="""\
        silver: {name: silver, storage_ref: default, namespace: lakehouse.silver}
        gold: {name: gold, storage_ref: default, namespace: lakehouse.silver.gold}
        """)
    found = [m for m in messages(path) if "lies inside" in m]
    assert found == ["10:layers.gold.namespace: the namespace of layer 'gold' lies inside the namespace of layer "
                     "'silver': a tenant's namespace in 'silver' could be 'gold', and readers of 'silver' would read "
                     "it; give each layer a namespace of its own beside the others (e.g. lakehouse.silver, "
                     "lakehouse.gold)"]


def test_layers_sharing_a_storage_prefix_in_one_bucket_are_refused(write_yaml):
    write_yaml("", "unused.yaml")
    text = PLATFORM.replace("catalogs:\n", "catalogs:\n  other: {uri: http://p:8181/api/catalog, warehouse: other}\n")
    text = text.replace("gold: {name: gold, storage_ref: default, namespace: lakehouse.gold}",
                        "gold: {name: gold, storage_ref: default, catalog_ref: other, namespace: other.bronze}")
    found = messages(write_yaml(text + "    sales: {writes: [], reads: []}\n", "platform.yaml"))
    assert any("keep their data under overlapping prefixes ('bronze/', 'bronze/') of bucket 'floe-data'" in m
               for m in found), found


# --- whole-string patterns and bounded lengths -------------------------------------------------------


@pytest.mark.parametrize(("where", "text"), [
    ("tenant name", 'tenants:\n    "sales\\n": {writes: [], reads: []}\n'),
    ("service_account", 'tenants:\n    sales: {service_account: "sales\\n", writes: [], reads: []}\n'),
    ("namespace", 'tenants:\n    sales: {namespace: "sales\\n", writes: [], reads: []}\n'),
])
def test_a_trailing_newline_does_not_pass_a_name_rule(write_yaml, where: str, text: str):
    path = write_yaml(PLATFORM.replace("tenants:\n", text), "platform.yaml")
    assert problems(path), where


def test_names_are_bounded(write_yaml):
    long = "a" * 64
    path = platform_with(write_yaml, f"sales: {{service_account: {long}, writes: [], reads: []}}\n")
    assert any("is longer than 63 characters" in p.message for p in problems(path))


# --- least privilege by default ----------------------------------------------------------------------


def test_a_tenant_without_writes_or_reads_gets_nothing_and_a_warning(write_yaml):
    loaded = load_platform(platform_with(write_yaml, "sales: {}\n"), env={})
    tenant = resolve_tenants(loaded.config)["sales"]
    assert (tenant.writes, tenant.reads) == ((), ())
    plan = plan_governance(loaded.config)
    [tenant_plan] = plan.tenants
    assert tenant_plan.catalog_roles == ()
    assert not [role for role in plan.roles if role.name.startswith("tenant_sales")]
    assert [g.access for g in storage_grants(loaded.config, tenant)] == ["put"]  # its runs' compute logs only
    assert [(w.line, w.path, w.message) for w in loaded.warnings] == [
        (16, "deployment.tenants.sales", "tenant 'sales' sets no writes, so it writes no layer (least privilege); "
                                         "list the layers it writes, or write `writes: []` to say none on purpose"),
        (16, "deployment.tenants.sales", "tenant 'sales' sets no reads, so it reads no layer (least privilege); "
                                         "list the layers it reads, or write `reads: []` to say none on purpose")]


def test_an_explicit_empty_list_is_not_warned_about(write_yaml):
    assert load_platform(platform_with(write_yaml, "sales: {writes: [], reads: []}\n"), env={}).warnings == ()


def test_validate_prints_the_warning(write_yaml, capsys):
    from floe_infra.cli import main

    assert main(["validate", "--platform", str(platform_with(write_yaml, "sales: {reads: [gold]}\n"))]) == 0
    assert "warning: " in capsys.readouterr().err


# --- storage: no tenant holds the platform's key --------------------------------------------------------


def test_a_tenant_on_storage_floe_infra_cannot_scope_is_refused(write_yaml):
    path = platform_with(write_yaml, "sales: {writes: [gold], reads: []}\n")
    path.write_text(path.read_text().replace("object_storage: {deploy: true}", "object_storage: {deploy: false}"))
    [message] = messages(path)
    assert "never hands a tenant the platform's storage key" in message


def test_a_tenant_on_aws_needs_the_clusters_oidc_provider(write_yaml):
    text = PLATFORM.replace("default: {bucket: floe-data, endpoint: http://minio:9000}",
                            "default: {bucket: floe-data, credentials: {mode: iam_role, role_arn: "
                            "'arn:aws:iam::123456789012:role/floe'}}").replace("object_storage: {deploy: true}",
                                                                                "object_storage: {deploy: false}")
    # (Where its pods reach S3 is declared, so that the only problem left is the missing provider.)
    text = text.replace("  tenants:\n", "  tenant_network: {egress: {object_storage: {open: true}}}\n  tenants:\n")
    [message] = messages(write_yaml(text + "    sales: {writes: [gold], reads: []}\n", "platform.yaml"))
    assert "needs deployment.workload_identity.oidc_provider_arn" in message


def test_compute_logs_inside_a_layer_are_refused(write_yaml):
    text = PLATFORM + "    sales: {writes: [gold], reads: []}\nobservability:\n  compute_logs: {prefix: gold/logs/}\n"
    found = messages(write_yaml(text, "platform.yaml"))
    assert any("overlap layer 'gold'" in m for m in found), found


# --- a pipeline's table locations ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "s3://floe-data/gold/other_team/",  # another tenant's prefix
    "s3://floe-data/gold/sales/../other_team/t",  # climbing out
    "s3://floe-data/gold/sales_eu/t",  # a prefix that merely starts alike
    "s3a://floe-data/gold/sales/t",  # another scheme for the same place
    "s3://floe-data/gold/sales/%2e%2e/other_team",  # an escape
    "file:///etc/floe",
])
def test_table_location_properties_outside_the_tenants_prefix_are_refused(write_yaml, value: str):
    platform = platform_with(write_yaml, "sales: {writes: [gold], reads: []}\n")
    pipeline = write_yaml(dedent(f"""\
        name: sales
        version: "1.0.0"
        tables:
          - name: orders
            layer: gold
            columns: [{{name: id, type: long}}]
            properties: {{write.data.path: "{value}"}}
        """), "floe.yaml")
    with pytest.raises(ConfigError) as caught:
        load_configuration(platform, [pipeline], env={})
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (7, "tables[0].properties.write.data.path")
    assert "must stay inside the tenant's own location in layer 'gold' (s3://floe-data/gold/sales/)" in problem.message


def test_a_table_location_inside_the_tenants_prefix_is_accepted(write_yaml):
    platform = platform_with(write_yaml, "sales: {writes: [gold], reads: []}\n")
    pipeline = write_yaml(dedent("""\
        name: sales
        version: "1.0.0"
        tables:
          - name: orders
            layer: gold
            columns: [{name: id, type: long}]
            properties: {write.data.path: "s3://floe-data/gold/sales/orders/data", write.format.default: parquet}
        """), "floe.yaml")
    load_configuration(platform, [pipeline], env={})


def test_a_table_named_with_a_trailing_newline_is_refused(write_yaml):
    # `orders\n` passed a `^...$` rule and was created as such.
    from floe_infra.config.loader import load_pipeline

    path = write_yaml('name: sales\nversion: "1.0.0"\ntables:\n  - name: "orders\\n"\n    layer: gold\n'
                      "    columns: [{name: id, type: long}]\n", "floe.yaml")
    with pytest.raises(ConfigError, match=r"tables\[0\]\.name: 'orders\n' is not a valid Iceberg identifier"):
        load_pipeline(path)
