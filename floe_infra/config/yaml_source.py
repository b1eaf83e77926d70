"""Turn YAML text into plain data, and find the source position of any value in it.

PyYAML's loaders throw away positions, expand aliases blindly and, before constructing anything,
build a node object (with two marks) for every value of the file: for a 5 MB platform.yaml that
graph alone is several hundred megabytes. Here plain data is built straight from libyaml's event
stream, one event at a time, enforcing the limits hostile input needs as it goes: file size, nesting
depth, alias expansion budget (counted, never expanded to find out), duplicate keys, string keys only,
known scalar tags.

Positions are needed only to report something (a validation error, a guardrail finding), so the
first pass records none. `SourceDocument.position` runs the same builder over the same text again,
this time recording where every value and every mapping key starts, the first time one is asked for.

`${VAR}` expansion is opt-in per file and per variable: the caller gives the environment and the rule
saying which variables may expand (platform.yaml: endpoints and names, see expansion.py); without an
environment (floe.yaml) text is left exactly as written. The document remembers what each expansion
produced, so that errors can say `${VAR}` instead of repeating the value.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from floe_infra.errors import Problem

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 64
# Alias expansion may at most double the document: generous for anchors reused as
# templates, far below what an alias bomb needs to hurt.
MIN_ALIAS_BUDGET = 10_000

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The safe loader's implicit typing of plain scalars (`true`, `12`, `~`, `<<`), by first character.
_IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = _LOADER.yaml_implicit_resolvers
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SCALAR_BUILDERS: dict[str, Callable[[ScalarNode], Any]] = {
    "tag:yaml.org,2002:null": _CONSTRUCTOR.construct_yaml_null,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
    # Timestamps stay text: configuration dates are compared and emitted as strings.
    "tag:yaml.org,2002:timestamp": _CONSTRUCTOR.construct_scalar,
}
_ENV_PATTERN = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")

Path_ = tuple[str | int, ...]
# Variable name -> why it may not expand, or None when it may.
ExpansionRule = Callable[[str], str | None]
# How messages shorten a long value they quote (`'<first N characters>…'`): concealed too.
_QUOTED_PREFIXES = (60, 63, 128)
# Shorter values are concealed where a message quotes them, not inside other words.
_BARE_MIN = 4


def refuse_all(name: str) -> str:
    """The rule of a file that expands nothing from the environment."""
    return f"${{{name}}} is not expanded: this file expands no environment variable"


@dataclass(frozen=True)
class Position:
    """1-based line and column of a node in its file."""

    line: int
    column: int


@dataclass
class SourceDocument:
    """Plain data of one YAML file, and where each value (and each mapping key) came from.

    Attributes:
        file: The file, as messages name it.
        data: The plain data (dicts, lists, strings, numbers, booleans, None).
        text: The file's text, read again for positions when the first one is asked for.
        expansions: Per field path (`storage.default.bucket`): what expansion produced -> the text as written
            there (`${FLOE_DATA_BUCKET}`, `acme-${FLOE_ENVIRONMENT}`).
    """

    file: Path
    data: Any
    text: str = field(default="", repr=False)
    expansions: dict[str, dict[str, str]] = field(default_factory=dict)
    _index: _PositionIndex | None = field(default=None, init=False, repr=False)

    def position(self, path: Path_, *, prefer_key: bool = False) -> Position:
        """Position of the deepest known prefix of `path` (the key itself when `prefer_key`)."""
        if self._index is None:
            self._index = _index_positions(self.text)
        values, keys = self._index.values, self._index.keys
        if prefer_key and path in keys:
            return keys[path]
        probe = path
        while probe:
            if probe in values:
                return values[probe]
            probe = probe[:-1]
        return values.get((), Position(1, 1))

    def problem(self, path: Path_, message: str, *, prefer_key: bool = False) -> Problem:
        """A `Problem` located at `path` in this document."""
        pos = self.position(path, prefer_key=prefer_key)
        return Problem(self.file, pos.line, pos.column, format_path(path), message)

    def conceal(self, message: str, at: str = "") -> str:
        """`message` without any value an environment variable put into this document: each is named by the
        text written in the file (`the value of ${FLOE_DATA_BUCKET}`), so no error repeats an expanded value.
        The expansions of the field `at` (a formatted path) name their values first."""
        own = self.expansions.get(at, {})
        others = {value: written for path, found in self.expansions.items() if path != at
                  for value, written in found.items()}
        for value, written in [*sorted(own.items(), key=lambda item: -len(item[0])),
                               *sorted(others.items(), key=lambda item: -len(item[0]))]:
            forms = [value] + [value[:n] for n in _QUOTED_PREFIXES if len(value) > n]
            for form in forms:
                message = message.replace(f"'{form}…'", f"the value of {written}")
                message = message.replace(f"'{form}'", f"the value of {written}")
                if len(form) >= _BARE_MIN:
                    message = message.replace(form, written)
        return message


def format_path(path: Path_) -> str:
    """Render a path as `a.b[0].c`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class _PositionIndex:
    values: dict[Path_, Position]
    keys: dict[Path_, Position]


