"""The real Pulumi CLI, driven as a user drives it: a `file://` backend and the passphrase secrets provider.

The CLI, its Python language host, the `pulumi-resource-pulumi-python` shim (dynamic providers) and
the kubernetes provider come from the toolchain directory (tools/toolchain.py); they are found on
PATH, as an installed CLI finds them. The project's virtualenv is first on PATH: the language host
built here predates runtime options reaching hosts over RPC, so it runs the `python3` it finds,
which is what an activated virtualenv gives a user as well.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.cluster import die_with_parent

COMMAND_TIMEOUT_SECONDS = 1200


class PulumiCommandError(AssertionError):
    """Raised when a pulumi command exits with an unexpected status (its output is in the message)."""


@dataclass(frozen=True)
class Result:
    """What one pulumi command printed, how it exited and how long it took."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Pulumi:
    """The CLI with its own PULUMI_HOME, backend directory and passphrase."""

    toolchain: Path
    workdir: Path
    passphrase: str = "floe-e2e-passphrase"  # a test-only key for state that lives in a temp dir
    history: list[Result] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        venv_bin = Path(sys.executable).parent
        (self.workdir / "state").mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "PATH": os.pathsep.join([str(self._adapter_bin()), str(venv_bin), str(self.toolchain),
                                     os.environ.get("PATH", "")]),
            "PULUMI_HOME": str(self.workdir / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{self.workdir / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            # Nothing can be downloaded here; every plugin is on PATH.
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "NO_COLOR": "1",
        }

    def _adapter_bin(self) -> Path:
        """A `pulumi-language-python` that puts language_host_adapter.py in front of the built host."""
        directory = self.workdir / "adapter-bin"
        launcher = directory / "pulumi-language-python"
        if not launcher.exists():
            directory.mkdir(parents=True, exist_ok=True)
            adapter = Path(__file__).with_name("language_host_adapter.py")
            launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{adapter}" '
                                f'"{self.toolchain / "pulumi-language-python"}" "$@"\n')
            launcher.chmod(0o755)
        return directory

    def run(self, *args: str, cwd: Path, check: bool = True, timeout: float = COMMAND_TIMEOUT_SECONDS,
            passphrase: str | None = None) -> Result:
        start = time.monotonic()
        env = self.env() | ({"PULUMI_CONFIG_PASSPHRASE": passphrase} if passphrase else {})
        completed = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=cwd, env=env,
                                   capture_output=True, text=True, timeout=timeout, check=False,
                                   preexec_fn=die_with_parent)
        result = Result(tuple(args), completed.returncode, completed.stdout, completed.stderr,
                        time.monotonic() - start)
        self.history.append(result)
        log = self.workdir / "logs" / f"{len(self.history):02d}-{'-'.join(args[:2])}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"$ pulumi {' '.join(args)}\n{completed.stdout}\n--- stderr ---\n{completed.stderr}")
        if check and completed.returncode != 0:
            # The diagnostics say why; the whole output (with --diff, long) is in the log.
            diagnostics = completed.stdout.partition("Diagnostics:")[2] or completed.stdout[-4000:]
            raise PulumiCommandError(f"pulumi {' '.join(args)} exited {completed.returncode} (full output: {log}):\n"
                                     f"{diagnostics[-8000:]}\n{completed.stderr[-3000:]}")
        return result


@dataclass
class Stack:
    """One stack of one project, configured from a config file outside the project directory; `passphrase`
    (default: the Pulumi's) is its own secrets provider's, as each tier has its own."""

    pulumi: Pulumi
    project_dir: Path
    name: str
    config_file: Path
    passphrase: str | None = None

    def init(self, config: dict[str, Any], secrets: dict[str, str] | None = None) -> None:
        self.config_file.write_text(yaml.safe_dump({"config": config}))
        self.run("stack", "init", self.name)
        for key, value in (secrets or {}).items():
            self.run("config", "set", "--secret", key, value, "--stack", self.name, *self._config_args())

    def run(self, *args: str, check: bool = True, passphrase: str | None = None) -> Result:
        """A pulumi command in the project directory, with this stack's passphrase unless another is given."""
        return self.pulumi.run(*args, cwd=self.project_dir, check=check, passphrase=passphrase or self.passphrase)

    def _config_args(self) -> tuple[str, ...]:
        return ("--config-file", str(self.config_file))

    def cmd(self, *args: str, check: bool = True) -> Result:
        return self.run(*args, "--stack", self.name, *self._config_args(), check=check)

    def up(self, *extra: str) -> Result:
        return self.cmd("up", "--yes", "--skip-preview", "--diff", *extra)

    def preview(self, *extra: str, check: bool = True) -> Result:
        return self.cmd("preview", "--diff", *extra, check=check)

    def export(self) -> dict[str, Any]:
        return self.run("stack", "export", "--stack", self.name).json()

    def outputs(self) -> dict[str, Any]:
        return self.run("stack", "output", "--json", "--stack", self.name).json()
