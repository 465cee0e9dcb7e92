"""validate_case: problems with JSON-pointer paths and rules, no personal data in them, and agreement with the
pure-Python reference validator."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from brygga.canonical import CASE_SCHEMA_PATH, CaseProblem, reference_validator, validate_case
from brygga.canonical.types import CaseTypeRegistry
from brygga.canonical.validation import _fast_validator, _pointer

EXAMPLES_DIR = CASE_SCHEMA_PATH.parent / "examples"


def _example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def _broken(name: str, change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    case = copy.deepcopy(_example(name))
    change(case)
    return case


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change that sets a value at a JSON-pointer-like path ("parties/0/personnummer")."""

    def change(case: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = case
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def change(case: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = case
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return change


# (example, change, expected path, expected rule)
BROKEN: list[tuple[str, Callable[[dict[str, Any]], object], str, str]] = [
    (
        "bygglov-person",
        _set("parties/0/personnummer", "198005122381"),
        "/parties/0/personnummer",
        "format:personnummer",
    ),
    (
        "bygglov-person",
        _set("parties/0/personnummer", "19800512-2380"),
        "/parties/0/personnummer",
        "format:personnummer",
    ),
    (
        "felanmalan",
        _set("parties/0/personnummer", "199102921237"),
        "/parties/0/personnummer",
        "format:personnummer",
    ),
    (
        "bygglov-person",
        _set("parties/1/organisationsnummer", "5560360794"),
        "/parties/1/organisationsnummer",
        "format:organisationsnummer",
    ),
    ("bygglov-person", _delete("parties/0/givenName"), "/parties/0/givenName", "required"),
    ("bygglov-organisation", _delete("parties/0/name"), "/parties/0/name", "required"),
    ("bygglov-person", _set("parties/0/roles/0", "sokande"), "/parties/0/roles/0", "enum"),
    (
        "bygglov-person",
        _set("parties/0/roles", ["applicant", "applicant"]),
        "/parties/0/roles",
        "uniqueItems",
    ),
    ("bygglov-person", _set("parties/0/roles", []), "/parties/0/roles", "minItems"),
    ("bygglov-person", _set("parties/0/kind", "company"), "/parties/0/kind", "enum"),
    (
        "bygglov-person",
        _set("parties/1/personnummer", "198005122380"),
        "/parties/1/personnummer",
        "notAllowed",
    ),
    ("bygglov-person", _set("parties/0/name", "Anna-Karin Ström"), "/parties/0/name", "notAllowed"),
    (
        "bygglov-person",
        _set("attachments/0/base64", "JVBERi0xLjQK"),
        "/attachments/0/base64",
        "additionalProperties",
    ),
    (
        "bygglov-person",
        _set("attachments/0/sha256", "449FF3856E6543265954BD287110C9D4"),
        "/attachments/0/sha256",
        "pattern",
    ),
    ("bygglov-person", _set("attachments/0/size", "589"), "/attachments/0/size", "type"),
    ("bygglov-person", _set("attachments/0/size", -1), "/attachments/0/size", "minimum"),
    ("bygglov-person", _delete("attachments/0/sha256"), "/attachments/0/sha256", "required"),
    ("bygglov-person", _delete("details"), "/details", "required"),
    (
        "bygglov-person",
        _set("details", {"felanmalan": {"category": "gata", "description": "Hål i vägen"}}),
        "/details/bygglov",
        "required",
    ),
    (
        "bygglov-person",
        _set("details/felanmalan", {"category": "gata", "description": "Hål"}),
        "/details",
        "maxProperties",
    ),
    ("felanmalan", _delete("details"), "/details", "required"),
    ("bygglov-person", _set("details/bygglov/buildingArea", -5), "/details/bygglov/buildingArea", "minimum"),
    ("bygglov-person", _set("details/bygglov/measure", "bygga"), "/details/bygglov/measure", "enum"),
    ("bygglov-person", _set("receivedAt", "2026-10-14T09:12:44"), "/receivedAt", "format:date-time"),
    ("bygglov-person", _set("receivedAt", "14 oktober 2026"), "/receivedAt", "format:date-time"),
    ("bygglov-person", _set("caseType", "bygglov2"), "/caseType", "caseType"),
    ("bygglov-person", _set("caseType", "Bygglov"), "/caseType", "caseType"),
    ("bygglov-person", _set("schemaVersion", "2.0"), "/schemaVersion", "enum"),
    (
        "bygglov-person",
        _set("details", {"felanmalan": {"category": "gata", "description": "Hål i vägen"}}),
        "/details",
        "propertyNames",
    ),
    ("felanmalan", _set("details/felanmalan/category", "hål"), "/details/felanmalan/category", "enum"),
    ("felanmalan", _set("details/felanmalan/note", "x"), "/details/felanmalan/note", "additionalProperties"),
    (
        "felanmalan",
        _set("details/felanmalan/location", {"northing": 1.0, "easting": 507654.2}),
        "/details/felanmalan/location/northing",
        "minimum",
    ),
    ("felanmalan", _set("details/felanmalan/location", {}), "/details/felanmalan/location", "minProperties"),
    ("bygglov-person", _set("formAnswers", [{"question": "hojd"}]), "/formAnswers/0/value", "required"),
    ("bygglov-person", _set("formAnswers", [{"question": "", "value": "5"}]), "/formAnswers/0/question", "minLength"),
    (
        "bygglov-person",
        _set("formAnswers", [{"question": "hojd", "value": "5", "answer": "5"}]),
        "/formAnswers/0/answer",
        "additionalProperties",
    ),
    ("bygglov-person", _set("formAnswers", [{"question": "hojd", "value": 5}]), "/formAnswers/0/value", "type"),
    ("bygglov-person", _set("source/familyId", ""), "/source/familyId", "minLength"),
    ("bygglov-person", _set("source/flowVersion", 3), "/source/flowVersion", "type"),
    ("bygglov-person", _delete("tenant"), "/tenant", "required"),
    ("bygglov-person", _set("tenant/kommunkod", "188"), "/tenant/kommunkod", "format:kommunkod"),
    (
        "bygglov-person",
        _set("parties/0/address/postalCode", "692 31"),
        "/parties/0/address/postalCode",
        "format:postnummer",
    ),
    (
        "bygglov-person",
        _set("properties/0/fastighetsbeteckning", "Kumla Stenen 1:23"),
        "/properties/0/fastighetsbeteckning",
        "format:fastighetsbeteckning",
    ),
    (
        "bygglov-person",
        _set("properties/0/objectIdentity", "909a6a63"),
        "/properties/0/objectIdentity",
        "format:uuid",
    ),
    ("bygglov-person", _set("parties", []), "/parties", "minItems"),
    ("bygglov-person", _set("source/system", "Open ePlatform"), "/source/system", "pattern"),
    (
        "felanmalan",
        _set("details/felanmalan/location", {"northing": 6551234.5}),
        "/details/felanmalan/location/easting",
        "required",
    ),
]


def _ids(entry: tuple[str, Callable[..., object], str, str]) -> str:
    return f"{entry[0]}:{entry[2]}:{entry[3]}"


@pytest.mark.parametrize("entry", BROKEN, ids=_ids)
def test_broken_case_gives_path_and_rule(entry: tuple[str, Callable[..., object], str, str]) -> None:
    name, change, path, rule = entry
    problems = validate_case(_broken(name, change))
    assert (path, rule) in {(problem.path, problem.rule) for problem in problems}, problems
    assert all(problem.message and problem.message.endswith(".") for problem in problems)


def test_foreign_address_may_have_a_foreign_postal_code() -> None:
    case = _example("bygglov-person")
    case["parties"][0]["address"].update({"postalCode": "0150", "city": "Oslo", "country": "NO"})
    assert validate_case(case) == []
    case["parties"][0]["address"]["country"] = "SE"
    assert [(p.path, p.rule) for p in validate_case(case)] == [
        ("/parties/0/address/postalCode", "format:postnummer")
    ]


def test_explicit_sweden_with_a_valid_postnummer_is_fine() -> None:
    case = _example("bygglov-person")
    case["parties"][0]["address"]["country"] = "SE"
    assert validate_case(case) == []


def test_a_sole_trader_is_an_organisation_with_a_personnummer_based_number() -> None:
    case = _example("bygglov-person")
    case["parties"][1]["organisationsnummer"] = "8005122380"
    assert validate_case(case) == []


def test_fardtjanst_needs_no_details_yet() -> None:
    case = _example("felanmalan")
    case["caseType"] = "fardtjanst"
    del case["details"]
    assert validate_case(case) == []
    case["details"] = {"fardtjanst": {}}
    assert validate_case(case) == []


def test_fardtjanst_details_are_empty_and_its_own() -> None:
    case = _example("felanmalan")
    case["caseType"] = "fardtjanst"
    case["details"] = {"fardtjanst": {"resor": 12}}
    assert [(p.path, p.rule) for p in validate_case(case)] == [("/details/fardtjanst/resor", "additionalProperties")]
    # In 1.0 a fardtjanst case could carry another type's details; a case type's details are its own now.
    case["details"] = {"felanmalan": _example("felanmalan")["details"]["felanmalan"]}
    problems = validate_case(case)
    assert [(p.path, p.rule) for p in problems] == [("/details", "propertyNames")]
    assert problems[0].message == (
        'Only the property "fardtjanst" is allowed here (details hold the case\'s own type only).'
    )


def test_schema_version_1_0_and_1_1_are_both_valid() -> None:
    for version in ("1.0", "1.1"):
        assert validate_case({**_example("bygglov-person"), "schemaVersion": version}) == []


def test_form_answers_and_e_service_identity_are_valid() -> None:
    case = _example("bygglov-person")
    case["schemaVersion"] = "1.1"
    case["source"].update({"familyId": "412", "flowVersion": "3"})
    case["formAnswers"] = [
        {"question": "hojd", "label": "Byggnadens högsta höjd (meter)", "value": "5,4"},
        {"question": "sokande/CareOf", "value": ""},
    ]
    assert validate_case(case) == []
    assert reference_validator().is_valid(case)
    case["formAnswers"] = [{"question": "q", "value": ""}] * 10_001
    assert [(p.path, p.rule) for p in validate_case(case)] == [("/formAnswers", "maxItems")]


def test_an_unregistered_case_type_is_one_problem_naming_the_registered_ones() -> None:
    case = _example("bygglov-person")
    case["caseType"] = "bygglov2"
    case["details"] = {"bygglov2": {"measure": "nybyggnad"}}
    problems = validate_case(case)
    assert [(p.path, p.rule) for p in problems] == [("/caseType", "caseType")]
    message = problems[0].message
    assert message.startswith("Case type 'bygglov2' is not registered; registered: ")
    registered = message.removeprefix("Case type 'bygglov2' is not registered; registered: ").split(" (")[0]
    assert registered == ", ".join(sorted(CaseTypeRegistry.load().names))
    assert message.endswith("(add schemas/canonical/types/bygglov2.v1.schema.json).")


def test_an_unregistered_case_type_that_is_not_a_name_is_withheld() -> None:
    for value in ("198005122380", "Anna-Karin Ström", "Q"):
        problems = validate_case(_broken("bygglov-person", _set("caseType", value)))
        assert [(p.path, p.rule) for p in problems] == [("/caseType", "caseType")]
        assert value not in problems[0].message
        assert "withheld" in problems[0].message


def test_several_problems_are_all_reported() -> None:
    def change(case: dict[str, Any]) -> None:
        case["parties"][0]["personnummer"] = "198005122381"
        case["attachments"][1]["base64"] = "AAAA"
        del case["source"]["reference"]

    found = {(p.path, p.rule) for p in validate_case(_broken("bygglov-person", change))}
    assert found == {
        ("/parties/0/personnummer", "format:personnummer"),
        ("/attachments/1/base64", "additionalProperties"),
        ("/source/reference", "required"),
    }


@pytest.mark.parametrize("entry", BROKEN, ids=_ids)
def test_fast_and_reference_validators_agree_on_broken_cases(
    entry: tuple[str, Callable[..., object], str, str],
) -> None:
    case = _broken(entry[0], entry[1])
    assert validate_case(case) != []
    assert not reference_validator().is_valid(case)


@pytest.mark.parametrize("name", ["bygglov-person", "bygglov-organisation", "felanmalan", "fardtjanst-1.1"])
def test_fast_and_reference_validators_agree_on_examples(name: str) -> None:
    case = _example(name)
    assert validate_case(case) == []
    assert reference_validator().is_valid(case)


def test_fast_and_reference_validators_report_the_same_places() -> None:
    # jsonschema reports `required` and `additionalProperties` at the object; we point at the property itself.
    def change(case: dict[str, Any]) -> None:
        case["parties"][0]["personnummer"] = "198005122381"
        case["tenant"]["kommunkod"] = "0280"
        case["properties"][0]["objectIdentity"] = "not-a-uuid"
        case["details"]["bygglov"]["measure"] = "bygga"

    case = _broken("bygglov-person", change)
    fast = {problem.path for problem in validate_case(case)}
    slow = {
        "".join(f"/{part}" for part in error.absolute_path)
        for error in reference_validator().iter_errors(case)
    }
    assert (
        fast
        == slow
        == {
            "/parties/0/personnummer",
            "/tenant/kommunkod",
            "/properties/0/objectIdentity",
            "/details/bygglov/measure",
        }
    )


# --- personal data never leaks --------------------------------------------------------------------

LEAKY_VALUES = [
    ("parties/0/personnummer", "198005122381"),
    ("parties/0/personnummer", "800512-2380"),
    ("parties/1/organisationsnummer", "5560360794"),
    ("parties/0/email", "anna karin at example"),
    ("parties/0/phone", "ring Anna-Karin på 070"),
    ("parties/0/address/postalCode", "692 31"),
    ("parties/0/givenName", "Anna-Karin" * 20),
    ("parties/0/familyName", 1980),
    ("properties/0/fastighetsbeteckning", "Kumla Stenen 1:23"),
    ("receivedAt", "2026-10-14 09:12:44"),
    ("details/bygglov/measure", "Nybyggnad av hus åt Anna-Karin"),
    ("caseType", "198005122380"),
    ("attachments/0/sha256", "Anna-Karin Ström"),
]


@pytest.mark.parametrize(("path", "value"), LEAKY_VALUES, ids=[path for path, _ in LEAKY_VALUES])
def test_problems_never_contain_the_offending_value(path: str, value: Any) -> None:
    problems = validate_case(_broken("bygglov-person", _set(path, value)))
    assert problems, "the change should make the case invalid"
    needle = str(value)
    for problem in problems:
        assert needle not in problem.message
        assert needle not in problem.path
        # The library's own message quotes the value; ours must not be it.
        assert f"'{needle}'" not in problem.message and f'"{needle}"' not in problem.message


FORM_ANSWER_LEAKS = [
    ("formAnswers/0/value", "Jag har svårt att gå" * 5001),
    ("formAnswers/1/value", 194403152327),
    ("formAnswers/2/label", "Vilka hjälpmedel använder du, Britt-Marie? " * 50),
    ("formAnswers/3/question", "Britt-Marie Lundqvist, 194403152327 " * 15),
]


@pytest.mark.parametrize(("path", "value"), FORM_ANSWER_LEAKS, ids=[path for path, _ in FORM_ANSWER_LEAKS])
def test_form_answer_problems_never_contain_the_answer(path: str, value: Any) -> None:
    problems = validate_case(_broken("fardtjanst-1.1", _set(path, value)))
    assert problems, "the change should make the case invalid"
    for problem in problems:
        assert str(value)[:20] not in problem.message and str(value)[:20] not in problem.path


def test_form_answers_and_detail_keys_never_leak() -> None:
    case = _example("bygglov-person")
    case["formAnswers"] = [{"question": "198005122380", "value": "Anna-Karin", "198005122380": "x"}]
    case["details"]["198005122380"] = {}
    problems = validate_case(case)
    found = {(p.path, p.rule) for p in problems}
    assert found >= {("/formAnswers/0", "additionalProperties"), ("/details", "maxProperties")}
    for problem in problems:
        assert "198005122380" not in problem.message + problem.path
        assert "Anna-Karin" not in problem.message


def test_a_personal_value_used_as_a_key_is_withheld() -> None:
    case = _broken("bygglov-person", _set("parties/0/198005122380", "Anna-Karin"))
    problems = validate_case(case)
    assert [(p.path, p.rule) for p in problems] == [("/parties/0", "additionalProperties")]
    assert "198005122380" not in problems[0].message
    assert "withheld" in problems[0].message


def test_non_json_data_is_a_problem_not_a_crash() -> None:
    case = _broken("bygglov-person", _set("receivedAt", date(2026, 10, 14)))
    problems = validate_case(case)
    assert [(p.path, p.rule) for p in problems] == [("", "json")]
    assert "2026" not in problems[0].message


def test_a_document_that_is_not_an_object() -> None:
    assert [(p.path, p.rule) for p in validate_case([])] == [("", "type")]


def test_case_problem_is_a_frozen_value() -> None:
    problem = CaseProblem("/caseType", "enum", "Value is not one of the allowed values.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.rule = "required"  # type: ignore[misc]
    assert problem == CaseProblem("/caseType", "enum", "Value is not one of the allowed values.")


def test_the_fast_validator_is_compiled_once() -> None:
    assert _fast_validator() is _fast_validator()


def test_json_pointer_escapes_slash_and_tilde() -> None:
    # Instance paths only hold schema-declared names and indexes today; the escaping keeps pointers right
    # anyway.
    assert _pointer(["parties", 0, "a/b~c"]) == "/parties/0/a~1b~0c"
    assert _pointer([]) == ""
