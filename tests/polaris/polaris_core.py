"""Apache Polaris' own core classes (polaris-core 1.7.0 from Maven Central), asked what the fake transcribed.

`probe(requests)` resolves the jars `polaris_core/pom.xml` declares plus polaris-core itself (once,
cached outside the clone), compiles `polaris_core/PolarisCoreProbe.java` with the two stand-in enums
beside it, runs it with one request per line and returns its answers (see the probe's header). Every
step is bounded by a timeout. The server (polaris-runtime-service) cannot be run this way: Maven
Central serves it at 1.4.x only, and none of the API modules it needs (docs/testing.md).

The cache is `$FLOE_INFRA_CACHE/polaris-core/<version>/` (default `~/.cache/floe-infra`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "polaris_core"
POM = FIXTURE / "pom.xml"
SOURCES = (FIXTURE / "PolarisCoreProbe.java", *sorted((FIXTURE / "standin").rglob("*.java")))
RESOLVE_TIMEOUT = 600.0
COMPILE_TIMEOUT = 300.0
RUN_TIMEOUT = 60.0


class PolarisCoreError(RuntimeError):
    """Raised when polaris-core cannot be resolved, the probe not compiled or not run."""


def missing_tools() -> list[str]:
    """The tools the probe needs that are not on PATH."""
    return [tool for tool in ("java", "javac", "mvn") if shutil.which(tool) is None]


def polaris_version() -> str:
    """The polaris-core version the POM names."""
    version = ET.parse(POM).getroot().findtext("m:properties/m:polaris.version",
                                              namespaces={"m": "http://maven.apache.org/POM/4.0.0"})
    if not version:
        raise PolarisCoreError(f"{POM}: no <polaris.version> property")
    return version


def _run(command: list[str], what: str, timeout: float, stdin: str | None = None) -> str:
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False,
                              stdin=None if stdin is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise PolarisCoreError(f"{what} took longer than {timeout:.0f} s: {' '.join(command)}") from None
    if done.returncode != 0:
        raise PolarisCoreError(f"{what} failed (exit {done.returncode}): {' '.join(command)}\n"
                               f"{(done.stdout + done.stderr).strip()[-3000:]}")
    return done.stdout


def classpath() -> str:
    """The compiled probe and its jars, resolved and compiled once per POM and source version."""
    version = polaris_version()
    cache = Path(os.environ.get("FLOE_INFRA_CACHE") or Path.home() / ".cache" / "floe-infra") / "polaris-core" / version
    stamp = hashlib.sha256(b"".join(p.read_bytes() for p in (POM, *SOURCES))).hexdigest()
    classes, jars_file, stamp_file = cache / "classes", cache / "classpath.txt", cache / "stamp"
    if stamp_file.is_file() and stamp_file.read_text() == stamp and jars_file.is_file():
        jars = jars_file.read_text().strip()
        if all(Path(jar).is_file() for jar in jars.split(os.pathsep)):
            return f"{classes}{os.pathsep}{jars}"
    cache.mkdir(parents=True, exist_ok=True)
    repository = f"-Dmaven.repo.local={cache / 'repository'}"
    listed = cache / f"classpath.{os.getpid()}.txt"
    _run(["mvn", "--batch-mode", "--quiet", "--file", str(POM), repository, "dependency:build-classpath",
          f"-Dmdep.outputFile={listed}"], "resolving polaris-core's dependencies", RESOLVE_TIMEOUT)
    core = cache / "lib"
    _run(["mvn", "--batch-mode", "--quiet", "--file", str(POM), repository, "dependency:copy",
          f"-Dartifact=org.apache.polaris:polaris-core:{version}:jar", f"-DoutputDirectory={core}",
          "-Dtransitive=false"], "fetching polaris-core", RESOLVE_TIMEOUT)
    jars = os.pathsep.join([str(core / f"polaris-core-{version}.jar"), listed.read_text().strip()])
    listed.unlink()
    shutil.rmtree(classes, ignore_errors=True)
    _run(["javac", "--release", "17", "-proc:none", "-d", str(classes), "-cp", jars, *map(str, SOURCES)],
         "compiling the probe", COMPILE_TIMEOUT)
    jars_file.write_text(jars)
    stamp_file.write_text(stamp)
    return f"{classes}{os.pathsep}{jars}"


def probe(requests: list[list[str]]) -> list[list[str]]:
    """polaris-core's answers to `requests` (tab-separated fields each), one line of fields per answer."""
    out = _run(["java", "-cp", classpath(), "org.apache.polaris.core.auth.PolarisCoreProbe"], "running the probe",
               RUN_TIMEOUT, stdin="".join("\t".join(r) + "\n" for r in requests))
    return [line.split("\t") for line in out.splitlines() if line]
