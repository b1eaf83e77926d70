"""Retention settings: refused where they would expire live data, warned where they do nothing."""

from __future__ import annotations

import pytest

from floe_infra.config import load_pipeline, load_platform
from floe_infra.errors import ConfigError

AWS = """\
storage:
  default: {bucket: acme-platform}
  gold: {bucket: acme-gold%s}
layers:
  gold: {name: gold, storage_ref: gold, namespace: lakehouse.gold, retention_days: 365}
catalogs:
  default: {uri: 'http://polaris:8181/api/catalog', warehouse: lakehouse%s}
%s"""


def problems(path) -> list[tuple[int, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_platform(path, env={})
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_compute_logs_that_would_expire_a_layers_files_are_refused(write_yaml):
    logs = "observability:\n  compute_logs: {storage_ref: gold, prefix: gold/logs/}\n"
    [(line, path, message)] = problems(write_yaml(AWS % ("", "", logs)))
    assert (line, path) == (9, "observability.compute_logs.prefix")
    assert message == ("compute logs ('gold/logs/' in bucket 'acme-gold') overlap layer 'gold' ('gold/'), and compute "
                       "logs expire after 30 days; use a prefix of their own")


def test_compute_logs_without_a_prefix_are_refused_on_an_aws_bucket(write_yaml):
    logs = "observability:\n  compute_logs: {storage_ref: default, prefix: ''}\n"
    [(_, path, message)] = problems(write_yaml(AWS % ("", "", logs)))
    assert path == "observability.compute_logs.prefix"
    assert message.startswith("compute logs expire after compute_logs.retention_days (30) under their prefix, and an "
                              "empty prefix is all of bucket 'acme-platform'")


def test_a_glacier_transition_that_comes_after_noncurrent_removal_is_a_warning(write_yaml):
    loaded = load_platform(write_yaml(AWS % (", lifecycle: {transition_to_glacier: 90}", "", "")), env={})
    assert [(w.path, w.message.split(",")[0]) for w in loaded.warnings] == [
        ("storage.gold.lifecycle.transition_to_glacier",
         "archives only noncurrent object versions")]


def test_a_retention_no_job_can_enforce_is_a_warning(write_yaml):
    catalog_elsewhere = "deployment:\n  services:\n    catalog: {deploy: false}\n"
    loaded = load_platform(write_yaml(AWS % ("", ", type: glue", catalog_elsewhere)), env={})
    [warning] = loaded.warnings
    assert warning.path == "layers.gold.retention_days"
    assert "its catalog 'default' is of type glue, which the job cannot reach" in warning.message


@pytest.mark.parametrize(("service", "message"), [
    ("{schedule: 'every night'}", "is not a Kubernetes CronJob schedule"),
    ("{image_repository: 'Registry/Floe:1.0'}", "is not an image repository"),
])
def test_maintenance_settings_are_validated(write_yaml, service, message):
    text = AWS % ("", "", f"deployment:\n  services:\n    maintenance: {service}\n")
    [(_, path, found)] = problems(write_yaml(text))
    assert path.startswith("deployment.services.maintenance.")
    assert message in found


TABLE = """\
name: sales
version: "1.0.0"
tables:
  - name: orders
    layer: gold
    columns: [{name: id, type: long}, {name: at, type: %s}]
    partition_by: [{column: %s, transform: "%s"}]
    properties: {floe.retention.column: at}
"""


@pytest.mark.parametrize(("column_type", "partition", "transform", "message"), [
    ("string", "at", "identity", "it must name a top-level date, timestamp, timestamptz column of the table"),
    ("timestamptz", "id", "identity", "but partition_by has no day, hour, identity, month, year partition on it"),
    ("timestamptz", "at", "bucket[4]", "but partition_by has no day, hour, identity, month, year partition on it"),
])
def test_row_retention_needs_a_time_partition_column(write_yaml, column_type, partition, transform, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_pipeline(write_yaml(TABLE % (column_type, partition, transform), "floe.yaml"))


def test_row_retention_on_a_day_partitioned_timestamp_is_accepted(write_yaml):
    loaded = load_pipeline(write_yaml(TABLE % ("timestamptz", "at", "day"), "floe.yaml"))
    assert loaded.config.tables[0].properties == {"floe.retention.column": "at"}
