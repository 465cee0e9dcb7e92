"""Validate a canonical case against schemas/canonical/case.v1.schema.json.

The fast path is jsonschema-rs, compiled once per process: a valid case costs one `is_valid` call. Only
an invalid case pays for `iter_errors`, whose errors carry the instance path and the failing keyword, from
which we build our own messages. We never reuse the library's messages: they quote the instance value, and
case values are personal data (personnummer, names, addresses) that must not reach logs, the ledger or
quarantine reasons.

`reference_validator()` gives the same schema and formats on the pure-Python `jsonschema` package. It is
the slow, independent second opinion the tests compare against, and what a vendor can use without a Rust
wheel.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from brygga.canonical.formats import FORMAT_CHECKERS
from brygga.resources import resource

if TYPE_CHECKING:
    import jsonschema

__all__ = [
    "CASE_SCHEMA_ID",
    "CASE_SCHEMA_PATH",
    "CaseProblem",
    "load_case_schema",
    "reference_validator",
    "validate_case",
]

CASE_SCHEMA_ID = "https://schemas.brygga.se/canonical/case/1.0.0/case.schema.json"
CASE_SCHEMA_PATH = resource("schemas", "canonical", "case.v1.schema.json")


@dataclass(frozen=True, slots=True)
class CaseProblem:
    """One reason a case is invalid.

    path: JSON pointer to the offending value, or to the missing/unexpected property ("/parties/0/givenName").
    rule: the broken rule: a JSON Schema keyword ("required", "enum", "additionalProperties"),
          "format:<name>", "notAllowed" (a field that does not belong to this kind of object) or "json"
          (not JSON data at all).
    message: readable English that never contains the offending value.
    """

    path: str
    rule: str
    message: str


@cache
def _schema_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_case_schema(path: Path | None = None) -> dict[str, Any]:
    """Return the canonical case schema as a fresh dict (callers may change it without touching the cache)."""
    schema: dict[str, Any] = json.loads(_schema_text(path or CASE_SCHEMA_PATH))
    if schema.get("$id") != CASE_SCHEMA_ID:
        # A mismatch means the file and the code disagree on which contract this is: fail loudly at load time.
        raise ValueError(f"{path or CASE_SCHEMA_PATH} does not declare $id {CASE_SCHEMA_ID}")
    return schema


@cache
def _fast_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft202012Validator(
        load_case_schema(),
        formats=dict(FORMAT_CHECKERS),
        validate_formats=True,
        # The schema is self-contained: never fetch anything over the network while compiling it.
        offline=True,
    )


def validate_case(doc: Any) -> list[CaseProblem]:
    """Return the problems of a canonical case; an empty list means it is valid."""
    validator = _fast_validator()
    try:
        if validator.is_valid(doc):
            return []
        return [problem for error in validator.iter_errors(doc) for problem in _problems_from(error)]
    except ValueError:
        # jsonschema-rs refuses non-JSON data (a date object, an int dict key); its message may quote it.
        return [CaseProblem("", "json", "The document contains data that is not JSON (e.g. a non-text key).")]


# --- messages -------------------------------------------------------------------------------------

_FORMAT_MESSAGES = {
    "personnummer": "Not a valid personnummer or samordningsnummer: expected 12 digits YYYYMMDDNNNC with "
    "a real date (day + 60 for samordningsnummer) and a correct Luhn check digit.",
    "organisationsnummer": "Not a valid organisationsnummer: expected 10 digits and a correct Luhn check "
    "digit.",
    "fastighetsbeteckning": "Not a valid fastighetsbeteckning: expected upper-case KOMMUN TRAKT BLOCK:ENHET, "
    "e.g. KUMLA STENEN 1:23.",
    "postnummer": "Not a valid Swedish postnummer: expected 5 digits without a space, the first not 0.",
    "kommunkod": "Not a valid kommunkod: expected 4 digits starting with a county (län) code.",
    "date-time": "Not an RFC 3339 date-time with a UTC offset, e.g. 2026-10-14T09:12:44+02:00.",
    "email": "Not a valid email address.",
    "uuid": "Not a UUID in the 8-4-4-4-12 hex form.",
}

# Property names come from the instance. They are echoed in paths only when they look like schema identifiers,
# so that a mapping bug that puts data into a key (e.g. a personnummer) cannot leak it through a problem.
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}", re.ASCII)


def _pointer(parts: list[str | int]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _child(path: str, name: str) -> str:
    return path + "/" + name.replace("~", "~0").replace("/", "~1")


def _listing(values: list[Any]) -> str:
    return ", ".join(json.dumps(value, ensure_ascii=False) for value in values)


def _problems_from(error: jsonschema_rs.ValidationError) -> list[CaseProblem]:
    kind = error.kind
    rule = kind.name
    path = _pointer(error.instance_path)
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return [CaseProblem(_child(path, kind.property), rule, "Required property is missing.")]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        problems = []
        for name in kind.unexpected:
            if _SAFE_NAME.fullmatch(name):
                problems.append(
                    CaseProblem(_child(path, name), rule, "Property is not allowed by the schema.")
                )
            else:
                problems.append(CaseProblem(path, rule, "An unexpected property is present (name withheld)."))
        return problems
    return [CaseProblem(path, *_rule_and_message(kind))]


def _rule_and_message(kind: jsonschema_rs.ValidationErrorKind) -> tuple[str, str]:
    k = jsonschema_rs.ValidationErrorKind
    if isinstance(kind, k.Format):
        message = _FORMAT_MESSAGES.get(kind.format, f"Value is not in the '{kind.format}' format.")
        return f"format:{kind.format}", message
    if isinstance(kind, k.FalseSchema):
        return "notAllowed", "Property is not allowed here (e.g. a person field on an organisation party)."
    # Everything below quotes the schema (allowed values, limits), never the instance.
    if isinstance(kind, k.Enum):
        return kind.name, f"Value is not one of the allowed values: {_listing(kind.options)}."
    if isinstance(kind, k.Constant):
        return kind.name, f"Value must be {_listing([kind.expected_value])}."
    if isinstance(kind, k.Type):
        return kind.name, f"Value has the wrong type; expected {' or '.join(kind.types)}."
    if isinstance(kind, k.Pattern):
        return kind.name, f"Value does not match the pattern {kind.pattern}."
    if isinstance(kind, k.MinLength | k.MaxLength):
        bound = "at least" if isinstance(kind, k.MinLength) else "at most"
        return kind.name, f"Text must be {bound} {kind.limit} characters long."
    if isinstance(kind, k.MinItems | k.MaxItems):
        bound = "at least" if isinstance(kind, k.MinItems) else "at most"
        return kind.name, f"List must have {bound} {kind.limit} items."
    if isinstance(kind, k.MinProperties | k.MaxProperties):
        bound = "at least" if isinstance(kind, k.MinProperties) else "at most"
        return kind.name, f"Object must have {bound} {kind.limit} properties."
    if isinstance(kind, k.Minimum | k.ExclusiveMinimum):
        return kind.name, f"Number is below the minimum of {kind.limit}."
    if isinstance(kind, k.Maximum | k.ExclusiveMaximum):
        return kind.name, f"Number is above the maximum of {kind.limit}."
    if isinstance(kind, k.UniqueItems):
        return kind.name, "List items must be unique."
    return kind.name, f"Value breaks the schema rule '{kind.name}'."


# --- the pure-Python second opinion ---------------------------------------------------------------

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def _is_rfc3339(value: object) -> bool:
    # jsonschema only checks date-time when rfc3339-validator is installed, which Brygga does not depend on.
    if not isinstance(value, str):
        return True
    if _RFC3339.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def reference_validator() -> jsonschema.Draft202012Validator:
    """The case schema on pure-Python `jsonschema` with Brygga's formats. Slow; for tests and vendors."""
    import jsonschema

    checker = jsonschema.FormatChecker()
    for name, check in FORMAT_CHECKERS.items():
        # Formats only constrain strings; other types are the `type` keyword's business.
        checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value))
    checker.checks("date-time")(_is_rfc3339)
    return jsonschema.Draft202012Validator(load_case_schema(), format_checker=checker)
