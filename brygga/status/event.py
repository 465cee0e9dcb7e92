"""The canonical status event: its schema, its stable id, how it is built, and what of it goes on the bus.

The schema is schemas/canonical/status-event.v1.schema.json. Events are few (one per change a case system reports),
so they are checked with the pure-Python ``jsonschema``; its messages quote the value, so ours are built from the
error's place and keyword instead: an event's text holds titles officers typed, which must not reach logs.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from brygga.canonical.validation import SAFE_NAME, CaseProblem, is_rfc3339, safe_pointer
from brygga.errors import BryggaError
from brygga.resources import resource
from brygga.status.changes import DocumentRef

__all__ = [
    "EVENT_NAMESPACE",
    "SCHEMA_VERSION",
    "STATUS_EVENT_SCHEMA",
    "STATUS_EVENT_SCHEMA_ID",
    "InvalidStatusEvent",
    "build_status_event",
    "event_id",
    "for_bus",
    "status_event_problems",
    "validate_status_event",
]

STATUS_EVENT_SCHEMA: Path = resource("schemas", "canonical", "status-event.v1.schema.json")
STATUS_EVENT_SCHEMA_ID = "https://schemas.brygga.se/canonical/status-event/1.0.0/status-event.schema.json"
SCHEMA_VERSION = "1.0"

# uuid5(NAMESPACE_URL, STATUS_EVENT_SCHEMA_ID), written out: event ids must never change, whatever the URL becomes.
EVENT_NAMESPACE = uuid.UUID("7ac7e9e6-7a72-5a55-83db-74587c0a09df")


class InvalidStatusEvent(BryggaError):
    """A status event breaks its schema. ``path`` is a JSON pointer, ``rule`` the broken rule; never the value."""

    def __init__(self, path: str, rule: str, message: str) -> None:
        self.path = path
        self.rule = rule
        super().__init__(f"status event {path or '(root)'}: {rule}: {message}")


def event_id(connection: str, case_ref: str, change_id: str) -> str:
    """The event's id: the same change of the same case on one connection always gives the same UUID."""
    # A unit separator cannot occur in any of the three, so ("a b", "c") and ("a", "b c") never collide.
    return str(uuid.uuid5(EVENT_NAMESPACE, "\x1f".join((connection, case_ref, change_id))))


def build_status_event(
    *,
    kind: str,
    occurred_at: datetime,
    source_system: str,
    connection: str,
    diarienummer: str,
    change_id: str,
    facts: Mapping[str, str] | None = None,
    extern_ref: str | None = None,
    submission_id: str | None = None,
    source_reference: str | None = None,
    route: str | None = None,
    kommunkod: str | None = None,
    status: str | None = None,
    text: str | None = None,
    documents: Sequence[DocumentRef] = (),
) -> dict[str, Any]:
    """A valid status event (absent optionals left out). Raises `InvalidStatusEvent` for anything the schema refuses."""
    if occurred_at.utcoffset() is None:
        raise InvalidStatusEvent("/occurredAt", "format:date-time", "the time has no UTC offset (a naive datetime).")
    case: dict[str, Any] = {"diarienummer": diarienummer}
    for key, value in (("externRef", extern_ref), ("submissionId", submission_id),
                       ("sourceReference", source_reference), ("route", route), ("kommunkod", kommunkod)):
        if value is not None:
            case[key] = value
    event: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "eventId": event_id(connection, diarienummer, change_id),
        "kind": kind,
        "occurredAt": occurred_at.isoformat(),
        "sourceSystem": source_system,
        "connection": connection,
        "case": case,
    }
    if status is not None:
        event["status"] = status
    if text is not None:
        event["text"] = text
    if documents:
        event["documents"] = [{"id": d.id} if d.name is None else {"id": d.id, "name": d.name} for d in documents]
    change: dict[str, Any] = {"id": change_id}
    if facts:
        change["facts"] = dict(facts)
    event["change"] = change
    validate_status_event(event)
    return event