class _StopWalkError(Exception):
    """Internal: stop the walk after a problem that makes the rest meaningless."""


class _StructureError(Exception):
    """Internal: the events are not one well-formed document (reported like a syntax error)."""

    def __init__(self, mark: Any, reason: str) -> None:
        super().__init__(reason)
        self.mark = mark
        self.reason = reason


# What the next node inside a collection becomes: a mapping's key, its value, a value dropped (under a duplicate
# or unusable key), a merge source (`<<: ...`), a sequence item, an item of a merge source list (`<<: [...]`).
_KEY, _VALUE, _DISCARD, _MERGE_SOURCE, _ITEM, _MERGE_ITEM = range(6)

# A recorded position: path, line, column, and whether it is a mapping key's.
_Entry = tuple[Path_, int, int, bool]


class _Frame:
    """A mapping or sequence being built."""

    __slots__ = ("anchor", "count", "data", "deepest", "depth", "entries", "entries_start", "key", "mark",
                 "merge_entries", "merges", "outer_entries", "path", "slot")

    def __init__(self, data: dict[str, Any] | list[Any], path: Path_, slot: int, depth: int, mark: Any) -> None:
        self.data = data
        self.path = path
        self.slot = slot
        self.depth = depth
        self.mark = mark
        self.key = ""
        self.merges: list[dict[str, Any]] = []
        self.anchor: str | None = None
        self.count = self.deepest = self.entries_start = 0
        # Recording only: where this node's positions go, the list to return to after a merge source, and
        # the positions of this mapping's merge sources (which count after its own keys).
        self.entries: list[_Entry] | None = None
        self.outer_entries: list[_Entry] | None = None
        self.merge_entries: list[_Entry] | None = None


@dataclass(frozen=True)
class _Anchor:
    value: Any
    size: int  # nodes once every alias inside is expanded: what each alias of it costs
    height: int  # levels below the anchored node
    raw: str | None  # a scalar's text (an alias used as a mapping key is its text)
    line: int
    # Recording only: the anchored subtree's positions, entries[start:end], recorded at `path`.
    entries: list[_Entry] | None
    start: int
    end: int
    path: Path_


