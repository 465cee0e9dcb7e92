"""Validate a document against a published schema, each problem with its JSON path, its rule, a message and a hint in
Swedish or English: what `brygga validate` prints and the validation API answers.

The checks are exactly the pipeline's: a case goes through `brygga.canonical.validate_case` (the composed schema of
the core and the entry's case types), a status event through the status event schema, every problem of it. A case
type entry checks a case of that type (``caseType`` must be its name); the released case schema checks against the
composed schema of the last release. Messages and hints come from the rule, its parameters and the schema, never
from the document (brygga.catalog.messages).

Input is canonical JSON, or an e-service's XML: translated by the inbound mapping that accepts it
(brygga.catalog.inputs), whose problems are reported with the rule ``mapping``, then validated as the case.

A file or a request body reports its first `MAX_PROBLEMS` problems and how many there are in all: a list of 400,000
numbers where parties go makes 400,000 problems, which no one reads and whose wording would cost minutes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from brygga.canonical.types import CaseTypeRegistry
from brygga.canonical.validation import CaseProblem, compile_case_schema, validate_against, validate_case
from brygga.catalog.entries import CASE, STATUS_EVENT, SchemaEntry, UnknownSchema, resolve_schema, schema_catalog
from brygga.catalog.inputs import InputError, looks_like_xml, parse_json, translate
from brygga.catalog.messages import LANGS, Lang, SchemaIndex, hint, message
from brygga.mapping import InvalidSource, MappingFailed, MappingProblem
from brygga.status.event import status_event_problems

__all__ = [
    "JSON_MEDIA_TYPES",
    "LANGS",
    "MAX_PROBLEMS",
    "XML_MEDIA_TYPES",
    "FileReport",
    "Lang",
    "Problem",
    "detect_schema",
    "validate_bytes",
    "validate_document",
    "validate_file",
]

JSON_MEDIA_TYPES = ("application/json",)
XML_MEDIA_TYPES = ("application/xml", "text/xml")
_HEAD_BYTES = 64
MAX_PROBLEMS = 100  # worded and reported per file or body; the report says how many there are in all


@dataclass(frozen=True)
class Problem:
    """One reason a document is invalid, worded in one language."""

    path: str  # JSON pointer into the document ("" for the root)
    rule: str  # as the pipeline names it: "required", "enum", "format:personnummer", "caseType", "mapping", ...
    message: str  # never quotes the document's values
    hint: str | None  # what the field is and an example value, from the schema

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FileReport:
    """The result for one file (or one request body)."""

    file: str
    schema: str | None  # the entry's spec, "bygglov@1.1.0"; None when it could not be told
    valid: bool
    problems: list[Problem] = field(default_factory=list)  # the first MAX_PROBLEMS of them
    error: str | None = None  # the file could not be read, parsed or translated at all: names the file and why
    total: int = 0  # how many problems there are in all (at least len(problems))

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", max(self.total, len(self.problems)))

    @property
    def truncated(self) -> bool:
        """Whether there are more problems than `problems` lists."""
        return self.total > len(self.problems)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "schema": self.schema, "valid": self.valid,
                "problems": [problem.as_json() for problem in self.problems], "total": self.total,
                "truncated": self.truncated, "error": self.error}


# --- one document -------------------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _index(entry: SchemaEntry) -> SchemaIndex:
    # Entries are values (their registry by identity): the index lives as long as the environment's registry.
    return SchemaIndex(entry.document_schema())


@lru_cache(maxsize=4)
def _released_validator(entry: SchemaEntry) -> jsonschema_rs.Validator:
    return compile_case_schema(entry.document_schema())


def _case_problems(document: Any, entry: SchemaEntry) -> list[CaseProblem]:
    if entry.kind == "status-event":
        return status_event_problems(document)
    if not entry.current:
        return validate_against(document, _released_validator(entry))
    problems = validate_case(document, entry.registry)
    if entry.kind == "case-type":
        # A case of this type: a registered case type of another name is refused as the entry's schema refuses it
        # (its caseType const). A missing or unregistered one already has its problem.
        case_type = document.get("caseType") if isinstance(document, dict) else None
        registered = entry.registry is not None and isinstance(case_type, str) and case_type in entry.registry
        if registered and case_type != entry.name:
            problems.append(CaseProblem("/caseType", "const", f"Value must be \"{entry.name}\".",
                                        {"expected": entry.name}))
    return problems


def _worded(problems: list[CaseProblem], index: SchemaIndex, lang: Lang) -> list[Problem]:
    # A hint depends on the place in the schema, the rule and its parameters: the same for /parties/0/kind and
    # /parties/7/kind, so it is looked up once.
    hints: dict[tuple[str, str, str], str | None] = {}
    worded = []
    for problem in problems:
        key = (index.general(problem.path), problem.rule, json.dumps(problem.params, sort_keys=True, default=repr))
        if key not in hints:
            hints[key] = hint(index, problem.path, problem.rule, problem.params, lang)
        worded.append(Problem(problem.path, problem.rule,
                              message(problem.rule, problem.params, lang, problem.message), hints[key]))
    return worded


def validate_document(document: Any, entry: SchemaEntry, *, lang: Lang = "en") -> list[Problem]:
    """Every problem of ``document`` (parsed JSON) under ``entry``, worded in ``lang``; empty when it is valid.
    Every one: `validate_file` and `validate_bytes` word only the first `MAX_PROBLEMS`."""
    return _worded(_case_problems(document, entry), _index(entry), lang)


def _first(document: Any, entry: SchemaEntry, lang: Lang, limit: int) -> tuple[list[Problem], int]:
    """The first ``limit`` problems worded, and how many there are in all."""
    found = _case_problems(document, entry)
    return _worded(found[:limit], _index(entry), lang), len(found)


def detect_schema(document: Any, registry: CaseTypeRegistry | None = None) -> SchemaEntry:
    """Which schema a document is for: a case (it has ``caseType``) or a status event (``eventId`` and ``kind``).
    Raises `UnknownSchema` when it cannot be told."""
    if isinstance(document, dict):
        if "caseType" in document:
            return resolve_schema(CASE, registry)
        if "eventId" in document and "kind" in document:
            return resolve_schema(STATUS_EVENT, registry)
    names = ", ".join(dict.fromkeys(entry.name for entry in schema_catalog(registry)))
    raise UnknownSchema("cannot tell which schema the document is for (a case has caseType, a status event eventId "
                        f"and kind): name it (brygga validate --schema NAME, or ?schema=NAME); known: {names}")


# --- files and request bodies --------------------------------------------------------------------------------

def _mapping_problem(problem: MappingProblem, entry: SchemaEntry, lang: Lang) -> Problem:
    """A problem the mapping met: at the output field it could not fill, with the place in the XML it read."""
    path = _pointer_of_rule(problem.rule)
    params = {"detail": problem.message, "source": problem.source_path}
    return Problem(path, "mapping", message("mapping", params, lang),
                   hint(_index(entry), path, "mapping", params, lang))


def _pointer_of_rule(rule: str) -> str:
    """A mapping's output rule (``parties[0].personnummer``, ``(document)``) as a JSON pointer."""
    if not rule or rule.startswith("("):
        return ""
    parts: list[str] = []
    for name in rule.split("."):
        head, *indexes = name.split("[")
        if head:
            parts.append(head)
        parts.extend(index.rstrip("]") for index in indexes)
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _report(name: str, document: Any, entry: SchemaEntry | None, lang: Lang, limit: int) -> FileReport:
    if entry is None:
        try:
            entry = detect_schema(document)
        except UnknownSchema as exc:
            return FileReport(name, None, False, error=f"{name}: {exc}")
    problems, total = _first(document, entry, lang, limit)
    return FileReport(name, entry.spec, not total, problems, total=total)


