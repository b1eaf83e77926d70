"""Apache Iceberg's REST catalog test server, run from Maven Central jars on 127.0.0.1.

`iceberg_rest_server()` resolves the classpath that `iceberg_rest/pom.xml` declares (once per
version, cached outside the clone), compiles the small launcher beside it against that classpath,
starts it on a port the OS picks, waits until the catalog answers `GET /{catalog}/v1/config`, and
always stops it. Every step is bounded by a timeout; the durations are printed (pytest shows them
with `-s` or when a test fails).

The cache is `$FLOE_INFRA_CACHE/iceberg-rest/<iceberg version>/` (default `~/.cache/floe-infra`):
its own Maven repository, `classpath.txt`, the compiled launcher. Delete it to resolve again.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import selectors
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests

FIXTURE = Path(__file__).resolve().parent / "iceberg_rest"
POM = FIXTURE / "pom.xml"
LAUNCHER = FIXTURE / "LoopbackRestCatalog.java"
MAIN_CLASS = "LoopbackRestCatalog"
RESOLVE_TIMEOUT = 900.0
COMPILE_TIMEOUT = 300.0
START_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0
# Catalogs open on first use; the readiness probe opens this one (nothing is stored for it).
PROBE_CATALOG = "readiness-probe"
# A small heap and the client compiler: the catalog serves a few requests, and starts faster so.
JVM_OPTIONS = ("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")


class IcebergRestError(RuntimeError):
    """Raised when the Iceberg REST catalog cannot be resolved, compiled or started."""


def missing_tools() -> list[str]:
    """The tools the fixture needs that are not on PATH (CI and developer machines have both)."""
    return [tool for tool in ("java", "javac", "mvn") if shutil.which(tool) is None]


def iceberg_version() -> str:
    """The Iceberg version the POM pins."""
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = ET.parse(POM).getroot().findtext("m:properties/m:iceberg.version", namespaces=namespace)
    if not version:
        raise IcebergRestError(f"{POM}: no <iceberg.version> property")
    return version


def cache_dir() -> Path:
    """Where this version's jars, classpath and compiled launcher are kept."""
    base = Path(os.environ.get("FLOE_INFRA_CACHE") or Path.home() / ".cache" / "floe-infra")
    return base / "iceberg-rest" / iceberg_version()


def _run(command: list[str], what: str, timeout: float) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise IcebergRestError(f"{what} took longer than {timeout:.0f} s: {' '.join(command)}") from None
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip()[-3000:]
        raise IcebergRestError(f"{what} failed (exit {done.returncode}): {' '.join(command)}\n{tail}")


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    partial.replace(path)


def resolve_classpath(timeout: float = RESOLVE_TIMEOUT) -> str:
    """The launcher's classpath: jars from Maven Central plus the compiled launcher, cached.

    Resolution runs again when the POM or the launcher changed or a cached jar is gone.

    Raises:
        IcebergRestError: When Maven or javac fails or exceeds the timeout.
    """
    cache = cache_dir()
    stamp = hashlib.sha256(POM.read_bytes() + LAUNCHER.read_bytes()).hexdigest()
    classpath_file, stamp_file, classes = cache / "classpath.txt", cache / "stamp", cache / "classes"
    if stamp_file.is_file() and stamp_file.read_text() == stamp and classpath_file.is_file():
        jars = classpath_file.read_text().strip()
        if all(Path(jar).is_file() for jar in jars.split(os.pathsep)):
            return f"{classes}{os.pathsep}{jars}"
    started = time.monotonic()
    cache.mkdir(parents=True, exist_ok=True)
    listed = cache / f"classpath.{os.getpid()}.txt"
    _run(["mvn", "--batch-mode", "--quiet", "--file", str(POM), f"-Dmaven.repo.local={cache / 'repository'}",
          "dependency:build-classpath", f"-Dmdep.outputFile={listed}"], "resolving the Iceberg REST classpath",
         timeout)
    jars = listed.read_text().strip()
    listed.unlink()
    resolved = time.monotonic()
    compiled = cache / f"classes.{os.getpid()}"
    shutil.rmtree(compiled, ignore_errors=True)
    # --release 17: the classes run on any JDK from 17 on, whichever javac compiled them.
    _run(["javac", "--release", "17", "-d", str(compiled), "-cp", jars, str(LAUNCHER)], "compiling the launcher",
         COMPILE_TIMEOUT)
    shutil.rmtree(classes, ignore_errors=True)
    compiled.replace(classes)
    _write_atomically(classpath_file, jars)
    _write_atomically(stamp_file, stamp)
    count = len(jars.split(os.pathsep))
    size = sum(Path(jar).stat().st_size for jar in jars.split(os.pathsep)) / 2**20
    print(f"iceberg-rest {iceberg_version()}: resolved {count} jars ({size:.0f} MiB) in {resolved - started:.1f} s, "
          f"compiled the launcher in {time.monotonic() - resolved:.1f} s")
    return f"{classes}{os.pathsep}{jars}"