class _Builder:
    """Builds plain data from libyaml's events, enforcing the limits; records positions when asked to."""

    def __init__(self, file: Path, env: Mapping[str, str] | None, rule: ExpansionRule, budget: int,
                 *, record: bool = False) -> None:
        self.file = file
        self.env = env
        self.rule = rule
        self.budget = budget
        self.expansions: dict[str, dict[str, str]] = {}  # SourceDocument.expansions
        self.problems: list[Problem] = []
        self.duplicates: list[tuple[Any, Path_, str]] = []  # mark, path, key: located once positions are known
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: dict[str, int] = {}  # anchors of collections still being built, and their lines
        self.stack: list[_Frame] = []
        self.count = 0  # nodes so far, each alias counted as the nodes it stands for
        self.expanded = 0  # nodes aliases stood for so far
        self.deepest = 0
        self.documents = 0
        self.entries: list[_Entry] | None = [] if record else None
        self.root: Any = None
        # One string object per distinct text: libyaml makes a new one per occurrence, and a big file repeats its
        # field names (and many values) in every entry.
        self.strings: dict[str, str] = {}

    def fail(self, mark: Any, path: Path_, message: str) -> None:
        self.problems.append(Problem(self.file, mark.line + 1, mark.column + 1, format_path(path), message))

    def child_path(self) -> Path_:
        """The path of the next node (a merge source's is its mapping's: its keys land there)."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if top.slot == _VALUE or top.slot == _DISCARD:
            return (*top.path, top.key)
        if top.slot == _ITEM:
            return (*top.path, len(top.data))
        return top.path

    def run(self, next_event: Callable[[], Event]) -> Any:
        """Consume one stream of events; returns the document's data (None for an empty stream)."""
        stack = self.stack
        event = next_event()
        while type(event) is not StreamEndEvent:
            kind = type(event)
            if kind is ScalarEvent:
                if stack and stack[-1].slot == _KEY:
                    self.key(stack[-1], event, event.value, event.tag is None and event.implicit[0])
                else:
                    self.scalar(event)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                self.end()
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                self.start(event, kind is MappingStartEvent)
            elif kind is AliasEvent:
                self.alias(event)
            elif kind is DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise _StructureError(event.start_mark, "expected a single document in the stream but found "
                                                            "another document")
            event = next_event()
        return self.root

    def reach(self, mark: Any, depth: int) -> None:
        """A node reaches `depth` (its own, or the deepest of an alias's expansion)."""
        if depth > MAX_DEPTH:
            self.fail(mark, self.child_path(), f"nesting is deeper than {MAX_DEPTH} levels; flatten the document")
            raise _StopWalkError
        self.deepest = depth

    def record(self, mark: Any, entries: list[_Entry]) -> None:
        entries.append((self.child_path(), mark.line + 1, mark.column + 1, False))

    def scalar(self, event: ScalarEvent) -> None:
        depth = len(self.stack)
        if depth > self.deepest:
            self.reach(event.start_mark, depth)
        self.count += 1
        start = 0
        if self.entries is not None:
            start = len(self.entries)
            self.record(event.start_mark, self.entries)
        text = self.strings.setdefault(event.value, event.value)
        value: Any = text
        tag = event.tag
        if tag is None or tag == "!":
            tag = _STR
            if event.implicit[0]:
                for candidate, regex in _IMPLICIT.get(text[:1], ()):
                    if regex.match(text):
                        tag = candidate
                        break
        if tag != _STR:
            value = self.construct(event, tag)
        elif self.env is not None and "$" in text:
            value = self.expand(event, text, self.env)
        if event.anchor is not None:
            self.define(event.anchor, event.start_mark, value, 1, 0, text, start)
        self.place(value, event.start_mark)

    def construct(self, event: ScalarEvent, tag: str) -> Any:
        builder = _SCALAR_BUILDERS.get(tag)
        if builder is None:
            self.fail(event.start_mark, self.child_path(),
                      f"unsupported YAML tag {tag}; use plain strings, numbers and booleans")
            return None
        try:
            value = builder(ScalarNode(tag, event.value))
        except (ValueError, yaml.YAMLError) as exc:
            self.fail(event.start_mark, self.child_path(), f"invalid {tag.rsplit(':', 1)[-1]} value: {exc}")
            return None
        if self.env is not None and isinstance(value, str) and "$" in value:
            value = self.expand(event, value, self.env)
        return value

    def key(self, top: _Frame, event: ScalarEvent | AliasEvent, text: str, plain: bool) -> None:
        """A mapping key: its text as written, or the merge key `<<`."""
        text = self.strings.setdefault(text, text)
        if plain and text == "<<":
            top.slot = _MERGE_SOURCE
            return
        if text in top.data:
            self.duplicates.append((event.start_mark, (*top.path, text), text))
            top.key, top.slot = text, _DISCARD
            return
        top.key, top.slot = text, _VALUE
        if self.entries is not None:
            mark = event.start_mark
            self.entries.append(((*top.path, text), mark.line + 1, mark.column + 1, True))

    def start(self, event: MappingStartEvent | SequenceStartEvent, mapping: bool) -> None:
        stack = self.stack
        depth = len(stack)
        mark = event.start_mark
        if depth > self.deepest:
            self.reach(mark, depth)
        self.count += 1
        top = stack[-1] if stack else None
        if top is not None and top.slot == _KEY:
            self.fail(mark, top.path, "mapping keys must be plain strings, not lists or mappings")
        frame = _Frame({} if mapping else [], self.child_path(), _KEY if mapping else _ITEM, depth, mark)
        if not mapping and top is not None and top.slot == _MERGE_SOURCE:
            frame.slot = _MERGE_ITEM
        if self.entries is not None:
            if top is not None and top.slot == _MERGE_SOURCE:
                # A merge source's positions count after its mapping's own keys, which win: kept apart until then.
                assert top.merge_entries is not None
                frame.outer_entries, self.entries = self.entries, top.merge_entries
            frame.entries, frame.entries_start = self.entries, len(self.entries)
            self.record(mark, self.entries)
            if mapping:
                frame.merge_entries = []
        if event.anchor is not None:
            self.check_new_anchor(event.anchor, mark)
            frame.anchor = event.anchor
            self.open_anchors[event.anchor] = mark.line + 1
            frame.count, frame.deepest = self.count - 1, self.deepest
            self.deepest = depth
        stack.append(frame)

    def end(self) -> None:
        frame = self.stack.pop()
        value: Any = frame.data
        if frame.merges:
            # YAML merge: keys of the merged mappings fill in what the mapping does not set itself.
            for source in frame.merges:
                for key, item in source.items():
                    value.setdefault(key, item)
        if frame.merge_entries and frame.entries is not None:
            frame.entries.extend(frame.merge_entries)
        if frame.anchor is not None:
            del self.open_anchors[frame.anchor]
            height, self.deepest = self.deepest - frame.depth, max(self.deepest, frame.deepest)
            self.anchors[frame.anchor] = _Anchor(
                value, self.count - frame.count, height, None, frame.mark.line + 1, frame.entries, frame.entries_start,
                len(frame.entries) if frame.entries is not None else 0, frame.path)
        if frame.outer_entries is not None:
            self.entries = frame.outer_entries
        if frame.slot == _MERGE_ITEM:
            self.stack[-1].slot = _KEY  # each of its items was taken as a merge source already
        else:
            self.place(value, frame.mark)

    def alias(self, event: AliasEvent) -> None:
        name, mark = event.anchor, event.start_mark
        anchor = self.anchors.get(name)
        if anchor is None:
            if name in self.open_anchors:
                self.fail(mark, self.child_path(), f"alias *{name} stands for a node that contains it (line "
                          f"{self.open_anchors[name]}): YAML here must be a tree; write the values out")
                raise _StopWalkError
            raise _StructureError(mark, f"found undefined alias *{name}")
        top = self.stack[-1] if self.stack else None
        if top is not None and top.slot == _KEY:
            if anchor.raw is None:
                self.fail(mark, top.path, "mapping keys must be plain strings, not lists or mappings")
                top.key, top.slot = "", _DISCARD
            else:
                self.key(top, event, anchor.raw, False)
            return
        self.expanded += anchor.size
        if self.expanded > self.budget:
            self.fail(mark, self.child_path(), "YAML aliases expand to too many nodes (an alias bomb?); "
                      "write the repeated values out or use fewer aliases")
            raise _StopWalkError
        depth = len(self.stack) + anchor.height
        if depth > self.deepest:
            self.reach(mark, depth)
        self.count += anchor.size
        if self.entries is not None and anchor.entries is not None:
            target = top.merge_entries if top is not None and top.slot == _MERGE_SOURCE else self.entries
            assert target is not None
            at, cut = self.child_path(), len(anchor.path)
            # The items of a list merged with `<<: *list` land in the mapping itself, not under their index.
            skip = cut + 1 if top is not None and top.slot == _MERGE_SOURCE and isinstance(anchor.value, list) else cut
            target.extend(((*at, *path[skip if len(path) > cut else cut:]), line, column, is_key)
                          for path, line, column, is_key in anchor.entries[anchor.start:anchor.end])
        self.place(anchor.value, mark)

    def place(self, value: Any, mark: Any) -> None:
        """Put a finished node where the innermost collection expects its next node."""
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        slot = top.slot
        if slot == _VALUE:
            top.data[top.key] = value  # type: ignore[call-overload]  # a _VALUE slot is a mapping's
            top.slot = _KEY
        elif slot == _ITEM:
            top.data.append(value)  # type: ignore[union-attr]  # an _ITEM slot is a sequence's
        elif slot == _KEY:
            top.key, top.slot = "", _DISCARD  # a list or mapping as a key, refused at its start
        elif slot == _DISCARD:
            top.slot = _KEY
        elif slot == _MERGE_SOURCE:
            # `<<: *list` merges the list's mappings, as `<<: [*a, *b]` does.
            for source in value if isinstance(value, list) else [value]:
                self.merge(top, source, mark)
            top.slot = _KEY
        else:  # _MERGE_ITEM: an item of `<<: [...]`, merged into the mapping holding the list
            self.merge(self.stack[-2], value, mark)

    def merge(self, mapping: _Frame, value: Any, mark: Any) -> None:
        if isinstance(value, dict):
            mapping.merges.append(value)
        else:
            self.fail(mark, mapping.path, "a merge key (<<) takes a mapping or a list of mappings")

    def check_new_anchor(self, name: str, mark: Any) -> None:
        first = self.anchors[name].line if name in self.anchors else self.open_anchors.get(name)
        if first is not None:
            raise _StructureError(mark, f"found duplicate anchor &{name} (first defined at line {first}); "
                                        "give each anchor its own name")

    def define(self, name: str, mark: Any, value: Any, size: int, height: int, raw: str | None, start: int) -> None:
        self.check_new_anchor(name, mark)
        entries = self.entries
        self.anchors[name] = _Anchor(value, size, height, raw, mark.line + 1, entries, start,
                                     len(entries) if entries is not None else 0, self.child_path())

    def expand(self, event: ScalarEvent, text: str, env: Mapping[str, str]) -> str:
        at = format_path(self.child_path())
        from_env: list[str] = []
        found = self.expansions.setdefault(at, {})

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            if (refused := self.rule(name)) is not None:
                # Refused by its name alone: the environment is not even read.
                self.fail(event.start_mark, self.child_path(), refused)
                return match.group(0)
            if name in env:
                from_env.append(env[name])
                if env[name]:
                    found[env[name]] = match.group(0)
                return env[name]
            if default is not None:
                return default
            self.fail(event.start_mark, self.child_path(), f"environment variable {name} is not set; set it, or give "
                      f"a default with ${{{name}:-value}}")
            return match.group(0)

        expanded = _ENV_PATTERN.sub(substitute, text)
        if any(from_env) and expanded not in from_env:
            found[expanded] = text
        if not found:
            del self.expansions[at]
        return expanded


