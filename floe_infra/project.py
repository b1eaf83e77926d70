"""The Pulumi project directory of the running program, shared by the platform and pipeline programs."""

from __future__ import annotations

from pathlib import Path

import pulumi

# The first release whose language host passes the project directory to Python programs.
ROOT_DIRECTORY_SINCE = "3.153"


def project_dir() -> Path:
    """The directory holding Pulumi.yaml, as the Pulumi CLI (or the mock runtime) passes it.

    Raises:
        pulumi.RunError: When it is not passed: a Pulumi CLI older than 3.153.
    """
    root = pulumi.get_root_directory()
    if not root:
        raise pulumi.RunError(f"the Pulumi CLI did not pass the project directory to the program: floe-infra needs "
                              f"Pulumi CLI {ROOT_DIRECTORY_SINCE} or newer (`pulumi version` shows yours)")
    return Path(root)


def project_path(relative: str) -> Path:
    """A path from stack config, resolved against the project directory (absolute paths stay as they are)."""
    return project_dir() / relative
