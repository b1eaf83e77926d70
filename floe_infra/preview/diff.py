"""Two offline previews compared: what changes, what is risky, which guardrails fail; Markdown for a PR.

Lists are compared by identity, not by position: list items that are mappings with a unique `name`
(or `id`, `key`, `column`) are matched on it (`columns[name=channel]`), other lists as collections
(an item added, an item removed), so inserting one element does not show every later one as changed.
Risky changes are flagged: deletions and replacements of resources that hold state, renamed
buckets, moved catalog locations, dropped tables and columns, changed S3 lifecycle rules.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe_infra.config.layout import same_location
from floe_infra.errors import FloeError
from floe_infra.guardrails import BUCKET, RELEASE, STATEFUL
from floe_infra.preview.lifecycle import LIFECYCLE, lifecycle_change
from floe_infra.preview.report import JSON_FORMAT

MAX_FIELDS = 25
MAX_VALUE = 80
IDENTITY_KEYS = ("name", "id", "key", "column")
TABLE = "pulumi-python:dynamic/iceberg:IcebergTable"
POLARIS_CATALOG = "pulumi-python:dynamic/polaris:Catalog"
POLARIS_NAMESPACE = "pulumi-python:dynamic/polaris:Namespace"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
# Inputs whose change makes the provider replace (delete and re-create) the resource.
REPLACING_INPUTS = {
    BUCKET: ("bucket",),
    RELEASE: ("name", "namespace"),
    STATEFUL_SET: ("metadata.name", "metadata.namespace", "spec.selector", "spec.volumeClaimTemplates"),
    PVC: ("metadata.name", "metadata.namespace", "spec.storageClassName", "spec.accessModes"),
    "kubernetes:core/v1:Namespace": ("metadata.name",),
    POLARIS_CATALOG: ("name",),
    POLARIS_NAMESPACE: ("namespace", "catalog"),
}
HOLDS_DATA = STATEFUL | {POLARIS_CATALOG, POLARIS_NAMESPACE}


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


@dataclass(frozen=True)
class FieldChange:
    """One difference: `kind` is changed, added, removed or reordered."""

    path: str
    kind: str
    old: Any = None
    new: Any = None

    def describe(self) -> str:
        """Markdown of the change."""
        if self.kind == "added":
            return f"`{self.path}`: added `{_show(self.new)}`"
        if self.kind == "removed":
            return f"`{self.path}`: removed (was `{_show(self.old)}`)"
        if self.kind == "reordered":
            return f"`{self.path}`: same items, new order"
        return f"`{self.path}`: `{_show(self.old)}` → `{_show(self.new)}`"


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    text = text.replace("\n", "⏎").replace("`", "'")
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1] + "…"


def _identity(*lists: list[Any]) -> str | None:
    """The key identifying the mapping items of every list (present in each item, unique per list)."""
    if not all(lists) or not all(isinstance(i, dict) for items in lists for i in items):
        return None
    for key in IDENTITY_KEYS:
        if all(all(isinstance(i.get(key), str | int) for i in items) and len({i[key] for i in items}) == len(items)
               for items in lists):
            return key
    return None


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def diff_values(old: Any, new: Any, path: str = "") -> Iterator[FieldChange]:
    """Every difference from `old` to `new`, mappings by key and lists by identity."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            child = f"{path}.{key}" if path else str(key)
            if key not in new:
                yield FieldChange(child, "removed", old=old[key])
            elif key not in old:
                yield FieldChange(child, "added", new=new[key])
            else:
                yield from diff_values(old[key], new[key], child)
    elif isinstance(old, list) and isinstance(new, list):
        key = _identity(old, new)
        if key is not None:
            yield from _keyed({i[key]: i for i in old}, {i[key]: i for i in new}, path, key)
            return
        before_items, after_items = Counter(map(_canonical, old)), Counter(map(_canonical, new))
        if before_items == after_items:
            if old != new:
                yield FieldChange(path, "reordered")
            return
        for text in sorted((before_items - after_items).elements()):
            yield FieldChange(f"{path}[]", "removed", old=json.loads(text))
        for text in sorted((after_items - before_items).elements()):
            yield FieldChange(f"{path}[]", "added", new=json.loads(text))
    elif old != new:
        yield FieldChange(path, "changed", old, new)


