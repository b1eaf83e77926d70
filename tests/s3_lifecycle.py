"""S3 lifecycle rules evaluated as Amazon S3 evaluates them, for tests that let time pass.

Amazon S3's lifecycle engine is not open source, so this double follows its documentation, rule by
rule (each rule's test in tests/test_s3_lifecycle.py names the page):

- "Lifecycle configuration elements" (AmazonS3/latest/userguide/intro-lifecycle-rules.html): a rule
  applies when its `Status` is `Enabled` and the key starts with `Filter.Prefix`; a day count is added
  to the object's creation time (for noncurrent actions: to the time the object became noncurrent,
  which is when its successor was created) and the result is rounded to the next midnight UTC.
- "Expiring objects" (lifecycle-expire-general-considerations.html): in a versioned bucket,
  `Expiration` of a current version adds a delete marker (the version becomes noncurrent);
  `NoncurrentVersionExpiration` deletes a noncurrent version for good; `ExpiredObjectDeleteMarker`
  removes a delete marker that has no noncurrent versions left.
- "How Amazon S3 handles conflicts" (lifecycle-conflicts.html): permanent deletion wins over a
  transition, and a transition over the creation of a delete marker.
- `AbortIncompleteMultipartUpload.DaysAfterInitiation` aborts uploads started that many days ago.

S3 runs the rules once a day; `simulate` does the same at every midnight UTC up to `now`, on a copy
of the bucket's versions, so effects follow one another as they would (a version expired on day D
is noncurrent from D on). `apply_to_bucket` then makes a real (moto) bucket look like the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Version:
    """One version of a key (or a delete marker), newest first within its key."""

    key: str
    version_id: str
    created: datetime
    marker: bool = False
    storage_class: str = "STANDARD"
    noncurrent_since: datetime | None = None  # when its successor was created
    # S3's IsLatest: LastModified has whole seconds, so a version and the delete marker put on it within
    # the same second tie on `created`; only this says which of them is current.
    latest: bool = False


@dataclass
class Outcome:
    """What the rules did by `now`."""

    deleted: list[Version] = field(default_factory=list)
    markers_added: list[tuple[str, datetime]] = field(default_factory=list)
    markers_removed: list[Version] = field(default_factory=list)
    transitioned: dict[str, str] = field(default_factory=dict)
    aborted_uploads: list[str] = field(default_factory=list)
    chains: dict[str, list[Version]] = field(default_factory=dict)

    def current(self, key: str) -> Version | None:
        """The key's current version after the rules ran (None: no version, or a delete marker)."""
        chain = self.chains.get(key) or []
        return chain[0] if chain and not chain[0].marker else None


def due(start: datetime, days: float) -> datetime:
    """When an action of `days` after `start` happens: rounded to the next midnight UTC."""
    end = (start + timedelta(days=days)).astimezone(UTC)
    return datetime.combine(end.date() + DAY, time(), tzinfo=UTC)


