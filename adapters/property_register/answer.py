"""Reading a register's JSON answer into one ``PropertyRecord``: hits, the exact match, and the two keys.

Pure functions, no I/O. Errors name the rule and the configured field, never a value from the answer: the
designations and keys of a unit can identify its owner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from brygga.errors import TargetRejected
from brygga.plugins import PropertyRecord


@dataclass(frozen=True)
class AnswerShape:
    results_field: str | None
    designation_field: str
    fastighetsnyckel_field: str
    object_identity_field: str


_MISSING = object()


def normalise(designation: str) -> str:
    """Upper case and single spaces: ``kumla  stenen 1:23`` and ``KUMLA STENEN 1:23`` are one unit."""
    return " ".join(designation.split()).upper()


def field_value(document: Any, path: str) -> Any:
    """The value at a dotted path, or ``_MISSING``."""
    current = document
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def hits(document: Any, shape: AnswerShape, where: str) -> list[dict[str, Any]]:
    """The answer's hits: the list itself, the list at ``results_field``, or one object as one hit."""
    found = document if shape.results_field is None else field_value(document, shape.results_field)
    if found is None:
        return []
    if found is _MISSING:  # a wrong results_field must not pass as "no such unit"
        raise TargetRejected(f"{where}: the answer has no field {shape.results_field!r} (rule: results_field)")
    items = found if isinstance(found, list) else [found]
    if not all(isinstance(item, dict) for item in items):
        raise TargetRejected(f"{where}: the answer's hits are not JSON objects (rule: answer shape)")
    return items


def _fastighetsnyckel(hit: dict[str, Any], shape: AnswerShape, where: str) -> int | None:
    value = field_value(hit, shape.fastighetsnyckel_field)
    if value is _MISSING or value is None:
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TargetRejected(
            f"{where}: field {shape.fastighetsnyckel_field!r} is not a positive integer (rule: fastighetsnyckel)"
        )
    return value


def _object_identity(hit: dict[str, Any], shape: AnswerShape, where: str) -> str | None:
    value = field_value(hit, shape.object_identity_field)
    if value is _MISSING or value is None or value == "":
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise TargetRejected(
            f"{where}: field {shape.object_identity_field!r} is not a UUID (rule: object identity)"
        ) from None


def _record(hit: dict[str, Any], designation: str, shape: AnswerShape, where: str) -> PropertyRecord:
    found = field_value(hit, shape.designation_field)
    return PropertyRecord(
        fastighetsbeteckning=normalise(found) if isinstance(found, str) and found.strip() else designation,
        fastighetsnyckel=_fastighetsnyckel(hit, shape, where),
        object_identity=_object_identity(hit, shape, where),
    )


def pick(items: list[dict[str, Any]], designation: str, shape: AnswerShape, where: str) -> PropertyRecord | None:
    """The one unit the answer holds for ``designation`` (already normalised), or None when it holds none.

    - Hits whose designation matches exactly (case and spacing ignored) win; other hits are other units, as a
      "starts with" search returns.
    - A single hit that does not echo its designation is taken as the register's answer.
    - Several exact hits with different keys, or several hits that cannot be told apart, are ambiguous.
    """
    if not items:
        return None
    designations = [field_value(item, shape.designation_field) for item in items]
    echoed = [isinstance(found, str) for found in designations]
    if len(items) == 1 and not echoed[0]:
        return _record(items[0], designation, shape, where)
    exact = [
        item
        for item, found in zip(items, designations, strict=True)
        if isinstance(found, str) and normalise(found) == designation
    ]
    if not exact:
        if all(echoed):
            return None  # only other units matched, e.g. 1:23 for 1:2
        raise TargetRejected(
            f"{where}: the answer was ambiguous: {len(items)} hits and not all name their designation "
            f"(rule: designation_field {shape.designation_field!r})"
        )
    records = {_record(item, designation, shape, where) for item in exact}
    if len(records) > 1:
        raise TargetRejected(
            f"{where}: the answer was ambiguous: {len(records)} different units have the exact designation "
            "(rule: one exact match; a fixed_query filter such as status may narrow it)"
        )
    return records.pop()
