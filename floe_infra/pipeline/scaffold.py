"""`floe-infra new-pipeline DIR`: a data team's starting point, next to (or with) its floe.yaml.

It writes a commented floe.yaml when there is none, the Pulumi project (Pulumi.yaml, __main__.py,
one Pulumi.<stack>.yaml per stack), a requirements.txt that installs floe-infra from where this
floe-infra came from, and a .gitignore that keeps the tenant's private key and local state out of
git. A scaffold never overwrites: files that exist are kept (and reported), except .gitignore,
which only gains the lines it lacks; running it again in an existing project adds what is missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from floe_infra import __version__
from floe_infra.config.base import check_pipeline_name
from floe_infra.config.loader import load_pipeline
from floe_infra.errors import FloeError

DISTRIBUTION = "floe-infra"
STACK_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}")

FLOE_YAML = """\
# floe.yaml: the pipeline `{name}`, owned by its data team. No credentials and no endpoints here:
# the platform team's platform.yaml has those; this file names the platform's profiles and layers.
# Reference: docs/pipeline-config.md of floe-infra. Check it: floe-infra validate --pipeline floe.yaml
name: {name}                 # the tenant name the platform team onboards (deployment.tenants.{name})
version: "0.1.0"

# Profiles of the platform, by name (the platform's contract lists them).
storage: default
catalog: default
compute: default

# The Iceberg tables this pipeline owns, each in a layer the platform lets it write.
tables:
  - name: events
    layer: bronze
    doc: Raw events as received
    columns:
      - {{name: event_id, type: long, required: true}}
      - {{name: payload, type: string}}
      - {{name: received_at, type: timestamptz, required: true}}
    identifier_fields: [event_id]
    partition_by:
      - {{column: received_at, transform: day}}

# dbt models and Dagster jobs come next; see the demo pipeline (demo/data_engineering/floe.yaml):
# transforms:
#   - {{type: dbt, path: dbt}}
# orchestration:
#   asset_modules: [orchestration.assets]
#   jobs:
#     load: {{type: batch, selection: ["*"]}}
"""

PULUMI_YAML = """\
name: {name}
description: The {name} pipeline (floe.yaml) on the floe platform stack
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: venv
options:
  # Every update, preview and destroy reads what exists first: a table or object deleted outside
  # floe-infra is recreated by the next `pulumi up`.
  refresh: always
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

REQUIREMENTS = """\
# floe-infra, {source}.
# Install: python -m venv venv && venv/bin/pip install -r requirements.txt
{requirement}
"""

GITIGNORE_LINES = ("tenant.key", "*.key", ".floe/", "venv/", "__pycache__/")

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
    """What a scaffold wrote, added to, and left alone."""

    directory: Path
    name: str
    stacks: list[str]
    written: list[Path]
    updated: list[Path]
    kept: list[Path]


def installed_requirement() -> tuple[str, str]:
    """How a pipeline project installs the floe-infra that is running now, and where that is.

    The installer's record (PEP 610 `direct_url.json`) says whether it came from a git URL, a
    local checkout or an archive; without one it came from a package index, by version.
    """
    # A checkout's own `floe_infra.egg-info` can shadow the installed record on sys.path: read every one.
    records = [d.read_text("direct_url.json") for d in metadata.distributions(name=DISTRIBUTION)]
    raw = next((r for r in records if r), None)
    direct = json.loads(raw) if raw else None
    if not direct:
        return f"{DISTRIBUTION}=={__version__}", "from your package index (the one this floe-infra came from)"
    url = direct["url"]
    if "vcs_info" in direct:
        vcs = direct["vcs_info"]
        return (f"{DISTRIBUTION} @ {vcs['vcs']}+{url}@{vcs.get('commit_id') or vcs.get('requested_revision')}",
                f"from its {vcs['vcs']} repository, at the commit this floe-infra was installed from")
    if "dir_info" in direct:
        return f"{DISTRIBUTION} @ {url}", "from the local checkout this floe-infra runs from (this machine only)"
    return f"{DISTRIBUTION} @ {url}", "from the archive this floe-infra was installed from"


