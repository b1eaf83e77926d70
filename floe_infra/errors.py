"""Domain errors of floe-infra.

Every error the project raises on purpose derives from `FloeError`, so the CLI can turn
them into a one-line message and exit status 2 instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class FloeError(Exception):
    """Raised for any expected failure of floe-infra (bad input, unreachable service, ...)."""


@dataclass(frozen=True)
class Problem:
    """One problem in a configuration file, with the place it was found.

    Attributes:
        file: The file the problem is in.
        line: 1-based line, or 0 when the problem concerns the whole file.
        column: 1-based column, or 0 when unknown.
        path: Dotted field path (``storage.default.bucket``, ``transforms[0].type``); empty for the root.
        message: What is wrong and what to do about it.
    """

    file: Path
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(FloeError):
    """Raised when one or more configuration files are invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line, p.column, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class ContractError(FloeError):
    """Raised when a platform contract is missing, malformed or of an incompatible version."""


class CatalogError(FloeError):
    """Raised when an Iceberg or Polaris catalog refuses or fails an operation."""


class CatalogUnreachableError(CatalogError):
    """Raised when a catalog endpoint cannot be reached at all (DNS, connection refused, timeout)."""


class DependencyMissingError(FloeError):
    """Raised when an optional dependency is needed but not installed; names the pip command."""
