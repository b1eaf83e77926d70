"""Load platform.yaml and floe.yaml into validated models, reporting every problem with its place.

The pipeline is: read bytes -> parse (limits, duplicate keys, `${FLOE_*}` expansion of endpoints and names
in platform.yaml only) -> credential scan -> pydantic validation -> cross-field checks -> cross-file checks. Each
stage collects all of its problems; a `ConfigError` carries them all, sorted by file and position.
Messages never repeat a value written in a credential field, nor a value that looks like a secret, nor
a value expanded from the environment (they name the variable instead).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import gc
import os
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from floe_infra.config import checks, credential_scan, expansion
from floe_infra.config.pipeline import PipelineConfig
from floe_infra.config.platform import PlatformConfig
from floe_infra.config.schema import unwrap_annotation
from floe_infra.config.yaml_source import ExpansionRule, Path_, SourceDocument, format_path, parse_yaml, refuse_all
from floe_infra.errors import ConfigError, Problem

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Loaded(Generic[ModelT]):
    """A validated model, the document it came from (for locating later findings) and its warnings.

    Attributes:
        config: The validated model.
        document: The parsed file.
        warnings: Located findings that do not stop a deployment but deserve a look (a tenant granted
            nothing, say); the CLI prints them and the programs log them.
    """

    config: ModelT
    document: SourceDocument
    warnings: tuple[Problem, ...] = ()


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a file loads, then restore it as it was.

    Loading builds one tree of new containers without cycles (the data, then the models): the collector would
    walk it again each time it grows by a quarter and find nothing to free, a fifth of the time of a large
    platform.yaml, and more the larger it is. Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_document(file: Path, env: Mapping[str, str] | None = None,
                  rule: ExpansionRule = refuse_all) -> tuple[SourceDocument | None, list[Problem]]:
    """Read and parse one YAML file, expanding `${VAR}` from `env` (None: nothing) where `rule` allows it;
    never raises for bad content."""
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return None, [Problem(file, 0, 0, "", "file not found")]
    except IsADirectoryError:
        return None, [Problem(file, 0, 0, "", "is a directory, not a YAML file")]
    except OSError as exc:
        return None, [Problem(file, 0, 0, "", f"cannot read: {exc.strerror}")]
    return parse_yaml(file, raw, env, rule)


def _load(
    doc: SourceDocument | None,
    problems: list[Problem],
    model: type[ModelT],
    scan: Callable[[SourceDocument], list[Problem]],
    rules: Iterable[Callable[[ModelT], Iterable[checks.Finding]]],
    advice: Iterable[Callable[[ModelT], Iterable[checks.Finding]]] = (),
) -> Loaded[ModelT]:
    if doc is None:
        raise ConfigError(problems)
    problems += scan(doc)
    try:
        config = model.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(problems + validation_problems(doc, exc, model)) from None
    for rule in rules:
        problems += [doc.problem(path, message) for path, message in rule(config)]
    if problems:
        raise ConfigError(problems)
    warnings = tuple(doc.problem(path, message) for rule in advice for path, message in rule(config))
    return Loaded(config, doc, warnings)


def load_platform(file: Path, env: Mapping[str, str] | None = None) -> Loaded[PlatformConfig]:
    """Load and validate a platform.yaml, expanding the `${FLOE_*}` variables of endpoints and names from `env`
    (default: this process's environment).

    Raises:
        ConfigError: With every problem found in the file; none repeats an expanded value.
    """
    with _without_cycle_collection():
        doc, problems = read_document(Path(file), os.environ if env is None else env, expansion.refusal)
        try:
            loaded = _load(doc, problems, PlatformConfig, credential_scan.scan_platform, checks.PLATFORM_CHECKS,
                           checks.PLATFORM_ADVICE)
        except ConfigError as exc:
            raise ConfigError(_concealed(doc, exc.problems)) from None
    return dataclasses.replace(loaded, warnings=tuple(_concealed(doc, loaded.warnings)))


def _concealed(doc: SourceDocument | None, problems: Iterable[Problem]) -> list[Problem]:
    """`problems` with every value expanded into `doc` named by its variable instead (see `SourceDocument.conceal`)."""
    if doc is None or not doc.expansions:
        return list(problems)
    return [dataclasses.replace(p, message=doc.conceal(p.message, p.path)) for p in problems]


def load_pipeline(file: Path) -> Loaded[PipelineConfig]:
    """Load and validate a floe.yaml on its own (no platform cross-checks). Nothing in it is expanded from the
    environment: `${VAR}` stays as written (floe-runtime may expand it in the pipeline's own pods).

    Raises:
        ConfigError: With every problem found in the file.
    """
    with _without_cycle_collection():
        doc, problems = read_document(Path(file))
        return _load(doc, problems, PipelineConfig, credential_scan.scan_pipeline, checks.PIPELINE_CHECKS)


def load_configuration(
    platform_file: Path, pipeline_files: Iterable[Path] = (), env: Mapping[str, str] | None = None
) -> tuple[Loaded[PlatformConfig], list[Loaded[PipelineConfig]]]:
    """Load a platform and its pipelines, checking every pipeline against the platform.

    Raises:
        ConfigError: With the problems of all files together.
    """
    problems: list[Problem] = []
    platform: Loaded[PlatformConfig] | None = None
    pipelines: list[Loaded[PipelineConfig]] = []
    try:
        platform = load_platform(platform_file, env)
    except ConfigError as exc:
        problems += exc.problems
    for file in pipeline_files:
        try:
            pipelines.append(load_pipeline(file))
        except ConfigError as exc:
            problems += exc.problems
    if platform is not None:
        view = checks.platform_view(platform.config)
        for loaded in pipelines:
            # Against the platform's values, so the platform's expansions stay concealed here too.
            problems += _concealed(platform.document, [loaded.document.problem(path, message) for path, message
                                                       in checks.check_pipeline_against(loaded.config, view)])
    if problems or platform is None:
        raise ConfigError(problems)
    return platform, pipelines


# --- pydantic errors -> located problems -------------------------------------------------------


def validation_problems(doc: SourceDocument, exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Turn pydantic's errors into located problems, merging the alternatives of a union.

    A value in a credential field (`client_secret`, `secret_ref`, `password`, ...), or any value that
    looks like a secret, is never repeated: terminals and CI logs keep what errors print.
    """
    grouped: dict[tuple[Path_, bool], list[str]] = {}
    for error in exc.errors(include_url=False):
        shown, kind = _resolve(doc.data, error["loc"], error["type"])
        message = _message(error, model, shown, redact=credential_scan.sensitive(shown, error.get("input")))
        # Unknown fields and bad mapping keys (pydantic's `[key]` step) are reported at the key itself.
        at_key = kind == "extra_forbidden" or "[key]" in error["loc"]
        grouped.setdefault((shown, at_key), []).append(message)
    problems = []
    for (shown, at_key), messages in grouped.items():
        unique = list(dict.fromkeys(messages))
        text = unique[0] if len(unique) == 1 else "matches none of the allowed forms: " + "; ".join(unique)
        pos = doc.position(shown, prefer_key=at_key)
        problems.append(Problem(doc.file, pos.line, pos.column, format_path(shown), text))
    return problems


def _resolve(data: Any, loc: tuple[int | str, ...], kind: str) -> tuple[Path_, str]:
    """Follow pydantic's `loc` through the data, skipping union and validator tags.

    Returns the path to show (the deepest existing data path, plus a missing field's name) and
    the error type.
    """
    path: list[str | int] = []
    node = data
    for i, item in enumerate(loc):
        in_mapping = isinstance(node, dict) and isinstance(item, str) and item in node
        in_list = isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node)
        if in_mapping or in_list:
            node = node[item]
            path.append(item)
        elif kind == "missing" and i == len(loc) - 1:
            return (*path, item), kind
    return tuple(path), kind


def _describe(value: Any, redact: bool = False) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if redact:
        kind = "a boolean" if isinstance(value, bool) else "a number" if isinstance(value, int | float) else "a string"
        return f"{kind} (not shown: it may be a credential)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    text = str(value)
    return f"'{text[:60]}…'" if len(text) > 60 else f"'{text}'"


def _message(error: Any, model: type[BaseModel], shown: Path_, *, redact: bool = False) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        key = str(shown[-1]) if shown else ""
        allowed = _allowed_fields(model, error["loc"][:-1])
        hint = ""
        if allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(sorted(allowed))}"
        return f"unknown field '{key}'{hint}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {_describe(given, redact)}"
    if kind == "list_type":
        return f"expected a list, got {_describe(given, redact)}"
    if kind == "string_type":
        return f"expected a string, got {_describe(given, redact)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {_describe(given, redact)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_describe(given, redact)}"
    if kind == "value_error":
        text = str(error["msg"]).removeprefix("Value error, ")
        return _without_value(text, given) if redact else text
    text = str(error["msg"])
    if kind in ("enum", "literal_error", "greater_than_equal", "less_than_equal", "string_too_short",
                "string_too_long", "too_short", "too_long", "string_pattern_mismatch"):
        text = f"{text}; got {_describe(given, redact)}"
    return text[0].lower() + text[1:] if text else text