def _stack_file(name: str, stack: str, platform_stack: str | None) -> str:
    platform = platform_stack or f"<organization>/floe-platform/{stack}"
    line = f"  floe:platformStack: {platform_stack}\n" if platform_stack else "  {}\n"
    return STACK_YAML.format(stack=stack, name=name, platform=platform, platform_line=line)


def scaffold_pipeline(directory: Path, stacks: Sequence[str], *, platform_stack: str | None = None,
                      name: str | None = None, requirement: str | None = None) -> ScaffoldResult:
    """Write what a pipeline project needs into `directory` (created when missing).

    Args:
        directory: The pipeline's directory.
        stacks: Stacks to write a `Pulumi.<stack>.yaml` for.
        platform_stack: The platform stack every stack references, instead of the same stack name.
        name: Pipeline name for a new floe.yaml (default: the directory's name).
        requirement: How requirements.txt installs floe-infra (default: `installed_requirement()`).

    Raises:
        FloeError: For a bad stack or pipeline name (nothing is written then).
        ConfigError: When an existing floe.yaml is invalid (nothing is written then).
    """
    bad = [s for s in stacks if not STACK_NAME_RE.fullmatch(s)]
    if bad:
        raise FloeError(f"{', '.join(bad)}: a stack name uses letters, digits, '_', '.' and '-'")
    floe_yaml = directory / "floe.yaml"
    files: dict[str, str] = {}
    if floe_yaml.exists():
        existing = load_pipeline(floe_yaml).config.name
        if name is not None and name != existing:
            raise FloeError(f"{floe_yaml} exists and names the pipeline '{existing}', not '{name}'")
        name = existing
    else:
        name = name or directory.resolve().name
        try:
            check_pipeline_name(name)
        except ValueError as exc:
            raise FloeError(f"{exc}; choose one with --name") from None
        files["floe.yaml"] = FLOE_YAML.format(name=name)
    if requirement is None:
        requirement, source = installed_requirement()
    else:
        source = "as given to `floe-infra new-pipeline --floe-infra`"
    files |= {
        "Pulumi.yaml": PULUMI_YAML.format(name=name),
        "__main__.py": MAIN_PY,
        "requirements.txt": REQUIREMENTS.format(source=source, requirement=requirement),
    }
    files |= {f"Pulumi.{stack}.yaml": _stack_file(name, stack, platform_stack) for stack in stacks}
    directory.mkdir(parents=True, exist_ok=True)
    written, updated, kept = [], [], []
    for file_name, text in files.items():
        path = directory / file_name
        if path.exists():
            kept.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    gitignore = directory / ".gitignore"
    present = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    missing = [line for line in GITIGNORE_LINES if line not in present]
    if missing:
        head = "" if not present or present[-1] == "" else "\n"
        text = head + "# The tenant's private key and local state never go into git.\n" + "\n".join(missing) + "\n"
        with gitignore.open("a", encoding="utf-8") as out:
            out.write(text)
        (updated if present else written).append(gitignore)
    else:
        kept.append(gitignore)
    return ScaffoldResult(directory, name, list(stacks), written, updated, kept)


def next_steps(result: ScaffoldResult) -> list[str]:
    """What the data team does next, in order, as commands where there are commands."""
    d = result.directory
    floe_yaml = d / "floe.yaml"
    first = result.stacks[0]
    steps = []
    if floe_yaml in result.written:
        steps.append(f"describe your tables, transforms and jobs in {floe_yaml}, then check it on its own: "
                     f"floe-infra validate --pipeline {floe_yaml}")
    steps += [
        "get the platform's contract from the platform team (`pulumi stack output contract --json` of "
        f"floe-platform/{first}) and check against it: floe-infra validate --pipeline {floe_yaml} "
        "--contract contract.json",
        f"make the pipeline's key pair: floe-infra tenant keygen --private-key-file {d / 'tenant.key'}; send the "
        f"public key to the platform team for deployment.tenants.{result.name}.public_key",
        f"install the project's dependencies: python -m venv {d / 'venv'} && {d / 'venv/bin/pip'} install -r "
        f"{d / 'requirements.txt'}",
        f"in {d}: pulumi stack init {first}; pulumi config set floe:image <registry>/<repository>:<tag>; "
        "pulumi config set --secret floe:tenantKey \"$(cat tenant.key)\" && rm tenant.key",
        f"in {d}: pulumi preview, then pulumi up",
    ]
    return steps
