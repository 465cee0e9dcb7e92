"""Compatibility of the canonical model: the current composed schema against the released baseline, and the
checker itself (each kind of breaking change is found; loosening is not)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from brygga.canonical import CaseTypeRegistry, breaking_changes, check_against_release, composed_schema
from brygga.canonical.compat import ACCEPTED, RELEASED_DIR, released_schema
from brygga.canonical.types import type_schema_id

# --- the release baseline -------------------------------------------------------------------------


def test_the_current_composed_schema_does_not_break_the_release() -> None:
    assert check_against_release() == []


def test_what_the_release_check_accepts_against_1_0() -> None:
    # Reviewed: fardtjanst's own conditional (1.0 let a fardtjanst case hold details.bygglov, against its own
    # description) and two propertyNames consts implied in 1.0 by maxProperties 1 and the required type.
    _, released = released_schema()
    findings = breaking_changes(released, composed_schema(CaseTypeRegistry.load()))
    assert {re.sub(r"/allOf/[0-9]+", "/allOf/*", f) for f in findings} == ACCEPTED[released["$id"]]


def test_adding_a_case_type_is_not_breaking(tmp_path: Path) -> None:
    (tmp_path / "aaa.v1.schema.json").write_text(json.dumps({
        "$id": type_schema_id("aaa"), "type": "object", "required": ["x"],
        "properties": {"x": {"type": "string"}}}), encoding="utf-8")
    registry = CaseTypeRegistry.load([tmp_path])
    assert check_against_release(registry) == []
    current = composed_schema(CaseTypeRegistry.load())
    assert breaking_changes(current, composed_schema(registry)) == []


def _composed_with(change: Callable[[dict[str, Any]], object]) -> list[str]:
    current = composed_schema(CaseTypeRegistry.load())
    changed = copy.deepcopy(current)
    change(changed)
    return breaking_changes(current, changed)


def _if_type(name: str) -> dict[str, Any]:
    return {"properties": {"caseType": {"const": name}}, "required": ["caseType"]}


@pytest.mark.parametrize(("label", "change", "finding"), [
    ("a new conditional for an existing type",
     lambda s: s["allOf"].append({"if": {"properties": {"caseType": {"const": "bygglov"}}},
                                  "then": {"required": ["title"]}}),
     '/allOf/N: new conditional if {"properties": {"caseType": {"const": "bygglov"}}} (not compared: review by '
     "hand)"),
    ("a new conditional without required",
     lambda s: s["allOf"].append({"if": {"properties": {"caseType": {"const": "eldstad"}}},
                                  "then": {"required": ["title"]}}),
     '/allOf/N: new conditional if {"properties": {"caseType": {"const": "eldstad"}}} (not compared: review by '
     "hand)"),
    ("a new conditional on schemaVersion",
     lambda s: s["allOf"].append({"if": {"properties": {"schemaVersion": {"const": "1.1"}},
                                         "required": ["schemaVersion"]}, "then": {"required": ["title"]}}),
     '/allOf/N: new conditional if {"properties": {"schemaVersion": {"const": "1.1"}}, "required": '
     '["schemaVersion"]} (not compared: review by hand)'),
    ("a new allOf member", lambda s: s["allOf"].append({"required": ["title"]}),
     "/allOf/N: allOf member added or changed (not compared: review by hand)"),
    ("a conditional with more than if/then", lambda s: s["allOf"][0].update(required=["title"]),
     "/allOf/0: allOf member added or changed (not compared: review by hand)"),
    ("a new not", lambda s: s.update({"not": {"required": ["title"]}}),
     "/not: not added or changed (not compared: review by hand)"),
    ("propertyNames tightened", lambda s: s["$defs"]["details"]["propertyNames"].update(pattern="^[a-eg-z][a-z]*$"),
     "/properties/details/propertyNames: property name 'fardtjanst' no longer allowed"),
    ("a new type's conditional made to apply to all", lambda s: s["allOf"].append(
        {"if": _if_type("eldstad"), "then": {"required": ["title"]}, "else": {"required": ["title"]}}),
     '/allOf/N: new conditional if {"properties": {"caseType": {"const": "eldstad"}}, "required": ["caseType"]} '
     "(not compared: review by hand)"),
])
def test_tightenings_the_walk_cannot_compare_are_reported(
    label: str, change: Callable[[dict[str, Any]], object], finding: str
) -> None:
    # Findings name a new allOf member by its index, which is the count of members the composed schema has today.
    appended = len(composed_schema(CaseTypeRegistry.load())["allOf"])
    assert _composed_with(change)[:1] == [finding.replace("/allOf/N", f"/allOf/{appended}")]


def test_the_baseline_is_the_1_0_release() -> None:
    path, released = released_schema()
    assert path == RELEASED_DIR / "case.v1.json"
    assert released["$id"] == "https://schemas.brygga.se/canonical/case/1.0.0/case.schema.json"
    assert {"bygglovDetails", "felanmalanDetails", "location"} <= set(released["$defs"])
    release = (RELEASED_DIR / "RELEASE").read_text(encoding="utf-8")
    assert "file: case.v1.json" in release.splitlines()


def test_the_check_sees_into_the_case_types() -> None:
    _, released = released_schema()
    current = composed_schema(CaseTypeRegistry.load())
    broken = copy.deepcopy(current)
    broken["$defs"]["caseType_bygglov"]["properties"]["measure"]["enum"].remove("rivning")
    del broken["$defs"]["caseType_felanmalan"]["$defs"]["location"]
    broken["$defs"]["caseType_felanmalan"]["required"].append("feedbackWanted")
    accepted = breaking_changes(released, current)
    assert [f for f in breaking_changes(released, broken) if f not in accepted] == [
        "/properties/details/properties/bygglov/properties/measure: enum value 'rivning' removed",
        "/properties/details/properties/felanmalan/properties/location: $ref '#/$defs/location' does not resolve "
        "(a $defs entry removed that is still referenced)",
        "/properties/details/properties/felanmalan: new required field 'feedbackWanted'",
    ]


def test_a_case_type_may_only_be_added() -> None:
    _, released = released_schema()
    current = composed_schema(CaseTypeRegistry.load())
    findings = breaking_changes(current, released)  # going back from now to 1.0 is breaking
    assert "/properties/formAnswers: property removed" in findings
    assert "/properties/schemaVersion: enum value '1.1' removed" in findings
    assert "/properties/caseType: enum value 'fardtjanst' removed" not in findings


# --- the checker, kind by kind --------------------------------------------------------------------

BASE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.org/base/1.0.0/base.schema.json",
    "type": "object",
    "additionalProperties": False,
    "required": ["kind"],
    "properties": {
        "kind": {"type": "string", "enum": ["a", "b", "c"]},
        "version": {"const": "1.0"},
        "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z ]+$"},
        "email": {"type": "string", "format": "email"},
        "count": {"type": "integer", "minimum": 0, "maximum": 10},
        "ratio": {"type": "number", "exclusiveMinimum": 0},
        "tags": {"type": "array", "minItems": 0, "maxItems": 5, "items": {"type": "string"}},
        "meta": {"type": "object"},
        "place": {"$ref": "#/$defs/place"},
        "detail": {"$ref": "https://example.org/detail/1.0.0/detail.schema.json"},
    },
    "$defs": {
        "place": {
            "type": "object",
            "properties": {"north": {"type": "number", "minimum": 6100000}},
        },
        "detail": {
            "$id": "https://example.org/detail/1.0.0/detail.schema.json",
            "type": "object",
            "additionalProperties": False,
            "properties": {"size": {"$ref": "#/$defs/size"}},
            "$defs": {"size": {"type": "number", "maximum": 100}},
        },
    },
    "allOf": [
        {"if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]}, "then": {"required": ["name"]}},
    ],
}


def _changed(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    schema = copy.deepcopy(BASE)
    change(schema)
    return schema


def _props(schema: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = schema["properties"]
    return properties


BREAKING: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("property removed", lambda s: _props(s).pop("email"), "/properties/email: property removed"),
    ("type narrowed", lambda s: _props(s)["ratio"].update(type="integer"),
     "/properties/ratio: type narrowed: number no longer allowed"),
    ("type changed", lambda s: _props(s).update(meta={"type": "string"}),
     "/properties/meta: type narrowed: object no longer allowed"),
    ("enum value removed", lambda s: _props(s)["kind"]["enum"].remove("b"), "/properties/kind: enum value 'b' removed"),
    ("const changed", lambda s: _props(s)["version"].update(const="2.0"),
     "/properties/version: const changed from '1.0' to '2.0'"),
    ("enum added", lambda s: _props(s)["name"].update(enum=["Anna"]),
     "/properties/name: values restricted to 'Anna' (enum or const added)"),
    ("minLength raised", lambda s: _props(s)["name"].update(minLength=2),
     "/properties/name: minLength raised from 1 to 2"),
    ("maxLength lowered", lambda s: _props(s)["name"].update(maxLength=50),
     "/properties/name: maxLength lowered from 100 to 50"),
    ("minimum raised", lambda s: _props(s)["count"].update(minimum=1), "/properties/count: minimum raised from 0 to 1"),
    ("maximum lowered", lambda s: _props(s)["count"].update(maximum=9),
     "/properties/count: maximum lowered from 10 to 9"),
    ("maximum added", lambda s: _props(s)["ratio"].update(maximum=1),
     "/properties/ratio: maximum lowered (none before) to 1"),
    ("exclusiveMinimum raised", lambda s: _props(s)["ratio"].update(exclusiveMinimum=1),
     "/properties/ratio: exclusiveMinimum raised from 0 to 1"),
    ("minItems raised", lambda s: _props(s)["tags"].update(minItems=1),
     "/properties/tags: minItems raised from 0 to 1"),
    ("maxItems lowered", lambda s: _props(s)["tags"].update(maxItems=4),
     "/properties/tags: maxItems lowered from 5 to 4"),
    ("items narrowed", lambda s: _props(s)["tags"]["items"].update(maxLength=10),
     "/properties/tags/items: maxLength lowered (none before) to 10"),
    ("pattern added", lambda s: _props(s)["email"].update(pattern="@kumla\\.se$"),
     "/properties/email: pattern added: @kumla\\.se$"),
    ("pattern changed", lambda s: _props(s)["name"].update(pattern="^[A-Z ]+$"),
     "/properties/name: pattern changed: ^[A-Z ]+$"),
    ("format added", lambda s: _props(s)["name"].update(format="personnummer"),
     "/properties/name: format added: personnummer"),
    ("format changed", lambda s: _props(s)["email"].update(format="idn-email"),
     "/properties/email: format changed: idn-email"),
    ("additionalProperties closed", lambda s: _props(s)["meta"].update(additionalProperties=False),
     "/properties/meta: additionalProperties made false: properties not listed are now refused"),
    ("a property described where any was allowed", lambda s: s["$defs"]["place"]["properties"].update(
        east={"type": "number"}), "/properties/place/properties/east: type number added where any type was allowed"),
    ("new required", lambda s: s["required"].append("name"), "/: new required field 'name'"),
    ("new required in a $ref", lambda s: s["$defs"]["place"].update(required=["north"]),
     "/properties/place: new required field 'north'"),
    ("referenced $defs removed", lambda s: s["$defs"].pop("place"),
     "/properties/place: $ref '#/$defs/place' does not resolve (a $defs entry removed that is still referenced)"),
    ("through a ref", lambda s: s["$defs"]["place"]["properties"]["north"].update(minimum=6200000),
     "/properties/place/properties/north: minimum raised from 6100000 to 6200000"),
    ("into an embedded resource", lambda s: s["$defs"]["detail"]["$defs"]["size"].update(maximum=50),
     "/properties/detail/properties/size: maximum lowered from 100 to 50"),
    ("a ref in an embedded resource removed", lambda s: s["$defs"]["detail"].pop("$defs"),
     "/properties/detail/properties/size: $ref '#/$defs/size' does not resolve (a $defs entry removed that is "
     "still referenced)"),
    ("a conditional made stricter", lambda s: s["allOf"][0]["then"]["required"].append("email"),
     "/allOf/0/then: new required field 'email'"),
    ("a false schema", lambda s: _props(s).update(meta=False), "/properties/meta: now refused (false schema)"),
    ("uniqueItems", lambda s: _props(s)["tags"].update(uniqueItems=True), "/properties/tags: uniqueItems turned on"),
    ("exclusiveMinimum to a higher minimum", lambda s: _props(s).update(ratio={"type": "number", "minimum": 0.5}),
     "/properties/ratio: minimum raised from exclusiveMinimum 0 to 0.5"),
    ("minimum to an exclusiveMinimum of the same value", lambda s: _props(s)["count"].update(exclusiveMinimum=0),
     "/properties/count: exclusiveMinimum raised from minimum 0 to 0"),
    ("multipleOf on a number", lambda s: _props(s)["ratio"].update(multipleOf=1),
     "/properties/ratio: multipleOf added: 1"),
    ("multipleOf finer than 1 on an integer is fine, coarser is not",
     lambda s: _props(s)["count"].update(multipleOf=2), "/properties/count: multipleOf added: 2"),
    ("a new allOf member", lambda s: s["allOf"].append({"required": ["name"]}),
     "/allOf/1: allOf member added or changed (not compared: review by hand)"),
    ("a new conditional for an allowed value", lambda s: s["allOf"].append(
        {"if": {"properties": {"kind": {"const": "b"}}, "required": ["kind"]}, "then": {"required": ["email"]}}),
     '/allOf/1: new conditional if {"properties": {"kind": {"const": "b"}}, "required": ["kind"]} (not compared: '
     "review by hand)"),
    ("a not", lambda s: _props(s)["name"].update({"not": {"const": "x"}}),
     "/properties/name/not: not added or changed (not compared: review by hand)"),
    ("propertyNames added", lambda s: _props(s)["meta"].update(propertyNames={"maxLength": 3}),
     "/properties/meta/propertyNames: maxLength lowered (none before) to 3"),
    ("propertyNames refusing a listed property", lambda s: s.update(propertyNames={"maxLength": 6}),
     "/propertyNames: property name 'version' no longer allowed"),
]


@pytest.mark.parametrize(("label", "change", "finding"), BREAKING, ids=[b[0] for b in BREAKING])
def test_each_kind_of_breaking_change_is_found(label: str, change: Callable[..., object], finding: str) -> None:
    assert breaking_changes(BASE, _changed(change)) == [finding]


LOOSENING: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
    ("nothing changed", lambda s: None),
    ("enum value added", lambda s: _props(s)["kind"]["enum"].append("d")),
    ("const to an enum holding it", lambda s: _props(s).update(version={"type": "string", "enum": ["1.0", "1.1"]})),
    ("enum to a pattern every value matches",
     lambda s: _props(s).update(kind={"type": "string", "pattern": "^[a-z]$"})),
    ("minLength lowered", lambda s: _props(s)["name"].update(minLength=0)),
    ("maxLength raised", lambda s: _props(s)["name"].update(maxLength=200)),
    ("maximum removed", lambda s: _props(s)["count"].pop("maximum")),
    ("minItems removed", lambda s: _props(s)["tags"].pop("minItems")),
    ("pattern removed", lambda s: _props(s)["name"].pop("pattern")),
    ("format removed", lambda s: _props(s)["email"].pop("format")),
    ("type widened", lambda s: _props(s)["count"].update(type="number")),
    ("type list widened", lambda s: _props(s)["name"].update(type=["string", "null"])),
    ("required removed", lambda s: s["required"].clear()),
    ("property added to a closed object", lambda s: _props(s).update(title={"type": "string", "maxLength": 5})),
    ("additionalProperties opened", lambda s: s.update(additionalProperties=True)),
    ("a $defs entry moved into an embedded resource", lambda s: (
        s["$defs"]["detail"]["$defs"].update(place=s["$defs"].pop("place")),
        _props(s).update(place={"$ref": "https://example.org/detail/1.0.0/detail.schema.json#/$defs/place"}))),
    ("an unreferenced $defs removed", lambda s: s["$defs"].update(unused={"type": "string"})),
    ("a conditional removed", lambda s: s.pop("allOf")),
    ("a conditional added for a new value", lambda s: s["allOf"].append(
        {"if": {"properties": {"kind": {"const": "d"}}, "required": ["kind"]}, "then": {"required": ["email"]}})),
    ("exclusiveMinimum 0 to minimum 0", lambda s: _props(s).update(ratio={"type": "number", "minimum": 0})),
    ("exclusiveMinimum kept beside a looser minimum", lambda s: _props(s)["ratio"].update(minimum=-1)),
    ("integer to number with multipleOf 1", lambda s: _props(s)["count"].update(type="number", multipleOf=1)),
    ("propertyNames every listed property meets", lambda s: s.update(propertyNames={"pattern": "^[a-z]+$"})),
    ("descriptions and examples changed",
     lambda s: _props(s)["name"].update(description="Namn / Name", examples=["A"])),
]


@pytest.mark.parametrize(("label", "change"), LOOSENING, ids=[entry[0] for entry in LOOSENING])
def test_loosening_is_not_breaking(label: str, change: Callable[..., object]) -> None:
    assert breaking_changes(BASE, _changed(change)) == []


def test_allof_members_kept_in_another_order_or_removed_are_not_breaking() -> None:
    with_member = _changed(lambda s: s["allOf"].append({"required": ["kind"]}))
    reordered = _changed(lambda s: s["allOf"].insert(0, {"required": ["kind"]}))
    assert breaking_changes(with_member, reordered) == []
    assert breaking_changes(with_member, BASE) == []


def test_removing_an_unreferenced_defs_entry_is_not_breaking() -> None:
    with_unused = _changed(lambda s: s["$defs"].update(unused={"type": "string"}))
    assert breaking_changes(with_unused, BASE) == []


def test_a_dangling_ref_anywhere_in_the_new_schema_is_reported() -> None:
    new = _changed(lambda s: s["$defs"].update(alias={"$ref": "#/$defs/gone"}))
    assert breaking_changes(BASE, new) == [
        "/$defs/alias: $ref '#/$defs/gone' does not resolve (a $defs entry removed that is still referenced)"
    ]


def test_recursive_schemas_end() -> None:
    tree = {"$defs": {"node": {"type": "object", "properties": {"children": {"type": "array",
                                                                             "items": {"$ref": "#/$defs/node"}}}}},
            "$ref": "#/$defs/node"}
    assert breaking_changes(tree, copy.deepcopy(tree)) == []
    narrower = json.loads(json.dumps(tree))
    narrower["$defs"]["node"]["properties"]["children"]["maxItems"] = 3
    assert breaking_changes(tree, narrower) == ["/properties/children: maxItems lowered (none before) to 3"]


def test_the_status_event_schema_is_checked_against_its_release(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from brygga.canonical import compat

    released = json.loads((RELEASED_DIR / compat.STATUS_EVENT_RELEASED).read_text(encoding="utf-8"))
    assert released["$id"].endswith("/status-event/1.0.0/status-event.schema.json")
    # A baseline that allowed a kind today's schema no longer has: the check names it.
    released["properties"]["kind"]["enum"] = [*released["properties"]["kind"]["enum"], "archived"]
    for name in (compat.STATUS_EVENT_RELEASED, "RELEASE", "case.v1.json"):
        (tmp_path / name).write_bytes((RELEASED_DIR / name).read_bytes())
    (tmp_path / compat.STATUS_EVENT_RELEASED).write_text(json.dumps(released), encoding="utf-8")
    monkeypatch.setattr(compat, "RELEASED_DIR", tmp_path)
    assert check_against_release() == ["status-event /properties/kind: enum value 'archived' removed"]
