"""`make bench`'s page: the sections in order under a summary of every figure with a target."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "report.py"

SPEED = """# Performance: the core path

- date: today

## Core path: parse, map, validate

| figure | engine | baseline | target | result |
|---|---:|---:|---|---|
| µs/submission | 187 | 108 | ≤ 200 | **pass** |
| ratio | 1.73× | 1.00× | ≤ 1.5× | **FAIL** |
| best of 31 | 185 | 105 | | |

Reference, with another validator:

| figure | engine with jsonschema | baseline | target | result |
|---|---:|---:|---|---|
| µs/submission | 1271 | 108 | ≤ 200 | **FAIL** |

## Verdict

The ratio is over.
"""

BATCH = """# Performance: the end-to-end batch

## Memory: RSS of the process running the batch

| point | submissions done | RSS | over the first run | target | result |
|---|---:|---:|---:|---|---|
| after the first run | 500 | 250 MB | | | |
| peak | | 260 MB | +10 MB | < 300 MB | **pass** |
"""


def _run(tmp_path: Path, *sections: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "performance.md"),
                           *map(str, sections)], cwd=REPO, capture_output=True, text=True, timeout=60, check=False)


def test_the_page_lists_every_target_first_then_the_sections_one_level_down(tmp_path: Path) -> None:
    speed, batch = tmp_path / "speed.md", tmp_path / "batch.md"
    speed.write_text(SPEED, encoding="utf-8")
    batch.write_text(BATCH, encoding="utf-8")
    done = _run(tmp_path, speed, batch)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "performance.md").read_text(encoding="utf-8")
    summary, rest = page.split("\n## ", 1)
    assert "2 of 3 targets met." in summary
    assert "| the core path: Core path | µs/submission | ≤ 200 | **pass** |" in summary
    assert "| the core path: Core path | ratio | ≤ 1.5× | **FAIL** |" in summary
    assert "| the end-to-end batch: Memory | peak | < 300 MB | **pass** |" in summary
    assert "jsonschema" not in summary  # the reference table under the same heading is not a target
    assert rest.startswith("Performance: the core path\n")
    assert "\n### Core path: parse, map, validate\n" in rest and "\n## Performance: the end-to-end batch\n" in rest
    assert rest.index("the core path") < rest.index("the end-to-end batch")  # in the order given
    assert "| best of 31 | 185 | 105 | | |" in rest  # sections unchanged but for their headings


def test_a_missing_section_fails_and_writes_nothing(tmp_path: Path) -> None:
    speed = tmp_path / "speed.md"
    speed.write_text(SPEED, encoding="utf-8")
    done = _run(tmp_path, speed, tmp_path / "latency.md")
    assert done.returncode == 1
    assert "latency.md" in done.stderr
    assert not (tmp_path / "performance.md").exists()
