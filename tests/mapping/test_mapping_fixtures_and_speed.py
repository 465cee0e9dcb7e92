"""The fixture runner itself, the bygglov mapping against its hand-written twin, and the speed promise."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from brygga.mapping import compile_mapping
from brygga.mapping.errors import MappingConfigError
from brygga.mapping.fixtures import load_suite, run_case
from brygga.mapping.lint import lint_mappings

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SAMPLES = REPO / "tests" / "samples" / "open-eplatform"
sys.path.insert(0, str(REPO / "bench"))

import handwritten_bygglov  # noqa: E402 - bench/handwritten_bygglov.py, the benchmark's baseline


def test_every_suite_under_mappings_loads_and_lint_is_clean() -> None:
    suites = sorted(p for p in (REPO / "mappings").rglob("*_test.yaml") if p.parent.name != "status")
    assert suites, "no fixture suites found"
    assert all(load_suite(s) for s in suites)
    assert lint_mappings([REPO / "mappings"]) == []


def test_a_wrong_expectation_fails_with_a_readable_diff(tmp_path: Path) -> None:
    suite = tmp_path / "x_test.yaml"
    suite.write_text(
        f"mapping: {REPO / 'mappings/open-eplatform/bygglov.yaml'}\n"
        "tests:\n"
        f"  - name: wrong measure\n    input: {SAMPLES / 'bygglov-person.xml'}\n"
        "    expect_subset: {details: {bygglov: {measure: rivning}}}\n"
        f"  - name: expects errors that do not happen\n    input: {SAMPLES / 'bygglov-person.xml'}\n"
        "    expect_errors: [{rule: title}]\n",
        encoding="utf-8")
    first, second = load_suite(suite)
    assert run_case(first) == ["details.bygglov.measure: expected 'rivning', got 'nybyggnad'"]
    assert run_case(second) == ["expected the run to fail, but it produced an output"]


def test_a_suite_pointing_at_a_missing_input_is_a_config_error(tmp_path: Path) -> None:
    suite = tmp_path / "y_test.yaml"
    suite.write_text(f"mapping: {REPO / 'mappings/open-eplatform/bygglov.yaml'}\n"
                     "tests: [{name: n, input: nope.xml, expect: {}}]\n", encoding="utf-8")
    with pytest.raises(MappingConfigError, match=r"tests\[0\]\.input"):
        load_suite(suite)


@pytest.mark.parametrize("sample", ["bygglov-person.xml", "bygglov-organisation.xml", "bygglov-latin1.xml"])
def test_engine_and_hand_written_translation_agree(sample: str) -> None:
    mapping = compile_mapping(REPO / "mappings/open-eplatform/bygglov.yaml")
    data = (SAMPLES / sample).read_bytes()
    tenant = {"kommunkod": "1881", "name": "Kumla kommun"}
    hand = handwritten_bygglov.translate(data, tenant)
    engine = mapping.run(data)
    if sample == "bygglov-organisation.xml":
        # the yardstick only knows the applicant; the engine also adds the organisation's contact person
        engine["parties"] = engine["parties"][:1]
    assert engine == hand
