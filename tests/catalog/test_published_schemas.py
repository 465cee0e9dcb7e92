"""What every published schema comes with (issue 11): a versioned $id, a title and a description in Swedish and
English, valid examples, and invalid examples that together exercise the rules a vendor most often breaks."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from brygga.catalog import SchemaEntry, invalid_examples, schema_catalog, valid_examples

CATALOG = schema_catalog()
CURRENT = [entry for entry in CATALOG if entry.current]
_ID = re.compile(r"https://schemas\.brygga\.se/canonical/[a-z0-9/_-]+/(?P<version>\d+\.\d+\.\d+)/[a-z0-9_-]+\.schema\.json")
# "Svenska / English" (a title may end ", v1"; a description goes on after a colon).
_BILINGUAL = re.compile(r"(?P<sv>[^/]{2,}?) / (?P<en>[^/:]{2,}?)(?:, v\d+)?(?::\s.{20,})?", re.DOTALL)
MAIN_RULES = {"required", "enum", "type", "format:personnummer", "format:fastighetsbeteckning",
              "additionalProperties", "caseType", "minLength", "maxLength", "pattern"}


@pytest.mark.parametrize("entry", CATALOG, ids=[entry.spec for entry in CATALOG])
def test_every_schema_has_a_versioned_id_a_title_and_a_description_in_both_languages(entry: SchemaEntry) -> None:
    match = _ID.fullmatch(entry.id)
    assert match is not None, f"{entry.spec}: $id {entry.id} is not https://schemas.brygga.se/canonical/…/X.Y.Z/…"
    assert match["version"] == entry.version
    schema = entry.own_schema()
    assert schema["$id"] == entry.id
    assert _BILINGUAL.fullmatch(schema["title"]), f"{entry.spec}: title {schema['title']!r}"
    assert _BILINGUAL.fullmatch(schema["description"]), f"{entry.spec}: description is not 'Svenska / English: …'"


@pytest.mark.parametrize("entry", CURRENT, ids=[entry.spec for entry in CURRENT])
def test_every_current_schema_has_a_valid_document_and_two_invalid_examples(entry: SchemaEntry) -> None:
    assert [e for e in valid_examples(entry) if e.part == "document"], f"{entry.spec} has no valid whole document"
    assert len(invalid_examples(entry)) >= 2, f"{entry.spec} has fewer than 2 invalid examples"


def test_the_invalid_examples_together_break_the_main_rules() -> None:
    broken = {rule for example in invalid_examples() for _, rule in example.errors}
    assert broken >= MAIN_RULES, f"no invalid example breaks {sorted(MAIN_RULES - broken)}"


def test_each_invalid_example_names_a_schema_of_the_catalog_and_has_a_unique_name() -> None:
    names = {entry.name for entry in CURRENT}
    examples = invalid_examples()
    assert {example.schema for example in examples} <= names
    assert [name for name, n in Counter(example.name for example in examples).items() if n > 1] == []
    assert all(example.errors for example in examples), "an invalid example states no error"


def test_every_invalid_example_says_what_is_wrong_in_swedish_and_english() -> None:
    for example in invalid_examples():
        swedish, slash, english = example.description.partition(". / ")
        assert slash and swedish and english.endswith("."), f"{example.source}: not 'Svenska. / English.'"