# What to do about libyaml's most frequent complaints, matched on its message.
_SYNTAX_HINTS = (
    ("mapping values are not allowed", "a value holding ': ' must be quoted, or the line is indented too deep"),
    ("that cannot start any token", "indent with spaces (YAML forbids tabs) and quote values starting with "
                                    "'@', '`' or '%'"),
    ("did not find expected key", "check this line's indentation against the lines above it"),
    ("did not find expected '-' indicator", "list items under one key need the same indentation"),
    ("could not find expected ':'", "each key needs ': ' after it; quote a value that spans lines"),
    ("found unexpected end of stream", "a quote or bracket is not closed"),
    ("found undefined alias", "define the anchor (&name) before the alias (*name) that uses it"),
    ("expected ',' or ']'", "a [flow, list] needs commas between items and a closing ']'"),
    ("expected ',' or '}'", "a {flow: mapping} needs commas between entries and a closing '}'"),
)


# Contexts of libyaml errors whose cause is where the construct starts, not where it is noticed.
_STARTS_AT_CONTEXT = frozenset({
    "while scanning a simple key", "while scanning a quoted scalar", "while parsing a flow sequence",
    "while parsing a flow mapping",
})


def _syntax_hint(reason: str) -> str:
    return next((f"; {hint}" for needle, hint in _SYNTAX_HINTS if needle in reason), "")


