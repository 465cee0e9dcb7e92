"""The canonical case schema itself, the core and every case type file: well-formed, documented in both languages,
and its examples are valid."""

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
    CASE_TYPE_NAME,
    CaseTypeRegistry,
    composed_schema,
    load_case_schema,
    reference_validator,
    validate_case,
)
from brygga.canonical.types import TYPES_DIR, type_schema_id

EXAMPLES = sorted((CASE_SCHEMA_PATH.parent / "examples").glob("*.json"))
BUNDLED = CaseTypeRegistry.load()
TYPE_NAMES = BUNDLED.names
RELEASED = json.loads((CASE_SCHEMA_PATH.parent / "released" / "case.v1.json").read_text(encoding="utf-8"))


def _property_schemas(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every declared property (top level and in $defs) as (pointer, subschema); conditionals skipped."""
    containers = [("", schema)] + [(f"/$defs/{name}", sub) for name, sub in schema.get("$defs", {}).items()]
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
    assert "/1.1.0/" in CASE_SCHEMA_ID


def test_the_core_is_open_and_knows_no_case_type() -> None:
    schema = load_case_schema()
    assert "allOf" not in schema
    assert not {"bygglovDetails", "felanmalanDetails", "location"} & set(schema["$defs"])
    case_type = schema["$defs"]["caseType"]
    assert "enum" not in case_type
    assert case_type["pattern"] == f"^{CASE_TYPE_NAME.pattern}$"
    assert "must be a registered case type (a file under schemas/canonical/types/)" in case_type["description"]
    details = schema["$defs"]["details"]
    assert details["maxProperties"] == 1
    assert details["additionalProperties"] == {"type": "object"}
    assert "properties" not in details
    assert schema["properties"]["schemaVersion"]["enum"] == ["1.0", "1.1"]


def test_form_answers_and_the_e_service_identity() -> None:
    schema = load_case_schema()
    assert schema["properties"]["formAnswers"]["maxItems"] == 10000
    answer = schema["$defs"]["formAnswer"]
    assert answer["additionalProperties"] is False
    assert answer["required"] == ["question", "value"]
    limits = {name: (sub.get("minLength"), sub.get("maxLength")) for name, sub in answer["properties"].items()}
    assert limits == {"question": (1, 500), "label": (1, 2000), "value": (0, 100000)}
    source = schema["$defs"]["source"]["properties"]
    for name in ("familyId", "flowVersion"):
        assert (source[name]["type"], source[name]["minLength"], source[name]["maxLength"]) == ("string", 1, 100)


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
    assert {"bygglov", "felanmalan", "fardtjanst"} <= set(TYPE_NAMES)
    assert composed_schema(BUNDLED)["$defs"]["caseType"]["enum"] == TYPE_NAMES


# --- the case type files --------------------------------------------------------------------------


def _head_is_bilingual(description: str) -> bool:
    # "Sökande / Applicant: ..." - a Swedish term, a slash, an English term, then the explanation.
    return " / " in description.split(":", 1)[0]


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_case_type_file_is_a_documented_closed_object(name: str) -> None:
    path = BUNDLED.path(name)
    assert path.parent == TYPES_DIR and path.name == f"{name}.v1.schema.json"
    schema = BUNDLED.schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == type_schema_id(name, schema["$id"].split("/")[-2])
    assert schema["$id"].split("/")[-2].startswith("1.")
    assert " / " in schema["title"]
    assert _head_is_bilingual(schema["description"]), "description should start 'Svenska / English:'"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["examples"], "a type file lists valid details objects as examples"
    for pointer, sub in _property_schemas(schema):
        target = _resolve(schema, sub)
        assert _head_is_bilingual(target.get("description", "")), f"{name}{pointer}: 'Svenska / English:'"
        assert target.get("examples"), f"{name}{pointer}: no examples"


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_case_type_examples_are_valid_alone_and_in_a_case(name: str) -> None:
    schema = BUNDLED.schema(name)
    format_checker = reference_validator(BUNDLED).format_checker
    validator = jsonschema.Draft202012Validator(schema, format_checker=format_checker)
    registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    for pointer, sub in _property_schemas(schema):
        target_pointer = sub["$ref"].removeprefix("#") if "$ref" in sub else pointer
        prop = jsonschema.Draft202012Validator(
            {"$ref": f"{schema['$id']}#{target_pointer}"}, registry=registry, format_checker=format_checker
        )
        for example in _resolve(schema, sub)["examples"]:
            assert not [e.message for e in prop.iter_errors(example)], f"{name}{pointer}: example invalid"
    base = json.loads((CASE_SCHEMA_PATH.parent / "examples" / "felanmalan.json").read_text(encoding="utf-8"))
    for example in schema["examples"]:
        assert not [e.message for e in validator.iter_errors(example)], f"{name}: example invalid: {example}"
        case = {**base, "caseType": name, "details": {name: example}}
        assert validate_case(case, BUNDLED) == [], f"{name}: example invalid in a case"
        assert reference_validator(BUNDLED).is_valid(case)


def test_bygglov_and_felanmalan_hold_the_details_of_1_0_unchanged() -> None:
    """Moved out of the core unchanged; since then bygglov 1.1.0 only added the optional vaConnection."""
    old = RELEASED["$defs"]
    added = {"bygglov": {"vaConnection"}, "felanmalan": set()}
    for name, before in (("bygglov", old["bygglovDetails"]), ("felanmalan", old["felanmalanDetails"])):
        schema = BUNDLED.schema(name)
        for keyword in ("type", "additionalProperties", "required"):
            assert schema[keyword] == before[keyword], f"{name}: {keyword}"
        assert {k: v for k, v in schema["properties"].items() if k in before["properties"]} == before["properties"]
        assert set(schema["properties"]) - set(before["properties"]) == added[name]
    assert BUNDLED.schema("felanmalan")["$defs"] == {"location": old["location"]}


def test_fardtjanst_has_no_details_yet() -> None:
    schema = BUNDLED.schema("fardtjanst")
    assert schema["properties"] == {} and schema["additionalProperties"] is False
    assert "formAnswers" in schema["description"]


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


def test_a_long_answer_fits_whole() -> None:
    # One long free-text answer no rule claims must not quarantine the case: it is kept whole.
    from brygga.canonical import validate_case

    case = json.loads((CASE_SCHEMA_PATH.parent / "examples" / "felanmalan.json").read_text(encoding="utf-8"))
    case["formAnswers"] = [{"question": "q" * 500, "label": "L" * 2000, "value": "a" * 100_000}] * 10_000
    assert validate_case(case) == []
    case["formAnswers"] = [{"question": "ovrigt", "value": "a" * 100_001}]
    assert [(p.path, p.rule) for p in validate_case(case)] == [("/formAnswers/0/value", "maxLength")]
