"""The real Pulumi CLI, driven as a user drives it: a `file://` backend and the passphrase secrets provider.

The CLI, its Python language host, the `pulumi-resource-pulumi-python` shim (dynamic providers) and
the random and kubernetes providers come from the toolchain directory (tools/toolchain.py); they are
found on PATH, as an installed CLI finds them. No virtualenv is on PATH: the host runs each program,
policy pack and dynamic provider in the virtualenv its project names (`runtime.options.virtualenv`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping
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
        (self.workdir / "state").mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "PATH": os.pathsep.join([str(self.toolchain), os.environ.get("PATH", "")]),
            "PULUMI_HOME": str(self.workdir / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{self.workdir / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            # Nothing can be downloaded here; every plugin is on PATH.
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "NO_COLOR": "1",
        }

    def run(self, *args: str, cwd: Path, check: bool = True, timeout: float = COMMAND_TIMEOUT_SECONDS,
            passphrase: str | None = None, env: Mapping[str, str] | None = None) -> Result:
        start = time.monotonic()
        env = self.env() | ({"PULUMI_CONFIG_PASSPHRASE": passphrase} if passphrase else {}) | dict(env or {})
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

    def run(self, *args: str, check: bool = True, passphrase: str | None = None,
            env: Mapping[str, str] | None = None) -> Result:
        """A pulumi command in the project directory, with this stack's passphrase unless another is given."""
        return self.pulumi.run(*args, cwd=self.project_dir, check=check, passphrase=passphrase or self.passphrase,
                               env=env)

    def _config_args(self) -> tuple[str, ...]:
        return ("--config-file", str(self.config_file))

    def cmd(self, *args: str, check: bool = True, env: Mapping[str, str] | None = None) -> Result:
        return self.run(*args, "--stack", self.name, *self._config_args(), check=check, env=env)

    def up(self, *extra: str, env: Mapping[str, str] | None = None) -> Result:
        return self.cmd("up", "--yes", "--skip-preview", "--diff", *extra, env=env)

    def preview(self, *extra: str, check: bool = True) -> Result:
        return self.cmd("preview", "--diff", *extra, check=check)

    def export(self) -> dict[str, Any]:
        return self.run("stack", "export", "--stack", self.name).json()

    def outputs(self) -> dict[str, Any]:
        return self.run("stack", "output", "--json", "--stack", self.name).json()
