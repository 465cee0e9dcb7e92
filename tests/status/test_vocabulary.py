"""Status vocabularies: loading and its errors, classification, lint, the fixture runner, the bundled files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import yaml

from brygga.errors import ConfigError
from brygga.settings import REPO_ROOT
from brygga.status.changes import KINDS, CaseChange
from brygga.status.vocabulary import (
    STATUS_MAP_SCHEMA,
    Classification,
    InvalidVocabulary,
    iter_suite_results,
    lint_vocabularies,
    load_vocabulary,
    load_vocabulary_suite,
    run_vocabulary_case,
)
from brygga_simulators.workorder.models import STATUSES as WORKORDER_STATUSES

MAPPINGS = REPO_ROOT / "mappings"
SHOWN = "mappings/status/kumla.yaml"

GOOD = """\
system: byggr
statuses:
  decision_made: {status: Beslut fattat, text: "Beslut i ditt ärende {diarienummer}: {fact:rubrik}."}
  closed: {status: Avslutat}
rules:
  - when: {change: handelse, handelsetyp: BESLUT, handelseslag: GAAC}
    kind: decision_made
    text: "Startbesked i {diarienummer} ({{{fact:handelseslag}}})."
  - when: {change: handelse, handelsetyp: [BESLUT, KOMP]}
    kind: decision_made
  - when: {change: handelse, handelsetyp: HANDLING, handelseslag: ""}
    kind: ignore
  - when: {change: status, status: Avslutat}
    kind: closed
