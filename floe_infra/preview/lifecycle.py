"""S3 lifecycle rules in words, for the risks of `floe-infra diff`.

A changed lifecycle configuration changes what S3 deletes or archives on its own, every day, with
no other trace in a deployment: the diff says what each removed, added or changed rule does (or
did), from the inputs the preview records (pulumi-aws's camelCase `rules`).
"""

from __future__ import annotations

from typing import Any

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def _days(value: Any) -> str:
    return f"{int(value)} day{'' if int(value) == 1 else 's'}"


def describe_rule(rule: dict[str, Any]) -> str:
    """What one rule does, e.g. `every object: current objects expire after 365 days`."""
    prefix = (rule.get("filter") or {}).get("prefix", rule.get("prefix", ""))
    effects = []
    expiration = rule.get("expiration") or {}
    if expiration.get("days") is not None:
        effects.append(f"current objects expire after {_days(expiration['days'])}")
    if expiration.get("date"):
        effects.append(f"current objects expire on {expiration['date']}")
    effects += [f"current objects move to {t.get('storageClass')} after {_days(t.get('days', 0))}"
                for t in rule.get("transitions") or []]
    noncurrent = (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays")
    if noncurrent is not None:
        effects.append(f"noncurrent versions are deleted after {_days(noncurrent)}")
    effects += [f"noncurrent versions move to {t.get('storageClass')} after {_days(t.get('noncurrentDays', 0))}"
                for t in rule.get("noncurrentVersionTransitions") or []]
    if expiration.get("expiredObjectDeleteMarker"):
        effects.append("delete markers without versions are removed")
    upload = (rule.get("abortIncompleteMultipartUpload") or {}).get("daysAfterInitiation")
    if upload is not None:
        effects.append(f"unfinished uploads are aborted after {_days(upload)}")
    scope = f"objects under '{prefix}'" if prefix else "every object"
    state = "" if rule.get("status", "Enabled") == "Enabled" else " (disabled)"
    return f"{scope}: {'; '.join(effects) or 'nothing'}{state}"


def lifecycle_change(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """The rules a lifecycle configuration loses, gains or changes, in words; None when they are the same."""
    before = {str(r.get("id")): r for r in old.get("rules") or []}
    after = {str(r.get("id")): r for r in new.get("rules") or []}
    parts = []
    for rule_id in sorted(set(before) | set(after)):
        if rule_id not in after:
            parts.append(f"removes rule `{rule_id}` ({describe_rule(before[rule_id])})")
        elif rule_id not in before:
            parts.append(f"adds rule `{rule_id}` ({describe_rule(after[rule_id])})")
        elif describe_rule(before[rule_id]) != describe_rule(after[rule_id]):
            parts.append(f"changes rule `{rule_id}` from ({describe_rule(before[rule_id])}) to "
                         f"({describe_rule(after[rule_id])})")
    if not parts:
        return None
    return "changes what S3 deletes or archives in this bucket by itself: " + "; ".join(parts)
