"""Fixtures of the e2e layer: the toolchain, a control plane, the fake Polaris and the Pulumi CLI.

Only `./dev.sh e2e` (pytest -m e2e) runs these; the unit suite deselects them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest


class StepTimes:
    """Wall time of each scenario step, printed at the end of the run."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []
        self.facts: list[str] = []

    def record(self, name: str, seconds: float) -> None:
        self.steps.append((name, seconds))

    def note(self, fact: str) -> None:
        """Something measured besides time (objects created), printed with the times."""
        self.facts.append(fact)

    def report(self) -> str:
        width = max((len(n) for n, _ in self.steps), default=10)
        lines = [f"  {name:<{width}}  {seconds:7.1f} s" for name, seconds in self.steps]
        total = sum(seconds for _, seconds in self.steps)
        return "\n".join([*lines, f"  {'total':<{width}}  {total:7.1f} s", *self.facts])


STEP_TIMES = pytest.StashKey[StepTimes]()


@pytest.fixture(scope="session")
def step_times(request: pytest.FixtureRequest) -> StepTimes:
    return request.config.stash.setdefault(STEP_TIMES, StepTimes())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Each scenario step's wall time, after the results (passed or not)."""
    times = config.stash.get(STEP_TIMES, None)
    if times is not None and times.steps:
        terminalreporter.write_sep("-", "e2e step times")
        terminalreporter.write_line(times.report())


class Clock:
    """Times one step: `with clock("platform up"): ...`; `clock.note(...)` records a measured fact."""

    def __init__(self, times: StepTimes) -> None:
        self.times = times

    def __call__(self, name: str) -> _Timer:
        return _Timer(name, self.times)

    def note(self, fact: str) -> None:
        self.times.note(fact)


class _Timer:
    def __init__(self, name: str, times: StepTimes) -> None:
        self.name, self.times = name, times

    def __enter__(self) -> None:
        self.start = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self.times.record(self.name, time.monotonic() - self.start)


@pytest.fixture(scope="session")
def clock(step_times: StepTimes) -> Clock:
    return Clock(step_times)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so scenario steps know whether an earlier step failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
