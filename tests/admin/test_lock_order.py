"""On PostgreSQL every way out of quarantine (replay, discard, supersede) locks the submission's row before its
quarantine rows. Two of them at once then wait for each other in turn; in opposite orders they would deadlock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from admin_ledger import quarantine
from postgres import throwaway_database
from sqlalchemy import text, update

from brygga.ledger import Ledger, Quarantine, State, Submission

WAIT = 10.0  # seconds: far more than a lock wait between two local transactions takes


@pytest.fixture
def pg_ledger() -> Iterator[Ledger]:
    with throwaway_database("brygga_locks") as url:
        ledger = Ledger(url)
        yield ledger
        ledger.engine.dispose()


def _another_session_waits_on_a_lock(ledger: Ledger) -> bool:
    """Whether a session of this (throwaway) database other than the asking one is waiting for a lock."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with ledger.engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")).scalar():
                return True
        time.sleep(0.02)
    return False


def test_a_discard_and_a_supersede_at_once_do_not_deadlock(pg_ledger):
    ledger = pg_ledger
    sid = quarantine(ledger, "v1.xml", "deliver", ["target byggr unavailable"])
    outcome: dict[str, object] = {}

    def supersede() -> None:
        try:
            outcome["superseded"] = ledger.supersede(sid, by="a-later-version")
        except Exception as exc:  # e.g. "deadlock detected": the test's failure, reported below
            outcome["error"] = exc

    with ledger.engine.connect() as operator:
        # An operator's discard, half-way: the submission row is taken, the quarantine rows are next.
        with operator.begin():
            operator.execute(update(Submission).where(Submission.id == sid, Submission.state == State.QUARANTINED)
                             .values(state=State.DISCARDED))
            worker = threading.Thread(target=supersede)
            worker.start()
            assert _another_session_waits_on_a_lock(ledger), "the supersede never waited for the discard"
            operator.execute(text("SET LOCAL lock_timeout = '10s'"))
            operator.execute(update(Quarantine).where(Quarantine.submission_id == sid,
                                                      Quarantine.released_at.is_(None))
                             .values(resolution="discarded", resolved_by="ops-anna"))
        worker.join(WAIT)
    assert not worker.is_alive()
    assert outcome == {"superseded": False}, outcome
    assert ledger.get(sid).state == State.DISCARDED
    (row,) = ledger.quarantines(sid)
    assert row.resolution == "discarded" and row.released_at is None, "the discard's rows, untouched by supersede"
    assert "superseded" not in [step.outcome for step in ledger.steps(sid)]
