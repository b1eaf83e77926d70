"""JSON Schemas of platform.yaml and floe.yaml, for editors (yaml-language-server) and CI."""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from floe_infra.config.expansion import REFERENCE_PATTERN
from floe_infra.config.pipeline import PipelineConfig
from floe_infra.config.platform import PlatformConfig

SCHEMA_FILES = {"platform.schema.json": PlatformConfig, "floe.schema.json": PipelineConfig}
_TITLES = {"platform.schema.json": "floe platform.yaml", "floe.schema.json": "floe floe.yaml"}


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema (draft 2020-12) of each configuration file."""
    out = {}
    for name, model in SCHEMA_FILES.items():
        schema = model.model_json_schema()
        if model is PipelineConfig:
            # floe.yaml expands no `${VAR}`: the name rules alone (the loader sees the text as written).
            schema = _without_env_references(schema)
        out[name] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": _TITLES[name], **{
            k: v for k, v in schema.items() if k != "title"}}
    return out


def _without_env_references(node: Any) -> Any:
    """A schema with the `${VAR}` alternative of every `anyOf` pattern pair removed (see `_schema_pattern`)."""
    if isinstance(node, list):
        return [_without_env_references(item) for item in node]
    if not isinstance(node, dict):
        return node
    alternatives = node.get("anyOf")
    if isinstance(alternatives, list) and {"type": "string", "pattern": REFERENCE_PATTERN} in alternatives:
        rest = [alt for alt in alternatives if alt != {"type": "string", "pattern": REFERENCE_PATTERN}]
        node = {**{k: v for k, v in node.items() if k != "anyOf"}, **(rest[0] if len(rest) == 1 else {"anyOf": rest})}
    return {key: _without_env_references(value) for key, value in node.items()}


def write_schemas(directory: Path) -> list[Path]:
    """Write both schemas into `directory`; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        target = directory / name
        target.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(target)
    return written


def field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted paths of every field reachable from `model` (containers and unions looked through)."""
    out: list[str] = []

    def walk(current: type[BaseModel], base: str, seen: frozenset[type[BaseModel]]) -> None:
        for name, info in current.model_fields.items():
            out.append(f"{base}{name}")
            pending = [info.annotation]
            while pending:
                for alt in unwrap_annotation(pending.pop()):
                    if isinstance(alt, type) and issubclass(alt, BaseModel):
                        if alt not in seen:
                            walk(alt, f"{base}{name}.", seen | {alt})
                    elif typing.get_origin(alt) in (dict, list):
                        pending.append(typing.get_args(alt)[-1])

    walk(model, prefix, frozenset({model}))
    return out


def unwrap_annotation(annotation: Any) -> list[Any]:
    """The concrete alternatives of an annotation (Optional, unions and Annotated removed)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return unwrap_annotation(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [alt for arg in typing.get_args(annotation) for alt in unwrap_annotation(arg)]
    return [annotation]
