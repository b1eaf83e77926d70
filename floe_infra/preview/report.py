"""An offline preview as text (resource tree, guardrails, table plans), as JSON, and as Graphviz DOT."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from floe_infra import __version__
from floe_infra.console import plain_lines, table
from floe_infra.guardrails import Enforcement
from floe_infra.iceberg.report import format_plans
from floe_infra.preview.offline import StackPreview
from floe_infra.preview.runtime import SECRET_MARKER, RegisteredResource, replace_secrets

JSON_FORMAT = 1


def masked(value: Any) -> Any:
    """`value` with every secret replaced by `[secret]`."""
    return replace_secrets(value, SECRET_MARKER)


def _metadata_name(inputs: dict[str, Any]) -> str | None:
    metadata = inputs.get("metadata")
    if isinstance(metadata, dict) and metadata.get("name"):
        namespace = metadata.get("namespace")
        return f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
    return None


def summary(resource: RegisteredResource) -> str:
    """The few inputs that tell what a resource is."""
    i = masked(resource.inputs)
    if resource.type == "kubernetes:helm.sh/v3:Release":
        repo = (i.get("repositoryOpts") or {}).get("repo", "local copy")
        return f"{i.get('namespace')}/{i.get('name')}: chart {i.get('chart')} {i.get('version')} ({repo})"
    if resource.type == "pulumi-python:dynamic/iceberg:IcebergTable":
        return ".".join([*i.get("namespace", []), i.get("table", {}).get("name", "?")])
    if resource.type in ("kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"):
        data = i.get("data") or i.get("stringData") or {}
        return f"{_metadata_name(i)} " + (f"[{', '.join(sorted(data))}]" if isinstance(data, dict) else SECRET_MARKER)
    for key in ("bucket", "name"):
        if isinstance(i.get(key), str):
            return i[key]
    return _metadata_name(i) or ""


def tree_lines(preview: StackPreview) -> list[str]:
    """The stack's resources as a tree, children under their parents."""
    children: dict[str, list[RegisteredResource]] = defaultdict(list)
    urns = {r.urn for r in preview.run.resources}
    for resource in preview.run.resources:
        children[resource.parent if resource.parent in urns else ""].append(resource)
    lines = [f"{preview.label} ({preview.kind}): {len(preview.run.resources)} resources"]

    def walk(parent: str, depth: int) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):
            flags = "".join(f" [{f}]" for f, on in (("protect", resource.protect),
                                                     ("retain", resource.retain_on_delete)) if on)
            text = summary(resource)
            lines.append(f"{'  ' * depth}+ {resource.type} {resource.name}{flags}{'  ' + text if text else ''}")
            walk(resource.urn, depth + 1)

    walk("", 1)
    return lines


def guardrail_lines(preview: StackPreview) -> list[str]:
    """Guardrail results: each violation, or that all passed."""
    if not preview.guardrails:
        return [f"guardrails: all passed on {preview.label}"]
    lines = [f"guardrails on {preview.label}:"]
    for v in preview.guardrails:
        where = v.urn.rsplit("::", 1)[-1] if v.urn else "stack"
        lines.append(f"  {'x' if v.enforcement is Enforcement.MANDATORY else '!'} [{v.enforcement.value}] "
                     f"{v.rule}: {where}: {v.message}")
    return lines


def _guardrail_counts(preview: StackPreview) -> str:
    mandatory = sum(v.enforcement is Enforcement.MANDATORY for v in preview.guardrails)
    advisory = len(preview.guardrails) - mandatory
    return ", ".join(f"{n} {level} failing" for n, level in ((mandatory, "mandatory"), (advisory, "advisory"))
                     if n) or "passed"


def summary_table(previews: Sequence[StackPreview]) -> Table:
    """One row per stack: its kind, resources, guardrails and Iceberg tables."""
    rows = table("STACK", "KIND", "RESOURCES", "GUARDRAILS", "TABLES", numeric=("RESOURCES", "TABLES"))
    for p in previews:
        rows.add_row(p.label, p.kind, str(len(p.run.resources)), _guardrail_counts(p), str(len(p.tables)))
    return rows


def text_report(previews: Sequence[StackPreview]) -> list[str]:
    """The whole preview for a terminal or a PR comment: each stack, then a table of them all."""
    lines: list[str] = []
    for preview in previews:
        lines += tree_lines(preview)
        lines += ["", *guardrail_lines(preview)]
        if preview.tables:
            lines += ["", f"Iceberg tables of {preview.label}, planned against an empty catalog (a new stack; "
                      "`floe-infra tables plan` compares with a live or the embedded catalog):",
                      *format_plans(preview.tables)]
        names = [f"{k} {SECRET_MARKER}" if k in preview.run.secret_outputs else k for k in sorted(preview.run.outputs)]
        lines += ["", f"outputs: {', '.join(names) or 'none'}", ""]
    return [*lines, *plain_lines(summary_table(previews)), ""]


def _resource_json(resource: RegisteredResource) -> dict[str, Any]:
    return {
        "urn": resource.urn, "type": resource.type, "name": resource.name, "parent": resource.parent,
        "custom": resource.custom, "provider": resource.provider, "protect": resource.protect,
        "retain_on_delete": resource.retain_on_delete, "dependencies": sorted(resource.dependencies),
        "inputs": masked(resource.inputs),
    }


def json_document(previews: Sequence[StackPreview]) -> str:
    """Every resource with its full inputs (secrets masked) and dependencies, sorted, stable across runs."""
    stacks = []
    for p in previews:
        stacks.append({
            "project": p.project, "stack": p.stack, "kind": p.kind,
            "resources": sorted((_resource_json(r) for r in p.run.resources), key=lambda r: r["urn"]),
            "outputs": {k: SECRET_MARKER if k in p.run.secret_outputs else masked(v)
                        for k, v in p.run.outputs.items()},
            "guardrails": [{"rule": v.rule, "enforcement": v.enforcement.value, "urn": v.urn, "message": v.message}
                           for v in p.guardrails],
            "tables": {plan.name: [c.describe() for c in plan.changes] for plan in p.tables},
        })
    document = {"format": JSON_FORMAT, "floe_infra": __version__, "stacks": stacks}
    return json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_graph(previews: Sequence[StackPreview]) -> str:
    """Resources and their edges in Graphviz DOT: dependencies solid, parent-child dashed."""
    lines = ["digraph floe {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
    for index, p in enumerate(previews):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_quote(p.label)};")
        for r in sorted(p.run.resources, key=lambda r: r.urn):
            lines.append(f"    {_quote(r.urn)} [label={_quote(r.type + chr(10) + r.name)}];")
        lines.append("  }")
        urns = {r.urn for r in p.run.resources}
        for r in sorted(p.run.resources, key=lambda r: r.urn):
            if r.parent in urns:
                lines.append(f"  {_quote(r.parent)} -> {_quote(r.urn)} [style=dashed, color=gray];")
            for dependency in sorted(set(r.dependencies)):
                if dependency in urns:
                    lines.append(f"  {_quote(dependency)} -> {_quote(r.urn)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
