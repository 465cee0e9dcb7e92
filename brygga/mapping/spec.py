"""Load a mapping file and check it against ``schemas/config/mapping.schema.json``.

Schema-first: nothing is compiled until the whole file is valid, so an integrator gets one clear error
naming the file and the place in it, instead of a stack trace from half-built closures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from brygga.mapping.errors import MappingConfigError
from brygga.resources import resource

SCHEMA_PATH = resource("schemas", "config", "mapping.schema.json")


@dataclass(frozen=True, slots=True)
class MappingSpec:
    """A mapping file that passed the schema. ``doc`` is the parsed YAML, ``file`` the name used in errors."""

    file: str
    path: Path
    doc: dict[str, Any]


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def location(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """``['output', 'parties', 'items', 1]`` -> ``output.parties.items[1]``: where in the file."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def _check_keys(node: Any, where: list[str | int], file: str, above: frozenset[int] = frozenset()) -> None:
    # YAML 1.1 turns unquoted keys like `no`, `yes`, `1881` into bool/int. JSON Schema cannot see that,
    # and a code list silently keyed by False is a nasty bug, so ask for quotes instead.
    if isinstance(node, dict | list) and id(node) in above:
        # `a: &x [*x]`: a node that holds itself would send every later walk round for ever.
        raise MappingConfigError(file, location(where), "a YAML alias refers to a node that holds it")
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                raise MappingConfigError(
                    file, location(where), f"key {key!r} is read as {type(key).__name__}; quote it"
                )
            _check_keys(value, [*where, key], file, above | {id(node)})
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_keys(value, [*where, i], file, above | {id(node)})


def load_spec(path: Path, file: str | None = None) -> MappingSpec:
    """Read, parse and schema-check one mapping file. Raises ``MappingConfigError``."""
    name = file or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingConfigError(name, "(file)", f"cannot read the file: {exc.__class__.__name__}") from None
    try:
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingConfigError(name, where, f"not valid YAML: {problem}") from None
    if not isinstance(doc, dict):
        raise MappingConfigError(name, "(file)", "a mapping file must be a YAML mapping (key: value)")
    _check_keys(doc, [], name)
    error = best_match(_validator().iter_errors(doc))
    if error is not None:
        message = error.message
        if error.validator == "not" and isinstance(error.schema, dict) and error.schema.get("description"):
            message = error.schema["description"]  # "should not be valid under {}" says nothing; the schema does
        raise MappingConfigError(name, location(list(error.absolute_path)), message)
    return MappingSpec(file=name, path=path, doc=doc)