"""


def _write(tmp_path: Path, text: str, name: str = "kumla.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _change(**facts: str) -> CaseChange:
    return CaseChange(case_ref="BN 2026-000001", change_id="handelse:1", occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
                      facts=facts)


# --- the schema --------------------------------------------------------------------------------------------------

def test_the_schema_is_2020_12_and_knows_the_kinds_of_the_code() -> None:
    schema = json.loads(STATUS_MAP_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert tuple(schema["$defs"]["kind"]["enum"]) == KINDS


# --- loading and its errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("edit", "path", "rule", "says"), [
    (lambda t: t.replace("kind: closed", "kind: approved"), "rules[3].kind", "kind", "'approved' is not a kind"),
    (lambda t: t.replace("  closed: {status: Avslutat}\n", ""), "rules[3].kind", "statuses",
     "kind closed has no entry under statuses"),
    (lambda t: t.replace("{fact:rubrik}", "{rubrik}"), "statuses.decision_made.text", "placeholder",
     "unknown placeholder {rubrik}"),
    (lambda t: t.replace("({{{fact:handelseslag}}})", "(} {fact:handelseslag})"), "rules[0].text", "placeholder",
     "a lone { or }"),
    (lambda t: t.replace("{diarienummer}:", "{diarienummer!r}:"), "statuses.decision_made.text", "placeholder",
     "unknown placeholder"),
    (lambda t: t.replace("  closed: {status", "  approved: {status"), "statuses", "kind", "'approved' is not a kind"),
    (lambda t: t.replace("rules:", "regler:"), "(file)", "required", "'rules' is a required property"),
    (lambda t: t.replace("    kind: closed", "    kind: closed\n    status: Klart"), "rules[3]",
     "additionalProperties", "'status' was unexpected"),
    (lambda t: t.replace("handelseslag: GAAC}", "handelseslag: GAAC, riktning: []}"), "rules[0].when.riktning",
     "minItems", "should be non-empty"),
    (lambda t: t.replace("kind: ignore", "kind: ignore\n    text: Hej"), "rules[2].text", "ignore",
     "an ignore rule tells the resident nothing"),
    (lambda t: t.replace("handelsetyp: HANDLING", "handelsetyp: no"), "rules[2].when.handelsetyp", "quote",
     "read as bool; quote it"),
    (lambda t: t.replace("[BESLUT, KOMP]", "[BESLUT, 12]"), "rules[1].when.handelsetyp[1]", "quote",
     "read as int; quote it"),
    (lambda t: t.replace("status: Avslutat}\n    kind", "1881: Avslutat}\n    kind"), "rules[3].when", "quote",
     "a key is read as int"),
    (lambda t: t + "  - [\n", "line 16, column 1", "yaml", "not valid YAML"),
    (lambda t: "- just a list\n", "(file)", "type", "must be a YAML mapping"),
])
def test_a_broken_vocabulary_is_refused_naming_file_path_and_rule(tmp_path, edit, path, rule, says) -> None:
    source = _write(tmp_path, edit(GOOD))
    with pytest.raises(InvalidVocabulary) as caught:
        load_vocabulary(source, shown=SHOWN)
    error = caught.value
    assert isinstance(error, ConfigError)
    assert (error.file, error.path, error.rule) == (SHOWN, path, rule)
    assert str(error).startswith(f"status vocabulary {SHOWN}: {path}: {rule}: ")
    assert says in str(error)


def test_without_shown_the_file_is_named_by_its_path(tmp_path) -> None:
    source = _write(tmp_path, GOOD.replace("kind: closed", "kind: approved"))
    with pytest.raises(InvalidVocabulary, match=rf"^status vocabulary {source}: rules\[3\]\.kind: kind: "):
        load_vocabulary(source)
    with pytest.raises(InvalidVocabulary, match=r": \(file\): read: cannot read the file"):
        load_vocabulary(tmp_path / "missing.yaml")


def test_a_loaded_vocabulary_is_cached_until_its_file_changes(tmp_path) -> None:
    source = _write(tmp_path, GOOD)
    first = load_vocabulary(source)
    assert load_vocabulary(source) is first
    source.write_text(GOOD.replace("system: byggr", "system: byggr-kumla"), encoding="utf-8")
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # whatever the clock's resolution
    second = load_vocabulary(source)
    assert (first.system, second.system) == ("byggr", "byggr-kumla")
    source.write_text(GOOD.replace("kind: closed", "kind: approved"), encoding="utf-8")
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    with pytest.raises(InvalidVocabulary):
        load_vocabulary(source)


# --- classification ----------------------------------------------------------------------------------------------

@pytest.fixture
def vocabulary(tmp_path):
    return load_vocabulary(_write(tmp_path, GOOD))


def test_the_first_matching_rule_wins(vocabulary) -> None:
    startbesked = vocabulary.classify(_change(change="handelse", handelsetyp="BESLUT", handelseslag="GAAC"))
    # Rule 1 matches too (handelsetyp BESLUT); rule 0 comes first.
    assert startbesked == Classification(kind="decision_made", status="Beslut fattat",
                                         text="Startbesked i BN 2026-000001 ({GAAC}).", rule=0)


def test_a_list_of_values_matches_any_of_them(vocabulary) -> None:
    for handelsetyp in ("BESLUT", "KOMP"):
        got = vocabulary.classify(_change(change="handelse", handelsetyp=handelsetyp, rubrik="Beslut om bygglov"))
        assert got == Classification("decision_made", "Beslut fattat",
                                     "Beslut i ditt ärende BN 2026-000001: Beslut om bygglov.", 1)
    assert vocabulary.classify(_change(change="handelse", handelsetyp="ANSÖKAN")) is None


def test_every_condition_must_hold(vocabulary) -> None:
    assert vocabulary.classify(_change(change="status", status="Avslutat")).kind == "closed"
    assert vocabulary.classify(_change(change="handelse", status="Avslutat")) is None
    assert vocabulary.classify(_change(status="Avslutat")) is None


def test_facts_are_compared_after_whitespace_is_normalised_and_exactly(vocabulary) -> None:
    got = vocabulary.classify(_change(change=" handelse", handelsetyp="BESLUT\n", handelseslag="\tGAAC  "))
    assert got is not None and got.rule == 0
    assert vocabulary.classify(_change(change="handelse", handelsetyp="beslut")) is None, "case matters"
    assert vocabulary.classify(_change(change="handelse", handelsetyp="BESLUT X")) is None, "no substrings"


def test_an_empty_value_matches_a_missing_or_blank_fact(vocabulary) -> None:
    for facts in ({}, {"handelseslag": ""}, {"handelseslag": "  "}):
        got = vocabulary.classify(_change(change="handelse", handelsetyp="HANDLING", **facts))
        assert got == Classification(kind=None, status=None, text=None, rule=2)
    assert vocabulary.classify(_change(change="handelse", handelsetyp="HANDLING", handelseslag="KOMPL")) is None


def test_a_missing_fact_renders_empty_and_the_text_is_normalised(vocabulary) -> None:
    got = vocabulary.classify(_change(change="handelse", handelsetyp="KOMP"))
    assert got is not None and got.text == "Beslut i ditt ärende BN 2026-000001: ."
    # A fact is normalised before it is put in: a title over several lines ends where its words end.
    got = vocabulary.classify(_change(change="handelse", handelsetyp="KOMP", rubrik="  Beslut\n\t om   lov\n "))
    assert got is not None and got.text == "Beslut i ditt ärende BN 2026-000001: Beslut om lov."


def test_a_kind_without_a_text_gives_the_status_only(vocabulary) -> None:
    assert vocabulary.classify(_change(change="status", status="Avslutat")) == Classification(
        "closed", "Avslutat", None, 3)
    assert vocabulary.kinds == frozenset({"decision_made", "closed"})


# --- lint --------------------------------------------------------------------------------------------------------

def test_lint_finds_a_broken_vocabulary_and_a_broken_suite(tmp_path) -> None:
    status = tmp_path / "mappings" / "status"
    status.mkdir(parents=True)
    _write(status, GOOD, "good.yaml")
    _write(status, GOOD.replace("{fact:rubrik}", "{fact:}"), "broken.yaml")
    _write(status, "vocabulary: good.yaml\ntests: []\n", "good_test.yaml")
    problems = lint_vocabularies(tmp_path / "mappings")
    assert problems == [
        "status vocabulary mappings/status/broken.yaml: statuses.decision_made.text: placeholder: unknown "
        "placeholder {fact:}: use {diarienummer} or {fact:<name>}",
        "status vocabulary mappings/status/good_test.yaml: tests: minItems: [] should be non-empty",
    ]


def test_lint_of_a_mappings_folder_without_vocabularies_is_clean(tmp_path) -> None:
    assert lint_vocabularies(tmp_path) == []


def test_the_bundled_vocabularies_and_suites_lint_clean() -> None:
    assert lint_vocabularies(MAPPINGS) == []


# --- fixture suites ----------------------------------------------------------------------------------------------

def _suite(tmp_path: Path, tests: list[dict]) -> Path:
    _write(tmp_path, GOOD)
    return _write(tmp_path, yaml.safe_dump({"vocabulary": "kumla.yaml", "tests": tests}, allow_unicode=True),
                  "kumla_test.yaml")


AVSLUTAT = {"case_ref": "BN 1", "change_id": "status:Avslutat", "facts": {"change": "status", "status": "Avslutat"}}


@pytest.mark.parametrize(("expect", "failures"), [
    ({"kind": "closed", "status": "Avslutat"}, []),
    ({"kind": "closed", "status": "Avslutat", "rule": 3}, []),
    ({"kind": "closed", "status": "Stängt"}, ["status: expected 'Stängt', got 'Avslutat' (rule 3)"]),
    ({"kind": "closed", "status": "Avslutat", "text": "Klart."}, ["text: expected 'Klart.', got None (rule 3)"]),
    ({"kind": "withdrawn", "status": "Avslutat"}, ["kind: expected 'withdrawn', got 'closed' (rule 3)"]),
    ({"kind": "closed", "status": "Avslutat", "rule": 2}, ["rule: expected rule 2 to match, got rule 3"]),
    ("unmapped", ["expected no rule to match, but rule 3 did (closed)"]),
    ("ignore", ["expected ignore, got closed (rule 3)"]),
])
def test_a_fixture_reports_what_differs(tmp_path, expect, failures) -> None:
    (case,) = load_vocabulary_suite(_suite(tmp_path, [{"name": "n", "change": AVSLUTAT, "expect": expect}]))
    assert run_vocabulary_case(case) == failures


def test_a_fixture_expecting_a_kind_fails_when_nothing_matches(tmp_path) -> None:
    change = {**AVSLUTAT, "facts": {"change": "status", "status": "Vilande"}}
    (case,) = load_vocabulary_suite(_suite(tmp_path, [{"name": "n", "change": change, "expect": {"kind": "closed"}}]))
    assert run_vocabulary_case(case) == ["expected closed, but no rule matched"]


@pytest.mark.parametrize(("tests", "path", "rule"), [
    ([{"name": "n", "change": AVSLUTAT}], "tests[0]", "required"),
    ([{"name": "n", "change": AVSLUTAT, "expect": "nothing"}], "tests[0].expect", "oneOf"),
    ([{"name": "n", "change": AVSLUTAT, "expect": "ignore"}] * 2, "tests[1].name", "unique"),
    ([{"name": "n", "change": {**AVSLUTAT, "facts": {"handelseId": 7}}, "expect": "ignore"}],
     "tests[0].change.facts.handelseId", "type"),
])
def test_a_broken_suite_is_refused_naming_the_place(tmp_path, tests, path, rule) -> None:
    with pytest.raises(InvalidVocabulary) as caught:
        load_vocabulary_suite(_suite(tmp_path, tests), shown="mappings/status/kumla_test.yaml")
    assert (caught.value.file, caught.value.path, caught.value.rule) == ("mappings/status/kumla_test.yaml", path, rule)


def test_a_suite_naming_a_missing_vocabulary_is_refused(tmp_path) -> None:
    suite = _write(tmp_path, "vocabulary: nope.yaml\ntests: [{name: n, change: {case_ref: a, change_id: b, facts: {}},"
                             " expect: unmapped}]\n", "x_test.yaml")
    with pytest.raises(InvalidVocabulary, match=r": vocabulary: file: no vocabulary file at nope.yaml"):
        load_vocabulary_suite(suite)


def test_every_bundled_fixture_passes_through_the_runner_a_cli_uses() -> None:
    results = list(iter_suite_results(MAPPINGS))
    assert len(results) > 30
    assert [(case.name, failures) for case, failures in results if failures] == []


def test_pytest_collects_every_status_fixture_as_a_test() -> None:
    suites = sorted((MAPPINGS / "status").glob("*_test.yaml"))
    expected = sum(len(load_vocabulary_suite(suite)) for suite in suites)
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly",
                          str(MAPPINGS / "status")], capture_output=True, text=True, cwd=REPO_ROOT, check=True).stdout
    collected = [line for line in out.splitlines() if "_test.yaml::" in line]
    assert len(collected) == expected and len(suites) == 2


# --- the bundled vocabularies ------------------------------------------------------------------------------------

def test_the_bundled_vocabularies_name_their_systems() -> None:
    assert load_vocabulary(MAPPINGS / "status" / "byggr.yaml").system == "byggr"
    assert load_vocabulary(MAPPINGS / "status" / "workorder.yaml").system == "workorder"


def test_every_work_order_status_is_classified() -> None:
    workorder = load_vocabulary(MAPPINGS / "status" / "workorder.yaml")
    kinds = {}
    for status in WORKORDER_STATUSES:
        got = workorder.classify(_change(change="status", status=status))
        assert got is not None, f"work order status {status} is unmapped"
        kinds[status] = got.kind
    assert kinds == {"registered": "registered", "assigned": "handler_assigned", "in_progress": None,
                     "waiting": "supplement_requested", "closed": "closed"}


def test_no_bundled_text_names_a_person_or_uses_an_unknown_fact() -> None:
    # Texts may use the diarienummer and the rubrik only: no fact of a change names a person, and the rubrik is the
    # handelse's title; a {fact:namn} here would be a sign someone expects one.
    for path in sorted((MAPPINGS / "status").glob("*.yaml")):
        if path.name.endswith("_test.yaml"):
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts = [entry.get("text", "") for entry in doc["statuses"].values()]
        texts += [rule.get("text", "") for rule in doc["rules"]]
        for text in texts:
            assert "{fact:" not in text.replace("{fact:rubrik}", ""), f"{path.name}: {text}"
