"""The S3 lifecycle double (tests/s3_lifecycle.py) follows Amazon S3's documented rules, one test per rule.

Pages named below are under https://docs.aws.amazon.com/AmazonS3/latest/userguide/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.s3_lifecycle import Version, due, simulate

T0 = datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
EXPIRE_30 = {"id": "x", "status": "Enabled", "filter": {"prefix": ""}, "expiration": {"days": 30}}
NONCURRENT_5 = {"id": "n", "status": "Enabled", "filter": {"prefix": ""},
                "noncurrentVersionExpiration": {"noncurrentDays": 5},
                "expiration": {"expiredObjectDeleteMarker": True}}


def test_days_are_added_to_the_creation_time_and_rounded_to_the_next_midnight_utc():
    # intro-lifecycle-rules.html, "Lifecycle rules: Based on an object's age": 1 Jan 10:30 + 30 days -> 1 Feb 00:00.
    assert due(T0, 30) == datetime(2026, 2, 1, tzinfo=UTC)
    outcome = simulate([Version("a", "v1", T0)], [], [EXPIRE_30], datetime(2026, 1, 31, 23, 59, tzinfo=UTC))
    assert outcome.markers_added == []
    outcome = simulate([Version("a", "v1", T0)], [], [EXPIRE_30], datetime(2026, 2, 1, tzinfo=UTC))
    assert outcome.markers_added == [("a", datetime(2026, 2, 1, tzinfo=UTC))]


def test_expiring_a_current_version_of_a_versioned_bucket_adds_a_delete_marker():
    # lifecycle-expire-general-considerations.html: the current version becomes noncurrent, nothing is deleted.
    outcome = simulate([Version("a", "v1", T0)], [], [EXPIRE_30], T0 + timedelta(days=40))
    assert outcome.current("a") is None
    assert [v.version_id for v in outcome.chains["a"]][1:] == ["v1"]
    assert outcome.deleted == []


def test_a_noncurrent_version_expires_counting_from_when_its_successor_was_created():
    # intro-lifecycle-rules.html, NoncurrentVersionExpiration: days since the object became noncurrent.
    old, new = Version("a", "v1", T0), Version("a", "v2", T0 + timedelta(days=100))
    outcome = simulate([old, new], [], [NONCURRENT_5], T0 + timedelta(days=105))
    assert outcome.deleted == []
    outcome = simulate([old, new], [], [NONCURRENT_5], T0 + timedelta(days=107))
    assert [v.version_id for v in outcome.deleted] == ["v1"]
    assert outcome.current("a").version_id == "v2"


def test_expiry_then_noncurrent_expiry_follow_each_other_and_the_lone_delete_marker_goes():
    # lifecycle-expire-general-considerations.html: ExpiredObjectDeleteMarker removes a marker without versions.
    outcome = simulate([Version("a", "v1", T0)], [], [EXPIRE_30, NONCURRENT_5], T0 + timedelta(days=40))
    assert [v.version_id for v in outcome.deleted] == ["v1"]
    assert len(outcome.markers_removed) == 1
    assert "a" not in outcome.chains


def test_rules_apply_only_under_their_prefix_and_only_when_enabled():
    # intro-lifecycle-rules.html, Filter and Status.
    logs = {**EXPIRE_30, "filter": {"prefix": "logs/"}}
    disabled = {**EXPIRE_30, "status": "Disabled"}
    versions = [Version("logs/run.txt", "v1", T0), Version("data/t.parquet", "v2", T0)]
    outcome = simulate(versions, [], [logs, disabled], T0 + timedelta(days=60))
    assert outcome.current("logs/run.txt") is None
    assert outcome.current("data/t.parquet").version_id == "v2"


def test_a_transition_wins_over_creating_a_delete_marker_on_the_same_day():
    # lifecycle-conflicts.html: "Transition takes precedence over creation of delete markers".
    both = {**EXPIRE_30, "transitions": [{"days": 30, "storageClass": "GLACIER"}]}
    outcome = simulate([Version("a", "v1", T0)], [], [both], due(T0, 30))
    assert outcome.transitioned == {"v1": "GLACIER"}
    assert outcome.markers_added == []


def test_unfinished_multipart_uploads_are_aborted_days_after_they_started():
    # mpu-abort-incomplete-mpu-lifecycle-config.html.
    rule = {"id": "u", "status": "Enabled", "filter": {"prefix": ""},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}
    assert simulate([], [("u1", T0)], [rule], T0 + timedelta(days=7)).aborted_uploads == []
    assert simulate([], [("u1", T0)], [rule], T0 + timedelta(days=8)).aborted_uploads == ["u1"]


def test_a_delete_marker_of_the_same_second_is_current_when_s3_says_it_is_latest():
    # ListObjectVersions' IsLatest (API_ListObjectVersions): LastModified has whole seconds, so a file deleted in the
    # second it was written ties with its delete marker; the marker is current and the file a noncurrent version.
    versions = [Version("a", "v1", T0), Version("a", "m1", T0, marker=True, latest=True)]
    outcome = simulate(versions, [], [NONCURRENT_5], T0 + timedelta(days=10))
    assert [v.version_id for v in outcome.deleted] == ["v1"]
    assert [v.version_id for v in outcome.markers_removed] == ["m1"]
    assert "a" not in outcome.chains
