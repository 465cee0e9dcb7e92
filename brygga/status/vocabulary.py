"""Status vocabularies: YAML value maps from a case system's own words to canonical status events.

A vocabulary (mappings/status/<system>.yaml, schema schemas/config/status-map.schema.json, guide
mappings/status/README.md) names, per canonical kind, the status shown in Mina sidor and the default text to the
resident, and lists rules: the first rule whose every condition holds on a change's facts decides its kind (or
``ignore``). Its fixture suite, ``<name>_test.yaml`` beside it, holds changes and what they must become; pytest
collects it through mappings/conftest.py.

Errors name the file, the place in it and the broken rule. A fact's value never appears in one: facts are the
system's codes and titles, and titles are free text officers typed.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from brygga.errors import ConfigError
from brygga.mapping.spec import location
from brygga.resources import resource
from brygga.status.changes import KINDS, CaseChange

__all__ = [
    "IGNORE",
    "STATUS_MAP_SCHEMA",
    "SUITE_SUFFIX",
    "Classification",
    "InvalidVocabulary",
    "Vocabulary",
    "VocabularyCase",
    "iter_suite_results",
    "lint_vocabularies",
    "load_vocabulary",
    "load_vocabulary_suite",
    "normalise",
    "run_vocabulary_case",
    "vocabulary_files",
]

STATUS_MAP_SCHEMA = resource("schemas", "config", "status-map.schema.json")
IGNORE = "ignore"
SUITE_SUFFIX = "_test.yaml"
STATUS_FOLDER = "status"  # under the mappings folder


class InvalidVocabulary(ConfigError):
    """A vocabulary file, or its fixture suite, is wrong. ``file``, ``path`` (the place in it) and ``rule``."""

    def __init__(self, file: str, path: str, rule: str, message: str) -> None:
        self.file, self.path, self.rule = file, path, rule
        super().__init__(f"status vocabulary {file}: {path}: {rule}: {message}")


@dataclass(frozen=True)
class Classification:
    """What a vocabulary made of one change. ``kind`` None means an ``ignore`` rule: recorded, never told."""

    kind: str | None
    status: str | None
    text: str | None  # rendered, whitespace-normalised; None when there is none
    rule: int  # index of the rule that matched, in the file's order


def normalise(text: str) -> str:
    """Trim and collapse whitespace runs: how facts and rendered texts are compared and shown."""
    return " ".join(text.split())


# --- text templates ----------------------------------------------------------------------------------------

_FACT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass(frozen=True)
class _Template:
    """A text with {diarienummer} and {fact:<name>}: literal parts and ("fact", name) / ("diarienummer", "")."""

    parts: tuple[str | tuple[str, str], ...]

    def render(self, diarienummer: str, facts: Mapping[str, str]) -> str | None:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif part[0] == "diarienummer":
                out.append(diarienummer)
            else:
                value = facts.get(part[1])
                out.append("" if value is None else normalise(str(value)))
        return normalise("".join(out)) or None


def _template(text: str, file: str, where: str) -> _Template:
    parts: list[str | tuple[str, str]] = []
    at = 0
    for token in _TOKEN.finditer(text):
        parts.append(text[at:token.start()])
        at = token.end()
        raw = token.group(0)
        if raw in ("{{", "}}"):
            parts.append(raw[0])
            continue
        name = token.group(1)
        if name is None:
            raise InvalidVocabulary(file, where, "placeholder", "a lone { or }: write {{ or }} for a literal brace")
        if name == "diarienummer":
            parts.append(("diarienummer", ""))
        elif name.startswith("fact:") and _FACT_NAME.fullmatch(name[5:]):
            parts.append(("fact", name[5:]))
        else:
            raise InvalidVocabulary(file, where, "placeholder",
                                    f"unknown placeholder {{{name}}}: use {{diarienummer}} or {{fact:<name>}}")
    parts.append(text[at:])
    return _Template(tuple(part for part in parts if part != ""))


# --- the vocabulary ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Rule:
    index: int
    when: tuple[tuple[str, frozenset[str]], ...]  # fact name -> accepted values, normalised
    kind: str  # a canonical kind or IGNORE
    text: _Template | None

    def matches(self, facts: Mapping[str, str]) -> bool:
        return all(normalise(str(facts.get(name) or "")) in values for name, values in self.when)


@dataclass(frozen=True)
class _Status:
    status: str
    text: _Template | None


@dataclass(frozen=True)
class Vocabulary:
    """One loaded vocabulary file. ``file`` is how errors and reports name it."""

    system: str
    file: str
    description: str | None
    statuses: Mapping[str, _Status]
    rules: tuple[_Rule, ...]

    def classify(self, change: CaseChange) -> Classification | None:
        """The first matching rule's classification, or None when no rule matches (unmapped)."""
        for rule in self.rules:
            if not rule.matches(change.facts):
                continue
            if rule.kind == IGNORE:
                return Classification(kind=None, status=None, text=None, rule=rule.index)
            entry = self.statuses[rule.kind]
            template = rule.text or entry.text
            text = template.render(change.case_ref, change.facts) if template is not None else None
            return Classification(kind=rule.kind, status=entry.status, text=text, rule=rule.index)
        return None

    @property
    def kinds(self) -> frozenset[str]:
        """The canonical kinds this vocabulary's rules can produce."""
        return frozenset(rule.kind for rule in self.rules if rule.kind != IGNORE)


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(STATUS_MAP_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _read_yaml(path: Path, file: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidVocabulary(file, "(file)", "read", f"cannot read the file: {exc.__class__.__name__}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise InvalidVocabulary(file, where, "yaml", f"not valid YAML: {problem}") from None


def _check_scalars(node: Any, where: list[str | int], file: str) -> None:
    # YAML 1.1 reads unquoted no, yes, on, 1881 as bool or int: a code silently matched as False is a nasty bug,
    # so every key, and every fact value, must be text.
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                raise InvalidVocabulary(file, location(where), "quote",
                                        f"a key is read as {type(key).__name__}; quote it")
            _check_scalars(value, [*where, key], file)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_scalars(value, [*where, i], file)


def _check_fact_values(doc: dict[str, Any], file: str) -> None:
    rules = doc.get("rules")
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        when = rule.get("when") if isinstance(rule, dict) else None
        for name, wanted in (when.items() if isinstance(when, dict) else ()):
            for j, value in enumerate(wanted if isinstance(wanted, list) else [wanted]):
                if isinstance(value, bool | int | float) or value is None:
                    where: list[str | int] = ["rules", i, "when", name, *([j] if isinstance(wanted, list) else [])]
                    read_as = "nothing" if value is None else type(value).__name__
                    raise InvalidVocabulary(file, location(where), "quote",
                                            f"a fact value is read as {read_as}; quote it (codes are text)")


def _schema_check(doc: Any, file: str) -> None:
    # The schema's kinds are KINDS (a test holds them equal), so an unknown kind is caught here, named as such.
    error = best_match(_validator().iter_errors(doc))
    if error is None:
        return
    where = location(list(error.absolute_path))
    rule = str(error.validator)
    if rule in ("anyOf", "enum") and where.endswith(".kind"):
        known = ", ".join((*KINDS, IGNORE))
        raise InvalidVocabulary(file, where, "kind", f"{error.instance!r} is not a kind; known: {known}")
    if where == "statuses" and "propertyNames" in error.schema_path:
        raise InvalidVocabulary(file, where, "kind", f"{error.instance!r} is not a kind; known: {', '.join(KINDS)}")
    raise InvalidVocabulary(file, where, rule, error.message)


def _build(doc: dict[str, Any], file: str) -> Vocabulary:
    statuses = {kind: _Status(entry["status"], _template(entry["text"], file, f"statuses.{kind}.text")
                              if "text" in entry else None)
                for kind, entry in doc["statuses"].items()}
    rules = []
    for i, raw in enumerate(doc["rules"]):
        kind = raw["kind"]
        if kind != IGNORE and kind not in statuses:
            raise InvalidVocabulary(file, f"rules[{i}].kind", "statuses",
                                    f"kind {kind} has no entry under statuses (its status name for Mina sidor)")
        if kind == IGNORE and "text" in raw:
            raise InvalidVocabulary(file, f"rules[{i}].text", "ignore",
                                    "an ignore rule tells the resident nothing; remove its text")
        when = tuple((name, frozenset(normalise(v) for v in (values if isinstance(values, list) else [values])))
                     for name, values in raw["when"].items())
        text = _template(raw["text"], file, f"rules[{i}].text") if "text" in raw else None
        rules.append(_Rule(index=i, when=when, kind=kind, text=text))
    return Vocabulary(system=doc["system"], file=file, description=doc.get("description"), statuses=statuses,
                      rules=tuple(rules))


_cache: dict[tuple[str, str], tuple[int, int, Vocabulary]] = {}
_lock = threading.Lock()


def load_vocabulary(path: Path, *, shown: str | None = None) -> Vocabulary:
    """Read, schema-check and compile one vocabulary; cached until the file's mtime or size changes.

    ``shown``: how errors name the file (default: the path as given). Raises `InvalidVocabulary` (a ConfigError).
    """
    file = shown or str(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise InvalidVocabulary(file, "(file)", "read", f"cannot read the file: {exc.__class__.__name__}") from None
    key = (str(path.resolve()), file)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return cached[2]
    doc = _read_yaml(path, file)
    if not isinstance(doc, dict):
        raise InvalidVocabulary(file, "(file)", "type", "a vocabulary must be a YAML mapping (key: value)")
    _check_scalars(doc, [], file)
    _check_fact_values(doc, file)
    _schema_check(doc, file)
    vocabulary = _build(doc, file)
    with _lock:
        _cache[key] = (stat.st_mtime_ns, stat.st_size, vocabulary)
    return vocabulary


# --- fixture suites ----------------------------------------------------------------------------------------

_EXPECT_WORDS = ("unmapped", IGNORE)
SUITE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["vocabulary", "tests"],
    "additionalProperties": False,
    "properties": {
        "description": {"type": "string"},
        "vocabulary": {"type": "string", "minLength": 1},
        "tests": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "change", "expect"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "change": {
                        "type": "object",
                        "required": ["case_ref", "change_id", "facts"],
                        "additionalProperties": False,
                        "properties": {
                            "case_ref": {"type": "string", "minLength": 1},
                            "change_id": {"type": "string", "minLength": 1},
                            "facts": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    },
                    "expect": {
                        "oneOf": [
                            {"enum": list(_EXPECT_WORDS)},
                            {
                                "type": "object",
                                "required": ["kind"],
                                "additionalProperties": False,
                                "properties": {
                                    "kind": {"enum": list(KINDS)},
                                    "status": {"type": "string"},
                                    "text": {"type": "string"},
                                    "rule": {"type": "integer", "minimum": 0},
                                },
                            },
                        ],
                    },
                },
            },
        },
    },
}

# Changes in a suite need a time; classification never reads it.
_SUITE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class VocabularyCase:
    """One fixture: a change and what the vocabulary must make of it.

    ``expect`` is "unmapped" (no rule matches), "ignore" (an ignore rule matches) or a dict with ``kind`` and the
    ``status`` and ``text`` expected (an absent one means none), and optionally ``rule`` (the matching index).
    """

    suite: Path
    name: str
    vocabulary: Path
    change: CaseChange
    expect: str | dict[str, Any]


def load_vocabulary_suite(path: Path, *, shown: str | None = None) -> list[VocabularyCase]:
    """Read one ``*_test.yaml`` of mappings/status/. Raises `InvalidVocabulary` naming the suite and the place."""
    file = shown or str(path)
    doc = _read_yaml(path, file)
    _check_scalars(doc, [], file)
    error = best_match(Draft202012Validator(SUITE_SCHEMA).iter_errors(doc))
    if error is not None:
        raise InvalidVocabulary(file, location(list(error.absolute_path)), str(error.validator), error.message)
    vocabulary = (path.parent / doc["vocabulary"]).resolve()
    if not vocabulary.is_file():
        raise InvalidVocabulary(file, "vocabulary", "file", f"no vocabulary file at {doc['vocabulary']}")
    cases, names = [], set()
    for i, test in enumerate(doc["tests"]):
        if test["name"] in names:
            raise InvalidVocabulary(file, f"tests[{i}].name", "unique", "another test has this name")
        names.add(test["name"])
        raw = test["change"]
        change = CaseChange(case_ref=raw["case_ref"], change_id=raw["change_id"], occurred_at=_SUITE_TIME,
                            facts=dict(raw["facts"]))
        cases.append(VocabularyCase(suite=path, name=test["name"], vocabulary=vocabulary, change=change,
                                    expect=test["expect"]))
    return cases


def run_vocabulary_case(case: VocabularyCase) -> list[str]:
    """Classify the case's change; what differs from its expectation (empty when it passed)."""
    got = load_vocabulary(case.vocabulary).classify(case.change)
    expect = case.expect
    if expect == "unmapped":
        return [] if got is None else [f"expected no rule to match, but rule {got.rule} did ({got.kind or IGNORE})"]
    if got is None:
        return [f"expected {expect if isinstance(expect, str) else expect['kind']}, but no rule matched"]
    if isinstance(expect, str):  # ignore
        return [] if got.kind is None else [f"expected ignore, got {got.kind} (rule {got.rule})"]
    failures = []
    actual = {"kind": got.kind or IGNORE, "status": got.status, "text": got.text}
    for key in ("kind", "status", "text"):
        if expect.get(key) != actual[key]:
            failures.append(f"{key}: expected {expect.get(key)!r}, got {actual[key]!r} (rule {got.rule})")
    if "rule" in expect and expect["rule"] != got.rule:
        failures.append(f"rule: expected rule {expect['rule']} to match, got rule {got.rule}")
    return failures


# --- lint ----------------------------------------------------------------------------------------------------

def _shown(path: Path, mappings_dir: Path) -> str:
    root = mappings_dir.resolve().parent
    resolved = path.resolve()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(path)


def vocabulary_files(mappings_dir: Path) -> tuple[list[Path], list[Path]]:
    """(vocabularies, fixture suites) in ``<mappings_dir>/status/``."""
    folder = mappings_dir / STATUS_FOLDER
    files = sorted(p for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []
    return ([p for p in files if not p.name.endswith(SUITE_SUFFIX)],
            [p for p in files if p.name.endswith(SUITE_SUFFIX)])


def lint_vocabularies(mappings_dir: Path) -> list[str]:
    """One line per problem in ``<mappings_dir>/status/``: every vocabulary loaded, every suite read."""
    vocabularies, suites = vocabulary_files(mappings_dir)
    problems = []
    for path in vocabularies:
        try:
            load_vocabulary(path, shown=_shown(path, mappings_dir))
        except ConfigError as exc:
            problems.append(str(exc))
    for path in suites:
        try:
            load_vocabulary_suite(path, shown=_shown(path, mappings_dir))
        except ConfigError as exc:
            problems.append(str(exc))
    return problems


def iter_suite_results(mappings_dir: Path) -> Iterator[tuple[VocabularyCase, list[str]]]:
    """Every fixture of ``<mappings_dir>/status/`` with its failures, for a CLI's ``brygga test``."""
    for path in vocabulary_files(mappings_dir)[1]:
        for case in load_vocabulary_suite(path, shown=_shown(path, mappings_dir)):
            yield case, run_vocabulary_case(case)
