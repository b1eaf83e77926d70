"""Retention over a year and more: the demo prod platform's gold layer and platform bucket, on a local S3.

Real pyiceberg (SqlCatalog) writes tables to moto's S3 under the gold layer's location; then time
passes beyond every period the platform configures (gold's 365 days of retention, 30 days of
noncurrent versions, 90 days of compute logs, 7 days for uploads, 72 hours of grace): the table
maintenance job runs with the plan the platform stack writes into its ConfigMap, and the bucket
lifecycle rules the platform stack declares run as S3 runs them (tests/s3_lifecycle.py). Every
current row reads back; history older than the retention is gone, down to its files. The rules of
floe-infra 0.1 (tests/fixtures/lifecycle_rules_0.1.json), evaluated the same way on the same
objects, would have deleted live table files and archived Cube Store's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform
from pyiceberg.types import LongType, NestedField, StringType, TimestamptzType

from floe_infra.iceberg.maintenance import maintain_layer
from floe_infra.iceberg.maintenance_plan import MaintenancePlan
from tests.conftest import REPO
from tests.moto_s3 import LocalS3, local_s3
from tests.platform.conftest import demo_run
from tests.s3_lifecycle import apply_to_bucket, bucket_versions, simulate

pytestmark = pytest.mark.heavy

GOLD, PLATFORM = "acme-floe-prod-gold", "acme-floe-prod-platform"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
# Past every period of the prod platform: 365 days of gold retention + 30 of noncurrent versions, and more.
ADVANCE = timedelta(days=400)
TENANT_LOCATION = f"s3://{GOLD}/gold/ecommerce_analytics"
OLD_RULES = json.loads((REPO / "tests/fixtures/lifecycle_rules_0.1.json").read_text())["rules"]

CUSTOMERS = Schema(NestedField(1, "customer_id", LongType(), required=True), NestedField(2, "name", StringType()))
ORDERS = Schema(NestedField(1, "order_id", LongType(), required=True),
                NestedField(2, "ordered_at", TimestamptzType(), required=True))


def prod_rules(bucket: str) -> list[dict[str, Any]]:
    """The lifecycle rules the prod platform stack declares for a bucket."""
    [resource] = [r for r in demo_run("prod").of_type(LIFECYCLE) if r.name == f"floe-storage-{bucket}-lifecycle"]
    return resource.inputs["rules"]


def gold_plan() -> MaintenancePlan:
    """The plan the gold layer's CronJob mounts."""
    configmap = demo_run("prod").named("floe-maintenance-plans")
    return MaintenancePlan.model_validate_json(configmap.inputs["data"]["gold.json"])


def keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    """Keys with a current version under a prefix."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def versions_under(s3: Any, bucket: str, key: str) -> int:
    """Versions and delete markers S3 still holds for one key."""
    versions, _ = bucket_versions(s3, bucket)
    return sum(1 for v in versions if v.key == key)


def key_of(location: str) -> str:
    return location.split("/", 3)[3]


@pytest.fixture
def s3():
    with local_s3() as local:
        for bucket in (GOLD, PLATFORM):
            local.versioned_bucket(bucket)
        yield local


def write_lakehouse(local: LocalS3, tmp_path: Path, now: datetime) -> tuple[SqlCatalog, dict[str, Any]]:
    """The tenant's gold tables as a year of pipeline runs leaves them, and what the test expects back."""
    catalog = SqlCatalog("gold", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse=f"s3://{GOLD}/lakehouse",
                         **local.properties)
    catalog.create_namespace(("gold",))
    catalog.create_namespace(("gold", "ecommerce_analytics"))
    ns = ("gold", "ecommerce_analytics")
    # A dimension written once and never again: its files are as old as the table.
    customers = catalog.create_table((*ns, "dim_customers"), CUSTOMERS, location=f"{TENANT_LOCATION}/dim_customers")
    customers.append(pa.table({"customer_id": [1, 2, 3], "name": ["Ada", "Grace", "Edsger"]},
                              schema=customers.schema().as_arrow()))
    # A mart rebuilt in place: its first version lives on only in an old snapshot.
    sales = catalog.create_table((*ns, "fct_sales"), CUSTOMERS, location=f"{TENANT_LOCATION}/fct_sales")
    sales.append(pa.table({"customer_id": [10], "name": ["first build"]}, schema=sales.schema().as_arrow()))
    first = sales.current_snapshot()
    sales.overwrite(pa.table({"customer_id": [11, 12], "name": ["rebuilt", "rebuilt"]},
                             schema=sales.schema().as_arrow()))
    # Orders by day, asking for row retention: orders older than the layer's 365 days go.
    orders = catalog.create_table(
        (*ns, "orders"), ORDERS, location=f"{TENANT_LOCATION}/orders",
        partition_spec=PartitionSpec(PartitionField(2, 1000, DayTransform(), "ordered_at_day")),
        properties={"floe.retention.column": "ordered_at"})
    ages = {100: 10, 101: 200, 102: 500}
    orders.append(pa.table({"order_id": list(ages), "ordered_at": [now - timedelta(days=d) for d in ages.values()]},
                           schema=orders.schema().as_arrow()))
    # A writer that died between writing a file and committing it.
    s3 = local.client()
    stray = f"{key_of(TENANT_LOCATION)}/fct_sales/data/00000-from-a-failed-write.parquet"
    s3.put_object(Bucket=GOLD, Key=stray, Body=b"PAR1")
    s3.create_multipart_upload(Bucket=GOLD, Key=f"{key_of(TENANT_LOCATION)}/orders/data/abandoned.parquet")
    s3.put_object(Bucket=PLATFORM, Key="cubestore/pre-aggregations/orders.chunk", Body=b"live")
    s3.put_object(Bucket=PLATFORM, Key="compute-logs/run-1/stdout.txt", Body=b"log")
    return catalog, {"first_snapshot": first, "stray": stray, "orders_kept": [100, 101]}


