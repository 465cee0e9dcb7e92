"""A file or request body with a great many problems: the first MAX_PROBLEMS are worded and reported, with how many
there are in all, and a hint is looked up once for the problems at the same place of the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import brygga.catalog.validate as validating
from brygga.canonical import CaseProblem
from brygga.catalog import resolve_schema
from brygga.catalog.examples import EXAMPLES_DIR
from brygga.catalog.validate import MAX_PROBLEMS, validate_bytes, validate_document, validate_file

PARTIES = 2_000


def _crowded() -> dict[str, Any]:
    """The bygglov example with 2,000 numbers where the parties go: each one a problem, and one for the count."""
    case = json.loads((EXAMPLES_DIR / "bygglov-person.json").read_text(encoding="utf-8"))
    case["parties"] = [1] * PARTIES
    return case


@pytest.fixture
def hint_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths each hint was built for."""
    calls: list[str] = []
    real = validating.hint

    def counting(index: Any, path: str, *args: Any) -> str | None:
        calls.append(path)
        return real(index, path, *args)

    monkeypatch.setattr(validating, "hint", counting)
    return calls


def test_a_file_reports_its_first_problems_and_how_many_there_are(tmp_path: Path, hint_calls: list[str]) -> None:
    path = tmp_path / "crowded.json"
    path.write_text(json.dumps(_crowded()), encoding="utf-8")
    report = validate_file(path, lang="sv")
    assert (report.valid, report.total, report.truncated) == (False, PARTIES + 1, True)
    assert len(report.problems) == MAX_PROBLEMS == 100
    assert report.problems[0].path == "/parties" and report.problems[0].rule == "maxItems"
    assert [(p.path, p.rule) for p in report.problems[1:3]] == [("/parties/0", "type"), ("/parties/1", "type")]
    assert {p.hint for p in report.problems[1:]} == {"Part"}
    assert len(hint_calls) == 2, "one hint for /parties, one for every /parties/N"
    answer = report.as_json()
    assert (answer["total"], answer["truncated"], len(answer["problems"])) == (PARTIES + 1, True, MAX_PROBLEMS)


def test_a_request_body_is_capped_the_same_way() -> None:
    report = validate_bytes(json.dumps(_crowded()).encode(), media_type="application/json", limit=10)
    assert (len(report.problems), report.total, report.truncated) == (10, PARTIES + 1, True)


def test_a_report_with_few_problems_is_not_truncated(tmp_path: Path) -> None:
    case = _crowded()
    case["parties"] = [1, 2]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    report = validate_file(path)
    assert (len(report.problems), report.total, report.truncated) == (2, 2, False)
    assert report.as_json()["truncated"] is False


def test_every_problem_of_a_document_still_has_its_hint_built_once_per_place(hint_calls: list[str]) -> None:
    problems = validate_document(_crowded(), resolve_schema("case"))
    assert len(problems) == PARTIES + 1 and all(p.hint for p in problems)
    assert len(hint_calls) == 2


def test_places_the_schema_tells_apart_by_index_get_their_own_hints() -> None:
    # prefixItems: the schema says something else at each index, so /pair/0 and /pair/1 are not the same place.
    schema = {"type": "object", "properties": {"pair": {"type": "array", "prefixItems": [
        {"description": "Förnamn / Given name: ...", "type": "string", "examples": ["Testa"]},
        {"description": "Efternamn / Family name: ...", "type": "string", "examples": ["Exempelsson"]}]}}}
    index = validating.SchemaIndex(schema)
    assert index.general("/pair/0") == "/pair/0"
    problems = [CaseProblem(f"/pair/{at}", "type", "", {"types": ["string"]}) for at in (0, 1)]
    assert [p.hint for p in validating._worded(problems, index, "en")] == ['Given name: e.g. "Testa"',
                                                                          'Family name: e.g. "Exempelsson"']
    plain = validating.SchemaIndex({"type": "array", "items": {"type": "string"}})
    assert plain.general("/3") == "/*" and plain.general("/3/a12/45") == "/*/a12/*"
