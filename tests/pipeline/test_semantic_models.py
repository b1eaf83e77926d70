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