def test_after_every_period_every_current_row_reads_back_and_old_history_is_gone(s3, tmp_path):
    now = datetime.now(UTC) + ADVANCE  # every object below was written "ADVANCE ago"
    catalog, written = write_lakehouse(s3, tmp_path, now)
    client = s3.client()
    before = {bucket: bucket_versions(client, bucket) for bucket in (GOLD, PLATFORM)}

    reports = maintain_layer(catalog, gold_plan(), now)
    assert [r.problem for r in reports] == [None, None, None]
    for bucket in (GOLD, PLATFORM):
        apply_to_bucket(client, bucket, prod_rules(bucket), now)

    ns = ("gold", "ecommerce_analytics")
    customers = catalog.load_table((*ns, "dim_customers"))
    assert sorted(customers.scan().to_arrow()["customer_id"].to_pylist()) == [1, 2, 3]
    sales = catalog.load_table((*ns, "fct_sales"))
    assert sorted(sales.scan().to_arrow()["customer_id"].to_pylist()) == [11, 12]
    orders = catalog.load_table((*ns, "orders"))
    assert sorted(orders.scan().to_arrow()["order_id"].to_pylist()) == written["orders_kept"]

    # The first build's snapshot is older than the retention: gone, and so is every object only it held.
    first = written["first_snapshot"]
    assert sales.metadata.snapshot_by_id(first.snapshot_id) is None
    assert len(sales.metadata.snapshots) == 1
    assert versions_under(client, GOLD, key_of(first.manifest_list)) == 0
    assert versions_under(client, GOLD, written["stray"]) == 0
    assert client.list_multipart_uploads(Bucket=GOLD).get("Uploads", []) == []
    # What readers open live stays live; compute logs past their 90 days are gone.
    cube = client.get_object(Bucket=PLATFORM, Key="cubestore/pre-aggregations/orders.chunk")
    assert cube["Body"].read() == b"live"
    assert cube.get("StorageClass", "STANDARD") == "STANDARD"
    assert keys(client, PLATFORM, "compute-logs/") == set()

    # floe-infra 0.1's rules, run by S3 on the same objects over the same time: live files lost.
    old = simulate(*before[GOLD], OLD_RULES[f"floe-storage-{GOLD}-lifecycle"], now)
    live = keys(client, GOLD, f"{key_of(TENANT_LOCATION)}/dim_customers/")
    assert live
    assert all(old.current(key) is None for key in live)
    old_platform = simulate(*before[PLATFORM], OLD_RULES[f"floe-storage-{PLATFORM}-lifecycle"], now)
    assert old_platform.current("cubestore/pre-aggregations/orders.chunk").storage_class == "GLACIER"
