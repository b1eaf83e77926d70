"""Reading the Cube model directory floe.yaml names, with precise errors where a ConfigMap cannot hold it."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe_infra.config.loader import load_pipeline
from floe_infra.errors import ConfigError
from floe_infra.pipeline.semantic import MAX_MODEL_BYTES, read_model_files

FLOE_YAML = """\
name: sales
version: "1.0.0"
consumption:
  enabled: true
  models_path: cube
"""


def models(tmp_path: Path, files: dict[str, str]) -> dict[str, str]:
    (tmp_path / "floe.yaml").write_text(FLOE_YAML)
    for name, text in files.items():
        path = tmp_path / "cube" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return read_model_files(load_pipeline(tmp_path / "floe.yaml"))


def problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        models(tmp_path, files)
    return [str(p) for p in caught.value.problems]


def test_model_files_are_read_by_name(tmp_path: Path):
    files = {"orders.yml": "cubes: []\n", "customers.yaml": "cubes: []\n", "helpers.js": "cube(`x`, {});\n",
             ".hidden": "ignored"}
    assert models(tmp_path, files) == {k: v for k, v in files.items() if k != ".hidden"}


def test_subdirectories_and_foreign_files_are_refused_at_models_path(tmp_path: Path):
    found = problems(tmp_path, {"orders.yml": "cubes: []\n", "nested/x.yml": "", "notes.txt": "",
                                "bad name.yml": ""})
    assert all(p.startswith(f"{tmp_path / 'floe.yaml'}:5:16: consumption.models_path: ") for p in found)
    assert len(found) == 3
    assert any("nested/ is a subdirectory" in p for p in found)
    assert any("notes.txt is not a Cube model file" in p for p in found)
    assert any("bad name.yml is not a Cube model file" in p for p in found)


def test_an_empty_directory_is_refused(tmp_path: Path):
    (tmp_path / "cube").mkdir()
    assert "has no model files" in problems(tmp_path, {})[0]


def test_models_larger_than_a_configmap_are_refused(tmp_path: Path):
    found = problems(tmp_path, {"big.yml": "#" * (MAX_MODEL_BYTES + 1)})
    assert "more than a ConfigMap holds" in found[0]


# --- paths stay inside the pipeline's project -----------------------------------------------------------


@pytest.mark.parametrize(("models_path", "says"), [
    ("../secrets", "leads out of the pipeline's project"),
    ("semantic/../../secrets", "leads out of the pipeline's project"),
    ("/etc/floe", "is absolute"),
    ("C:/creds", "is absolute"),
    ("semantic\\..\\..\\secrets", "backslash"),
])
def test_a_models_path_out_of_the_project_is_refused_before_anything_is_read(tmp_path: Path, models_path: str,
                                                                          says: str):
    (tmp_path / "floe.yaml").write_text(FLOE_YAML.replace("models_path: cube", f"models_path: '{models_path}'"))
    with pytest.raises(ConfigError) as caught:
        load_pipeline(tmp_path / "floe.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (5, "consumption.models_path")
    assert says in problem.message


def test_a_symlinked_models_directory_out_of_the_project_is_refused(tmp_path: Path):
    # The attack of issue 12: `creds.yml` elsewhere would land in the preview JSON and the Cube ConfigMap.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "creds.yml").write_text("password: hunter2\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "floe.yaml").write_text(FLOE_YAML)
    (project / "cube").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError) as caught:
        read_model_files(load_pipeline(project / "floe.yaml"))
    [problem] = caught.value.problems
    assert "leads out of the pipeline's project" in problem.message
    assert "through a symlink" in problem.message


def test_a_symlinked_model_file_out_of_the_project_is_refused_and_not_read(tmp_path: Path):
    outside = tmp_path / "creds.yml"
    outside.write_text("password: hunter2\n")
    project = tmp_path / "project"
    (project / "cube").mkdir(parents=True)
    (project / "floe.yaml").write_text(FLOE_YAML)
    (project / "cube" / "orders.yml").write_text("cubes: []\n")
    (project / "cube" / "creds.yml").symlink_to(outside)
    with pytest.raises(ConfigError) as caught:
        read_model_files(load_pipeline(project / "floe.yaml"))
    assert [p.message for p in caught.value.problems] == [
        f"creds.yml is a symlink out of the pipeline's project ({project.resolve()}): only files inside it are "
        "published; copy the model in"]
    assert "hunter2" not in str(caught.value)


def test_a_symlink_inside_the_project_is_fine(tmp_path: Path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "orders.yml").write_text("cubes: []\n")
    (tmp_path / "floe.yaml").write_text(FLOE_YAML)
    (tmp_path / "cube").symlink_to(tmp_path / "shared", target_is_directory=True)
    assert read_model_files(load_pipeline(tmp_path / "floe.yaml")) == {"orders.yml": "cubes: []\n"}


def test_a_transform_path_out_of_the_project_is_refused(tmp_path: Path):
    (tmp_path / "floe.yaml").write_text('name: sales\nversion: "1.0.0"\ntransforms:\n  - {type: dbt, path: ../dbt}\n')
    with pytest.raises(ConfigError, match=r"transforms\[0\]\.path: '\.\./dbt' leads out of the pipeline's project"):
        load_pipeline(tmp_path / "floe.yaml")
