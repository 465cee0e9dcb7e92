from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from brygga.errors import ConfigError
from brygga.ledger import Ledger, State


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def _land(ledger: Ledger, sha: str = "a" * 64, route: str = "r1"):
    return ledger.land(route_id=route, tenant="1881", content_sha256=sha, raw_path="/x", source_name="f.xml")


def test_same_bytes_twice_is_one_submission(ledger):
    first, second = _land(ledger), _land(ledger)
    assert first.created and not second.created
    assert first.submission_id == second.submission_id
    assert _land(ledger, route="r2").submission_id != first.submission_id


def test_claim_then_done_returns_the_recorded_reference(ledger):
    sid = _land(ledger).submission_id
    claim = ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="k1", owner="w1")
    assert claim.outcome == "go"
    ledger.complete_delivery("k1", "BN 2026-000001")
    again = ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="k1", owner="w2")
    assert (again.outcome, again.external_ref) == ("done", "BN 2026-000001")


def test_a_held_lease_makes_a_second_worker_wait(ledger):
    sid = _land(ledger).submission_id
    assert ledger.claim_delivery(submission_id=sid, target="t", idempotency_key="k", owner="w1").outcome == "go"
    assert ledger.claim_delivery(submission_id=sid, target="t", idempotency_key="k", owner="w2").outcome == "busy"


def test_a_failed_delivery_is_taken_over_and_counts_attempts(ledger):
    sid = _land(ledger).submission_id
    first = ledger.claim_delivery(submission_id=sid, target="t", idempotency_key="k", owner="w1")
    ledger.fail_delivery("k", first.token, "timeout")
    retry = ledger.claim_delivery(submission_id=sid, target="t", idempotency_key="k", owner="w2")
    assert (retry.outcome, retry.attempts) == ("go", 2)


def test_an_expired_lease_is_taken_over(ledger):
    sid = _land(ledger).submission_id
    ledger.claim_delivery(submission_id=sid, target="t", idempotency_key="k", owner="w1", lease=timedelta(seconds=-1))
    assert ledger.claim_delivery(submission_id=sid, target="t", idempotency_key="k", owner="w2").outcome == "go"


def test_concurrent_claims_let_exactly_one_worker_go(ledger):
    sid = _land(ledger).submission_id
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def claim(n: int) -> None:
        barrier.wait()
        outcomes.append(ledger.claim_delivery(submission_id=sid, target="t", idempotency_key="k",
                                              owner=f"w{n}").outcome)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["busy"] * 7 + ["go"]


def test_quarantine_records_reasons_and_release_requeues(ledger):
    sid = _land(ledger).submission_id
    ledger.quarantine(sid, "translate", ["mapping m.yaml: rule x (source /a): bad"])
    assert ledger.get(sid).state == State.QUARANTINED
    assert ledger.quarantine_reasons(sid) == ["mapping m.yaml: rule x (source /a): bad"]
    assert sid not in ledger.unfinished("r1")
    ledger.release(sid, State.LANDED)
    assert ledger.get(sid).state == State.LANDED
    assert ledger.quarantine_reasons(sid) == []
    assert ledger.unfinished("r1") == [sid]


def test_timed_step_records_errors_by_type_only(ledger):
    sid = _land(ledger).submission_id
    with pytest.raises(KeyError), ledger.timed_step(sid, "translate"):
        raise KeyError("Anna Svensson")
    (step,) = ledger.steps(sid)
    assert (step.outcome, step.detail) == ("error", "KeyError")
    assert step.duration_ms >= 0


def test_find_by_id_source_reference_and_diarienummer(ledger):
    from brygga.admin import SearchQuery, search

    sid = _land(ledger).submission_id
    ledger.update(sid, source_reference="1001")
    ledger.claim_delivery(submission_id=sid, target="t", idempotency_key="k", owner="w")
    ledger.complete_delivery("k", "BN 2026-000042")
    for term in (sid, "1001", "BN 2026-000042"):
        assert [s.id for s in search(ledger, SearchQuery(text=term))] == [sid]
    assert search(ledger, SearchQuery(text="nothing")) == []


