"""Shared fixtures: repository paths and the floe-runtime compatibility files."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo"
DEMO_PLATFORM = DEMO / "platform" / "platform.yaml"
DEMO_PIPELINE = DEMO / "data_engineering" / "floe.yaml"
COMPAT = REPO.parent / "shared" / "compat" / "floe-runtime"


# ../shared is present on developer machines and in CI; a bare clone elsewhere has no compat files.
requires_compat = pytest.mark.skipif(not COMPAT.is_dir(), reason="../shared/compat is not beside this checkout")


def compat_files(pattern: str) -> list[Path]:
    """floe-runtime's example files matching `pattern` (empty when ../shared is absent)."""
    return sorted(COMPAT.glob(pattern)) if COMPAT.is_dir() else []


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