def _keyed(before: dict[Any, Any], after: dict[Any, Any], path: str, key: str) -> Iterator[FieldChange]:
    for ident in sorted(set(before) | set(after), key=str):
        child = f"{path}[{key}={ident}]"
        if ident not in after:
            yield FieldChange(child, "removed", old=before[ident])
        elif ident not in before:
            yield FieldChange(child, "added", new=after[ident])
        else:
            yield from diff_values(before[ident], after[ident], child)
    order_before = [i for i in before if i in after]
    order_after = [i for i in after if i in before]
    if order_before != order_after:
        yield FieldChange(path, "reordered")


_COMPARED = ("inputs", "dependencies", "protect", "retain_on_delete", "provider", "parent")


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """Differences of one resource's inputs, dependencies, protection, provider and parent."""
    return list(diff_values({k: old.get(k) for k in _COMPARED}, {k: new.get(k) for k in _COMPARED}))


@dataclass(frozen=True)
class Risk:
    """A change that can lose data or move it: it deserves a second look before merging."""

    resource: str
    message: str


def _kind(resource: dict[str, Any]) -> str:
    return f"{resource['type'].rsplit(':', 1)[-1]} {resource['name']}"


def _removal_risk(resource: dict[str, Any]) -> Risk | None:
    if resource["type"] == TABLE:
        table = (resource.get("inputs") or {}).get("table") or {}
        if table.get("drop_when_removed"):
            return Risk(resource["name"], f"drops table {table.get('name')} and its data (drop_when_removed)")
        return None
    if resource["type"] in HOLDS_DATA:
        return Risk(resource["name"], f"deletes {_kind(resource)}, which holds state")
    return None


def _change_risks(old: dict[str, Any], new: dict[str, Any], changes: list[FieldChange]) -> Iterator[Risk]:
    name, type_ = new["name"], new["type"]
    paths = {c.path.removeprefix("inputs.") for c in changes if c.path.startswith("inputs.")}
    replacing = [p for p in REPLACING_INPUTS.get(type_, ()) if any(q == p or q.startswith((p + ".", p + "["))
                                                                    for q in paths)]
    if type_ == BUCKET and "bucket" in paths:
        yield Risk(name, f"renames bucket {old['inputs'].get('bucket')} → {new['inputs'].get('bucket')}: a new, "
                         "empty bucket; the data stays in the old one")
    elif replacing:
        yield Risk(name, f"replaces {_kind(new)} (changed: {', '.join(replacing)})")
    if type_ == LIFECYCLE and (lifecycle := lifecycle_change(old.get("inputs") or {}, new.get("inputs") or {})):
        yield Risk(name, lifecycle)
    for change in changes:
        path = change.path.removeprefix("inputs.")
        if type_ == RELEASE and path.startswith("values.buckets[") and change.kind == "removed":
            yield Risk(name, f"no longer creates bucket {_show(change.path.split('=', 1)[-1].rstrip(']'))} "
                             "(renamed or removed: its data stays behind)")
        elif type_ == POLARIS_CATALOG and (
                path.startswith("properties.default-base-location")
                or (path.startswith("storage.allowedLocations") and change.kind == "removed")):
            yield Risk(name, f"moves the catalog's locations ({change.describe()}): tables under the old "
                             "location become unreachable for new writes")
        elif type_ == POLARIS_NAMESPACE and path.startswith("properties.location") and not (
                isinstance(change.old, str) and isinstance(change.new, str) and same_location(change.old, change.new)):
            yield Risk(name, f"moves the namespace's location ({change.describe()}): Polaris keeps a namespace where "
                             "it was created, so `pulumi up` stops until the namespace is emptied and deleted")
        elif type_ == TABLE and path.startswith("table.columns[") and change.kind == "removed" \
                and path.count("[") == 1:
            yield Risk(name, f"drops column {path.split('=', 1)[-1].rstrip(']')} of table "
                             f"{new['inputs'].get('table', {}).get('name')}")


@dataclass
class StackDiff:
    """The differences of one stack."""

    label: str
    status: str
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[dict[str, Any], list[FieldChange]]] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    guardrails: list[tuple[dict[str, Any], str, bool]] = field(default_factory=list)