def _matching(rules: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [r for r in rules if r.get("status") == "Enabled"
            and key.startswith((r.get("filter") or {}).get("prefix", r.get("prefix", "")))]


def _step(chain: list[Version], rules: list[dict[str, Any]], midnight: datetime, outcome: Outcome) -> list[Version]:
    """One daily run of the rules on one key's versions (newest first); returns the new chain."""
    if not chain:
        return chain
    rules = _matching(rules, chain[0].key)
    kept: list[Version] = []
    for index, version in enumerate(chain):
        if index == 0:
            kept.append(version)
            continue
        since = version.noncurrent_since or chain[index - 1].created
        if any(due(since, (r.get("noncurrentVersionExpiration") or {}).get("noncurrentDays", float("inf")))
               <= midnight for r in rules if r.get("noncurrentVersionExpiration")):
            outcome.deleted.append(version)
            continue
        for rule in rules:
            for transition in rule.get("noncurrentVersionTransitions") or []:
                if due(since, transition["noncurrentDays"]) <= midnight and not version.marker:
                    outcome.transitioned[version.version_id] = transition["storageClass"]
                    version = replace(version, storage_class=transition["storageClass"])
        kept.append(version)
    head = kept[0]
    if head.marker:
        if len(kept) == 1 and any((r.get("expiration") or {}).get("expiredObjectDeleteMarker") for r in rules):
            outcome.markers_removed.append(head)
            return []
        return kept
    transition = next((t for r in rules for t in r.get("transitions") or []
                       if due(head.created, t["days"]) <= midnight and head.storage_class != t["storageClass"]), None)
    if transition is not None:  # a transition wins over creating a delete marker the same day
        outcome.transitioned[head.version_id] = transition["storageClass"]
        return [replace(head, storage_class=transition["storageClass"]), *kept[1:]]
    if any((r.get("expiration") or {}).get("days") is not None
           and due(head.created, r["expiration"]["days"]) <= midnight for r in rules):
        outcome.markers_added.append((head.key, midnight))
        return [Version(head.key, f"lifecycle-marker-{midnight:%Y%m%d}", midnight, marker=True),
                replace(head, noncurrent_since=midnight), *kept[1:]]
    return kept


def simulate(versions: list[Version], uploads: list[tuple[str, datetime]], rules: list[dict[str, Any]],
             now: datetime) -> Outcome:
    """Run the rules every midnight UTC from the oldest version's creation until `now`."""
    outcome = Outcome()
    chains: dict[str, list[Version]] = {}
    for version in sorted(versions, key=lambda v: (v.latest, v.created), reverse=True):
        chain = chains.setdefault(version.key, [])
        chain.append(replace(version, noncurrent_since=chain[-1].created) if chain else version)
    start = min([v.created for v in versions] + [t for _, t in uploads] + [now])
    midnight = datetime.combine(start.astimezone(UTC).date() + DAY, time(), tzinfo=UTC)
    while midnight <= now:
        for key in list(chains):
            chains[key] = _step(chains[key], rules, midnight, outcome)
        midnight += DAY
    for upload_id, started in uploads:
        days = [(r.get("abortIncompleteMultipartUpload") or {}).get("daysAfterInitiation") for r in rules
                if r.get("status") == "Enabled"]
        if any(d is not None and due(started, d) <= now for d in days):
            outcome.aborted_uploads.append(upload_id)
    outcome.chains = {k: c for k, c in chains.items() if c}
    return outcome


def bucket_versions(s3: Any, bucket: str) -> tuple[list[Version], list[tuple[str, datetime]]]:
    """Every version, delete marker and unfinished upload of a bucket (boto3 client)."""
    versions: list[Version] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions += [Version(v["Key"], v["VersionId"], v["LastModified"],
                             storage_class=v.get("StorageClass", "STANDARD"), latest=v["IsLatest"])
                     for v in page.get("Versions", [])]
        versions += [Version(m["Key"], m["VersionId"], m["LastModified"], marker=True, latest=m["IsLatest"])
                     for m in page.get("DeleteMarkers", [])]
    uploads = [(u["UploadId"], u["Initiated"]) for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    return versions, uploads


def apply_to_bucket(s3: Any, bucket: str, rules: list[dict[str, Any]], now: datetime) -> Outcome:
    """Evaluate the rules on the bucket as of `now`, then make the bucket hold what S3 would have left."""
    versions, uploads = bucket_versions(s3, bucket)
    outcome = simulate(versions, uploads, rules, now)
    for version in outcome.deleted + outcome.markers_removed:
        s3.delete_object(Bucket=bucket, Key=version.key, VersionId=version.version_id)
    for key, chain in outcome.chains.items():
        head = chain[0]
        if head.marker and head.version_id.startswith("lifecycle-marker-"):
            s3.delete_object(Bucket=bucket, Key=key)  # the delete marker expiry would have added
        elif not head.marker and head.storage_class != "STANDARD":
            s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                           StorageClass=head.storage_class)
    listed = {u["UploadId"]: u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}
    for upload_id in outcome.aborted_uploads:
        s3.abort_multipart_upload(Bucket=bucket, Key=listed[upload_id], UploadId=upload_id)
    return outcome