def test_a_ledger_made_by_an_older_brygga_is_upgraded_in_place(tmp_path, caplog):
    path = tmp_path / "old.sqlite"
    old = Ledger(f"sqlite:///{path}")
    sid = _land(old).submission_id
    old.claim_delivery(submission_id=sid, target="byggr", idempotency_key="k", owner="w1",
                       lease=timedelta(seconds=-1))
    old.engine.dispose()
    with sqlite3.connect(path) as db:  # as the previous release made it
        db.execute("DROP INDEX ix_deliveries_last_attempt_at")  # SQLite drops no indexed column
        for column in ("lease_token", "first_attempt_at", "last_attempt_at", "next_attempt_at"):
            db.execute(f"ALTER TABLE deliveries DROP COLUMN {column}")
        db.execute("ALTER TABLE submissions DROP COLUMN purged_at")
        db.execute("DROP TABLE audit")
        # As v0 made it: no revision, so no unique key on it either. SQLite drops a constraint by rebuilding.
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'submissions'").fetchone()
        v0 = sql.replace("revision INTEGER, ", "").replace(
            ", \n\tCONSTRAINT uq_submission_revision UNIQUE (route_id, source_reference, revision)", "")
        assert "revision" not in v0
        columns = ", ".join(r[1] for r in db.execute("PRAGMA table_info(submissions)") if r[1] != "revision")
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute(v0.replace("CREATE TABLE submissions", "CREATE TABLE submissions_v0"))
        db.execute(f"INSERT INTO submissions_v0 ({columns}) SELECT {columns} FROM submissions")
        db.execute("DROP TABLE submissions")
        db.execute("ALTER TABLE submissions_v0 RENAME TO submissions")
    with caplog.at_level(logging.WARNING):
        upgraded = Ledger(f"sqlite:///{path}")
    assert "added submissions.revision, submissions.purged_at" in caplog.text
    assert "submissions.uq_submission_revision" in caplog.text and "deliveries.lease_token" in caplog.text
    assert upgraded.get(sid).purged_at is None
    (row,) = upgraded.deliveries(sid)
    assert row.lease_token == 0, "existing rows take the column's default"
    again = upgraded.claim_delivery(submission_id=sid, target="byggr", idempotency_key="k", owner="w2")
    assert again.outcome == "go" and again.token == 1, "the old row's expired lease is taken with the fencing token"
    upgraded.audit("admin", "replay", sid)
    assert [e.action for e in upgraded.audit_log(sid)] == ["replay"]
    # The unique key two runs translating at once rely on is back: the second claim of revision 2 loses.
    for sha in ("x" * 64, "y" * 64):
        other = _land(upgraded, sha=sha).submission_id
        won = upgraded.advance(other, State.LANDED, state=State.TRANSLATED, source_reference="1001", revision=2)
        assert won == (sha == "x" * 64)


def test_a_column_existing_rows_cannot_take_is_refused_with_a_plain_reason(tmp_path):
    path = tmp_path / "old.sqlite"
    Ledger(f"sqlite:///{path}").engine.dispose()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE submissions DROP COLUMN tenant")
    with pytest.raises(ConfigError, match=r"table submissions lacks tenant, which existing rows cannot be given"):
        Ledger(f"sqlite:///{path}")


def test_of_two_runs_moving_a_submission_on_only_one_does(ledger):
    sid = _land(ledger).submission_id
    assert ledger.advance(sid, State.LANDED, state=State.TRANSLATED)
    assert not ledger.advance(sid, State.LANDED, state=State.DUPLICATE), "the other run found it translated"
    assert ledger.get(sid).state == State.TRANSLATED


def test_a_submission_is_no_version_of_itself(ledger):
    sid = _land(ledger).submission_id
    ledger.update(sid, source_reference="1001", content_fingerprint="f" * 64, revision=1)
    assert ledger.versions("r1", "1001", besides=sid) == []
    assert [v.id for v in ledger.versions("r1", "1001", besides="other")] == [sid]


def test_two_processes_may_create_a_fresh_ledger_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    code = f"from brygga.ledger import Ledger; Ledger({url!r})"
    starts = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1].decode() for p in starts]
    assert [p.returncode for p in starts] == [0] * 4, errors
