"""The Pulumi project directory of the running program, shared by the platform and pipeline programs."""

from __future__ import annotations

from pathlib import Path

import pulumi


def project_dir() -> Path:
    """The directory holding Pulumi.yaml.

    Language hosts older than the root-directory protocol leave `get_root_directory()` unset; they
    run the program in the project directory, which is where floe's projects keep their program.
    """
    root = pulumi.get_root_directory()
    return Path(root) if root else Path.cwd()


def project_path(relative: str) -> Path:
    """A path from stack config, resolved against the project directory (absolute paths stay as they are)."""
    return project_dir() / relative
