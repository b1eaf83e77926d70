"""Local chart copies: downloaded from a Helm repository index, verified, unpacked without schemas."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pulumi
import pytest
import yaml

from floe_infra.charts import ChartFetchError, fetch_chart, local_chart_path
from floe_infra.platform.program import run_platform
from floe_infra.preview.runtime import run_program
from floe_infra.versions import Chart
from tests.conftest import DEMO_PIPELINE, DEMO_PLATFORM
from tests.pipeline.conftest import platform_contract, run_pipeline_stack, tenant_keys


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


def publish(root: Path, archive: bytes, version: str = "1.12.19", digest: str | None = None,
            name: str = "dagster") -> None:
    """Add a chart archive to the repository and its index (keeping what the index already lists)."""
    (root / "charts").mkdir(exist_ok=True)
    (root / "charts" / f"{name}-{version}.tgz").write_bytes(archive)
    index_file = root / "charts" / "index.yaml"
    index = yaml.safe_load(index_file.read_text()) if index_file.exists() else {"apiVersion": "v1", "entries": {}}
    index["entries"].setdefault(name, []).append({
        "name": name, "version": version, "urls": [f"{name}-{version}.tgz"],
        "digest": digest or hashlib.sha256(archive).hexdigest()})
    index_file.write_text(yaml.safe_dump(index))


def chart_files(name: str, version: str) -> dict[str, str]:
    """A chart whose Chart.yaml says its version, with a values schema its copy must not keep."""
    return {f"{name}/Chart.yaml": f"name: {name}\nversion: {version}\n", f"{name}/values.yaml": "{}\n",
            f"{name}/values.schema.json": '{"$ref": "https://kubernetesjsonschema.dev/v1.18.0/_definitions.json"}'}


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


# --- the version a release installs: the platform's override, the contract's version --------------------------

PINNED, OVERRIDE = "1.12.19", "1.12.20"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture
def dagster_repo(helm_repo, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both Dagster charts at the pinned version and at a newer one, served on loopback, where the programs
    look for them."""
    root, url = helm_repo
    for name in ("dagster", "dagster-user-deployments"):
        for version in (PINNED, OVERRIDE):
            publish(root, chart_archive(chart_files(name, version)), version, name=name)
    monkeypatch.setattr("floe_infra.platform.orchestration.DAGSTER_CHART", Chart("dagster", url, PINNED))
    monkeypatch.setattr("floe_infra.pipeline.code_location.DAGSTER_USER_DEPLOYMENTS_CHART",
                        Chart("dagster-user-deployments", url, PINNED))
    return url


def overriding_platform(tmp_path: Path) -> Path:
    """The demo platform as a project of its own whose platform.yaml overrides the Dagster chart version."""
    project = tmp_path / "platform"
    project.mkdir()
    text = DEMO_PLATFORM.read_text().replace(
        "    orchestration:\n", f"    orchestration:\n      chart_version: {OVERRIDE}\n", 1)
    assert f"chart_version: {OVERRIDE}" in text
    (project / "platform.yaml").write_text(text)
    return project


def pipeline_project(tmp_path: Path) -> Path:
    """A copy of the demo pipeline project, without any chart copy."""
    project = tmp_path / "pipeline"
    shutil.copytree(DEMO_PIPELINE.parent, project, ignore=shutil.ignore_patterns("__pycache__", ".floe", "target"))
    return project


def test_a_pipeline_installs_the_dagster_chart_version_the_contract_names(dagster_repo, tmp_path: Path):
    platform_dir = overriding_platform(tmp_path)
    platform = run_program(run_platform, project="floe-platform", stack="local", root_directory=platform_dir,
                           config={"floe:platformFile": "platform.yaml"}, tenant_public_key=tenant_keys()[0],
                           chart_downloads=True)
    contract = platform.outputs["contract"]
    assert contract["dagster"]["chart_version"] == OVERRIDE
    # The platform's own release installs the version platform.yaml names, from a copy it fetched itself.
    dagster = next(r.inputs for r in platform.of_type(RELEASE) if r.inputs["name"] == "floe-dagster")
    assert (dagster["chart"], dagster["version"]) == (f".floe/charts/dagster-{OVERRIDE}/dagster", OVERRIDE)
    assert "version: 1.12.20" in (platform_dir / dagster["chart"] / "Chart.yaml").read_text()
    # The pipeline project holds only the pinned copy (what `floe-infra charts fetch` without a version made).
    project = pipeline_project(tmp_path)
    fetch_chart(Chart("dagster-user-deployments", dagster_repo, PINNED), PINNED, project / ".floe" / "charts")
    run = run_pipeline_stack(contract, project_dir=project, chart_downloads=True)
    release = run.named("ecommerce-analytics-code-release").inputs
    assert (release["chart"], release["version"]) == (
        f".floe/charts/dagster-user-deployments-{OVERRIDE}/dagster-user-deployments", OVERRIDE)
    copy = project / release["chart"]
    assert yaml.safe_load((copy / "Chart.yaml").read_text())["version"] == OVERRIDE
    assert not (copy / "values.schema.json").exists()


def test_a_chart_version_that_cannot_be_fetched_stops_the_deploy_with_what_to_do(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("floe_infra.pipeline.code_location.DAGSTER_USER_DEPLOYMENTS_CHART",
                        Chart("dagster-user-deployments", "http://127.0.0.1:9/charts", PINNED))
    contract = platform_contract()
    contract["dagster"]["chart_version"] = OVERRIDE
    with pytest.raises(pulumi.RunError) as caught:
        run_pipeline_stack(contract, project_dir=pipeline_project(tmp_path), chart_downloads=True)
    message = str(caught.value)
    assert f"dagster-user-deployments {OVERRIDE} has no local copy in {tmp_path / 'pipeline' / '.floe/charts'}" \
        in message
    assert f"`floe-infra charts fetch --version {OVERRIDE}` in this project" in message


def test_a_copy_holding_another_version_than_its_name_says_is_refused(dagster_repo, tmp_path: Path):
    project = pipeline_project(tmp_path)
    fetch_chart(Chart("dagster-user-deployments", dagster_repo, PINNED), PINNED, project / ".floe" / "charts")
    (project / ".floe" / "charts" / f"dagster-user-deployments-{PINNED}").rename(
        project / ".floe" / "charts" / f"dagster-user-deployments-{OVERRIDE}")
    contract = platform_contract()
    contract["dagster"]["chart_version"] = OVERRIDE
    with pytest.raises(pulumi.RunError, match=rf"Chart.yaml says version {PINNED}, but the release installs "
                                              rf"dagster-user-deployments {OVERRIDE}"):
        run_pipeline_stack(contract, project_dir=project, chart_downloads=True)


def test_a_program_under_the_mock_runtime_fetches_nothing(tmp_path: Path, monkeypatch):
    # Offline previews and tests: the release names the copy it would install, and no network is touched.
    monkeypatch.setattr("floe_infra.pipeline.code_location.DAGSTER_USER_DEPLOYMENTS_CHART",
                        Chart("dagster-user-deployments", "http://127.0.0.1:9/charts", PINNED))
    project = pipeline_project(tmp_path)
    run = run_pipeline_stack(project_dir=project)
    assert run.named("ecommerce-analytics-code-release").inputs["chart"].endswith(f"-{PINNED}/dagster-user-deployments")
    assert not (project / ".floe").exists()
