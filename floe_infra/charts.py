"""Local copies of charts that Helm cannot install straight from their repository.

The Dagster charts ship values.schema.json files whose `$ref`s point at remote URLs that no longer
resolve, so Helm refuses any values ("values don't meet the specifications"; dagster-io/dagster
#29629, #33134). `fetch_chart` downloads a chart version from its repository index, checks the
archive's digest, unpacks it safely and removes the schema files; the releases then install from
`.floe/charts/<chart>-<version>/<chart>` relative to the Pulumi project.

The version is the one the release installs, known only to the program that declares it: the
platform's Dagster chart (pinned, or platform.yaml's `chart_version`), and a pipeline's code location
chart at the version the platform's contract names. So the programs resolve their copy themselves
(`local_chart`), fetching it when the project has none; a copy made ahead of time with
`floe-infra charts fetch` is used as it is, once its Chart.yaml says it is that version.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin

import requests
import yaml

from floe_infra.errors import ExitCode, FloeError
from floe_infra.versions import Chart

TIMEOUT_SECONDS = 60
# Relative to the Pulumi project directory, so Release inputs are the same on every machine.
CHART_CACHE = ".floe/charts"
# Off while a program runs under the mock runtime (offline previews, tests): nothing reads the chart there.
_DOWNLOADS: ContextVar[bool] = ContextVar("floe_chart_downloads", default=True)


class ChartFetchError(FloeError):
    """Raised when a chart cannot be downloaded, verified or unpacked."""

    exit_code = ExitCode.RUNTIME


def local_chart_path(chart: Chart, version: str) -> str:
    """Where `fetch_chart` unpacks a chart, relative to the Pulumi project."""
    return f"{CHART_CACHE}/{chart.name}-{version}/{chart.name}"


@contextmanager
def downloads(enabled: bool) -> Iterator[None]:
    """Within the block, `local_chart` fetches missing copies only when `enabled`."""
    token = _DOWNLOADS.set(enabled)
    try:
        yield
    finally:
        _DOWNLOADS.reset(token)


def local_chart(chart: Chart, version: str, project_dir: Path) -> str:
    """The local copy of `chart` at `version` a release installs from (relative to `project_dir`), fetched into
    the project's chart cache when it has none (unless downloads are off: see `downloads`).

    Raises:
        ChartFetchError: When the copy holds another version, or a missing copy cannot be fetched.
    """
    relative = local_chart_path(chart, version)
    manifest = project_dir / relative / "Chart.yaml"
    if manifest.is_file():
        try:
            found = str((yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}).get("version"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ChartFetchError(f"{manifest}: cannot read it ({exc}); delete {relative} and deploy again") from None
        if found != version:
            raise ChartFetchError(f"{manifest} says version {found}, but the release installs {chart.name} {version}; "
                                  f"delete {project_dir / CHART_CACHE / f'{chart.name}-{version}'} and deploy again")
        return relative
    if _DOWNLOADS.get():
        try:
            fetch_chart(chart, version, project_dir / CHART_CACHE)
        except ChartFetchError as exc:
            raise ChartFetchError(
                f"{chart.name} {version} has no local copy in {project_dir / CHART_CACHE}, and fetching it failed: "
                f"{exc}. Fetch it where {chart.repository} is reachable (`floe-infra charts fetch --version {version}` "
                "in this project) or point floe:chartSources at a copy or a mirror") from None
    return relative


def _get(url: str) -> bytes:
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise ChartFetchError(f"cannot download {url}: {exc}") from exc
    if response.status_code != 200:
        raise ChartFetchError(f"cannot download {url}: HTTP {response.status_code}")
    return response.content


def _safe_extract(archive: bytes, target: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            path = PurePosixPath(member.name)
            if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
                raise ChartFetchError(f"chart archive has an unsafe entry {member.name!r}; refusing to unpack")
        tar.extractall(target, filter="data")


def fetch_chart(chart: Chart, version: str, cache: Path) -> Path:
    """Download `chart` at `version` into `cache`, without its values.schema.json files.

    Returns:
        The chart directory (`<cache>/<name>-<version>/<name>`).

    Raises:
        ChartFetchError: When the index, version or archive is missing, or the digest differs.
    """
    repo = chart.repository.rstrip("/") + "/"
    index = yaml.safe_load(_get(urljoin(repo, "index.yaml")))
    entries = (index or {}).get("entries", {}).get(chart.name, [])
    entry = next((e for e in entries if str(e.get("version")) == version), None)
    if entry is None:
        known = ", ".join(str(e.get("version")) for e in entries[:5]) or "none"
        raise ChartFetchError(f"{chart.name} {version} is not in {repo}index.yaml (latest: {known})")
    url = urljoin(repo, entry["urls"][0])
    archive = _get(url)
    expected = entry.get("digest")
    actual = hashlib.sha256(archive).hexdigest()
    if expected and actual != expected:
        raise ChartFetchError(f"{url} has digest {actual}, but the index says {expected}; refusing it")
    target = cache / f"{chart.name}-{version}"
    staging = cache / f".{chart.name}-{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        _safe_extract(archive, staging)
        for schema in staging.rglob("values.schema.json"):
            schema.unlink()
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    chart_dir = target / chart.name
    if not (chart_dir / "Chart.yaml").is_file():
        raise ChartFetchError(f"{url} does not contain {chart.name}/Chart.yaml")
    return chart_dir
