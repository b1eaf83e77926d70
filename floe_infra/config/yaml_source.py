"""Turn YAML text into plain data plus the source position of every value.

PyYAML's loaders throw away positions and expand aliases blindly. Here the document is
*composed* with libyaml (fast, keeps marks, does not expand aliases), then converted by an
explicit walk that enforces the limits hostile input needs: file size, nesting depth, alias
expansion budget, duplicate keys, and string keys only. Positions are kept per path so that
validation errors can point at `FILE:LINE:COLUMN`.

`${VAR}` expansion is opt-in per file and per variable: the caller gives the environment and the rule
saying which variables may expand (platform.yaml: endpoints and names, see expansion.py); without an
environment (floe.yaml) text is left exactly as written. The document remembers what each expansion
produced, so that errors can say `${VAR}` instead of repeating the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from floe_infra.errors import Problem

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 64
# Alias expansion may at most double the document: generous for anchors reused as
# templates, far below what an alias bomb needs to hurt.
MIN_ALIAS_BUDGET = 10_000

_COMPOSE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SCALAR_BUILDERS: dict[str, Callable[[ScalarNode], Any]] = {
    "tag:yaml.org,2002:null": _CONSTRUCTOR.construct_yaml_null,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
    "tag:yaml.org,2002:str": _CONSTRUCTOR.construct_scalar,
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
    """Plain data of one YAML file and where each value (and each mapping key) came from."""

    file: Path
    data: Any
    values: dict[Path_, Position] = field(default_factory=dict)
    keys: dict[Path_, Position] = field(default_factory=dict)
    # Per field path (`storage.default.bucket`): what expansion produced -> the text as written there
    # (`${FLOE_DATA_BUCKET}`, `acme-${FLOE_ENVIRONMENT}`).
    expansions: dict[str, dict[str, str]] = field(default_factory=dict)

    def position(self, path: Path_, *, prefer_key: bool = False) -> Position:
        """Position of the deepest known prefix of `path` (the key itself when `prefer_key`)."""
        if prefer_key and path in self.keys:
            return self.keys[path]
        probe = path
        while probe:
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))

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


class _StopWalkError(Exception):
    """Internal: stop the walk after a problem that makes the rest meaningless."""


class _Converter:
    def __init__(self, doc: SourceDocument, env: Mapping[str, str] | None, rule: ExpansionRule,
                 budget: int) -> None:
        self.doc = doc
        self.env = env
        self.rule = rule
        self.budget = budget
        self.seen: set[int] = set()
        self.problems: list[Problem] = []

    def at(self, node: Node) -> Position:
        return Position(node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, node: Node, path: Path_, message: str) -> None:
        pos = self.at(node)
        self.problems.append(Problem(self.doc.file, pos.line, pos.column, format_path(path), message))

    def convert(self, node: Node, path: Path_, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self.fail(node, path, f"nesting is deeper than {MAX_DEPTH} levels; flatten the document")
            raise _StopWalkError
        if id(node) in self.seen:
            # Second visit of the same node object: an alias. Charge its whole subtree.
            self.budget -= 1
            if self.budget < 0:
                self.fail(node, path, "YAML aliases expand to too many nodes (an alias bomb?); "
                          "write the repeated values out or use fewer aliases")
                raise _StopWalkError
        else:
            self.seen.add(id(node))
        self.doc.values.setdefault(path, self.at(node))
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self.mapping(node, path, depth)
        self.fail(node, path, "unsupported YAML node")  # pragma: no cover - composer yields only the three
        raise _StopWalkError

    def mapping(self, node: MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges: list[MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if isinstance(source, MappingNode):
                        merges.append(source)
                    else:
                        self.fail(source, path, "a merge key (<<) takes a mapping or a list of mappings")
                continue
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, path, "mapping keys must be plain strings, not lists or mappings")
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in out:
                first = self.doc.keys[child]
                self.fail(key_node, child, f"duplicate key '{key}' (first defined at line {first.line}); "
                          "remove one of them")
                continue
            self.doc.keys.setdefault(child, self.at(key_node))
            out[key] = self.convert(value_node, child, depth + 1)
        # YAML merge: keys of the merged mappings fill in what the mapping does not set itself.
        for source in merges:
            merged = self.convert(source, path, depth)
            for key, value in merged.items():
                out.setdefault(key, value)
        return out

    def scalar(self, node: ScalarNode, path: Path_) -> Any:
        builder = _SCALAR_BUILDERS.get(node.tag)
        if builder is None:
            self.fail(node, path, f"unsupported YAML tag {node.tag}; use plain strings, numbers and booleans")
            return None
        try:
            value = builder(node)
        except (ValueError, yaml.YAMLError) as exc:
            self.fail(node, path, f"invalid {node.tag.rsplit(':', 1)[-1]} value: {exc}")
            return None
        if self.env is not None and isinstance(value, str) and "$" in value:
            value = self.expand(node, path, value, self.env)
        return value

    def expand(self, node: ScalarNode, path: Path_, text: str, env: Mapping[str, str]) -> str:
        from_env: list[str] = []
        found = self.doc.expansions.setdefault(format_path(path), {})

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            if (refused := self.rule(name)) is not None:
                # Refused by its name alone: the environment is not even read.
                self.fail(node, path, refused)
                return match.group(0)
            if name in env:
                from_env.append(env[name])
                if env[name]:
                    found[env[name]] = match.group(0)
                return env[name]
            if default is not None:
                return default
            self.fail(node, path, f"environment variable {name} is not set; set it, or give a default "
                      f"with ${{{name}:-value}}")
            return match.group(0)

        expanded = _ENV_PATTERN.sub(substitute, text)
        if any(from_env) and expanded not in from_env:
            found[expanded] = text
        if not found:
            del self.doc.expansions[format_path(path)]
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
    try:
        root = yaml.compose(text, Loader=_COMPOSE_LOADER)
    except yaml.MarkedYAMLError as exc:
        # Where libyaml notices the problem is often past it: a key without its ':' is noticed on the next
        # line, an unclosed quote or [list at the end of what follows. The construct's start is the line to fix.
        at_start = exc.context in _STARTS_AT_CONTEXT and exc.context_mark is not None
        mark = exc.context_mark if at_start else exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        return None, [Problem(file, line, column, "", f"YAML syntax error: {reason}{_syntax_hint(reason)}")]
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        return None, [Problem(file, line, column, "", f"YAML syntax error: character #x{exc.character:04x} "
                              "is not allowed in YAML; remove it")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, 0, 0, "", f"YAML error: {exc}")]
    except RecursionError:
        return None, [Problem(file, 0, 0, "", f"nesting is deeper than {MAX_DEPTH} levels")]
    doc = SourceDocument(file=file, data=None)
    if root is None:
        return None, [Problem(file, 1, 1, "", "file is empty; it must hold a mapping")]
    converter = _Converter(doc, env, rule, budget=max(MIN_ALIAS_BUDGET, len(raw) // 8))
    try:
        doc.data = converter.convert(root, (), 0)
    except _StopWalkError:
        return None, converter.problems
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else f"the value {doc.data!r}"
        converter.problems.append(doc.problem((), f"the document must be a mapping of fields, not {kind}"))
        return None, converter.problems
    return doc, converter.problems
