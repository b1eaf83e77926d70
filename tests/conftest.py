"""Shared fixtures: repository paths and the floe-runtime compatibility files."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo"
DEMO_PLATFORM = DEMO / "platform" / "platform.yaml"
DEMO_PIPELINE = DEMO / "data_engineering" / "floe.yaml"
COMPAT = REPO.parent / "shared" / "compat" / "floe-runtime"


# ../shared is present on developer machines and in CI; a bare clone elsewhere has no compat files. Tests
# reading them only add checks: every behaviour they cover also has a test on files of this repository.
SHARED_ABSENT = "floe-runtime's example files (../shared/compat) are not beside this checkout"
requires_compat = pytest.mark.skipif(not COMPAT.is_dir(), reason=SHARED_ABSENT)


def compat_files(pattern: str) -> list[Path]:
    """floe-runtime's example files matching `pattern` (empty when ../shared is absent)."""
    return sorted(COMPAT.glob(pattern)) if COMPAT.is_dir() else []


def compat_params(pattern: str) -> list[Any]:
    """`compat_files(pattern)` as parameters; without ../shared, one parameter skipped with the reason."""
    return compat_files(pattern) or [pytest.param(None, marks=pytest.mark.skip(reason=SHARED_ABSENT), id="absent")]


def _shared_material() -> list[str]:
    from tests.polaris.fake_polaris import SPECS, spec_files_present

    compat = (f"{len(compat_files('**/*.yaml'))} floe-runtime example files from {COMPAT}" if COMPAT.is_dir()
              else "absent: the floe-runtime example file checks are skipped")
    specs = ("apache-polaris models and the OpenAPI spec files in " + str(SPECS) if spec_files_present()
             else "apache-polaris models (the OpenAPI spec files of ../shared are absent)")
    return [f"shared material: {compat}", f"fake Polaris validated against: {specs}"]


def pytest_report_header() -> list[str]:
    return _shared_material()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_sep("-", "what this run used")
    for line in _shared_material():
        terminalreporter.write_line(line)


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write YAML text to a file in a temporary directory and return its path."""

    def write(text: str | bytes, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def fresh_deployment() -> Iterator[None]:
    """Each test is a deployment of its own: what a provider process learns (credentials declared now, endpoints
    found down, the clients and catalogs it opened) is forgotten between tests, as it is between two `pulumi` runs."""
    from floe_infra import live_credentials, refresh
    from floe_infra.iceberg import resource as tables
    from floe_infra.polaris import resources as governance

    def forget() -> None:
        for module in (live_credentials, refresh, tables, governance):
            module.forget_all()

    forget()
    limit = getattr(sys, "tracebacklimit", None)  # refresh.read_back sets it, as for the provider process
    yield
    forget()
    if limit is None:
        vars(sys).pop("tracebacklimit", None)
    else:
        sys.tracebacklimit = limit


@pytest.fixture
def provider_warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What providers warn about through `pulumi.log.warn` (in a provider process: a `warning:` line the CLI shows)."""
    import pulumi

    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: said.append(message))
    return said
