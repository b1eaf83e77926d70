"""A corpus of bad inputs: each is refused with a precise message at the right line and column."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from floe_infra.config import load_configuration, load_pipeline, load_platform
from floe_infra.errors import ConfigError, Problem

STORAGE = """\
version: "1.2.0"
storage:
  default:
    bucket: floe-data
    endpoint: http://minio:9000
catalogs:
  default:
    uri: http://polaris:8181/api/catalog
    warehouse: lakehouse
"""


@dataclass(frozen=True)
class Case:
    """A bad file and the problem it must produce."""

    id: str
    kind: str  # platform | pipeline
    text: str
    line: int
    column: int
    path: str
    message: str


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


CASES = [
    # --- plaintext credentials in platform.yaml -------------------------------------------------
    Case("platform-plaintext-secret-key", "platform", STORAGE + dedent("""
        compute:
          default:
            type: duckdb
            properties:
              aws_secret_access_key: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY
        """), 14, 30, "compute.default.properties.aws_secret_access_key", "holds a plaintext credential"),
    Case("platform-url-with-password", "platform", dedent("""
        storage:
          default:
            bucket: floe-data
            endpoint: http://admin:hunter22@minio:9000
        """), 4, 15, "storage.default.endpoint", "a URL with a user and password"),
    Case("platform-aws-key-id", "platform", STORAGE + dedent("""
        observability:
          attributes:
            owner: AKIAIOSFODNN7EXAMPLE
        """), 12, 12, "observability.attributes.owner", "an AWS access key id"),
    Case("platform-private-key", "platform", STORAGE + dedent("""
        observability:
          attributes:
            cert: "-----BEGIN RSA PRIVATE KEY-----MIIE"
        """), 12, 11, "observability.attributes.cert", "a private key"),
    Case("platform-password-field", "platform", STORAGE + dedent("""
        deployment:
          services:
            database:
              values:
                password: s3cr3t-value
        """), 14, 19, "deployment.services.database.values.password", "plaintext credential"),
    # --- structure and types --------------------------------------------------------------------
    Case("unknown-field-did-you-mean", "platform", dedent("""
        storage:
          default:
            buckt: floe-data
        """), 3, 5, "storage.default.buckt", "unknown field 'buckt'; did you mean 'bucket'?"),
    Case("missing-required-field", "platform", dedent("""
        storage:
          default:
            endpoint: http://minio:9000
        """), 3, 5, "storage.default.bucket", "required field is missing"),
    Case("list-where-mapping-belongs", "platform", dedent("""
        version: "1.2.0"
        storage:
          - bucket-a
          - bucket-b
        """), 3, 3, "storage", "expected a mapping, got a list"),
    Case("mapping-where-string-belongs", "platform", STORAGE + dedent("""
        infrastructure:
          timezone: {zone: UTC}
        """), 11, 13, "infrastructure.timezone", "expected a string, got a mapping"),
    Case("not-a-boolean", "platform", dedent("""
        storage:
          default:
            bucket: floe-data
            path_style_access: maybe
        """), 4, 24, "storage.default.path_style_access", "expected true or false, got 'maybe'"),
    Case("bad-enum", "platform", dedent("""
        catalogs:
          default:
            type: unity
            uri: http://x
            warehouse: w
        """), 3, 11, "catalogs.default.type", "'polaris'"),
    Case("oauth2-without-secret", "platform", dedent("""
        catalogs:
          default:
            uri: http://x
            warehouse: w
            credentials:
              mode: oauth2
              client_id: platform
        """), 6, 7, "catalogs.default.credentials", "mode oauth2 needs client_id and client_secret"),
    # --- names ------------------------------------------------------------------------------------
    Case("bucket-uppercase", "platform", dedent("""
        storage:
          default:
            bucket: Floe_Data
        """), 3, 13, "storage.default.bucket", "breaks the S3 naming rules"),
    Case("bucket-ip-address", "platform", dedent("""
        storage:
          default:
            bucket: 192.168.10.1
        """), 3, 13, "storage.default.bucket", "not look like an IP address"),
    Case("secret-ref-not-rfc1123", "platform", dedent("""
        storage:
          default:
            bucket: floe-data
            credentials:
              secret_ref: S3_Credentials
        """), 5, 19, "storage.default.credentials.secret_ref", "not a valid Kubernetes Secret name"),
    Case("namespace-not-rfc1123", "platform", STORAGE + dedent("""
        deployment:
          namespace: Floe_Platform
        """), 11, 14, "deployment.namespace", "not a valid Kubernetes name (RFC 1123 label)"),
    Case("layer-namespace-without-warehouse", "platform", STORAGE + dedent("""
        layers:
          bronze:
            name: bronze
            storage_ref: default
            namespace: bronze
        """), 14, 16, "layers.bronze.namespace", "must start with the catalog's warehouse"),
    Case("layer-namespace-not-identifier", "platform", STORAGE + dedent("""
        layers:
          bronze:
            name: bronze
            storage_ref: default
            namespace: lakehouse.raw-data
        """), 14, 16, "layers.bronze.namespace", "'raw-data' is not a valid Iceberg identifier"),
    # --- versions ---------------------------------------------------------------------------------
    Case("unsupported-version", "platform", 'version: "2.0.0"\n', 1, 10, "version",
         "platform.yaml version 2.0.0 is not supported; floe-infra reads 1.0.x, 1.1.x, 1.2.x"),
    Case("version-not-semver", "platform", 'version: "1.2"\n', 1, 10, "version", "is not a semantic version"),
    # --- cross references inside platform.yaml ----------------------------------------------------
    Case("layer-storage-ref-missing", "platform", STORAGE + dedent("""
        layers:
          bronze:
            name: bronze
            storage_ref: bronze
            namespace: lakehouse.bronze
        """), 13, 18, "layers.bronze.storage_ref", "storage profile 'bronze' does not exist (known: default)"),
    Case("layer-wrong-warehouse", "platform", STORAGE + dedent("""
        layers:
          bronze:
            name: bronze
            storage_ref: default
            namespace: other.bronze
        """), 14, 16, "layers.bronze.namespace", "must start with the warehouse of catalog 'default' ('lakehouse.')"),
    Case("tenant-unknown-layer", "platform", STORAGE + dedent("""
        layers:
          bronze: {name: bronze, storage_ref: default, namespace: lakehouse.bronze}
        deployment:
          tenants:
            sales:
              writes: [bronze, platinum]
        """), 15, 24, "deployment.tenants.sales.writes[1]", "layer 'platinum' does not exist (known: bronze)"),
    Case("resource-profile-missing", "platform", STORAGE + dedent("""
        deployment:
          services:
            catalog:
              resource_profile: huge
        """), 13, 25, "deployment.services.catalog.resource_profile", "resource profile 'huge' is not in"),
    # --- infrastructure values ----------------------------------------------------------------------
    Case("timezone-unknown", "platform", STORAGE + dedent("""
        infrastructure:
          timezone: Mars/Olympus
        """), 11, 13, "infrastructure.timezone", "'Mars/Olympus' is not an IANA timezone"),
    Case("quota-not-a-quantity", "platform", STORAGE + dedent("""
        infrastructure:
          lifecycle:
            resource_quotas:
              namespace_limits:
                limits_memory: lots
        """), 14, 24, "infrastructure.lifecycle.resource_quotas.namespace_limits.limits_memory",
         "'lots' is not a Kubernetes quantity"),
    Case("nodeport-out-of-range", "platform", STORAGE + dedent("""
        infrastructure:
          network:
            local_access:
              ports:
                dagster: 3000
        """), 14, 18, "infrastructure.network.local_access.ports.dagster", "greater than or equal to 30000"),
    Case("nodeport-twice", "platform", STORAGE + dedent("""
        infrastructure:
          network:
            local_access:
              ports:
                dagster: 30400
        """), 14, 9, "infrastructure.network.local_access.ports", "NodePort 30400 is used by both dagster and cube"),
    # --- YAML level ---------------------------------------------------------------------------------
    Case("duplicate-key", "platform", dedent("""
        storage:
          default:
            bucket: floe-data
            bucket: floe-other
        """), 4, 5, "storage.default.bucket", "duplicate key 'bucket' (first defined at line 3)"),
    # At the quote left open, not at the end of the file where libyaml notices it.
    Case("syntax-error", "platform", dedent("""
        storage:
          default:
            bucket: "floe-data
        """), 3, 13, "", "YAML syntax error"),
    Case("syntax-error-hint", "platform", dedent("""
        storage:
          default:
            bucket: "floe-data
        """), 3, 13, "", "a quote or bracket is not closed"),
    # At the key without its ':', not on the next line where libyaml notices it.
    Case("key-without-colon", "pipeline", "name: sales\nversion 1.0.0\ncompute: default\n", 2, 1, "",
         "YAML syntax error: while scanning a simple key could not find expected ':'; each key needs ': ' after it"),
    Case("unclosed-flow-list", "pipeline", "name: sales\ntransforms: [a, b\ncompute: default\n", 2, 13, "",
         "a [flow, list] needs commas between items and a closing ']'"),
    Case("tab-indentation-hint", "platform", "storage:\n\tdefault: {bucket: floe-data}\n", 2, 1, "",
         "indent with spaces (YAML forbids tabs)"),
    Case("colon-in-value-hint", "pipeline", "name: sales\nversion: 1.0.0\ntransforms: x: y\n", 3, 14, "",
         "a value holding ': ' must be quoted"),
    # --- URLs, names and keys: one rule per concept -------------------------------------------------
    Case("endpoint-without-scheme", "platform", STORAGE.replace("http://minio:9000", "floe-minio:9000"), 5, 15,
         "storage.default.endpoint", "'floe-minio:9000' is not an http(s) URL: write it as http(s)://host[:port]"),
    Case("uri-with-typo", "platform", STORAGE.replace("http://polaris:8181", "htp//polaris:8181"), 8, 10,
         "catalogs.default.uri", "'htp//polaris:8181/api/catalog' is not an http(s) URL"),
    Case("management-url-without-scheme", "platform", STORAGE + dedent("""
        deployment:
          services:
            catalog: {management_url: "localhost:30181"}
        """), 12, 31, "deployment.services.catalog.management_url",
         "did you mean 'http://localhost:30181'?"),
    Case("otlp-endpoint-without-scheme", "platform", STORAGE + "observability: {otlp_endpoint: collector:4317}\n",
         10, 32, "observability.otlp_endpoint", "'collector:4317' is not an http(s) URL"),
    Case("pipeline-name-with-underscore", "pipeline", "name: Sales_Orders\nversion: 1.0.0\n", 1, 7, "name",
         "'Sales_Orders' is not a valid pipeline name"),
    Case("tenant-name-with-underscore", "platform", STORAGE + "deployment:\n  tenants:\n    Sales_Orders: {}\n",
         12, 5, "deployment.tenants.Sales_Orders", "'Sales_Orders' is not a valid pipeline name"),
    Case("pipeline-name-too-long", "pipeline", f"name: {'a' * 49}\nversion: 1.0.0\n", 1, 7, "name",
         "at most 48 lowercase letters"),
    Case("private-key-as-public-key", "platform",
         STORAGE + "deployment:\n  tenants:\n    sales:\n      public_key: floe-tenant-private-key:"
         + "A" * 43 + "=\n", 13, 19, "deployment.tenants.sales.public_key",
         "this is a tenant's private key, not its public key"),
    Case("empty-file", "platform", "", 1, 1, "", "file is empty"),
    Case("root-is-a-list", "platform", "- a\n- b\n", 1, 1, "", "the document must be a mapping of fields, not a list"),
    Case("python-tag", "platform", "version: !!python/object:os.system echo\n", 1, 10, "version",
         "unsupported YAML tag tag:yaml.org,2002:python/object:os.system"),
    Case("mapping-as-key", "platform", "? [a, b]\n: value\n", 1, 3, "", "mapping keys must be plain strings"),
    Case("env-var-unset", "platform", dedent("""
        storage:
          default:
            bucket: ${FLOE_TEST_UNSET_BUCKET}
        """), 3, 13, "storage.default.bucket", "environment variable FLOE_TEST_UNSET_BUCKET is not set"),
    # --- floe.yaml ----------------------------------------------------------------------------------
    Case("pipeline-password-key", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        compute: default
        orchestration:
          jobs:
            load:
              type: ops
              target_function: sales.ops.load
              args:
                password: "12345678"
        """), 10, 9, "orchestration.jobs.load.args.password", "'password' is a credential; floe.yaml holds none"),
    Case("pipeline-secret-ref", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        catalog:
          secret_ref: catalog-credentials
        """), 4, 3, "catalog.secret_ref", "'secret_ref' is a credential; floe.yaml holds none"),
    Case("pipeline-connection-string", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        observability:
          attributes:
            db: "host=db;user=app;password=letmein"
        """), 5, 9, "observability.attributes.db", "a connection string with a password"),
    Case("pipeline-aws-key-in-args", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        orchestration:
          jobs:
            load:
              type: ops
              target_function: sales.ops.load
              args: {key: ASIAIOSFODNN7EXAMPLE}
        """), 8, 19, "orchestration.jobs.load.args.key", "an AWS access key id"),
    Case("pipeline-endpoint-field", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        observability:
          otlp_endpoint: http://jaeger:4317
        """), 4, 3, "observability.otlp_endpoint", "unknown field 'otlp_endpoint'"),
    Case("pipeline-version-not-semver", "pipeline", 'name: sales\nversion: "one"\n', 2, 10, "version",
         "'one' is not a semantic version"),
    Case("pipeline-schedule-unknown-job", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        orchestration:
          jobs:
            load: {type: batch, selection: ["group:bronze"]}
          schedules:
            nightly: {job: loda, cron_schedule: "0 2 * * *"}
        """), 7, 20, "orchestration.schedules.nightly.job", "job 'loda' does not exist (known: load)"),
    Case("pipeline-bad-cron", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        orchestration:
          jobs:
            load: {type: batch, selection: ["group:bronze"]}
          schedules:
            nightly: {job: load, cron_schedule: "every night"}
        """), 7, 41, "orchestration.schedules.nightly.cron_schedule", "is not a cron expression"),
    Case("table-unknown-type", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        tables:
          - name: orders
            layer: bronze
            columns:
              - {name: id, type: varchar}
        """), 7, 26, "tables[0].columns[0].type", "'varchar' is not an Iceberg type"),
    Case("table-decimal-scale", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        tables:
          - name: orders
            layer: bronze
            columns:
              - {name: amount, type: "decimal(4,6)"}
        """), 7, 30, "tables[0].columns[0].type", "scale at most the precision"),
    Case("table-struct-without-fields", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        tables:
          - name: orders
            layer: bronze
            columns:
              - {name: address, type: struct}
        """), 7, 9, "tables[0].columns[0]", "type struct needs fields"),
    Case("table-partition-unknown-column", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        tables:
          - name: orders
            layer: bronze
            columns:
              - {name: id, type: long}
            partition_by:
              - {column: created_at, transform: day}
        """), 4, 5, "tables[0]", "partition column 'created_at' is not a column of the table"),
    Case("table-bad-transform", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        tables:
          - name: orders
            layer: bronze
            columns:
              - {name: id, type: long}
            partition_by:
              - {column: id, transform: "bucket[0]"}
        """), 9, 33, "tables[0].partition_by[0].transform", "at least 1"),
    Case("table-declared-twice", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        tables:
          - {name: orders, layer: bronze, columns: [{name: id, type: long}]}
          - {name: orders, layer: bronze, columns: [{name: id, type: int}]}
        """), 5, 12, "tables[1].name", "table 'orders' is declared twice in layer 'bronze'"),
    Case("table-renamed-from-a-declared-table", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        tables:
          - {name: orders, layer: bronze, columns: [{name: id, type: long}]}
          - {name: purchases, layer: bronze, renamed_from: orders, columns: [{name: id, type: long}]}
        """), 5, 52, "tables[1].renamed_from", "table 'orders' is still declared in layer 'bronze': a table can only "
                                               "be renamed from a name floe.yaml no longer declares"),
    Case("table-renamed-twice-from-one-table", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        tables:
          - {name: purchases, layer: bronze, renamed_from: orders, columns: [{name: id, type: long}]}
          - {name: sales, layer: bronze, renamed_from: orders, columns: [{name: id, type: long}]}
        """), 5, 48, "tables[1].renamed_from", "tables 'purchases' and 'sales' are both renamed from 'orders'"),
    Case("table-change-types-opt-in", "pipeline", dedent("""
        name: sales
        version: "1.0.0"
        tables:
          - name: orders
            layer: bronze
            columns: [{name: id, type: long}]
            allow_breaking_changes: [change_types]
        """), 7, 29, "tables[0].allow_breaking_changes", "change_types is not an opt-in any more"),
]


