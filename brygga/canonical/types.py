"""Case types as files: the registry of schemas/canonical/types/ and the composed case schema.

The core case schema (schemas/canonical/case.v1.schema.json) is open: `caseType` is any name of the right
shape and `details` holds at most one object. What a case type's details look like is a file of its own,
``<name>.v<major>.schema.json`` in a case types folder, checked when it is loaded:

- the file is JSON and a valid JSON Schema draft 2020-12 (`$schema`, when given, is 2020-12);
- ``<name>`` matches ``^[a-z][a-z0-9_]{1,39}$`` (the core's `caseType` pattern) and is not ``case``;
- ``$id`` is ``https://schemas.brygga.se/canonical/types/<name>/<major>.<minor>.<patch>/<name>.schema.json``,
  with the file's major;
- ``type`` is ``object``;
- it is one resource: no ``$id`` (or ``$schema``) below the root, which would be a resource of its own in the
  composed schema and could stand in for another type's schema or the core's;
- every ``$ref``, ``$dynamicRef`` and ``$recursiveRef`` is local (``#...``) and resolves to a schema in the file
  (a JSON pointer or an ``$anchor``/``$dynamicAnchor`` of the file): a type schema is self-contained and nothing
  is ever fetched; values of ``const``, ``enum``, ``examples`` and ``default`` are data and not read;
- it compiles on its own with jsonschema-rs, offline;
- one file per name across all folders (a second one is a `ConfigError` naming both);
- any other ``*.schema.json`` in a case types folder is refused (a file that would be ignored without a word).

Anchors are allowed: with one resource per file they belong to the type's own ``$id`` and cannot shadow
another schema's. `CaseTypeRegistry.load` also compiles the composed schema, so a registry that loads validates.

The bundled folder comes first, then the extra folders of the environment (`Settings.case_types_dirs`). A
registry for core major 1 reads only ``*.v1.schema.json``; files of another major belong to that core major.

`composed_schema(registry)` is one self-contained JSON Schema: the core, each type schema embedded whole (with
its own `$id`, so its internal ``#/$defs/...`` refs resolve inside it) under ``$defs/caseType_<name>``,
``details/<name>`` referring to it, `caseType` limited to the registered names, and per type a conditional:
a case of that type may hold only ``details/<name>``, and must hold it when the type has required fields.
jsonschema-rs and the pure-Python `jsonschema` both resolve it offline; vendors get the same file.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from brygga.errors import ConfigError
from brygga.resources import resource

__all__ = [
    "CASE_TYPE_NAME",
    "CORE_MAJOR",
    "TYPES_DIR",
    "CaseType",
    "CaseTypeRegistry",
    "composed_schema",
    "type_schema_id",
]

CORE_MAJOR = 1
TYPES_DIR = resource("schemas", "canonical", "types")
CASE_TYPE_NAME = re.compile(r"[a-z][a-z0-9_]{1,39}", re.ASCII)
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# An archive package holds the core and the type file side by side in schemas/: no type may be named like the core.
RESERVED_NAMES = frozenset({"case"})
_FILE_NAME = re.compile(r"(?P<name>.+)\.v(?P<major>[0-9]+)\.schema\.json", re.ASCII)
_ID = re.compile(
    r"https://schemas\.brygga\.se/canonical/types/(?P<name>[^/]+)/(?P<major>0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
    r"\.(?:0|[1-9][0-9]*)/(?P<file>[^/]+)\.schema\.json",
    re.ASCII,
)


def type_schema_id(name: str, version: str = "1.0.0") -> str:
    """The `$id` a case type file must declare, e.g. ``.../types/bygglov/1.0.0/bygglov.schema.json``."""
    return f"https://schemas.brygga.se/canonical/types/{name}/{version}/{name}.schema.json"


@dataclass(frozen=True, slots=True)
class CaseType:
    """One registered case type: its name, the major version of its file, the file and its `$id`."""

    name: str
    major: int
    path: Path
    id: str
    text: str  # the file as read; `schema()` parses it afresh so callers cannot change the registry

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = json.loads(self.text)
        return schema


def _problem(path: Path, rule: str, explanation: str) -> ConfigError:
    return ConfigError(f"case type file {path}: {rule}: {explanation}")


# Keywords whose value is data, not schemas: never read as keywords (`const: {"$ref": "http://x"}` is a value).
_DATA_KEYWORDS = frozenset({"const", "enum", "examples", "default"})
# Keywords whose value maps names to schemas: the names are not keywords.
_SCHEMA_MAPS = frozenset({"$defs", "definitions", "properties", "patternProperties", "dependentSchemas"})
_REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _schemas(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every schema of a type file with its JSON pointer, the root first; any other keyword's object is read as
    a schema too (so nothing can hide there), data keywords never."""
    if isinstance(node, bool):
        yield pointer, node
    if not isinstance(node, dict):
        return
    yield pointer, node
    for key, value in node.items():
        where = f"{pointer}/{_escape(key)}"
        if key in _DATA_KEYWORDS:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield from _schemas(sub, f"{where}/{_escape(name)}")
        elif isinstance(value, dict):
            yield from _schemas(value, where)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from _schemas(item, f"{where}/{index}")


