"""`make bench` runs and writes a well-formed report. No timing is asserted here: speed lives in bench/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "core_path.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_quick_run_writes_the_report_with_every_row(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    done = _run("--write", str(out))
    assert done.returncode == 0, done.stderr
    report = out.read_text(encoding="utf-8")
    assert report == done.stdout  # the same table on stdout
    assert "QUICK MODE" in report
    assert "- outputs equal: yes" in report
    for needle in (
        "- command: `",
        "- date: ",
        "- machine: ",
        "jsonschema-rs ",
        "lxml ",
        "python ",
        "bygglov-person.xml",
        "3 attachments",
        "| µs/submission, CPU, median |",
        "| µs/submission, wall, median |",
        "| submissions/s/core (CPU, median) |",
        "| engine / baseline (median of per-round ratios) |",
        "≥ 5,000",
        "≤ 1.25×",
        "| engine with `jsonschema` |",
        "| parse (",
        "| attachments out of the tree",
        "| map (isolated",
        "| validate (`validate_case`",
        "| serialize (",
        "Hotspots",
        "## How to read this",
    ):
        assert needle in report, needle
    # every table row has as many cells as its header
    tables: list[list[str]] = []
    previous = ""
    for line in report.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    assert len(tables) == 4
    for table in tables:
        assert set(table[1].strip("|").split("|")) <= {"---", "---:"}
        widths = {row.count("|") for row in table}
        assert len(widths) == 1, table


def test_another_sample_can_be_chosen_and_a_disagreement_fails_loudly(tmp_path: Path) -> None:
    # The organisation sample: the engine adds the organisation's contact person, the baseline does not.
    sample = REPO / "tests" / "samples" / "open-eplatform" / "bygglov-organisation.xml"
    out = tmp_path / "p.md"
    done = _run("--sample", str(sample), "--write", str(out))
    assert done.returncode != 0
    assert "produce different output" in done.stderr
    assert '"contact"' in done.stderr
    assert not out.exists()


def test_the_memory_benchmark_runs_and_reports_both_figures(tmp_path: Path) -> None:
    out = tmp_path / "memory.md"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "memory.py"), "--quick", "--write", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    report = out.read_text(encoding="utf-8")
    assert "QUICK MODE" in report
    assert "## Intake + translate" in report and "## Deliver" in report
    assert report.count("| 5 MB |") == 2  # the large row of each table was measured, its document checked at the target
    assert report.count("**pass**") + report.count("**FAIL**") == 2