def problems_of(case: Case, write_yaml) -> list[Problem]:
    path = write_yaml(case.text)
    load = (lambda: load_platform(path, env={})) if case.kind == "platform" else (lambda: load_pipeline(path))
    with pytest.raises(ConfigError) as caught:
        load()
    for problem in caught.value.problems:
        assert problem.file == path
    return caught.value.problems


def test_the_corpus_covers_at_least_25_inputs():
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_refused_with_location_and_message(case: Case, write_yaml):
    problems = problems_of(case, write_yaml)
    matching = [p for p in problems if case.message in p.message]
    assert matching, f"no problem says {case.message!r}; got: {[str(p) for p in problems]}"
    problem = matching[0]
    assert (problem.line, problem.column, problem.path) == (case.line, case.column, case.path), str(problem)


def test_problem_renders_as_file_line_column_path_message(write_yaml):
    path = write_yaml("storage:\n  default:\n    bucket: A\n")
    with pytest.raises(ConfigError) as caught:
        load_platform(path)
    assert str(caught.value.problems[0]).startswith(f"{path}:3:13: storage.default.bucket: bucket 'A' breaks")


# --- cross-file checks ---------------------------------------------------------------------------

PLATFORM_WITH_TENANT = STORAGE + dedent("""
    compute:
      default: {type: duckdb}
    layers:
      bronze: {name: bronze, storage_ref: default, namespace: lakehouse.bronze}
      silver: {name: silver, storage_ref: default, namespace: lakehouse.silver}
    deployment:
      services:
        object_storage: {deploy: true}
      tenants:
        sales:
          writes: [bronze]
          reads: []
    """)


