"""Migration from lifecycle retention: a prod stack with floe-infra 0.1's rules gets them replaced in one update,
and `floe-infra diff` shows it as risky, rule by rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from floe_infra.cli import main
from floe_infra.errors import ExitCode
from floe_infra.preview.lifecycle import LIFECYCLE, describe_rule
from tests.conftest import REPO

OLD_RULES = json.loads((REPO / "tests/fixtures/lifecycle_rules_0.1.json").read_text())["rules"]


def previews(tmp_path: Path) -> tuple[Path, Path]:
    """The prod preview of this floe-infra (head), and the same stack as floe-infra 0.1 left it (base)."""
    head = tmp_path / "head.json"
    assert main(["preview", "--stack", "prod", "--project-dir", str(REPO), "--json", str(head)]) == 0
    document = json.loads(head.read_text())
    base = copy.deepcopy(document)
    for stack in base["stacks"]:
        stack["resources"] = [r for r in stack["resources"] if "maintenance" not in r["name"]]
        for resource in stack["resources"]:
            if resource["type"] == LIFECYCLE:
                resource["inputs"]["rules"] = OLD_RULES[resource["name"]]
    (tmp_path / "base.json").write_text(json.dumps(base))
    return tmp_path / "base.json", head


def test_the_old_rules_are_replaced_in_place_and_the_diff_flags_each_bucket(tmp_path, capsys):
    base, head = previews(tmp_path)
    capsys.readouterr()
    assert main(["diff", str(base), str(head), "--exit-code"]) == ExitCode.REFUSED
    out = capsys.readouterr().out
    # Updated in place (same resource), never deleted and re-created: one `pulumi up`.
    assert "floe-storage-acme-floe-prod-gold-lifecycle" not in out.split("**Added**")[-1].split("**Changed**")[0]
    assert "**Removed**" not in out
    gold = next(line for line in out.splitlines() if line.startswith("- **floe-storage-acme-floe-prod-gold-lifecycle"))
    assert "removes rule `retention` (every object: current objects expire after 365 days; noncurrent versions " \
           "are deleted after 365 days)" in gold
    assert "adds rule `noncurrent-versions` (every object: noncurrent versions are deleted after 30 days" in gold
    platform = next(line for line in out.splitlines()
                    if line.startswith("- **floe-storage-acme-floe-prod-platform-lifecycle"))
    assert "removes rule `archive` (every object: current objects move to GLACIER after 90 days)" in platform
    assert "adds rule `compute-logs` (objects under 'compute-logs/': current objects expire after 90 days)" in platform


def test_unchanged_rules_are_no_risk(tmp_path, capsys):
    _, head = previews(tmp_path)
    capsys.readouterr()
    assert main(["diff", str(head), str(head), "--exit-code"]) == ExitCode.OK
    assert "risky" not in capsys.readouterr().out


def test_rules_read_as_what_s3_does():
    assert describe_rule({"id": "x", "status": "Disabled", "filter": {"prefix": "tmp/"},
                          "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1.0}}) == \
        "objects under 'tmp/': unfinished uploads are aborted after 1 day (disabled)"
