"""What people see from the CLI: tables of plans and stacks, colours on a terminal only, progress."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from floe_infra import console
from floe_infra.cli import main
from floe_infra.iceberg.plan import Action, TablePlan
from floe_infra.iceberg.report import format_plans, plan_report
from floe_infra.preview.offline import offline_preview
from floe_infra.preview.report import text_report
from tests.conftest import DEMO_PIPELINE, DEMO_PLATFORM, REPO

ANSI = re.compile(r"\x1b\[")
DEMO_TABLES = ("bronze.ecommerce_analytics.customers", "bronze.ecommerce_analytics.products",
               "bronze.ecommerce_analytics.orders", "bronze.ecommerce_analytics.order_items")


class _Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _rows(text: str, header: str) -> list[list[str]]:
    """The rows of the table under `header` (split on runs of two or more blanks)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split() == header.split())
    rows = []
    for line in lines[start + 2:]:  # the header, then its rule
        if not line.strip():
            break
        rows.append(re.split(r" {2,}", line.strip()))
    return rows


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return ["--platform", str(DEMO_PLATFORM), "--pipeline", str(DEMO_PIPELINE), "--embedded"]


def test_the_plan_table_lists_each_table_with_its_action_and_number_of_changes(embedded, capsys):
    assert main(["tables", "plan", *embedded]) == 0
    out = capsys.readouterr().out
    rows = _rows(out, "TABLE ACTION CHANGES")
    assert [row[1:3] for row in rows] == [[name, "create"] for name in DEMO_TABLES]
    assert all(row[0] == "+" and int(row[3]) > 0 for row in rows)
    assert out.rstrip().endswith("4 tables: 4 create")


def test_piped_output_has_no_colour_or_control_codes_and_no_trailing_blanks(embedded, capsys):
    assert main(["tables", "apply", *embedded]) == 0
    assert main(["tables", "plan", *embedded]) == 0
    captured = capsys.readouterr()
    assert not ANSI.search(captured.out + captured.err)
    assert all(line == line.rstrip() for line in captured.out.splitlines())
    assert [row[:2] for row in _rows(captured.out, "OUTCOME TABLE DETAIL")] == [["created", name]
                                                                                 for name in DEMO_TABLES]
    # Piped, progress is one line per table (a live bar needs a terminal).
    assert [line for line in captured.err.splitlines() if line.startswith("[")] == [
        f"[{i}/4] {name}: create" for i, name in enumerate(DEMO_TABLES, 1)]


def test_json_output_stays_json_whatever_the_terminal(embedded, capsys, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    assert main(["tables", "plan", *embedded, "--json"]) == 0
    text = terminal.getvalue()
    document = json.loads(text)
    assert [t["table"] for t in document["tables"]] == list(DEMO_TABLES)
    assert not ANSI.search(text)


def test_a_terminal_gets_the_actions_in_colour(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    plans = [TablePlan(("bronze", "t", "created"), Action.CREATE),
             TablePlan(("bronze", "t", "refused"), Action.REFUSED, reasons=("no",))]
    console.show(*plan_report(plans))
    text = terminal.getvalue()
    assert ANSI.search(text)
    # The same rows as in plain text, coloured.
    assert [line.rstrip() for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()[2:4]] == format_plans(plans)[2:4]


def test_no_color_turns_colours_off_on_a_terminal(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    console.show(*plan_report([TablePlan(("bronze", "t", "created"), Action.CREATE)]))
    # Bold headers may stay (NO_COLOR is about colour); no foreground colour is set.
    assert not re.search(r"\x1b\[[0-9;]*\b(3[0-7]|9[0-7]|38)\b", terminal.getvalue())


def test_the_preview_ends_with_a_table_of_its_stacks():
    previews = offline_preview(REPO, "local", [DEMO_PIPELINE], {}, assumed_secrets=("floe:tenantKey",))
    rows = _rows("\n".join(text_report(previews)), "STACK KIND RESOURCES GUARDRAILS TABLES")
    assert rows == [[p.label, p.kind, str(len(p.run.resources)), "passed", str(len(p.tables))] for p in previews]
    assert rows[1][4] == "4"


def test_the_preview_reports_its_progress_stack_by_stack(tmp_path: Path, capsys):
    assert main(["preview", "--offline", "--stack", "local", "--project-dir", str(REPO), "--pipeline",
                 str(DEMO_PIPELINE), "--assume-secret", "floe:tenantKey"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err if line.startswith("[")] == [
        "[1/2] floe-platform/local", "[2/2] ecommerce-analytics/local"]