def cross_problems(write_yaml, pipeline_text: str) -> list[Problem]:
    platform = write_yaml(PLATFORM_WITH_TENANT, "platform.yaml")
    pipeline = write_yaml(dedent(pipeline_text), "floe.yaml")
    with pytest.raises(ConfigError) as caught:
        load_configuration(platform, [pipeline], env={})
    return caught.value.problems


def test_pipeline_profile_must_exist_on_the_platform(write_yaml):
    problems = cross_problems(write_yaml, """
        name: sales
        version: "1.0.0"
        compute: snowflake
        """)
    assert [(p.line, p.column, p.path, p.message) for p in problems] == [
        (3, 10, "compute", "compute profile 'snowflake' is not defined by the platform (known: default)")]


def test_pipeline_must_be_a_tenant_of_the_platform(write_yaml):
    problems = cross_problems(write_yaml, 'name: marketing\nversion: "1.0.0"\n')
    assert [(p.line, p.column, p.path) for p in problems] == [(1, 7, "name")]
    assert "not a tenant of the platform (known: sales)" in problems[0].message
    assert "deployment.tenants.marketing" in problems[0].message


def test_service_account_must_match_the_tenant(write_yaml):
    problems = cross_problems(write_yaml, 'name: sales\nversion: "1.0.0"\nservice_account: admin\n')
    assert [(p.line, p.column, p.path) for p in problems] == [(3, 18, "service_account")]
    assert "which is 'sales'" in problems[0].message


def test_table_layer_must_exist_and_be_writable(write_yaml):
    problems = cross_problems(write_yaml, """
        name: sales
        version: "1.0.0"
        tables:
          - {name: a, layer: platinum, columns: [{name: id, type: long}]}
          - {name: b, layer: silver, columns: [{name: id, type: long}]}
        """)
    assert [(p.line, p.path, p.message) for p in problems] == [
        (4, "tables[0].layer", "layer 'platinum' does not exist on the platform (known: bronze, silver)"),
        (5, "tables[1].layer", "tenant 'sales' may not write layer 'silver' on the platform (it writes: bronze)"),
    ]


def test_problems_of_several_files_are_reported_together(write_yaml, tmp_path: Path):
    platform = write_yaml("storage:\n  default:\n    bucket: X\n", "platform.yaml")
    pipeline = write_yaml('name: 1sales\nversion: "1.0.0"\n', "floe.yaml")
    with pytest.raises(ConfigError) as caught:
        load_configuration(platform, [pipeline], env={})
    assert {p.file.name for p in caught.value.problems} == {"platform.yaml", "floe.yaml"}
