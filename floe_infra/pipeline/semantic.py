"""The pipeline's Cube models, delivered as the ConfigMap the platform's Cube mounts for this tenant.

The platform's Cube pods mount `<tenant>-cube-models` (optional) as `model/<tenant>/` and
recompile when its files change, so publishing models is one ConfigMap update: no Cube restart,
no platform change. A ConfigMap is a flat set of files of at most 1 MiB in total; the model
directory has to fit that shape, and the loader says so precisely when it does not.
"""

from __future__ import annotations

import re

import pulumi
import pulumi_kubernetes as k8s

from floe_infra.config.loader import Loaded
from floe_infra.config.pipeline import PipelineConfig
from floe_infra.errors import ConfigError, Problem
from floe_infra.pipeline.binding import PipelineBinding
from floe_infra.pipeline.labels import pipeline_meta

MODEL_SUFFIXES = (".yml", ".yaml", ".js")
# Kubernetes stores a ConfigMap in one etcd object: 1 MiB for data and metadata together.
MAX_MODEL_BYTES = 1024 * 1024 - 16 * 1024
_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
_FIELD = ("consumption", "models_path")


def read_model_files(loaded: Loaded[PipelineConfig]) -> dict[str, str]:
    """The Cube model files of `consumption.models_path` (relative to floe.yaml), by file name.

    Raises:
        ConfigError: When the directory is missing or empty, nested, too large, or has files Cube
            does not read or a ConfigMap cannot hold; located at `consumption.models_path`.
    """
    doc = loaded.document
    project = doc.file.parent.resolve()
    directory = doc.file.parent / loaded.config.consumption.models_path

    def fail(message: str) -> ConfigError:
        return ConfigError([doc.problem(_FIELD, message)])

    # The model validator refused '..' and absolute paths; a symlink can still lead out.
    if not directory.resolve().is_relative_to(project):
        raise fail(f"{directory} leads out of the pipeline's project ({project}) through a symlink: files outside "
                   "it would be published in the tenant's Cube ConfigMap; move the models into the project")
    if not directory.is_dir():
        raise fail(f"the Cube model directory {directory} does not exist; create it or set "
                   "consumption.enabled: false")
    files: dict[str, str] = {}
    problems: list[Problem] = []
    total = 0
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue
        if not path.resolve().is_relative_to(project):
            problems.append(doc.problem(_FIELD, f"{path.name} is a symlink out of the pipeline's project ({project}): "
                                                "only files inside it are published; copy the model in"))
        elif path.is_dir():
            problems.append(doc.problem(_FIELD, f"{path.name}/ is a subdirectory: Cube models are delivered as "
                                                "one flat directory; move its files up"))
        elif not path.is_file() or path.suffix not in MODEL_SUFFIXES or not _KEY_RE.fullmatch(path.name):
            problems.append(doc.problem(_FIELD, f"{path.name} is not a Cube model file (*.yml, *.yaml or *.js "
                                                "named with letters, digits, '-', '_' and '.')"))
        elif total + path.stat().st_size <= MAX_MODEL_BYTES:  # read no more than a ConfigMap can hold
            text = path.read_text(encoding="utf-8")
            total += len(text.encode())
            files[path.name] = text
        else:
            total += path.stat().st_size
    if problems:
        raise ConfigError(problems)
    if total > MAX_MODEL_BYTES:
        raise fail(f"the Cube models total {total} bytes, more than a ConfigMap holds ({MAX_MODEL_BYTES}); "
                   "split large models or move pre-aggregation definitions out")
    if not files:
        raise fail(f"the Cube model directory {directory} has no model files (*.yml, *.yaml, *.js)")
    return files


class SemanticModels(pulumi.ComponentResource):
    """The tenant's Cube model ConfigMap in the platform's namespace."""

    configmap: k8s.core.v1.ConfigMap

    def __init__(self, name: str, binding: PipelineBinding, files: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:pipeline:SemanticModels", name, None, opts)
        self.configmap = k8s.core.v1.ConfigMap(
            f"{name}-models", metadata=pipeline_meta(binding, binding.tenant.cube_models_configmap, "semantic-models"),
            data=files, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"configmap": self.configmap.metadata.name})