def _decode(file: Path, raw: bytes) -> str | Problem:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return Problem(file, line, column, "", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
                       "save it as UTF-8")


def _budget(text: str) -> int:
    return max(MIN_ALIAS_BUDGET, len(text) // 8)


def _build(file: Path, text: str, builder: _Builder) -> tuple[Any, list[Problem] | None]:
    """Run `builder` over `text`: (data, None), or (None, [the syntax problem]) when libyaml refuses the text."""
    loader = _LOADER(text)
    try:
        return builder.run(loader.get_event), None
    except yaml.MarkedYAMLError as exc:
        # Where libyaml notices the problem is often past it: a key without its ':' is noticed on the next
        # line, an unclosed quote or [list at the end of what follows. The construct's start is the line to fix.
        at_start = exc.context in _STARTS_AT_CONTEXT and exc.context_mark is not None
        mark = exc.context_mark if at_start else exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
    except _StructureError as exc:
        line, column, reason = exc.mark.line + 1, exc.mark.column + 1, exc.reason
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        return None, [Problem(file, line, column, "", f"YAML syntax error: character #x{exc.character:04x} "
                              "is not allowed in YAML; remove it")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, 0, 0, "", f"YAML error: {exc}")]
    finally:
        loader.dispose()
    return None, [Problem(file, line, column, "", f"YAML syntax error: {reason}{_syntax_hint(reason)}")]


