"""Domain errors of floe-infra and the exit codes of its command line.

Every error the project raises on purpose derives from `FloeError`, so the CLI can turn
them into a one-line message and a documented exit code instead of a traceback. Each error
class says which kind of failure it is (`exit_code`), so there is one place mapping errors to
exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Exit codes of every `floe-infra` command (documented in the README)."""

    OK = 0
    RUNTIME = 1
    """Runtime failure: a catalog, git or the file system failed; retrying may help."""
    INVALID = 2
    """Invalid input: a usage error, or a file or value that does not validate."""
    GUARDRAIL = 3
    """A mandatory guardrail fails."""
    REFUSED = 4
    """A change was refused, or needs an explicit opt-in (a breaking table change, a risky diff)."""


class FloeError(Exception):
    """Raised for any expected failure of floe-infra (bad input, unreachable service, ...)."""

    exit_code: ExitCode = ExitCode.INVALID


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

    exit_code = ExitCode.RUNTIME


class CatalogCredentialError(CatalogError):
    """Raised when a catalog refuses the credential itself (unknown client, wrong or revoked secret)."""


class CatalogUnreachableError(CatalogError):
    """Raised when a catalog endpoint cannot be reached at all (DNS, connection refused, timeout)."""


class CatalogTimeoutError(CatalogError):
    """Raised when a catalog accepted the connection but did not answer within the read timeout."""


class CatalogBusyError(CatalogError):
    """Raised when a catalog stays throttled (429) or unavailable (5xx) through every retry, or asks to
    wait longer than floe-infra waits; nothing was changed by the refused request."""


class CatalogResponseError(CatalogError):
    """Raised when a catalog's answer is cut short or is not the JSON the protocol prescribes."""


class CommitStateUnknownError(CatalogError):
    """Raised when a write may or may not have reached the catalog (an error after the request was
    sent) and re-reading the table could not confirm it; a rerun re-reads and finishes the job."""


class ConcurrentChangeError(CatalogError):
    """Raised when a table kept changing under an apply (optimistic retries exhausted), or another
    apply holds the embedded catalog's lock for too long."""


class DependencyMissingError(FloeError):
    """Raised when an optional dependency is needed but not installed; names the pip command."""