def _without_value(text: str, given: Any) -> str:
    """A message without the value it quotes (the check_* rules quote what they refuse as '<value>')."""
    if not isinstance(given, str) or not given:
        return text
    text = text.replace(f"'{given}'", "the value (not shown: it may be a credential)")
    # Unquoted too, unless so short that the words around it would be cut up.
    return text.replace(given, "<not shown>") if len(given) >= 8 else text


def _allowed_fields(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """Field names of the model that `loc` points into, for 'did you mean' hints."""
    candidates: list[Any] = [model]
    for item in loc:
        following: list[Any] = []
        for annotation in candidates:
            for alt in unwrap_annotation(annotation):
                origin = typing.get_origin(alt)
                if isinstance(alt, type) and issubclass(alt, BaseModel):
                    if isinstance(item, str) and item in alt.model_fields:
                        following.append(alt.model_fields[item].annotation)
                    elif item == alt.__name__:
                        following.append(alt)
                elif origin is dict:
                    following.append(typing.get_args(alt)[1])
                elif origin is list and isinstance(item, int):
                    following.append(typing.get_args(alt)[0])
        candidates = following or candidates
    for annotation in candidates:
        for alt in unwrap_annotation(annotation):
            if isinstance(alt, type) and issubclass(alt, BaseModel):
                return list(alt.model_fields)
    return []
