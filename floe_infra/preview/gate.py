"""The offline check of a pull request: the offline previews of base and head compared, and a verdict.

`.github/scripts/offline-check.sh` previews every stack of both sides, each side with its own code,
into a directory per side: `<stack>.status` (the exit status of `floe-infra preview --offline`),
`<stack>.json` (its document, when it ran) and `<stack>.err` (what it printed on stderr); a side
that could not be installed leaves `setup.failed` and `setup.log`. The check fails when head
breaks what base passes: a stack whose preview fails on head only (a floe.yaml or platform.yaml
that does not validate, a program that stops), a mandatory guardrail failing on head only, or a
risky change (`floe_infra.preview.diff`) without the explicit acceptance, the pull request label
`RISK_LABEL`. A stack new on head has nothing to compare with: it must pass. What failed on base
already is reported, not held against the pull request. The Markdown says why first, then the
diff; it is the job summary and the PR comment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe_infra.ci import RISK_LABEL
from floe_infra.errors import ExitCode, FloeError
from floe_infra.preview.diff import DiffResult, PreviewDiffError, compare, load_document, markdown

MAX_ERROR_LINES = 40
# GitHub refuses comments over 65,536 characters.
MAX_MARKDOWN = 60_000
# The most severe failure decides the exit status.
SEVERITY = (ExitCode.INVALID, ExitCode.RUNTIME, ExitCode.GUARDRAIL, ExitCode.REFUSED)
_EMPTY: dict[str, Any] = {"stacks": []}


class GateError(FloeError):
    """Raised when a side's results are missing or the labels are not a JSON list of names."""


@dataclass(frozen=True)
class StackResult:
    """One stack's offline preview on one side.

    Attributes:
        status: The exit status of `floe-infra preview --offline`.
        document: The preview document; None when the preview did not get that far.
        errors: What the preview printed on stderr.
    """

    status: int
    document: dict[str, Any] | None
    errors: str

    @property
    def passed(self) -> bool:
        """Whether the preview ran to the end (mandatory guardrails may fail: that is judged apart)."""
        return self.document is not None


@dataclass(frozen=True)
class SideResults:
    """Every stack previewed on one side, or why the side could not be installed."""

    stacks: dict[str, StackResult]
    setup_error: str | None = None


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def read_side(directory: Path) -> SideResults:
    """The results `offline-check.sh` wrote for one side.

    Raises:
        GateError: When the directory does not exist.
    """
    if not directory.is_dir():
        raise GateError(f"{directory} does not exist: run the offline previews first (.github/scripts/"
                        "offline-check.sh)")
    if (directory / "setup.failed").exists():
        return SideResults({}, _read(directory / "setup.log") or "no setup log")
    stacks = {}
    for status_file in sorted(directory.glob("*.status")):
        stack = status_file.name.removesuffix(".status")
        text = _read(status_file).strip()
        status = int(text) if text.isdigit() else int(ExitCode.RUNTIME)
        errors = _read(directory / f"{stack}.err")
        document = None
        if status in (ExitCode.OK, ExitCode.GUARDRAIL):
            try:
                document = load_document(directory / f"{stack}.json")
            except PreviewDiffError as exc:
                status, errors = int(ExitCode.RUNTIME), f"{errors}{exc}\n"
        stacks[stack] = StackResult(status, document, errors)
    return SideResults(stacks)


def parse_labels(text: str) -> list[str]:
    """The pull request's label names, from `toJSON(github.event.pull_request.labels.*.name)`.

    Raises:
        GateError: When it is not a JSON list of strings.
    """
    try:
        labels = json.loads(text) if text.strip() else []
    except json.JSONDecodeError:
        labels = None
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise GateError(f"--labels takes the pull request's label names as a JSON list, e.g. "
                        f"'[\"{RISK_LABEL}\"]'; got {text[:80]!r}")
    return labels


@dataclass(frozen=True)
class Failure:
    """Why the check fails: the exit status it stands for, a Markdown line, and the output it quotes."""

    exit_code: ExitCode
    text: str
    output: str = ""


@dataclass
class Verdict:
    """The check's outcome: its failures (none: it passes), notes, and the diff of the stacks both sides ran."""

    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diff: DiffResult = field(default_factory=lambda: DiffResult([]))

    @property
    def exit_code(self) -> ExitCode:
        """0 when the check passes; else the most severe failure's: 2 (a preview fails on head), 1 (it could
        not run), 3 (a mandatory guardrail), 4 (a risky change not accepted)."""
        codes = {f.exit_code for f in self.failures}
        return next((code for code in SEVERITY if code in codes), ExitCode.OK)