def for_bus(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as it goes on the bus: no ``text``, no document names, no ``change.facts`` (free text officers
    typed stays in Brygga). Still a valid status event."""
    out = copy.deepcopy(dict(event))
    out.pop("text", None)
    if isinstance(out.get("documents"), list):
        out["documents"] = [{"id": d["id"]} if isinstance(d, dict) and "id" in d else d for d in out["documents"]]
    if isinstance(out.get("change"), dict):
        out["change"].pop("facts", None)
    return out


# --- validation ----------------------------------------------------------------------------------------------

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII)


def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or _UUID.fullmatch(value) is not None


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(STATUS_EVENT_SCHEMA.read_text(encoding="utf-8"))
    if schema.get("$id") != STATUS_EVENT_SCHEMA_ID:
        raise ValueError(f"{STATUS_EVENT_SCHEMA} does not declare $id {STATUS_EVENT_SCHEMA_ID}")
    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_rfc3339)
    checker.checks("uuid")(_is_uuid)
    return Draft202012Validator(schema, format_checker=checker)


_FORMAT_MESSAGES = {
    "date-time": "not an RFC 3339 date-time with a UTC offset, e.g. 2026-11-30T10:12:00+01:00.",
    "uuid": "not a UUID in the 8-4-4-4-12 hex form.",
}


_LIMITS = {
    "minLength": "text must be at least {} characters long.", "maxLength": "text must be at most {} characters long.",
    "minItems": "list must have at least {} items.", "maxItems": "list must have at most {} items.",
    "maxProperties": "object must have at most {} properties.",
}


def _pointer(error: ValidationError) -> tuple[str, bool]:
    """The error's place, cut before a property name that is not a schema identifier (`safe_pointer`: the keys of
    ``change.facts`` are the event's), and whether it was cut."""
    return safe_pointer(list(error.absolute_path))


def _describe(error: ValidationError) -> tuple[str, str, str]:
    """(path, rule, message) of one error, built from the schema, never from the instance's values."""
    path, cut = _pointer(error)
    keyword, expected = str(error.validator), error.validator_value
    if "propertyNames" in error.relative_schema_path:
        # The offending name is the instance's (maybe data put in a key by mistake): never echoed.
        return path, "propertyNames", f"a property name breaks the schema's rule for names ({keyword} {expected})."
    if keyword == "required" and isinstance(error.instance, dict):
        missing = next((name for name in expected if name not in error.instance), "")
        return path if cut else f"{path}/{missing}", keyword, "required property is missing."
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(name) for name in error.instance if name not in known)
        shown = None if cut else next((name for name in extra if SAFE_NAME.fullmatch(name)), None)
        if shown is not None:
            return f"{path}/{shown}", keyword, "property is not allowed by the schema."
        return path, keyword, "an unexpected property is present (name withheld)."
    if keyword == "format":
        return path, f"format:{expected}", _FORMAT_MESSAGES.get(str(expected), f"not in the {expected} format.")
    if keyword == "enum":
        return path, keyword, f"not one of the allowed values: {', '.join(map(str, expected))}."
    if keyword == "type":
        return path, keyword, f"wrong type; expected {expected}."
    if keyword == "pattern":
        return path, keyword, f"does not match the pattern {expected}."
    if keyword in _LIMITS:
        return path, keyword, _LIMITS[keyword].format(expected)
    return path, keyword, f"breaks the schema rule {keyword}."


def _sorted_errors(doc: Any) -> list[ValidationError]:
    return sorted(_validator().iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), str(e.validator)))


def validate_status_event(doc: dict[str, Any]) -> None:
    """Raise `InvalidStatusEvent` naming the first problem's JSON path and rule (never its value)."""
    errors = _sorted_errors(doc)
    if errors:
        raise InvalidStatusEvent(*_describe(errors[0]))


def _params(error: ValidationError) -> dict[str, Any]:
    """The schema's side of the broken rule, named as `CaseProblem.params` names it; never the event's values."""
    keyword, expected = str(error.validator), error.validator_value
    if "propertyNames" in error.relative_schema_path:
        return {"inner": keyword}
    names = {"enum": "options", "const": "expected", "type": "types", "pattern": "pattern", "format": "format"}
    if keyword in names:
        return {names[keyword]: [expected] if keyword == "type" and isinstance(expected, str) else expected}
    if keyword in _LIMITS:
        return {"limit": expected}
    return {}


def status_event_problems(doc: Any) -> list[CaseProblem]:
    """Every problem of a status event (`validate_status_event` raises the first), in the same order; empty when it
    is valid. Messages and params come from the schema, never from the event."""
    problems: dict[CaseProblem, None] = {}  # paths cut at a withheld name may coincide: each problem once
    for error in _sorted_errors(doc):
        path, rule, message = _describe(error)
        if rule in ("required", "additionalProperties") and isinstance(error.instance, dict):
            # _describe names one property; here each missing or unexpected one is a problem of its own.
            base, cut = _pointer(error)
            for name in _properties_named(error, cut):
                if cut and rule == "required":
                    problem = CaseProblem(base, rule, "required property is missing.")
                elif rule == "required" or name:
                    problem = CaseProblem(f"{base}/{name}", rule, "required property is missing." if rule ==
                                          "required" else "property is not allowed by the schema.")
                else:
                    problem = CaseProblem(base, rule, "an unexpected property is present (name withheld).",
                                          {"withheld": True})
                problems.setdefault(problem)
            continue
        problems.setdefault(CaseProblem(path, rule, message, _params(error)))
    return list(problems)


def _properties_named(error: ValidationError, cut: bool) -> list[str]:
    """The missing (``required``) or unexpected (``additionalProperties``) properties of an error's object; an
    unexpected name that does not look like a schema identifier, or any under a withheld name (``cut``), is
    withheld (given as "")."""
    if error.validator == "required":
        return [name for name in error.validator_value if name not in error.instance]
    known = set(error.schema.get("properties", {}))
    extra = sorted(str(name) for name in error.instance if name not in known)
    return list(dict.fromkeys(name if not cut and SAFE_NAME.fullmatch(name) else "" for name in extra))
