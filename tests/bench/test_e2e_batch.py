"""The end-to-end bench runs a small batch through the real DAG and the baseline and reports every figure, with the
counts it checked. No timing is asserted here: speed lives in bench/."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "e2e_batch.py"
COUNTS = ("20 of 20 completed; 20 cases in the ByggR simulator (0 duplicates); 20 SIPs in the archive folder; "
          "status callbacks for 20 flow instances; 0 files left in the inbox")


def _tables(report: str) -> list[list[str]]:
    tables: list[list[str]] = []
    previous = ""
    for line in report.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    return tables


def _cells(report: str, label: str) -> list[str]:
    (row,) = [line for line in report.splitlines() if line.startswith(f"| {label} |")]
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_twenty_submissions_run_end_to_end_and_every_figure_is_written(tmp_path: Path) -> None:
    out = tmp_path / "e2e.md"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--submissions", "20", "--batch-size", "5", "--profile",
         "--profile-submissions", "5", "--write", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=1200, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    report = out.read_text(encoding="utf-8")
    assert report == done.stdout

    # The counts the bench checked at the source of truth, for the DAG and for the baseline.
    assert f"- checked after the DAG runs: {COUNTS}" in report
    assert f"- checked after the baseline: {COUNTS}" in report
    assert "4 DAG runs; the baseline 20 submissions in 4 runs" in report  # batch_size 5 drains 20 in 4 runs
    assert "journal_mode wal" in report

    for needle in ("- command: `", "- date: ", "- machine: ", "apache-airflow ", "## Throughput",
                   "## Cost per submission, by step", "## The ledger's share", "## Memory", "## Profile",
                   "## Verdict", "≥ 100", "≤ 20%", "< 300 MB"):
        assert needle in report, needle

    throughput = _cells(report, "submissions/s")
    assert float(throughput[1]) > 0 and float(throughput[2]) > 0  # the DAG's figure and the baseline's
    assert throughput[4] in ("**pass**", "**FAIL**")
    for step in ("intake", "translate", "deliver", "archive", "notify", "check"):
        dag_ms, baseline_ms = float(_cells(report, step)[1]), float(_cells(report, step)[3])
        assert dag_ms > 0 and baseline_ms > 0, step  # the step ran, in the DAG's tasks and in the baseline
    airflow = "**Airflow's own overhead (wall − steps)**; baseline: `PipelineContext` per run"
    assert float(_cells(report, airflow)[1]) > 0
    ledger = _cells(report, "transactions (commits) per submission")
    assert float(ledger[1]) >= 1 and float(ledger[2]) >= 1  # the ledger's own commits were seen, not Airflow's only
    assert _cells(report, "share of the steps' time")[4] in ("**pass**", "**FAIL**")

    # RSS after the first run and after the last (20 done), the peak and a slope over the 3 runs after the first.
    assert _cells(report, "**after the first run (baseline)**")[1] == "5"
    assert _cells(report, "after 100% of the batch")[1] == "20"
    assert re.fullmatch(r"[\d,.]+ MB", _cells(report, "peak (sampled over the DAG phase, warm-up included)")[2])
    assert re.fullmatch(r"[+-]\d+\.\d\d", _cells(report, "slope over the runs after the first, MB per 1,000 "
                                                         "submissions")[3])

    # The profile names the steps' functions; every table is well formed.
    assert "brygga/pipeline/" in report.split("## Profile")[1]
    tables = _tables(report)
    assert len(tables) == 6
    for table in tables:
        assert set(table[1].strip("|").split("|")) <= {"---", "---:"}
        assert len({row.count("|") for row in table}) == 1, table
