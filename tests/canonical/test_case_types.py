"""Case types as files: the registry, the composed schema, and validation of types added with no code change."""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest

from brygga.canonical import (
    CASE_SCHEMA_PATH,
    FORMAT_CHECKERS,
    CaseTypeRegistry,
    composed_schema,
    default_case_types,
    load_case_schema,
    reference_validator,
    validate_case,
)
from brygga.canonical.types import TYPES_DIR, type_schema_id
from brygga.canonical.validation import CASE_SCHEMA_ID, _fast_validator
from brygga.errors import ConfigError

EXAMPLES_DIR = CASE_SCHEMA_PATH.parent / "examples"


def _example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def _type_schema(name: str, **changes: Any) -> dict[str, Any]:
    """A small valid case type: a required enum, an optional number, a local $defs reference."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": type_schema_id(name),
        "title": "Eldstad / Fireplace, v1",
        "description": "Eldstadsuppgifter / Fireplace details: anmälan av eldstad. Notification of a fireplace.",
        "type": "object",
        "additionalProperties": False,
        "required": ["kind"],
        "properties": {
            "kind": {
                "description": "Typ / Kind: slag av eldstad. The kind of fireplace.",
                "type": "string",
                "enum": ["kamin", "oppen_spis", "pelletspanna"],
                "examples": ["kamin"],
            },
            "power": {"$ref": "#/$defs/kilowatt"},
        },
        "$defs": {
            "kilowatt": {
                "description": "Effekt / Power: i kilowatt. In kilowatts.",
                "type": "number",
                "minimum": 0,
                "maximum": 100,
                "examples": [8],
            }
        },
        "examples": [{"kind": "kamin", "power": 8}],
    }
    schema.update(changes)
    return schema


def _write(folder: Path, name: str, schema: Any, file_name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (file_name or f"{name}.v1.schema.json")
    path.write_text(schema if isinstance(schema, str) else json.dumps(schema), encoding="utf-8")
    return path


def _case(case_type: str, details: dict[str, Any] | None) -> dict[str, Any]:
    case = _example("felanmalan")
    case["caseType"] = case_type
    if details is None:
        del case["details"]
    else:
        case["details"] = details
    return case


# --- the registry ---------------------------------------------------------------------------------


def test_the_bundled_types_are_registered_from_their_files() -> None:
    registry = CaseTypeRegistry.load()
    assert {"bygglov", "felanmalan", "fardtjanst"} <= set(registry.names)
    assert registry.names == sorted(registry.names)
    assert registry.path("bygglov") == TYPES_DIR / "bygglov.v1.schema.json"
    assert registry.schema("bygglov")["$id"] == type_schema_id("bygglov", "1.1.0")
    assert registry.dirs == (TYPES_DIR,)
    # schema() is a fresh copy each time
    registry.schema("bygglov")["properties"].clear()
    assert registry.schema("bygglov")["properties"]
    with pytest.raises(KeyError, match="not registered"):
        registry.path("eldstad")


def test_a_new_type_in_another_folder_is_validated_with_no_code_change(tmp_path: Path) -> None:
    _write(tmp_path, "eldstad", _type_schema("eldstad"))
    registry = CaseTypeRegistry.load([tmp_path])
    assert "eldstad" in registry.names and "bygglov" in registry.names
    assert registry.dirs == (TYPES_DIR, tmp_path)

    assert validate_case(_case("eldstad", {"eldstad": {"kind": "kamin", "power": 8}}), registry) == []
    assert validate_case(_case("eldstad", {"eldstad": {"kind": "kamin", "power": 8}})) != []  # not in the default
    assert [(p.path, p.rule) for p in validate_case(_case("eldstad", None), registry)] == [("/details", "required")]
    problems = validate_case(_case("eldstad", {"eldstad": {"kind": "kamin", "power": 800}}), registry)
    assert [(p.path, p.rule) for p in problems] == [("/details/eldstad/power", "maximum")]
    problems = validate_case(_case("eldstad", {"eldstad": {"kind": "braskamin"}}), registry)
    assert [(p.path, p.rule) for p in problems] == [("/details/eldstad/kind", "enum")]
    # The other types still apply in the same registry.
    assert validate_case(_example("bygglov-person"), registry) == []


def test_the_environment_folder_is_picked_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "eldstad", _type_schema("eldstad"))
    case = _case("eldstad", {"eldstad": {"kind": "kamin"}})
    monkeypatch.setenv("BRYGGA_CASE_TYPES", str(tmp_path))
    monkeypatch.setattr("brygga.canonical.validation._environment_dirs", lambda: (tmp_path,))
    assert "eldstad" in default_case_types().names
    assert validate_case(case) == []
    assert reference_validator().is_valid(case)
    monkeypatch.delenv("BRYGGA_CASE_TYPES")
    monkeypatch.setattr("brygga.canonical.validation._environment_dirs", lambda: ())
    assert [(p.path, p.rule) for p in validate_case(case)] == [("/caseType", "caseType")]


def test_the_environment_dirs_come_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings.case_types_dirs (BRYGGA_CASE_TYPES) is read when the variable changes.
    _write(tmp_path, "eldstad", _type_schema("eldstad"))
    monkeypatch.setenv("BRYGGA_CASE_TYPES", str(tmp_path))
    assert "eldstad" in default_case_types().names


def test_a_changed_type_file_is_seen_within_a_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "eldstad", _type_schema("eldstad"))
    monkeypatch.setenv("BRYGGA_CASE_TYPES", str(tmp_path))
    monkeypatch.setattr("brygga.canonical.validation._environment_dirs", lambda: (tmp_path,))
    case = _case("eldstad", {"eldstad": {"kind": "pelletspanna"}})
    assert validate_case(case) == []
    schema = _type_schema("eldstad")
    schema["properties"]["kind"]["enum"] = ["kamin"]
    path.write_text(json.dumps(schema), encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    monkeypatch.setattr("brygga.canonical.validation._RECHECK_SECONDS", 0.0)
    assert [(p.path, p.rule) for p in validate_case(case)] == [("/details/eldstad/kind", "enum")]


def test_two_files_for_one_name_are_a_config_error(tmp_path: Path) -> None:
    other = _write(tmp_path, "bygglov", _type_schema("bygglov"))
    with pytest.raises(ConfigError) as caught:
        CaseTypeRegistry.load([tmp_path])
    message = str(caught.value)
    assert str(TYPES_DIR / "bygglov.v1.schema.json") in message and str(other) in message


def test_a_folder_given_twice_is_read_once(tmp_path: Path) -> None:
    _write(tmp_path, "eldstad", _type_schema("eldstad"))
    assert "eldstad" in CaseTypeRegistry.load([tmp_path, tmp_path, TYPES_DIR]).names


def test_a_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        CaseTypeRegistry.load([tmp_path / "nowhere"])


def test_files_of_another_major_and_other_files_are_not_this_registry(tmp_path: Path) -> None:
    _write(tmp_path, "eldstad", _type_schema("eldstad", **{"$id": type_schema_id("eldstad", "2.0.0")}),
           "eldstad.v2.schema.json")
    _write(tmp_path, "x", "not json", "README.md")
    assert "eldstad" not in CaseTypeRegistry.load([tmp_path]).names
    assert CaseTypeRegistry.load([tmp_path], bundled=False, major=2).names == ["eldstad"]


BAD_FILES: list[tuple[str, str, Any, str]] = [
    ("json", "eldstad.v1.schema.json", '{"type": "object",', "json"),
    ("no major in the file name", "eldstad.schema.json", _type_schema("eldstad"), "file name"),
    ("not an object", "eldstad.v1.schema.json", "[]", "json"),
    ("not a schema", "eldstad.v1.schema.json", _type_schema("eldstad", type=12), "schema"),
    ("draft 7", "eldstad.v1.schema.json",
     _type_schema("eldstad", **{"$schema": "http://json-schema.org/draft-07/schema#"}), "$schema"),
    ("upper-case name", "Eldstad.v1.schema.json", _type_schema("Eldstad"), "name"),
    ("one letter", "e.v1.schema.json", _type_schema("e"), "name"),
    ("hyphen", "eld-stad.v1.schema.json", _type_schema("eld-stad"), "name"),
    ("reserved", "case.v1.schema.json", _type_schema("case"), "name"),
    ("no $id", "eldstad.v1.schema.json", {k: v for k, v in _type_schema("eldstad").items() if k != "$id"}, "$id"),
    ("$id of another type", "eldstad.v1.schema.json", _type_schema("eldstad", **{"$id": type_schema_id("kamin")}),
     "$id"),
    ("$id of another major", "eldstad.v1.schema.json",
     _type_schema("eldstad", **{"$id": type_schema_id("eldstad", "2.0.0")}), "$id"),
    ("$id not semver", "eldstad.v1.schema.json",
     _type_schema("eldstad", **{"$id": type_schema_id("eldstad", "1.0")}), "$id"),
    ("not an object type", "eldstad.v1.schema.json", _type_schema("eldstad", type="array"), "type"),
    ("remote $ref", "eldstad.v1.schema.json",
     _type_schema("eldstad", properties={"kind": {"$ref": "https://example.org/kind.json"}}), "$ref"),
    # A nested $id would be a resource of its own in the composed schema: here it would stand in for bygglov's.
    ("nested $id of another type", "eldstad.v1.schema.json",
     _type_schema("eldstad", **{"$defs": {"x": {"$id": type_schema_id("bygglov"), "type": "object"}}}), "$id"),
    ("nested $id of the core", "eldstad.v1.schema.json",
     _type_schema("eldstad", **{"$defs": {"x": {"$id": CASE_SCHEMA_ID}}}), "$id"),
    ("nested $id anywhere", "eldstad.v1.schema.json",
     _type_schema("eldstad", properties={"kind": {"items": {"$id": "https://example.org/y.json"}}}), "$id"),
    ("nested $schema", "eldstad.v1.schema.json",
     _type_schema("eldstad", properties={"kind": {"$schema": "https://json-schema.org/draft/2020-12/schema"}}),
     "$schema"),
    ("remote $dynamicRef", "eldstad.v1.schema.json",
     _type_schema("eldstad", properties={"kind": {"$dynamicRef": "https://example.org/x.json#meta"}}),
     "$dynamicRef"),
    ("remote $recursiveRef", "eldstad.v1.schema.json",
     _type_schema("eldstad", properties={"kind": {"$recursiveRef": "https://example.org/x.json"}}),
     "$recursiveRef"),
    ("$ref that does not resolve", "eldstad.v1.schema.json",
     _type_schema("eldstad", properties={"kind": {"$ref": "#/$defs/missing"}}), "$ref"),
    ("$ref to an anchor that is not there", "eldstad.v1.schema.json",
     _type_schema("eldstad", properties={"kind": {"$ref": "#nowhere"}}), "$ref"),
    ("$ref into a value", "eldstad.v1.schema.json",
     _type_schema("eldstad", properties={"kind": {"$ref": "#/properties/power/const"},
                                         "power": {"const": {"type": "string"}}}), "$ref"),
    ("does not compile", "eldstad.v1.schema.json",
     _type_schema("eldstad", properties={"kind": {"type": "string", "pattern": "(?<x"}}), "schema"),
]


@pytest.mark.parametrize(("label", "file_name", "content", "rule"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_type_file_is_a_config_error_naming_file_and_rule(
    tmp_path: Path, label: str, file_name: str, content: Any, rule: str
) -> None:
    path = _write(tmp_path, "", content, file_name)
    with pytest.raises(ConfigError) as caught:
        CaseTypeRegistry.load([tmp_path])
    message = str(caught.value)
    assert message.startswith(f"case type file {path}: {rule}: "), message


# --- the composed schema --------------------------------------------------------------------------


def test_the_composed_schema_is_self_contained_and_valid_on_its_own(tmp_path: Path) -> None:
    _write(tmp_path, "eldstad", _type_schema("eldstad"))
    registry = CaseTypeRegistry.load([tmp_path])
    schema = composed_schema(registry)
    jsonschema.Draft202012Validator.check_schema(schema)
    # A vendor's copy: through JSON text, with no registry and no network, on both libraries.
    copied = json.loads(json.dumps(schema))
    fast = jsonschema_rs.Draft202012Validator(copied, formats=dict(FORMAT_CHECKERS), validate_formats=True,
                                              offline=True)
    slow = jsonschema.Draft202012Validator(copied)
    case = _case("felanmalan", _example("felanmalan")["details"])
    assert fast.is_valid(case) and slow.is_valid(case)
    case["details"]["felanmalan"]["location"] = {"northing": 6551234.5}  # a ref inside the embedded type
    assert not fast.is_valid(case) and not slow.is_valid(case)
    for name in registry.names:
        embedded = schema["$defs"][f"caseType_{name}"]
        assert embedded["$id"] == type_schema_id(name, embedded["$id"].split("/")[-2])
        assert schema["$defs"]["details"]["properties"][name] == {"$ref": embedded["$id"]}
    assert schema["$defs"]["caseType"]["enum"] == registry.names
    assert schema["$defs"]["details"]["additionalProperties"] is False
    # The core file is untouched.
    assert "enum" not in load_case_schema()["$defs"]["caseType"]


def test_the_composed_conditionals(tmp_path: Path) -> None:
    _write(tmp_path, "eldstad", _type_schema("eldstad"))
    registry = CaseTypeRegistry.load([tmp_path])
    by_type = {c["if"]["properties"]["caseType"]["const"]: c["then"] for c in composed_schema(registry)["allOf"]}
    assert set(by_type) == set(registry.names)
    assert by_type["bygglov"] == {"required": ["details"],
                                  "properties": {"details": {"propertyNames": {"const": "bygglov"},
                                                             "required": ["bygglov"]}}}
    assert by_type["fardtjanst"] == {"properties": {"details": {"propertyNames": {"const": "fardtjanst"}}}}
    assert by_type["eldstad"]["required"] == ["details"]


def test_a_details_key_of_another_type_is_refused() -> None:
    felanmalan = _example("felanmalan")["details"]
    problems = validate_case(_case("fardtjanst", felanmalan))
    assert [(p.path, p.rule) for p in problems] == [("/details", "propertyNames")]
    problems = validate_case(_case("bygglov", felanmalan))
    assert {(p.path, p.rule) for p in problems} == {("/details", "propertyNames"), ("/details/bygglov", "required")}


def test_a_details_key_that_is_no_type_is_refused() -> None:
    problems = validate_case(_case("fardtjanst", {"ovrigt": {}}))
    assert ("/details/ovrigt", "additionalProperties") in {(p.path, p.rule) for p in problems}


# --- caching --------------------------------------------------------------------------------------


def test_validators_are_compiled_once_per_registry(tmp_path: Path) -> None:
    assert _fast_validator() is _fast_validator()
    path = _write(tmp_path, "eldstad", _type_schema("eldstad"))
    first = CaseTypeRegistry.load([tmp_path])
    assert _fast_validator(first) is _fast_validator(CaseTypeRegistry.load([tmp_path]))
    assert _fast_validator(first) is not _fast_validator()
    path.write_text(json.dumps(_type_schema("eldstad", required=[])), encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    second = CaseTypeRegistry.load([tmp_path])
    assert second.key != first.key
    assert validate_case(_case("eldstad", None), first) != []
    assert validate_case(_case("eldstad", None), second) == []


# --- the fast and the reference validator agree ---------------------------------------------------


def _agreement_cases() -> list[tuple[str, dict[str, Any], bool]]:
    felanmalan = _example("felanmalan")["details"]["felanmalan"]
    cases: list[tuple[str, dict[str, Any], bool]] = [
        ("eldstad", _case("eldstad", {"eldstad": {"kind": "kamin", "power": 8}}), True),
        ("eldstad without details", _case("eldstad", None), False),
        ("eldstad power in $defs", _case("eldstad", {"eldstad": {"kind": "kamin", "power": -1}}), False),
        ("eldstad extra", _case("eldstad", {"eldstad": {"kind": "kamin", "x": 1}}), False),
        ("felanmalan", _case("felanmalan", {"felanmalan": felanmalan}), True),
        ("felanmalan location", _case("felanmalan", {"felanmalan": {**felanmalan, "location": {"easting": 5e5}}}),
         False),
        ("fardtjanst", _case("fardtjanst", None), True),
        ("fardtjanst empty", _case("fardtjanst", {"fardtjanst": {}}), True),
        ("fardtjanst other type", _case("fardtjanst", {"felanmalan": felanmalan}), False),
        ("two details", _case("felanmalan", {"felanmalan": felanmalan, "fardtjanst": {}}), False),
        ("unregistered", _case("kamin", None), False),
        ("not a name", _case("Kamin 1", None), False),
        ("example fardtjanst 1.1", _example("fardtjanst-1.1"), True),
        ("form answers", {**_example("fardtjanst-1.1"), "formAnswers": [{"question": "q"}]}, False),
        ("schema 1.2", {**_example("fardtjanst-1.1"), "schemaVersion": "1.2"}, False),
    ]
    for name in ("bygglov-person", "bygglov-organisation"):
        cases.append((name, _example(name), True))
        broken = copy.deepcopy(_example(name))
        broken["details"]["bygglov"]["measure"] = "rivning av allt"
        cases.append((f"{name} measure", broken, False))
    return cases


AGREEMENT = _agreement_cases()


@pytest.mark.parametrize(("label", "case", "valid"), AGREEMENT, ids=[c[0] for c in AGREEMENT])
def test_fast_and_reference_validators_agree(tmp_path: Path, label: str, case: dict[str, Any], valid: bool) -> None:
    _write(tmp_path, "eldstad", _type_schema("eldstad"))
    registry = CaseTypeRegistry.load([tmp_path])
    assert (validate_case(case, registry) == []) is valid
    assert reference_validator(registry).is_valid(case) is valid


def test_a_type_file_cannot_stand_in_for_a_bundled_type(tmp_path: Path) -> None:
    shadow = _type_schema("eldstad", **{"$defs": {"x": {"$id": type_schema_id("bygglov"), "type": "object"}}})
    path = _write(tmp_path, "eldstad", shadow)
    with pytest.raises(ConfigError, match=f"^case type file {path}: \\$id: only the root may declare \\$id"):
        CaseTypeRegistry.load([tmp_path])


def test_refs_anchors_and_values_that_look_like_refs(tmp_path: Path) -> None:
    schema = _type_schema("eldstad")
    schema["properties"]["note"] = {"const": {"$ref": "http://example.org/x", "$id": "http://example.org/y"},
                                    "examples": [{"$ref": "http://example.org/z"}]}
    schema["properties"]["alias"] = {"$ref": "#power"}
    schema["properties"]["same"] = {"$ref": "#/properties/kind"}
    schema["$defs"]["kilowatt"]["$anchor"] = "power"
    schema["properties"]["a~b/c"] = {"type": "string"}
    schema["properties"]["escaped"] = {"$ref": "#/properties/a~0b~1c"}
    _write(tmp_path, "eldstad", schema)
    registry = CaseTypeRegistry.load([tmp_path])
    ok = {"kind": "kamin", "note": {"$ref": "http://example.org/x", "$id": "http://example.org/y"}, "alias": 5}
    assert validate_case(_case("eldstad", {"eldstad": ok}), registry) == []
    problems = validate_case(_case("eldstad", {"eldstad": {**ok, "alias": 500}}), registry)
    assert [(p.path, p.rule) for p in problems] == [("/details/eldstad/alias", "maximum")]


def test_a_bad_type_file_in_the_environment_fails_every_validation_naming_file_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "eldstad", _type_schema("eldstad", properties={"kind": {"$ref": "#/$defs/gone"}}))
    monkeypatch.setenv("BRYGGA_CASE_TYPES", str(tmp_path))
    monkeypatch.setattr("brygga.canonical.validation._environment_dirs", lambda: (tmp_path,))
    for _ in range(2):  # every case, not only the first: the task fails visibly until the file is fixed
        with pytest.raises(ConfigError) as caught:
            validate_case(_example("felanmalan"))
        assert str(caught.value).startswith(f"case type file {path}: $ref: '#/$defs/gone' at /properties/kind "
                                            "does not resolve"), str(caught.value)


def test_the_composed_schema_is_compiled_when_the_registry_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "eldstad", _type_schema("eldstad"))
    registry = CaseTypeRegistry.load([tmp_path])
    compiled = _fast_validator(registry)
    monkeypatch.setattr("brygga.canonical.validation.composed_schema",
                        lambda registry: pytest.fail("compiled again"))
    assert _fast_validator(registry) is compiled
    broken = {"$defs": {"caseType": {}, "details": {"description": ""}}, "$ref": "#/$defs/nowhere"}
    monkeypatch.setattr("brygga.canonical.validation.composed_schema", lambda registry: broken)
    _write(tmp_path, "kamin", _type_schema("kamin"))
    with pytest.raises(ConfigError, match="does not compile"):
        CaseTypeRegistry.load([tmp_path])