@dataclass
class DiffResult:
    """Every stack's differences."""

    stacks: list[StackDiff]

    @property
    def risks(self) -> list[Risk]:
        """Every risky change."""
        return [r for s in self.stacks for r in s.risks]

    @property
    def guardrails_fail(self) -> bool:
        """Whether a mandatory guardrail fails on head."""
        return any(s.guardrails for s in self.stacks)


def _stacks(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{s['project']}/{s['stack']}": s for s in document.get("stacks", [])}


def _failing(stack: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Mandatory violations, once each (rule, resource, message)."""
    return {(g["rule"], g["urn"], g["message"]): g for g in stack.get("guardrails", [])
            if g["enforcement"] == "mandatory"}


def compare(base: dict[str, Any], head: dict[str, Any]) -> DiffResult:
    """What changes from `base` to `head`, per stack."""
    base_stacks, head_stacks = _stacks(base), _stacks(head)
    result = []
    for label in sorted(set(base_stacks) | set(head_stacks)):
        old_stack = base_stacks.get(label, {"resources": []})
        new_stack = head_stacks.get(label, {"resources": []})
        old = {r["urn"]: r for r in old_stack["resources"]}
        new = {r["urn"]: r for r in new_stack["resources"]}
        diff = StackDiff(label, "")
        diff.added = [new[u] for u in sorted(set(new) - set(old))]
        diff.removed = [old[u] for u in sorted(set(old) - set(new))]
        for urn in sorted(set(old) & set(new)):
            changes = field_changes(old[urn], new[urn])
            if changes:
                diff.changed.append((new[urn], changes))
                diff.risks += _change_risks(old[urn], new[urn], changes)
        diff.risks += [r for r in map(_removal_risk, diff.removed) if r is not None]
        diff.status = ("new stack" if label not in base_stacks else "stack removed" if label not in head_stacks
                       else f"{len(diff.added)} to add, {len(diff.changed)} to change, {len(diff.removed)} to delete")
        before = _failing(old_stack)
        for key, violation in sorted(_failing(new_stack).items()):
            diff.guardrails.append((violation, _resource_label(new, violation["urn"]), key not in before))
        result.append(diff)
    return DiffResult(result)


def _resource_label(resources: dict[str, dict[str, Any]], urn: str) -> str:
    if not urn:
        return "the stack"
    resource = resources.get(urn)
    return f"`{resource['type']}` **{resource['name']}**" if resource else f"`{urn.rsplit('::', 1)[-1]}`"


def markdown(result: DiffResult) -> str:
    """The comparison as Markdown: per stack, risks first, then added, removed and changed resources, then
    each failing guardrail once with its resource."""
    lines = ["## Offline preview diff", ""]
    risks = result.risks
    if risks:
        lines += [f"**⚠ {len(risks)} risky change{'' if len(risks) == 1 else 's'}: review before merging**", ""]
    for diff in result.stacks:
        lines += [f"### `{diff.label}`: {diff.status}", ""]
        if diff.risks:
            lines += ["**Risky**", ""]
            lines += [f"- **{r.resource}**: {r.message}" for r in diff.risks]
            lines.append("")
        if not (diff.added or diff.removed or diff.changed):
            lines += ["No changes.", ""]
        for title, resources in (("Added", diff.added), ("Removed", diff.removed)):
            if resources:
                lines += [f"**{title}**", ""]
                lines += [f"- `{r['type']}` **{r['name']}**" for r in resources]
                lines.append("")
        if diff.changed:
            lines += ["**Changed**", ""]
            for resource, changes in diff.changed:
                plural = "" if len(changes) == 1 else "s"
                lines.append(f"- `{resource['type']}` **{resource['name']}** ({len(changes)} field{plural})")
                lines += [f"  - {c.describe()}" for c in changes[:MAX_FIELDS]]
                if len(changes) > MAX_FIELDS:
                    lines.append(f"  - … and {len(changes) - MAX_FIELDS} more")
            lines.append("")
        if diff.guardrails:
            lines += [f"**Guardrails failing on head ({len(diff.guardrails)})**", ""]
            lines += [f"- `{v['rule']}` on {where}: {v['message']}{' (new)' if new else ''}"
                      for v, where, new in diff.guardrails]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
