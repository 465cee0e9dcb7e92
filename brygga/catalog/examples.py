"""The examples each published schema comes with: valid documents, and invalid ones that state the errors they must
produce. The reference pages show them; `make test` checks every one of them against the validator.

Where they are (schemas/canonical/examples/):

- ``*.json``: whole cases, valid; a case type's examples are the cases whose ``caseType`` is that type;
- ``status/*.json``: status events, valid;
- ``invalid/*.json`` and ``status/invalid/*.json``: invalid documents, each an object::

      {"schema": "bygglov",                       # the entry it is invalid against (NAME, as in --schema)
       "description": "Svenska. / English.",      # what is wrong, in both languages
       "errors": [{"path": "/details/bygglov/measure", "rule": "enum"}],   # exactly the problems it produces
       "document": {...}}

Besides, a case type's own file carries ``examples`` of ``details.<name>`` (the part of a case it describes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from brygga.catalog.entries import SchemaEntry
from brygga.errors import ConfigError
from brygga.resources import resource

__all__ = ["EXAMPLES_DIR", "InvalidExample", "ValidExample", "invalid_examples", "valid_examples"]

EXAMPLES_DIR = resource("schemas", "canonical", "examples")
_INVALID_DIRS = (EXAMPLES_DIR / "invalid", EXAMPLES_DIR / "status" / "invalid")


@dataclass(frozen=True)
class ValidExample:
    schema: str  # the entry's name
    name: str  # the file's stem, or "<type>-details-<n>" for an example in a type's own file
    part: Literal["document", "details"]  # a whole document, or details.<type> of a case
    document: Any
    source: Path


@dataclass(frozen=True)
class InvalidExample:
    schema: str
    name: str
    description: str
    errors: tuple[tuple[str, str], ...]  # (JSON pointer, rule) of every problem it must produce
    document: Any
    source: Path


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable JSON example ({type(exc).__name__})") from None


def valid_examples(entry: SchemaEntry) -> list[ValidExample]:
    """The valid examples of an entry: whole documents, then (for a case type) its own ``details`` examples. A
    released schema has none of its own: the examples follow the current schemas."""
    if not entry.current:
        return []
    if entry.kind == "status-event":
        return [ValidExample(entry.name, path.stem, "document", _json(path), path)
                for path in sorted((EXAMPLES_DIR / "status").glob("*.json"))]
    cases = [(path, _json(path)) for path in sorted(EXAMPLES_DIR.glob("*.json"))]
    if entry.kind == "case":
        return [ValidExample(entry.name, path.stem, "document", case, path) for path, case in cases]
    found = [ValidExample(entry.name, path.stem, "document", case, path)
             for path, case in cases if isinstance(case, dict) and case.get("caseType") == entry.name]
    own = entry.own_schema().get("examples", [])
    return found + [ValidExample(entry.name, f"{entry.name}-details-{n}", "details", details, entry.source)
                    for n, details in enumerate(own, start=1)]


def _invalid(path: Path) -> InvalidExample:
    data = _json(path)
    if not isinstance(data, dict) or not {"schema", "description", "errors", "document"} <= data.keys():
        raise ConfigError(f"{path}: an invalid example is an object with schema, description, errors and document")
    errors = tuple((error["path"], error["rule"]) for error in data["errors"])
    return InvalidExample(data["schema"], path.stem, data["description"], errors, data["document"], path)


def invalid_examples(entry: SchemaEntry | None = None) -> list[InvalidExample]:
    """The invalid examples of an entry (by its name), or all of them."""
    found = [_invalid(path) for folder in _INVALID_DIRS for path in sorted(folder.glob("*.json"))]
    return [example for example in found if entry is None or example.schema == entry.name]
