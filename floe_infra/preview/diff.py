"""Two offline previews compared: a Markdown summary fit for a pull request comment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from floe_infra.errors import FloeError
from floe_infra.preview.report import JSON_FORMAT

MAX_FIELDS = 25
MAX_VALUE = 80


class PreviewDiffError(FloeError):
    """Raised when a file is not an offline preview document."""


def load_document(path: Path) -> dict[str, Any]:
    """An offline preview JSON document.

    Raises:
        PreviewDiffError: When it is missing, not JSON, or of another format.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PreviewDiffError(f"{path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise PreviewDiffError(f"{path} is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(document, dict) or document.get("format") != JSON_FORMAT:
        raise PreviewDiffError(f"{path} is not a `floe-infra preview --offline --json` document "
                               f"(format {JSON_FORMAT})")
    return document


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Leaves of a JSON value as (dotted path, value); empty containers are leaves."""
    if isinstance(value, dict) and value:
        for key in sorted(value):
            yield from flatten(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from flatten(item, f"{path}[{index}]")
    else:
        yield path, value


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    text = text.replace("\n", "⏎").replace("`", "'")
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1] + "…"


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """`path`: old -> new, for every leaf that differs (inputs, dependencies, protect, provider)."""
    keys = ("inputs", "dependencies", "protect", "retain_on_delete", "provider", "parent")
    before = dict(flatten({k: old.get(k) for k in keys}))
    after = dict(flatten({k: new.get(k) for k in keys}))
    lines = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            lines.append(f"`{path}`: removed (was `{_show(before[path])}`)")
        elif path not in before:
            lines.append(f"`{path}`: added `{_show(after[path])}`")
        elif before[path] != after[path]:
            lines.append(f"`{path}`: `{_show(before[path])}` → `{_show(after[path])}`")
    return lines


def _stacks(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{s['project']}/{s['stack']}": s for s in document.get("stacks", [])}


def markdown_diff(base: dict[str, Any], head: dict[str, Any]) -> str:
    """What changes from `base` to `head`, per stack: added, removed and changed resources and fields."""
    lines = ["## Offline preview diff", ""]
    base_stacks, head_stacks = _stacks(base), _stacks(head)
    for label in sorted(set(base_stacks) | set(head_stacks)):
        old_stack = base_stacks.get(label, {"resources": []})
        new_stack = head_stacks.get(label, {"resources": []})
        old = {r["urn"]: r for r in old_stack["resources"]}
        new = {r["urn"]: r for r in new_stack["resources"]}
        added = sorted(set(new) - set(old))
        removed = sorted(set(old) - set(new))
        changed = sorted(u for u in set(old) & set(new) if field_changes(old[u], new[u]))
        status = ("new stack" if label not in base_stacks else "stack removed" if label not in head_stacks
                  else f"{len(added)} to add, {len(changed)} to change, {len(removed)} to delete")
        lines += [f"### `{label}`: {status}", ""]
        if not (added or removed or changed):
            lines += ["No changes.", ""]
        for title, urns, source in (("Added", added, new), ("Removed", removed, old)):
            if urns:
                lines += [f"**{title}**", ""]
                lines += [f"- `{source[u]['type']}` **{source[u]['name']}**" for u in urns]
                lines.append("")
        if changed:
            lines += ["**Changed**", ""]
            for urn in changed:
                fields = field_changes(old[urn], new[urn])
                plural = "" if len(fields) == 1 else "s"
                lines.append(f"- `{new[urn]['type']}` **{new[urn]['name']}** ({len(fields)} field{plural})")
                lines += [f"  - {f}" for f in fields[:MAX_FIELDS]]
                if len(fields) > MAX_FIELDS:
                    lines.append(f"  - … and {len(fields) - MAX_FIELDS} more")
            lines.append("")
        mandatory = [g for g in new_stack.get("guardrails", []) if g["enforcement"] == "mandatory"]
        if mandatory:
            lines += [f"**Guardrails failing on head ({len(mandatory)})**", ""]
            lines += [f"- `{g['rule']}`: {g['message']}" for g in mandatory]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