def _from_xml(source: Path | bytes, name: str, entry: SchemaEntry | None, lang: Lang, route: str | None,
              limit: int) -> FileReport:
    if entry is not None and entry.kind == "status-event":
        return FileReport(name, entry.spec, False, error=f"{name}: XML is an e-service's submission, translated into "
                                                         "a case; a status event is validated as JSON")
    try:
        case = translate(source, route=route, source_name=name)
    except MappingFailed as failed:
        entry = entry or resolve_schema(CASE)
        problems = [_mapping_problem(problem, entry, lang) for problem in failed.problems[:limit]]
        return FileReport(name, entry.spec, False, problems, total=len(failed.problems))
    except InvalidSource as exc:  # unreadable XML, no mapping accepts it (a broken routes file or mapping: raised)
        return FileReport(name, entry.spec if entry else None, False, error=_named(str(exc), name))
    except OSError as exc:
        return FileReport(name, entry.spec if entry else None, False,
                          error=f"{name}: cannot read: {exc.strerror or type(exc).__name__}")
    return _report(name, case, entry or resolve_schema(CASE), lang, limit)


def _named(text: str, name: str) -> str:
    return text if name in text else f"{name}: {text}"


def _entry(schema: str | None) -> SchemaEntry | None:
    return None if schema is None else resolve_schema(schema)


