"""The canonical case schema itself: well-formed, documented in both languages, and its examples are valid."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from brygga.canonical import (
    CASE_SCHEMA_ID,
    CASE_SCHEMA_PATH,
    load_case_schema,
    reference_validator,
    validate_case,
)

EXAMPLES = sorted((CASE_SCHEMA_PATH.parent / "examples").glob("*.json"))


def _property_schemas(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every declared property (top level and in $defs) as (pointer, subschema); conditionals skipped."""
    containers = [("", schema)] + [(f"/$defs/{name}", sub) for name, sub in schema["$defs"].items()]
    for base, container in containers:
        for name, sub in container.get("properties", {}).items():
            yield f"{base}/properties/{name}", sub


def _resolve(schema: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in sub:
        return schema["$defs"][sub["$ref"].removeprefix("#/$defs/")]
    return sub


def test_schema_is_valid_2020_12_with_a_versioned_id() -> None:
    schema = load_case_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == CASE_SCHEMA_ID
    assert "/1.0.0/" in CASE_SCHEMA_ID


def test_load_case_schema_returns_a_fresh_copy() -> None:
    first = load_case_schema()
    first["properties"].clear()
    assert load_case_schema()["properties"]


def test_load_case_schema_refuses_a_file_with_another_id(tmp_path: Path) -> None:
    other = tmp_path / "case.json"
    other.write_text(json.dumps({"$id": "https://example.org/other.json"}), encoding="utf-8")
    with pytest.raises(ValueError, match="does not declare"):
        load_case_schema(other)


def test_every_property_is_described_in_swedish_and_english_with_examples() -> None:
    schema = load_case_schema()
    checked = 0
    for pointer, sub in _property_schemas(schema):
        target = _resolve(schema, sub)
        description = target.get("description", "")
        # "Sökande / Applicant: ..." - a Swedish term, a slash, an English term, then the explanation.
        head = description.split(":", 1)[0]
        assert " / " in head, f"{pointer}: description should start 'Svenska / English:'"
        assert target.get("examples"), f"{pointer}: no examples"
        checked += 1
    assert checked > 40


def test_every_example_in_the_schema_is_valid_for_its_own_property() -> None:
    schema = load_case_schema()
    registry = Registry().with_resource(CASE_SCHEMA_ID, Resource.from_contents(schema))
    format_checker = reference_validator().format_checker
    for pointer, sub in _property_schemas(schema):
        target_pointer = sub["$ref"].removeprefix("#") if "$ref" in sub else pointer
        validator = jsonschema.Draft202012Validator(
            {"$ref": f"{CASE_SCHEMA_ID}#{target_pointer}"}, registry=registry, format_checker=format_checker
        )
        for example in _resolve(schema, sub)["examples"]:
            errors = [error.message for error in validator.iter_errors(example)]
            assert not errors, f"{pointer}: example invalid: {errors}"


def test_attachments_are_references_only() -> None:
    attachment = load_case_schema()["$defs"]["attachment"]
    assert attachment["additionalProperties"] is False
    assert set(attachment["properties"]) == {"sourceId", "name", "mediaType", "size", "sha256"}
    assert set(attachment["required"]) == set(attachment["properties"])


def test_roles_and_case_types_match_the_architecture() -> None:
    defs = load_case_schema()["$defs"]
    assert defs["role"]["enum"] == [
        "applicant",
        "property_owner",
        "contact",
        "representative",
        "invoice_recipient",
    ]
    assert {"bygglov", "felanmalan", "fardtjanst"} <= set(defs["caseType"]["enum"])


def test_there_are_examples_for_each_required_scenario() -> None:
    names = {path.stem for path in EXAMPLES}
    assert {"bygglov-person", "bygglov-organisation", "felanmalan"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_cases_are_valid(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    assert validate_case(case) == []
    assert reference_validator().is_valid(case)


def test_example_cases_cover_both_party_kinds_and_samordningsnummer() -> None:
    cases = [json.loads(path.read_text(encoding="utf-8")) for path in EXAMPLES]
    parties = [party for case in cases for party in case["parties"]]
    assert {party["kind"] for party in parties} == {"person", "organisation"}
    # A samordningsnummer has a day of birth above 60.
    assert any(int(party["personnummer"][6:8]) > 60 for party in parties if "personnummer" in party)
    organisation_cases = [
        c
        for c in cases
        if any(p["kind"] == "organisation" and "applicant" in p["roles"] for p in c["parties"])
    ]
    assert organisation_cases
    assert any(p["kind"] == "person" and "contact" in p["roles"] for p in organisation_cases[0]["parties"])
