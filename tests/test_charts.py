"""Local chart copies: downloaded from a Helm repository index, verified, unpacked without schemas."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from floe_infra.charts import ChartFetchError, fetch_chart, local_chart_path
from floe_infra.versions import Chart


def chart_archive(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def helm_repo(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A Helm repository served over HTTP from a temporary directory."""
    root = tmp_path / "repo"
    root.mkdir()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_port}/charts"
    server.shutdown()


def publish(root: Path, archive: bytes, version: str = "1.12.19", digest: str | None = None) -> None:
    (root / "charts").mkdir(exist_ok=True)
    (root / "charts" / f"dagster-{version}.tgz").write_bytes(archive)
    index = {"apiVersion": "v1", "entries": {"dagster": [{
        "name": "dagster", "version": version, "urls": [f"dagster-{version}.tgz"],
        "digest": digest or hashlib.sha256(archive).hexdigest()}]}}
    (root / "charts" / "index.yaml").write_text(yaml.safe_dump(index))


DAGSTER_FILES = {
    "dagster/Chart.yaml": "name: dagster\nversion: 1.12.19\n",
    "dagster/values.yaml": "dagsterWebserver: {}\n",
    "dagster/values.schema.json": '{"$ref": "https://kubernetesjsonschema.dev/v1.18.0/_definitions.json"}',
    "dagster/charts/dagster-user-deployments/Chart.yaml": "name: dagster-user-deployments\n",
    "dagster/charts/dagster-user-deployments/values.schema.json": "{}",
}


def test_fetch_unpacks_the_chart_without_any_values_schema(helm_repo, tmp_path: Path):
    root, url = helm_repo
    publish(root, chart_archive(DAGSTER_FILES))
    chart_dir = fetch_chart(Chart("dagster", url, "1.12.19"), "1.12.19", tmp_path / "cache")
    assert chart_dir == tmp_path / "cache" / "dagster-1.12.19" / "dagster"
    assert (chart_dir / "Chart.yaml").is_file()
    assert (chart_dir / "charts" / "dagster-user-deployments" / "Chart.yaml").is_file()
    assert list((tmp_path / "cache").rglob("values.schema.json")) == []
    assert str(chart_dir).endswith(local_chart_path(Chart("dagster", url, "1.12.19"), "1.12.19")
                                   .removeprefix(".floe/charts"))


def test_fetch_refuses_an_archive_whose_digest_differs_from_the_index(helm_repo, tmp_path: Path):
    root, url = helm_repo
    publish(root, chart_archive(DAGSTER_FILES), digest="0" * 64)
    with pytest.raises(ChartFetchError, match="but the index says 0000"):
        fetch_chart(Chart("dagster", url, "1.12.19"), "1.12.19", tmp_path / "cache")
    assert not (tmp_path / "cache" / "dagster-1.12.19").exists()


def test_fetch_names_the_versions_it_knows_when_one_is_missing(helm_repo, tmp_path: Path):
    root, url = helm_repo
    publish(root, chart_archive(DAGSTER_FILES))
    with pytest.raises(ChartFetchError, match=r"dagster 9.9.9 is not in .*index.yaml \(latest: 1.12.19\)"):
        fetch_chart(Chart("dagster", url, "9.9.9"), "9.9.9", tmp_path / "cache")


def test_fetch_refuses_archives_that_escape_the_cache(helm_repo, tmp_path: Path):
    root, url = helm_repo
    publish(root, chart_archive({**DAGSTER_FILES, "../../evil.sh": "rm -rf /"}))
    with pytest.raises(ChartFetchError, match=r"unsafe entry '\.\./\.\./evil\.sh'"):
        fetch_chart(Chart("dagster", url, "1.12.19"), "1.12.19", tmp_path / "cache")
    assert not (tmp_path / "evil.sh").exists()
    assert list((tmp_path / "cache").iterdir()) == []


def test_fetch_reports_an_unreachable_repository(tmp_path: Path):
    with pytest.raises(ChartFetchError, match=r"cannot download http://127\.0\.0\.1:9/"):
        fetch_chart(Chart("dagster", "http://127.0.0.1:9/charts", "1.12.19"), "1.12.19", tmp_path)
