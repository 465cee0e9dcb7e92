"""The canonical status event: its schema and examples, its stable id, how it is built and what goes on the bus."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest

from brygga.status.changes import KINDS, DocumentRef
from brygga.status.event import (
    STATUS_EVENT_SCHEMA,
    STATUS_EVENT_SCHEMA_ID,
    InvalidStatusEvent,
    build_status_event,
    event_id,
    for_bus,
    validate_status_event,
)

SCHEMA = json.loads(STATUS_EVENT_SCHEMA.read_text(encoding="utf-8"))
EXAMPLES_DIR = STATUS_EVENT_SCHEMA.parent / "examples" / "status"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.json"))
INVALID = sorted((EXAMPLES_DIR / "invalid").glob("*.json"))
CET = timezone(timedelta(hours=1))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _independent() -> jsonschema_rs.Validator:
    # jsonschema-rs checks uuid and date-time itself: a second opinion on our own format checkers.
    return jsonschema_rs.Draft202012Validator(SCHEMA, validate_formats=True)


def _build(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "kind": "decision_made", "occurred_at": datetime(2026, 11, 30, 10, 12, tzinfo=CET), "source_system": "byggr",
        "connection": "byggr_kumla", "diarienummer": "BN 2026-000001", "change_id": "handelse:360004"}
    return build_status_event(**{**args, **overrides})


# --- the schema ------------------------------------------------------------------------------------------------

def test_the_schema_is_2020_12_with_its_versioned_id_and_strict() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == STATUS_EVENT_SCHEMA_ID == (
        "https://schemas.brygga.se/canonical/status-event/1.0.0/status-event.schema.json")
    assert SCHEMA["required"] == ["schemaVersion", "eventId", "kind", "occurredAt", "sourceSystem", "case"]
    assert SCHEMA["$defs"]["case"]["required"] == ["diarienummer"]
    objects = [SCHEMA, *(d for d in SCHEMA["$defs"].values() if d.get("type") == "object" and "properties" in d)]
    assert all(o["additionalProperties"] is False for o in objects)


def test_its_kinds_are_the_kinds_of_the_code() -> None:
    assert tuple(SCHEMA["properties"]["kind"]["enum"]) == KINDS


def test_every_property_is_described_in_swedish_and_english_with_examples() -> None:
    assert " / " in SCHEMA["title"] and " / " in SCHEMA["description"]
    containers = [("", SCHEMA)] + [(f"/$defs/{name}", sub) for name, sub in SCHEMA["$defs"].items()]
    for base, container in containers:
        for name, sub in container.get("properties", {}).items():
            target = SCHEMA["$defs"][sub["$ref"].removeprefix("#/$defs/")] if "$ref" in sub else sub
            pointer = f"{base}/properties/{name}"
            assert " / " in target["description"].split(":")[0], f"{pointer}: 'Svenska / English:' description"
            assert target.get("examples"), f"{pointer}: no examples"
            for example in target["examples"]:
                assert jsonschema.Draft202012Validator(
                    {**target, "$defs": SCHEMA["$defs"]}).is_valid(example), f"{pointer}: invalid example"


# --- examples ----------------------------------------------------------------------------------------------------

def test_there_are_examples_with_and_without_brygga_s_references() -> None:
    cases = [_load(path)["case"] for path in EXAMPLES]
    assert len(EXAMPLES) >= 3
    assert any("submissionId" in case for case in cases) and any("submissionId" not in case for case in cases)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_events_are_valid(path: Path) -> None:
    event = _load(path)
    validate_status_event(event)
    assert _independent().is_valid(event)
    assert event["eventId"] == event_id(event["connection"], event["case"]["diarienummer"], event["change"]["id"])


def test_the_bus_example_is_the_full_one_for_the_bus() -> None:
    assert _load(EXAMPLES_DIR / "decision-made-bus.json") == for_bus(_load(EXAMPLES_DIR / "decision-made.json"))


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.stem)
def test_an_invalid_example_is_refused_naming_its_path_and_rule_never_its_value(path: Path) -> None:
    example = _load(path)
    event = example["document"]
    assert example["schema"] == "status-event"
    [expected] = example["errors"]
    assert not _independent().is_valid(event)
    with pytest.raises(InvalidStatusEvent) as caught:
        validate_status_event(event)
    assert (caught.value.path, caught.value.rule) == (expected["path"], expected["rule"])
    assert str(caught.value).startswith(f"status event {expected['path']}: {expected['rule']}: ")
    valid = _load(EXAMPLES_DIR / "handler-assigned.json")
    for value in _changed_values(valid, event):
        assert value not in str(caught.value)


def _changed_values(before: Any, after: Any) -> list[str]:
    """The scalar values the broken example has that the valid one does not: none may be echoed."""
    if isinstance(after, dict):
        return [v for key, sub in after.items() for v in _changed_values(
            before.get(key) if isinstance(before, dict) else None, sub)]
    if isinstance(after, list):
        return [v for sub in after for v in _changed_values(None, sub)]
    return [str(after)] if after != before and str(after) else []


def test_rules_the_invalid_examples_cover() -> None:
    rules = {error["rule"] for path in INVALID for error in _load(path)["errors"]}
    assert {"required", "enum", "format:date-time", "format:uuid", "pattern", "additionalProperties"} <= rules


# --- event ids ---------------------------------------------------------------------------------------------------

def test_an_event_id_is_a_stable_uuid5() -> None:
    first = event_id("byggr_kumla", "BN 2026-000001", "handelse:360004")
    assert first == event_id("byggr_kumla", "BN 2026-000001", "handelse:360004")
    assert uuid.UUID(first).version == 5
    # Pinned: receivers drop duplicates by this id, so it must not change between Brygga releases.
    assert first == "6e9f6258-5a41-5ba8-a2bc-39d917da60be"


def test_event_ids_differ_by_connection_case_and_change() -> None:
    ids = {
        event_id("byggr_kumla", "BN 2026-000001", "handelse:360004"),
        event_id("byggr_orebro", "BN 2026-000001", "handelse:360004"),
        event_id("byggr_kumla", "BN 2026-000002", "handelse:360004"),
        event_id("byggr_kumla", "BN 2026-000001", "handelse:360005"),
        # The parts are kept apart: moving text across a boundary makes another id.
        event_id("byggr_kumla", "BN 2026", "000001 handelse:360004"),
        event_id("byggr_kumla", "BN 2026 000001", "handelse:360004"),
    }
    assert len(ids) == 6


# --- building ----------------------------------------------------------------------------------------------------

def test_a_minimal_event_leaves_every_absent_optional_out() -> None:
    assert _build() == {
        "schemaVersion": "1.0",
        "eventId": event_id("byggr_kumla", "BN 2026-000001", "handelse:360004"),
        "kind": "decision_made",
        "occurredAt": "2026-11-30T10:12:00+01:00",
        "sourceSystem": "byggr",
        "connection": "byggr_kumla",
        "case": {"diarienummer": "BN 2026-000001"},
        "change": {"id": "handelse:360004"},
    }


def test_a_full_event_validates_and_carries_everything() -> None:
    event = _build(facts={"change": "handelse", "handelsetyp": "BESLUT"}, extern_ref="1881:open-eplatform:2241",
                   submission_id="5b0f9a44-8c1e-4f3e-a5d2-1c7e9b3a6f20", source_reference="2241",
                   route="kumla-bygglov", kommunkod="1881", status="Beslut fattat",
                   text="Beslut i ditt ärende BN 2026-000001: Startbesked.",
                   documents=(DocumentRef("580001", "Beslut.pdf"), DocumentRef("580002")))
    assert _independent().is_valid(event)
    assert event["case"] == {"diarienummer": "BN 2026-000001", "externRef": "1881:open-eplatform:2241",
                             "submissionId": "5b0f9a44-8c1e-4f3e-a5d2-1c7e9b3a6f20", "sourceReference": "2241",
                             "route": "kumla-bygglov", "kommunkod": "1881"}
    assert event["documents"] == [{"id": "580001", "name": "Beslut.pdf"}, {"id": "580002"}]
    assert event["change"] == {"id": "handelse:360004", "facts": {"change": "handelse", "handelsetyp": "BESLUT"}}
    assert (event["status"], event["text"]) == ("Beslut fattat", "Beslut i ditt ärende BN 2026-000001: Startbesked.")


def test_occurred_at_keeps_its_offset_and_a_naive_time_is_refused() -> None:
    assert _build(occurred_at=datetime(2026, 7, 1, 8, 0, 5, 250000, tzinfo=UTC))["occurredAt"] == (
        "2026-07-01T08:00:05.250000+00:00")
    with pytest.raises(InvalidStatusEvent) as caught:
        _build(occurred_at=datetime(2026, 7, 1, 8, 0))
    assert (caught.value.path, caught.value.rule) == ("/occurredAt", "format:date-time")


@pytest.mark.parametrize(("overrides", "path", "rule"), [
    ({"kind": "ignore"}, "/kind", "enum"),
    ({"kommunkod": "18810"}, "/case/kommunkod", "pattern"),
    ({"submission_id": "Anna Svensson"}, "/case/submissionId", "format:uuid"),
    ({"text": "Anna Svensson " * 400}, "/text", "maxLength"),
    ({"facts": {"namn": 198005122380}}, "/change/facts/namn", "type"),
    ({"facts": {"198005122380": "x"}}, "/change/facts", "propertyNames"),
])
def test_a_build_the_schema_refuses_names_path_and_rule_not_the_value(overrides: dict[str, Any], path: str,
                                                                      rule: str) -> None:
    with pytest.raises(InvalidStatusEvent) as caught:
        _build(**overrides)
    assert (caught.value.path, caught.value.rule) == (path, rule)
    for secret in ("Anna", "198005122380", "18810"):
        assert secret not in str(caught.value)


# --- the bus -----------------------------------------------------------------------------------------------------

def test_for_bus_drops_exactly_the_text_the_document_names_and_the_facts() -> None:
    event = _build(facts={"change": "handelse", "rubrik": "Startbesked"}, status="Beslut fattat", kommunkod="1881",
                   text="Beslut i ditt ärende BN 2026-000001: Startbesked.",
                   documents=(DocumentRef("580001", "Beslut.pdf"), DocumentRef("580002")))
    before = copy.deepcopy(event)
    bus = for_bus(event)
    expected = copy.deepcopy(event)
    del expected["text"]
    del expected["change"]["facts"]
    expected["documents"] = [{"id": "580001"}, {"id": "580002"}]
    assert bus == expected
    assert event == before, "the event itself is left as it was"
    validate_status_event(bus)
    assert _independent().is_valid(bus)


def test_for_bus_of_a_minimal_event_is_the_same_event() -> None:
    assert for_bus(_build()) == _build()
