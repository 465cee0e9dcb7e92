"""`make faults` smoke: one short scenario through the runner's own code, with real simulators and child processes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _runner():
    if "faults_runner" not in sys.modules:
        sys.path.insert(0, str(BENCH))
        spec = importlib.util.spec_from_file_location("faults_runner", BENCH / "faults.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["faults_runner"] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return sys.modules["faults_runner"]


def test_byggr_down_for_two_ticks_loses_nothing_and_duplicates_nothing():
    runner = _runner()
    lines: list[str] = []

    result = runner.run_scenario(runner.SMOKE, log=lines.append)

    assert result.skipped is None
    assert result.settled, lines
    assert result.submissions == 2
    assert result.lost == 0, lines
    assert (result.duplicate_cases, result.duplicate_documents, result.duplicate_packages,
            result.duplicate_callbacks) == (0, 0, 0, 0), lines
    assert result.faults_fired >= 2, "the outage happened: the simulator answered calls with 503"
    assert result.meets_target and result.red_ticks == 0


def test_every_row_of_the_table_has_a_scenario():
    runner = _runner()
    names = {scenario.name for scenario in runner.SCENARIOS}
    assert len(names) == len(runner.SCENARIOS)
    assert {"byggr-down-5", "soap-server-fault", "html-200", "no-connection", "archive-read-only", "archive-full",
            "sqlite-locked", "commit-after", "two-runs", "kill-after-create", "personnummer-fault", "http-500",
            "http-503", "reset", "slow", "lost-after-create", "lost-after-documents", "callback-down",
            "kill-random-sqlite", "kill-random-postgresql"} <= names
    assert any(scenario.drawings and scenario.drawing_bytes >= 10 * 1024 * 1024 for scenario in runner.SCENARIOS)


def test_the_table_goes_between_the_markers(tmp_path):
    runner = _runner()
    doc = tmp_path / "reliability.md"
    doc.write_text("before\n<!-- faults:begin -->\nold\n<!-- faults:end -->\nafter\n", encoding="utf-8")
    result = runner.Result("x", "a fault", "0 replays", ticks=3, submissions=2, meets_target=True)

    runner.write_between_markers(doc, runner.table([result], quick=True, seconds=1.0))

    text = doc.read_text(encoding="utf-8")
    assert text.startswith("before\n<!-- faults:begin -->\nMeasured ") and text.endswith("<!-- faults:end -->\nafter\n")
    assert "old" not in text and "| a fault | 0 replays | 3 | 2 | 0 |" in text
