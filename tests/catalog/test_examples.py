"""Every published example does what it says: the valid ones are valid (for Brygga's validator and for the pure-Python
reference validator), and each invalid one produces exactly the errors it states, worded in Swedish and English with
a hint, never quoting a value of the document that the schema does not hold itself."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from brygga.canonical import reference_validator
from brygga.canonical.validation import SAFE_NAME
from brygga.catalog import (
    InvalidExample,
    SchemaEntry,
    ValidExample,
    invalid_examples,
    resolve_schema,
    schema_catalog,
    valid_examples,
)
from brygga.catalog.messages import LANGS
from brygga.catalog.validate import validate_document

CURRENT = [entry for entry in schema_catalog() if entry.current]
VALID = [(entry, example) for entry in CURRENT for example in valid_examples(entry)]
INVALID = invalid_examples()


def _reference(entry: SchemaEntry) -> jsonschema.Draft202012Validator:
    """The pure-Python second opinion: the entry's whole-document schema with Brygga's formats."""
    formats = reference_validator(entry.registry).format_checker
    return jsonschema.Draft202012Validator(entry.document_schema(), format_checker=formats)


def _whole(entry: SchemaEntry, example: ValidExample) -> Any:
    """A whole document for an example: a type's own details example goes into a case of that type."""
    if example.part == "document":
        return example.document
    case = copy.deepcopy(next(e.document for e in valid_examples(entry) if e.part == "document"))
    case["details"] = {entry.name: example.document}
    return case


@pytest.mark.parametrize(("entry", "example"), VALID, ids=[f"{e.name}:{x.name}" for e, x in VALID])
def test_every_valid_example_is_valid(entry: SchemaEntry, example: ValidExample) -> None:
    document = _whole(entry, example)
    assert validate_document(document, entry) == []
    assert list(_reference(entry).iter_errors(document)) == []


@pytest.mark.parametrize("example", INVALID, ids=[example.name for example in INVALID])
def test_every_invalid_example_produces_exactly_its_errors(example: InvalidExample) -> None:
    entry = resolve_schema(example.schema)
    found = [(problem.path, problem.rule) for problem in validate_document(example.document, entry)]
    assert sorted(found) == sorted(example.errors), f"{example.source} states {example.errors}, gets {found}"
    assert not _reference(entry).is_valid(example.document), "the reference validator accepts it"


def _strings(value: Any) -> set[str]:
    """Every text in a document: its values and its property names."""
    if isinstance(value, dict):
        return set(value) | {text for sub in value.values() for text in _strings(sub)}
    if isinstance(value, list):
        return {text for sub in value for text in _strings(sub)}
    return {value} if isinstance(value, str) else set()


# What says who someone is or where they live, and free text a resident wrote.
PERSONAL = frozenset({"personnummer", "givenName", "familyName", "careOf", "street", "email", "phone",
                      "fastighetsbeteckning", "objectIdentity", "address", "description", "value", "text"})


def _personal(value: Any, key: str | None = None) -> set[str]:
    if isinstance(value, dict):
        return {text for name, sub in value.items() for text in _personal(sub, name)}
    if isinstance(value, list):
        return {text for sub in value for text in _personal(sub, key)}
    return {value} if isinstance(value, str) and key in PERSONAL else set()


@pytest.mark.parametrize("example", INVALID, ids=[example.name for example in INVALID])
def test_the_people_of_an_invalid_example_are_its_own_not_the_schemas_examples(example: InvalidExample) -> None:
    # The next test lets a message name what the schema holds (an allowed value, an example): were an invalid
    # example's person the schema's example person, a message quoting them would go unnoticed.
    schema_text = json.dumps(resolve_schema(example.schema).document_schema(), ensure_ascii=False)
    shared = sorted(text for text in _personal(example.document) if json.dumps(text, ensure_ascii=False) in schema_text)
    assert shared == [], f"{example.source} uses the schema's examples: give it values of its own"


@pytest.mark.parametrize("example", INVALID, ids=[example.name for example in INVALID])
def test_messages_and_hints_are_worded_in_both_languages_and_quote_no_value(example: InvalidExample) -> None:
    entry = resolve_schema(example.schema)
    schema_text = json.dumps(entry.document_schema(), ensure_ascii=False)
    # A value the schema holds (an allowed value, an example) may be named; nothing else of the document may.
    own = [text for text in _strings(example.document)
           if len(text) >= 4 and json.dumps(text, ensure_ascii=False) not in schema_text]
    values = [text for text in own if text not in _names(example.document)]
    worded = {lang: validate_document(example.document, entry, lang=lang) for lang in LANGS}
    for english, swedish in zip(worded["en"], worded["sv"], strict=True):
        assert (english.path, english.rule) == (swedish.path, swedish.rule)
        assert english.message != swedish.message, f"{english.rule} has no Swedish message"
        assert "bryter mot schemats regel" not in swedish.message, f"{english.rule} is worded generically"
        for problem in (english, swedish):
            assert problem.message and problem.hint, f"{problem.path} {problem.rule}: no message or no hint"
            for text in own:
                assert text not in problem.message and text not in problem.hint, f"{text!r} quoted at {problem.path}"
            # The path names properties and indexes only: a name the schema does not know only when it is one.
            for text in values:
                assert text not in problem.path, f"{text!r} in the path {problem.path}"
            assert all(step.isdigit() or SAFE_NAME.fullmatch(step) for step in problem.path.split("/")[1:]), \
                problem.path


def _names(value: Any) -> set[str]:
    """Every property name in a document."""
    if isinstance(value, dict):
        return set(value) | {name for sub in value.values() for name in _names(sub)}
    if isinstance(value, list):
        return {name for sub in value for name in _names(sub)}
    return set()