@dataclass(frozen=True)
class IcebergRestServer:
    """A running server: `catalog_url(name)` is the Iceberg REST root (`.../v1/...`) of one catalog.

    Attributes:
        url: `http://127.0.0.1:<port>`.
        warehouse: Local directory holding every catalog's table files (`<warehouse>/<catalog>/...`).
        log: The server's log file.
    """

    url: str
    warehouse: Path
    log: Path

    def catalog_url(self, catalog: str) -> str:
        """Root of one catalog's Iceberg REST API (a client appends `/v1/...`)."""
        return f"{self.url}/{quote(catalog, safe='')}"


def _die_with_parent() -> None:
    # Linux PR_SET_PDEATHSIG: the JVM gets SIGTERM if the test process dies without cleaning up.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _read_port(process: subprocess.Popen[str], deadline: float, log: Path) -> int:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=min(1.0, max(deadline - time.monotonic(), 0.0))):
                line = process.stdout.readline()
                if line.startswith("port="):
                    return int(line.removeprefix("port="))
                if not line:
                    break
            if process.poll() is not None:
                break
    raise IcebergRestError(f"the Iceberg REST catalog did not start (exit {process.poll()}); log {log}:\n"
                           f"{log.read_text()[-3000:]}")


def _wait_ready(url: str, deadline: float, log: Path) -> None:
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{url}/{PROBE_CATALOG}/v1/config", timeout=5)
            if answer.status_code == 200:
                return
            last = f"HTTP {answer.status_code}: {answer.text[:300]}"
        except requests.RequestException as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.2)
    raise IcebergRestError(f"the Iceberg REST catalog at {url} is not ready ({last}); log {log}:\n"
                           f"{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    if process.stdout is not None:
        process.stdout.close()


@contextmanager
def iceberg_rest_server(workdir: Path, *, start_timeout: float = START_TIMEOUT) -> Iterator[IcebergRestServer]:
    """Run the Iceberg REST catalog on 127.0.0.1 with its state under `workdir`; stop it on exit.

    `workdir` receives the catalog database, `warehouse/` (table files), the log and the JVM's
    temporary files.

    Raises:
        IcebergRestError: When the classpath cannot be resolved or the server does not become ready.
    """
    classpath = resolve_classpath()
    # sqlite-jdbc unpacks its native library into java.io.tmpdir: keep that inside the workdir.
    tmp = workdir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    log = workdir / "iceberg-rest.log"
    started = time.monotonic()
    with log.open("w") as stderr:
        process = subprocess.Popen(
            ["java", *JVM_OPTIONS, f"-Djava.io.tmpdir={tmp}", "-cp", classpath, MAIN_CLASS, str(workdir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, text=True,
            preexec_fn=_die_with_parent)  # prctl only: safe between fork and exec
    try:
        deadline = started + start_timeout
        url = f"http://127.0.0.1:{_read_port(process, deadline, log)}"
        _wait_ready(url, deadline, log)
        print(f"iceberg-rest {iceberg_version()}: ready at {url} in {time.monotonic() - started:.1f} s")
        yield IcebergRestServer(url=url, warehouse=workdir / "warehouse", log=log)
    finally:
        _stop(process)