def _failure_code(status: int) -> ExitCode:
    return ExitCode.INVALID if status == ExitCode.INVALID else ExitCode.RUNTIME


def judge(base: SideResults, head: SideResults, labels: Collection[str] = ()) -> Verdict:
    """Compare the two sides stack by stack; see the module's docstring for what fails the check."""
    verdict = Verdict()
    if head.setup_error is not None:
        if base.setup_error is not None:
            verdict.notes.append("neither base nor head could be installed: nothing was previewed")
        else:
            verdict.failures.append(Failure(ExitCode.RUNTIME, "head could not be installed (`pip install -r "
                                            "requirements.txt`), so nothing of it was previewed:",
                                            head.setup_error))
        return verdict
    if base.setup_error is not None:
        verdict.notes.append("base could not be installed: every stack of head is compared with nothing")
    diffs = []
    for stack in sorted(set(base.stacks) | set(head.stacks)):
        old, new = base.stacks.get(stack), head.stacks.get(stack)
        if new is not None and not new.passed:
            if old is not None and not old.passed:
                verdict.notes.append(f"`{stack}`: the offline preview fails on base too (exit {old.status}), so "
                                     "this pull request is not held to it")
            else:
                where = "a new stack" if old is None else "it passes on base"
                verdict.failures.append(Failure(_failure_code(new.status), f"`{stack}`: the offline preview fails "
                                                f"on head (exit {new.status}); {where}:", new.errors))
            continue
        if old is not None and not old.passed:
            verdict.notes.append(f"`{stack}`: the offline preview fails on base (exit {old.status}): head is "
                                 "compared with nothing, and its guardrails are not held against it")
            continue
        result = compare(old.document if old and old.document else _EMPTY,
                         new.document if new and new.document else _EMPTY)
        diffs += result.stacks
        fresh = [(v, where) for d in result.stacks for v, where, is_new in d.guardrails if is_new]
        if fresh:
            listed = "; ".join(f"`{v['rule']}` on {where}: {v['message']}" for v, where in fresh)
            verdict.failures.append(Failure(ExitCode.GUARDRAIL, f"`{stack}`: {len(fresh)} mandatory guardrail "
                                            f"failure{'' if len(fresh) == 1 else 's'} on head, none of them on "
                                            f"base: {listed}"))
    verdict.diff = DiffResult(diffs)
    risks = verdict.diff.risks
    if risks:
        count = f"{len(risks)} risky change{'' if len(risks) == 1 else 's'}"
        if RISK_LABEL in labels:
            verdict.notes.append(f"{count} (below) accepted with the label `{RISK_LABEL}`")
        else:
            verdict.failures.append(Failure(ExitCode.REFUSED, f"{count} (below, under **Risky**): each can lose "
                                            "data or leave it behind. When intended, a maintainer adds the label "
                                            f"`{RISK_LABEL}` to this pull request, which runs the check again "
                                            "(docs/ci.md)"))
    return verdict


def _fenced(text: str) -> list[str]:
    """`text` as a fenced block indented under a list item, cut to MAX_ERROR_LINES lines."""
    lines = text.rstrip().splitlines() or ["(no output)"]
    if len(lines) > MAX_ERROR_LINES:
        lines = [*lines[:MAX_ERROR_LINES], f"... {len(lines) - MAX_ERROR_LINES} more lines in the job's artifact"]
    longest = max((len(run) for run in re.findall(r"~+", text)), default=0)
    fence = "~" * max(3, longest + 1)
    return [f"  {fence}text", *(f"  {line}" for line in lines), f"  {fence}"]


def verdict_markdown(verdict: Verdict) -> str:
    """The PR comment: the verdict and its reasons first, notes, then the diff."""
    lines = ["## Offline check", ""]
    if verdict.failures:
        lines += [f"**✗ fails (exit {verdict.exit_code.value})**", ""]
        for failure in verdict.failures:
            lines.append(f"- {failure.text}")
            if failure.output:
                lines += _fenced(failure.output)
    else:
        lines.append("**✓ passes**")
    if verdict.notes:
        lines += ["", *(f"- {note}" for note in verdict.notes)]
    text = "\n".join(lines) + "\n"
    if verdict.diff.stacks:
        text += "\n" + markdown(verdict.diff)
    if len(text) > MAX_MARKDOWN:
        text = text[:MAX_MARKDOWN] + ("\n\n… cut here, at GitHub's limit for a comment: every preview is in the "
                                      "job's artifact\n")
    return text
