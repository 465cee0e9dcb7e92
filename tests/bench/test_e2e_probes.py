"""The end-to-end bench's own instruments: unique submissions, and a ledger clock that counts only the ledger."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from e2e_probes import LedgerClock, RssSampler  # noqa: E402
from e2e_world import FIRST_FLOW_ID, bench_property, sample_path, submission_bytes  # noqa: E402


def test_every_submission_is_a_different_export_with_its_own_flow_instance() -> None:
    sample = sample_path().read_bytes()
    made = [submission_bytes(sample, n) for n in range(50)]
    assert len({hashlib.sha256(data).hexdigest() for data in made}) == 50
    for n, data in enumerate(made):
        assert f"<FlowInstanceID>{FIRST_FLOW_ID + n}</FlowInstanceID>".encode() in data
        assert data.count(b"<FlowInstanceID>") == 1


def test_the_submissions_spread_over_the_properties_the_bench_register_knows() -> None:
    sample = sample_path().read_bytes()
    made = [submission_bytes(sample, n, properties=10) for n in range(50)]
    designations = [bench_property(n % 10)[0] for n in range(50)]
    for data, designation in zip(made, designations, strict=True):
        assert f"<![CDATA[{designation}]]>".encode() in data
        assert b"KVARNEN 4:12" not in data
    assert len(set(designations)) == 10


def test_the_ledger_clock_counts_the_ledgers_statements_and_commits_and_not_another_database(tmp_path: Path) -> None:
    ledger_file, other_file = tmp_path / "ledger.sqlite", tmp_path / "airflow.db"
    clock = LedgerClock(str(ledger_file))
    clock.install()
    try:
        ledger, other = create_engine(f"sqlite:///{ledger_file}"), create_engine(f"sqlite:///{other_file}")
        for engine in (ledger, other):
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE t (x INTEGER)"))
        with other.begin() as conn:
            for i in range(5):
                conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": i})
        with ledger.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            conn.execute(text("INSERT INTO t VALUES (2)"))
    finally:
        clock.uninstall()
    totals = clock.snapshot()
    assert totals.statements == 3  # the ledger's CREATE and two INSERTs; none of the other database's six
    assert totals.commits == 2  # the ledger's two transactions
    assert totals.statement_s > 0 and totals.commit_s > 0
    with ledger.begin() as conn:  # uninstalled: nothing counts any more
        conn.execute(text("INSERT INTO t VALUES (3)"))
    assert clock.snapshot().statements == 3


def test_the_rss_slope_leaves_out_the_first_run_and_needs_two_runs_after_it() -> None:
    sampler = RssSampler()
    mib = 1024 * 1024
    sampler.marks = [(0, 90 * mib), (500, 200 * mib), (1000, 201 * mib)]
    assert sampler.slope_mb_per_1000() is None
    sampler.marks.append((1500, 202 * mib))
    assert sampler.slope_mb_per_1000() == 2.0  # 1 MB per 500 over the runs after the first; the jump before is not