def _check_structure(path: Path, schema: dict[str, Any]) -> None:
    """One resource, only local references, and every reference resolves inside the file."""
    nodes = dict(_schemas(schema))
    anchors = {node[key] for node in nodes.values() if isinstance(node, dict)
               for key in ("$anchor", "$dynamicAnchor") if isinstance(node.get(key), str)}
    for pointer, node in nodes.items():
        if not isinstance(node, dict) or not pointer:
            continue
        if "$id" in node:
            raise _problem(path, "$id", f"only the root may declare $id (found at {pointer}): a nested $id is a "
                           "resource of its own in the composed schema and could stand in for another schema")
        if "$schema" in node:
            raise _problem(path, "$schema", f"only the root may declare $schema (found at {pointer})")
    for pointer, node in nodes.items():
        for keyword in _REF_KEYWORDS:
            ref = node.get(keyword) if isinstance(node, dict) else None
            if ref is None:
                continue
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise _problem(path, keyword, f"only local references (#/...) are allowed (at {pointer or '/'}): "
                               "a type schema is self-contained")
            fragment = unquote(ref[1:])
            if fragment.startswith("/"):
                target = "".join("/" + _escape(part.replace("~1", "/").replace("~0", "~"))
                                 for part in fragment[1:].split("/"))
                resolves = target in nodes
            else:
                resolves = fragment == "" or fragment in anchors
            if not resolves:
                raise _problem(path, keyword, f"{ref!r} at {pointer or '/'} does not resolve to a schema in this "
                               "file")
    import jsonschema_rs

    from brygga.canonical.formats import FORMAT_CHECKERS

    try:
        jsonschema_rs.Draft202012Validator(schema, formats=dict(FORMAT_CHECKERS), validate_formats=True,
                                           offline=True)
    except (ValueError, jsonschema_rs.ReferencingError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _problem(path, "schema", f"does not compile on its own (jsonschema-rs, offline): {first}") from None


def _scan(
    dirs: Sequence[Path], bundled: bool, major: int
) -> tuple[list[Path], list[tuple[str, Path]], tuple[Any, ...]]:
    """The folders, the (name, file) pairs of the major, and a key of folders, file names, mtimes and sizes."""
    folders: list[Path] = []
    seen: set[Path] = set()
    for folder in [TYPES_DIR, *dirs] if bundled else list(dirs):
        folder = Path(folder)
        if not folder.is_dir():
            raise ConfigError(f"case types folder {folder}: not a folder (it must exist and hold <name>.v{major}"
                              ".schema.json files)")
        resolved = folder.resolve()
        if resolved not in seen:
            seen.add(resolved)
            folders.append(folder)
    files: list[tuple[str, Path]] = []
    key: list[Any] = [major]
    for folder in folders:
        key.append(str(folder.resolve()))
        for path in sorted(folder.glob("*.schema.json")):
            match = _FILE_NAME.fullmatch(path.name)
            if match is None:
                # e.g. eldstad.schema.json: meant as a case type, but it would be ignored without a word.
                raise _problem(path, "file name", "a case type file is named <name>.v<major>.schema.json")
            if int(match["major"]) != major:
                continue
            try:
                stat = path.stat()
            except OSError:
                continue  # removed while listing: the next look will not see it either
            files.append((match["name"], path))
            key.append((path.name, stat.st_mtime_ns, stat.st_size))
    return folders, files, tuple(key)


def _read_type(path: Path, name: str, major: int) -> CaseType:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _problem(path, "readable", f"cannot be read as UTF-8 text ({type(exc).__name__})") from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _problem(path, "json", f"not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(schema, dict):
        raise _problem(path, "json", "the top level must be a JSON object (a schema)")
    if schema.get("$schema", DRAFT_2020_12) != DRAFT_2020_12:
        raise _problem(path, "$schema", f"must be {DRAFT_2020_12}")
    import jsonschema  # the pure-Python library checks schemas; imported when a type file is read

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/" + "/".join(str(part) for part in exc.absolute_path)
        raise _problem(path, "schema", f"not a valid JSON Schema draft 2020-12 at {where}: {exc.message}") from None
    if not CASE_TYPE_NAME.fullmatch(name):
        raise _problem(path, "name", f"the case type name must match ^{CASE_TYPE_NAME.pattern}$")
    if name in RESERVED_NAMES:
        raise _problem(path, "name", f"{name!r} is reserved (the core schema is case.v1.schema.json)")
    declared = schema.get("$id")
    match = _ID.fullmatch(declared) if isinstance(declared, str) else None
    if match is None or match["name"] != name or match["file"] != name or int(match["major"]) != major:
        raise _problem(path, "$id", f"must be {type_schema_id(name, f'{major}.<minor>.<patch>')}")
    if schema.get("type") != "object":
        raise _problem(path, "type", 'the schema must have "type": "object" (details.<name> is an object)')
    _check_structure(path, schema)
    return CaseType(name=name, major=major, path=path, id=declared, text=text)


class CaseTypeRegistry:
    """The case types of one set of folders, read once; immutable.

    ``key`` identifies what was read (folders, files, their modification times and sizes): validators compiled
    for a registry are cached under it.
    """

    def __init__(self, types: Iterable[CaseType], dirs: Sequence[Path], key: tuple[Any, ...]) -> None:
        self._types = {case_type.name: case_type for case_type in types}
        self.dirs = tuple(dirs)
        self.key = key

    @classmethod
    def load(cls, dirs: Sequence[Path] = (), *, bundled: bool = True, major: int = CORE_MAJOR) -> CaseTypeRegistry:
        """Read ``<name>.v<major>.schema.json`` from the bundled folder (unless ``bundled=False``), then ``dirs``.

        Folders are read in order; a folder given twice is read once. Raises `ConfigError` for a folder that does
        not exist, a bad file or two files for one name; every message names the file and the rule.
        """
        folders, files, key = _scan(dirs, bundled, major)
        found: dict[str, CaseType] = {}
        for name, path in files:
            if name in found:
                raise ConfigError(
                    f"case type {name!r} is defined twice: {found[name].path} and {path}; keep one file per case type"
                )
            found[name] = _read_type(path, name, major)
        registry = cls(found.values(), folders, key)
        # Compile the composed schema now (once: validate_case reuses it), so that whatever error is left shows
        # when the registry is loaded, not on every case.
        from brygga.canonical.validation import _compiled

        _compiled(registry)
        return registry

    @staticmethod
    def fingerprint(dirs: Sequence[Path] = (), *, bundled: bool = True, major: int = CORE_MAJOR) -> tuple[Any, ...]:
        """The `key` that `load` with the same arguments would give now, without reading the files."""
        return _scan(dirs, bundled, major)[2]

    @property
    def names(self) -> list[str]:
        """The registered case type names, sorted."""
        return sorted(self._types)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __len__(self) -> int:
        return len(self._types)

    def get(self, name: str) -> CaseType:
        try:
            return self._types[name]
        except KeyError:
            raise KeyError(f"case type {name!r} is not registered") from None

    def path(self, name: str) -> Path:
        """The file that defines the case type ``name`` (KeyError when it is not registered)."""
        return self.get(name).path

    def schema(self, name: str) -> dict[str, Any]:
        """The case type's schema as a fresh dict (KeyError when it is not registered)."""
        return self.get(name).schema()

    def __repr__(self) -> str:
        return f"CaseTypeRegistry({', '.join(self.names)})"


def _core() -> dict[str, Any]:
    from brygga.canonical.validation import load_case_schema

    return load_case_schema()


def composed_schema(registry: CaseTypeRegistry, core: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The core case schema with every registered case type embedded: one self-contained JSON Schema.

    ``core`` defaults to the bundled core (`load_case_schema()`); it is not changed.
    """
    schema = copy.deepcopy(dict(core)) if core is not None else _core()
    defs = schema.setdefault("$defs", {})
    names = registry.names
    case_type = defs["caseType"]
    case_type["enum"] = names
    case_type["description"] += f" Registered when this schema was composed: {', '.join(names)}."

    details = defs["details"]
    details["properties"] = {}
    details["additionalProperties"] = False
    conditionals = []
    for name in names:
        type_schema = registry.schema(name)
        # One dialect for the whole document; the embedded resource keeps its $id, so its "#/..." refs resolve
        # inside it.
        type_schema.pop("$schema", None)
        defs[f"caseType_{name}"] = type_schema
        details["properties"][name] = {"$ref": type_schema["$id"]}
        then: dict[str, Any] = {"properties": {"details": {"propertyNames": {"const": name}}}}
        if type_schema.get("required"):
            then["required"] = ["details"]
            then["properties"]["details"]["required"] = [name]
        conditionals.append({
            "description": f"Ett ärende av typen {name} har bara details.{name} / A {name} case holds only "
            f"details.{name}" + (", and must hold it." if type_schema.get("required") else "."),
            "if": {"properties": {"caseType": {"const": name}}, "required": ["caseType"]},
            "then": then,
        })
    schema["allOf"] = [*schema.get("allOf", []), *conditionals]
    return schema
