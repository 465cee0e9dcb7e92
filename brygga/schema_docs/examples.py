"""The examples of a schema as the reference pages show them: valid ones as pretty JSON, invalid ones with the errors
they produce and the validator's own message and hint for each, in Swedish and in English (what `brygga validate`
and the validation API say about the same document)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from brygga.catalog import InvalidExample, SchemaEntry, ValidExample, invalid_examples, valid_examples

__all__ = ["ErrorView", "InvalidView", "ValidView", "bilingual", "invalid_views", "pretty", "valid_views"]


def pretty(document: Any) -> str:
    """A document as the pages print it; a vendor may copy it as it is."""
    return json.dumps(document, ensure_ascii=False, indent=2)


def bilingual(text: str) -> tuple[str, str] | None:
    """``"Svenska / English"`` as its two parts, or None when it is not written so."""
    swedish, sep, english = text.partition(" / ")
    return (swedish, english) if sep and swedish.strip() and english.strip() else None


@dataclass(frozen=True)
class ValidView:
    example: ValidExample
    anchor: str
    json: str


@dataclass(frozen=True)
class ErrorView:
    path: str
    rule: str
    message_sv: str
    hint_sv: str | None
    message_en: str
    hint_en: str | None


@dataclass(frozen=True)
class InvalidView:
    example: InvalidExample
    anchor: str
    errors: list[ErrorView]
    json: str


def valid_views(entry: SchemaEntry) -> list[ValidView]:
    return [ValidView(example, f"example-{example.name}", pretty(example.document))
            for example in valid_examples(entry)]


def _errors(example: InvalidExample, entry: SchemaEntry) -> list[ErrorView]:
    """The problems the validator reports for the example, in the order it reports them. The catalog's tests hold
    each example to exactly the errors it states, so these are those errors."""
    from brygga.catalog.validate import validate_document

    swedish = validate_document(example.document, entry, lang="sv")
    english = validate_document(example.document, entry, lang="en")
    return [ErrorView(en.path, en.rule, sv.message, sv.hint, en.message, en.hint)
            for sv, en in zip(swedish, english, strict=True)]


def invalid_views(entry: SchemaEntry) -> list[InvalidView]:
    """A released schema has none: the invalid examples are written against the current schemas."""
    if not entry.current:
        return []
    return [InvalidView(example, f"invalid-{example.name}", _errors(example, entry), pretty(example.document))
            for example in invalid_examples(entry)]
