"""A property name the schema does not know comes from the document, and may be personal data (an e-mail address or
a personnummer used as a key). A problem's path ends before such a name, in a status event and in a case, and a
problem the cut makes twice is reported once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from brygga.canonical import CaseTypeRegistry, validate_case
from brygga.canonical.types import type_schema_id
from brygga.catalog import resolve_schema
from brygga.catalog.examples import EXAMPLES_DIR
from brygga.catalog.messages import LANGS
from brygga.catalog.validate import validate_document
from brygga.status.event import InvalidStatusEvent, status_event_problems, validate_status_event

MAIL = "testa.exempelsson@example.se"
NUMBER = "198503142385"


def _example(name: str) -> Any:
    return json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def _found(problems: list[Any]) -> list[tuple[str, str]]:
    return [(problem.path, problem.rule) for problem in problems]


def test_a_fact_named_by_personal_data_is_reported_at_facts_and_never_named() -> None:
    event = _example("status/decision-made")
    event["change"]["facts"] = {MAIL: 1, NUMBER: "x" * 1001, "Kalle": 2}
    problems = status_event_problems(event)
    # Two unsafe names with a wrong type and one too long; the safe name keeps its own path.
    assert sorted(_found(problems)) == [("/change/facts", "maxLength"), ("/change/facts", "propertyNames"),
                                        ("/change/facts", "type"), ("/change/facts/Kalle", "type")]
    assert len(problems) == len(set(problems)), "each problem once"
    for lang in LANGS:
        worded = validate_document(event, resolve_schema("status-event"), lang=lang)
        assert _found(worded) == _found(problems)
        shown = json.dumps([problem.as_json() for problem in worded], ensure_ascii=False)
        assert MAIL not in shown and NUMBER not in shown


def test_the_first_problem_of_a_status_event_is_cut_the_same_way() -> None:
    event = _example("status/decision-made")
    event["change"]["facts"] = {MAIL: 1}
    try:
        validate_status_event(event)
    except InvalidStatusEvent as exc:
        assert (exc.path, exc.rule) == ("/change/facts", "propertyNames")
        assert MAIL not in str(exc)
    else:
        raise AssertionError("the event is valid")


def _type_with_notes(folder: Path) -> CaseTypeRegistry:
    """A kommun's own case type with a free-form map: notes by any name, each an object with a text."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": type_schema_id("eldstad"),
        "title": "Eldstad / Fireplace, v1",
        "description": "Eldstadsuppgifter / Fireplace details: anmälan av eldstad. Notification of a fireplace.",
        "type": "object",
        "properties": {
            "notes": {
                "description": "Anteckningar / Notes: fritt namngivna. Named freely.",
                "type": "object",
                "additionalProperties": {"type": "object", "required": ["text"],
                                         "properties": {"text": {"type": "string", "maxLength": 5}}},
            },
        },
        "examples": [{"notes": {"sotning": {"text": "ok"}}}],
    }
    folder.mkdir()
    (folder / "eldstad.v1.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    return CaseTypeRegistry.load([folder])


def test_a_case_path_ends_before_a_name_that_may_be_personal_data(tmp_path: Path) -> None:
    registry = _type_with_notes(tmp_path / "types")
    case = _example("felanmalan")
    case["caseType"] = "eldstad"
    case["details"] = {"eldstad": {"notes": {MAIL: {}, "19780623-2489": {}, NUMBER: {"text": "longer than five"},
                                             "Kalle": {}}}}
    problems = validate_case(case, registry)
    # The e-mail's, the other number's and Kalle's notes lack a text, the personnummer's is too long; the two cut
    # at notes are one problem.
    assert sorted(_found(problems)) == [("/details/eldstad/notes", "maxLength"), ("/details/eldstad/notes", "required"),
                                       ("/details/eldstad/notes/Kalle/text", "required")]
    shown = json.dumps([[problem.path, problem.message] for problem in problems], ensure_ascii=False)
    assert MAIL not in shown and NUMBER not in shown and "2489" not in shown


def test_the_bundled_case_schemas_have_no_free_form_map_whose_keys_reach_a_path() -> None:
    # Unknown names in a case are additionalProperties problems, withheld when unsafe: the cut is for a kommun's own
    # types. Here: a personal value as a key in every object of the example case, and in details.
    case = _example("bygglov-person")
    case["details"][MAIL] = {"a": 1}
    case["tenant"][NUMBER] = 1
    case["parties"][0][MAIL] = {NUMBER: 1}
    problems = validate_case(case)
    assert problems and all(MAIL not in problem.path and NUMBER not in problem.path for problem in problems)