def _index_positions(text: str) -> _PositionIndex:
    """Where every value and mapping key of `text` starts (the first of duplicates), by path."""
    builder = _Builder(Path(), None, refuse_all, _budget(text), record=True)
    with contextlib.suppress(_StopWalkError):  # what was recorded before a walk stops is all there is to locate
        _build(Path(), text, builder)
    values: dict[Path_, Position] = {}
    keys: dict[Path_, Position] = {}
    for path, line, column, is_key in builder.entries or ():
        (keys if is_key else values).setdefault(path, Position(line, column))
    return _PositionIndex(values, keys)


def parse_yaml(file: Path, raw: bytes, env: Mapping[str, str] | None = None,
               rule: ExpansionRule = refuse_all) -> tuple[SourceDocument | None, list[Problem]]:
    """Parse one YAML document into a `SourceDocument`.

    Args:
        file: Path used in error messages.
        raw: The file's bytes.
        env: Environment for `${VAR}` and `${VAR:-default}` expansion; None expands nothing (and keeps `$$`).
        rule: Which variables `env` may expand; a `${VAR}` it refuses is a problem, whether or not it is set.

    Returns:
        The document (None when it could not be parsed at all) and the problems found.
    """
    if len(raw) > MAX_FILE_BYTES:
        size_mb = len(raw) / (1024 * 1024)
        return None, [Problem(file, 0, 0, "", f"file is {size_mb:.1f} MB; the limit is "
                              f"{MAX_FILE_BYTES // (1024 * 1024)} MB")]
    text = _decode(file, raw)
    if isinstance(text, Problem):
        return None, [text]
    builder = _Builder(file, env, rule, _budget(text))
    stopped = False
    try:
        data, refused = _build(file, text, builder)
    except _StopWalkError:
        data, refused, stopped = None, None, True
    if refused is not None:
        return None, refused
    doc = SourceDocument(file=file, data=data, text=text, expansions=builder.expansions)
    problems = builder.problems
    for mark, path, key in builder.duplicates:
        first = doc.position(path, prefer_key=True)
        problems.append(Problem(file, mark.line + 1, mark.column + 1, format_path(path),
                                f"duplicate key '{key}' (first defined at line {first.line}); remove one of them"))
    if stopped:
        return None, problems
    if builder.documents == 0:
        return None, [Problem(file, 1, 1, "", "file is empty; it must hold a mapping")]
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the value {data!r}"
        problems.append(doc.problem((), f"the document must be a mapping of fields, not {kind}"))
        return None, problems
    return doc, problems