def validate_file(path: Path, *, schema: str | None = None, lang: Lang = "en", route: str | None = None,
                  limit: int = MAX_PROBLEMS) -> FileReport:
    """Validate one file: canonical JSON, or an e-service's XML (told by its first character, after a byte order
    mark) translated through the mapping that accepts it among ``route``'s inbound mappings (or every route's).
    ``schema``: ``NAME[@VERSION]``; None detects it (`detect_schema`; XML is a case). The report words the first
    ``limit`` problems and counts them all.

    Raises `UnknownSchema` for an unknown ``schema``, and `ConfigError` when the server's configuration (the routes
    file, a mapping among the candidates, the case types) cannot be read: that is no fault of the file. A file that
    cannot be read, parsed or translated gives a report with ``error``."""
    entry = _entry(schema)
    name = str(path)
    try:
        with path.open("rb") as reader:
            head = reader.read(_HEAD_BYTES)
        if looks_like_xml(head):
            # streamed: an export with drawings is never held whole
            return _from_xml(path, name, entry, lang, route, limit)
        data = path.read_bytes()
    except OSError as exc:
        return FileReport(name, entry.spec if entry else None, False,
                          error=f"{name}: cannot read: {exc.strerror or type(exc).__name__}")
    return _from_json(data, name, entry, lang, limit)


def _from_json(data: bytes, name: str, entry: SchemaEntry | None, lang: Lang, limit: int) -> FileReport:
    try:
        document = parse_json(data, name)
    except InputError as exc:
        return FileReport(name, entry.spec if entry else None, False, error=str(exc))
    return _report(name, document, entry, lang, limit)


def validate_bytes(data: bytes, *, media_type: str, schema: str | None = None, lang: Lang = "en",
                   name: str = "<body>", route: str | None = None, limit: int = MAX_PROBLEMS) -> FileReport:
    """Validate a request body: ``media_type`` application/json (canonical JSON) or application/xml, text/xml (an
    e-service's XML, as `validate_file` takes it). Raises `UnknownSchema` for an unknown ``schema``, `ConfigError`
    as `validate_file` does, and ``ValueError`` for another media type; a body that cannot be parsed or translated
    gives a report with ``error``."""
    entry = _entry(schema)
    kind = media_type.partition(";")[0].strip().lower()
    if kind in JSON_MEDIA_TYPES or kind.endswith("+json"):
        return _from_json(data, name, entry, lang, limit)
    if kind in XML_MEDIA_TYPES or kind.endswith("+xml"):
        return _from_xml(bytes(data), name, entry, lang, route, limit)
    raise ValueError(f"media type {kind or '(none)'} is not validated; send {', '.join(JSON_MEDIA_TYPES)} "
                     f"or {', '.join(XML_MEDIA_TYPES)}")
