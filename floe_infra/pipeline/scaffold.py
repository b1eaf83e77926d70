"""`floe-infra new-pipeline DIR`: the Pulumi project files of a pipeline, next to its floe.yaml.

A scaffold never overwrites: files that exist are kept (and reported), so running it again in
an existing project only adds what is missing, such as the file of a new stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from floe_infra import __version__
from floe_infra.config.loader import load_pipeline

PULUMI_YAML = """\
name: {name}
description: The {name} pipeline (floe.yaml) on the floe platform stack
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: venv
config:
  # Every provider is explicit: no ambient kubeconfig is picked up by accident.
  pulumi:disable-default-providers:
    - kubernetes
"""

MAIN_PY = '''\
"""The pipeline project of floe.yaml: its code location, tables and Cube models on the platform."""

from floe_infra.pipeline.program import run_pipeline

run_pipeline()
'''

REQUIREMENTS = "floe-infra=={version}\n"

STACK_YAML = """\
# Stack `{stack}` of pipeline `{name}`, on the platform stack {platform}.
# Before the first `pulumi up`:
#   pulumi config set floe:image <registry>/<repository>:<tag>      # the pipeline's image
#   floe-infra tenant keygen --private-key-file tenant.key           # once per pipeline; public key to the
#   pulumi config set --secret floe:tenantKey "$(cat tenant.key)"    #   platform team, private key here
config:
{platform_line}"""


@dataclass(frozen=True)
class ScaffoldResult:
    """What a scaffold wrote and what it left alone."""

    written: list[Path]
    kept: list[Path]


def scaffold_pipeline(directory: Path, stacks: Sequence[str], platform_stack: str | None = None) -> ScaffoldResult:
    """Write Pulumi.yaml, __main__.py, requirements.txt and one Pulumi.<stack>.yaml per stack.

    Raises:
        ConfigError: When `directory/floe.yaml` is missing or invalid (nothing is written then).
    """
    name = load_pipeline(directory / "floe.yaml").config.name
    files = {
        "Pulumi.yaml": PULUMI_YAML.format(name=name),
        "__main__.py": MAIN_PY,
        "requirements.txt": REQUIREMENTS.format(version=__version__),
    }
    for stack in stacks:
        platform = platform_stack or f"<organization>/floe-platform/{stack}"
        line = f"  floe:platformStack: {platform_stack}\n" if platform_stack else "  {}\n"
        files[f"Pulumi.{stack}.yaml"] = STACK_YAML.format(stack=stack, name=name, platform=platform,
                                                         platform_line=line)
    written, kept = [], []
    for file_name, text in files.items():
        path = directory / file_name
        if path.exists():
            kept.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return ScaffoldResult(written, kept)
