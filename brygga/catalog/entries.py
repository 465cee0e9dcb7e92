"""Which canonical schemas Brygga publishes, in which versions: the catalog a vendor reads, validates against and
fetches from (`brygga validate`, the validation API, the reference pages of `make docs`).

Three kinds of schema, each named the way a vendor asks for it (``NAME[@VERSION]``):

- ``case``: the canonical case, the core with every registered case type composed in (what Brygga validates a
  case against);
- a case type, by its name (``bygglov``, ``felanmalan``, ...): a case of that type, i.e. the case schema with
  ``caseType`` fixed to the name; its own file describes ``details.<name>``;
- ``status-event``: the canonical status event a case system's change becomes.

The version is the semantic version in the schema's ``$id``. Besides the current schemas, the composed case
schema of the last release (schemas/canonical/released/) is available by its version, e.g. ``case@1.0.0``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from brygga.canonical.types import CaseTypeRegistry, composed_schema
from brygga.canonical.validation import CASE_SCHEMA_PATH, default_case_types
from brygga.errors import BryggaError
from brygga.resources import resource

__all__ = [
    "CASE",
    "STATUS_EVENT",
    "SchemaEntry",
    "SchemaKind",
    "UnknownSchema",
    "resolve_schema",
    "schema_catalog",
]

SchemaKind = Literal["case", "case-type", "status-event"]
CASE = "case"
STATUS_EVENT = "status-event"
STATUS_EVENT_PATH = resource("schemas", "canonical", "status-event.v1.schema.json")
RELEASED_CASE_PATH = resource("schemas", "canonical", "released", "case.v1.json")
RELEASED_STATUS_EVENT_PATH = resource("schemas", "canonical", "released", "status-event.v1.json")
_VERSION_IN_ID = re.compile(r"/(?P<version>(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*))/")
_SPEC = re.compile(r"(?P<name>[a-z][a-z0-9_-]{0,63})(?:@(?P<version>[0-9]+(?:\.[0-9]+){0,2}))?", re.ASCII)


class UnknownSchema(BryggaError, LookupError):
    """A schema name or version the catalog does not hold. The message lists what it holds."""


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(_read(path))  # a fresh dict each time: callers may change it


def _version(schema_id: str) -> str:
    match = _VERSION_IN_ID.search(schema_id)
    if match is None:
        raise ValueError(f"$id {schema_id} carries no semantic version")
    return match["version"]


@dataclass(frozen=True)
class SchemaEntry:
    """One published schema in one version."""

    name: str  # "case", "status-event", or a case type's name
    kind: SchemaKind
    version: str  # the semantic version in the $id, e.g. "1.1.0"
    id: str  # the $id
    title: str  # "Svenska / English, v1"
    description: str
    source: Path  # the file: the core, the type's file, the status event's, or the released composed case
    current: bool  # False for the composed case schema of the last release
    registry: CaseTypeRegistry | None = None  # the case types composed in, for the case and case type kinds

    @property
    def spec(self) -> str:
        """How to ask for exactly this one: ``bygglov@1.1.0``."""
        return f"{self.name}@{self.version}"

    def own_schema(self) -> dict[str, Any]:
        """The schema a vendor fetches: self-contained. The composed schema for ``case`` (the core with every
        case type embedded), the type's own file for a case type (it describes ``details.<name>``), the file for
        ``status-event``."""
        if self.kind == "case":
            return self.document_schema()
        return _load(self.source)

    def document_schema(self) -> dict[str, Any]:
        """The schema a whole document is validated against. For a case type: the composed case schema with
        ``caseType`` fixed to the type (what `brygga validate --schema bygglov` checks)."""
        if self.kind == "status-event":
            return _load(self.source)
        if not self.current:
            return _load(self.source)
        assert self.registry is not None
        schema = composed_schema(self.registry)
        if self.kind == "case-type":
            schema["allOf"] = [*schema.get("allOf", []), {"properties": {"caseType": {"const": self.name}}}]
        return schema


def _case_entry(registry: CaseTypeRegistry) -> SchemaEntry:
    core = _load(CASE_SCHEMA_PATH)
    return SchemaEntry(CASE, "case", _version(core["$id"]), core["$id"], core["title"], core["description"],
                       CASE_SCHEMA_PATH, True, registry)


def _type_entries(registry: CaseTypeRegistry) -> list[SchemaEntry]:
    entries = []
    for name in registry.names:
        case_type = registry.get(name)
        schema = case_type.schema()
        entries.append(SchemaEntry(name, "case-type", _version(case_type.id), case_type.id, schema.get("title", name),
                                   schema.get("description", ""), case_type.path, True, registry))
    return entries


def _status_entry() -> SchemaEntry:
    schema = _load(STATUS_EVENT_PATH)
    return SchemaEntry(STATUS_EVENT, "status-event", _version(schema["$id"]), schema["$id"], schema["title"],
                       schema["description"], STATUS_EVENT_PATH, True)


def _released_entries(current: list[SchemaEntry]) -> list[SchemaEntry]:
    """The baselines of the last release (schemas/canonical/released/) whose version is not a current one."""
    entries = []
    baselines: tuple[tuple[str, SchemaKind, Path], ...] = (
        (CASE, "case", RELEASED_CASE_PATH), (STATUS_EVENT, "status-event", RELEASED_STATUS_EVENT_PATH))
    for name, kind, path in baselines:
        if not path.is_file():
            continue
        schema = _load(path)
        version = _version(schema["$id"])
        if not any(entry.name == name and entry.version == version for entry in current):
            entries.append(SchemaEntry(name, kind, version, schema["$id"], schema["title"], schema["description"],
                                       path, False))
    return entries


def schema_catalog(registry: CaseTypeRegistry | None = None) -> list[SchemaEntry]:
    """Every published schema: the current case, its case types (by name), the status event, then the released
    baselines. ``registry``: the case types; None means the environment's (bundled plus the kommun's)."""
    registry = default_case_types() if registry is None else registry
    current = [_case_entry(registry), *_type_entries(registry), _status_entry()]
    return [*current, *_released_entries(current)]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def resolve_schema(spec: str, registry: CaseTypeRegistry | None = None) -> SchemaEntry:
    """The entry ``NAME[@VERSION]`` names. A version may be whole (``1.1.0``) or a prefix (``1``, ``1.1``): the
    newest matching one. Without a version: the current one. Raises `UnknownSchema` listing what there is."""
    match = _SPEC.fullmatch(spec.strip())
    catalog = schema_catalog(registry)
    names = list(dict.fromkeys(entry.name for entry in catalog))
    if match is None:
        raise UnknownSchema(f"schema {spec!r} is not NAME or NAME@VERSION (e.g. case, bygglov@1, case@1.0.0); "
                            f"known: {', '.join(names)}")
    name, version = match["name"], match["version"]
    same_name = [entry for entry in catalog if entry.name == name]
    if not same_name:
        raise UnknownSchema(f"no schema named {name!r}; known: {', '.join(names)}")
    if version is None:
        return next(entry for entry in same_name if entry.current)
    wanted = _key(version)
    fitting = [entry for entry in same_name if _key(entry.version)[:len(wanted)] == wanted]
    if not fitting:
        held = ", ".join(sorted((entry.version for entry in same_name), key=_key))
        raise UnknownSchema(f"schema {name} has no version {version}; available: {held}")
    return max(fitting, key=lambda entry: _key(entry.version))
