"""The delivery claim under the retry rules: backoff, fencing, a dead worker's lease, in-doubt settling, and a
ledger that keeps its values to itself."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from brygga.ledger import Ledger
from brygga.ledger.models import utcnow
from brygga.ledger.workers import Liveness, liveness, worker_id


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger(f"sqlite:///{tmp_path / 'ledger' / 'ledger.sqlite'}")


@pytest.fixture
def sid(ledger) -> str:
    return ledger.land(route_id="r", tenant="1881", content_sha256="c" * 64, raw_path="/x",
                       source_name="f.xml").submission_id


def _claim(ledger: Ledger, sid: str, owner: str = "w1", **kw):  # type: ignore[no-untyped-def]
    return ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="k", owner=owner, **kw)


def test_a_failed_call_waits_out_its_backoff(ledger, sid):
    first = _claim(ledger, sid)
    later = utcnow() + timedelta(minutes=1)
    assert ledger.fail_delivery("k", first.token, "HTTP 503", next_attempt_at=later)
    waiting = _claim(ledger, sid, "w2")
    assert (waiting.outcome, waiting.next_attempt_at) == ("wait", later)
    go = _claim(ledger, sid, "w2", now=later + timedelta(seconds=1))
    assert (go.outcome, go.attempts, go.first_attempt_at) == ("go", 2, first.first_attempt_at)


def test_the_fencing_token_shuts_out_a_worker_whose_lease_was_taken(ledger, sid):
    slow = _claim(ledger, sid, lease=timedelta(seconds=-1))  # its lease has run out while it still works
    fast = _claim(ledger, sid, "w2")
    assert fast.outcome == "go" and fast.token > slow.token and fast.in_doubt
    assert not ledger.fail_delivery("k", slow.token, "late failure"), "the old worker may not record a failure"
    ledger.complete_delivery("k", "BN 2026-000001")
    assert _claim(ledger, sid, "w3").outcome == "done"


def test_a_dead_workers_lease_is_taken_back_at_once_after_the_settle_delay(ledger, sid):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    dead_owner = f"{worker_id().split(':')[0]}:{child.pid}:{started}"
    attempt_at = utcnow()
    assert _claim(ledger, sid, dead_owner, now=attempt_at).outcome == "go"
    assert _claim(ledger, sid, "w2", now=attempt_at).outcome == "busy", "its worker is alive"
    child.kill()
    child.wait()
    settle = timedelta(seconds=40)
    waiting = _claim(ledger, sid, "w2", settle=settle, now=attempt_at + timedelta(seconds=1))
    assert (waiting.outcome, waiting.in_doubt) == ("wait", True)
    assert waiting.next_attempt_at == attempt_at + settle, "not the 5-minute lease: the settle delay"
    taken = _claim(ledger, sid, "w2", settle=settle, now=attempt_at + settle)
    assert (taken.outcome, taken.in_doubt) == ("go", True)


def test_an_in_doubt_failure_is_kept_as_such(ledger, sid):
    first = _claim(ledger, sid)
    ledger.fail_delivery("k", first.token, "read timeout", next_attempt_at=utcnow(), in_doubt=True)
    (row,) = ledger.deliveries(sid)
    assert row.state == "in_doubt" and row.lease_owner is None
    assert _claim(ledger, sid, "w2").in_doubt


def test_a_released_lease_may_be_taken_at_once(ledger, sid):
    first = _claim(ledger, sid)
    ledger.release_delivery("k", first.token)
    assert _claim(ledger, sid, "w2").outcome == "go"


def test_a_replay_gets_a_fresh_budget(ledger, sid):
    first = _claim(ledger, sid, now=utcnow() - timedelta(days=2))
    ledger.fail_delivery("k", first.token, "HTTP 503")
    ledger.quarantine(sid, "deliver", ["target byggr unavailable"])
    ledger.release(sid, "translated")
    again = _claim(ledger, sid, "w2")
    assert again.outcome == "go" and utcnow() - again.first_attempt_at < timedelta(minutes=1)


def test_errors_and_reasons_are_redacted_before_they_are_stored(ledger, sid):
    first = _claim(ledger, sid)
    ledger.fail_delivery("k", first.token, "SOAP fault s:Client: personnummer 19121212-1212 finns")
    ledger.quarantine(sid, "deliver", ["target refused: anna@example.se"])
    (row,) = ledger.deliveries(sid)
    assert "1212" not in row.last_error and "anna@" not in ledger.quarantine_reasons(sid)[0]


def test_a_failing_statement_does_not_print_its_values(ledger, sid):
    with pytest.raises(IntegrityError) as raised, ledger.session() as s:
        s.execute(text("INSERT INTO submissions (id, route_id, tenant, content_sha256, raw_path, source_name, state,"
                       " received_at, updated_at) VALUES (:id, 'r', '1881', :sha, '/x', :name, 'landed', 0, 0)"),
                  {"id": sid, "sha": "d" * 64, "name": "Anna Svensson 19121212-1212.xml"})
    assert "Anna" not in str(raised.value) and "hidden" in str(raised.value)


def test_the_ledger_file_and_its_folder_are_private(ledger, tmp_path):
    folder = tmp_path / "ledger"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "ledger.sqlite").stat().st_mode) == 0o600


def test_the_busy_timeout_is_taken_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BRYGGA_SQLITE_BUSY_TIMEOUT_MS", "1234")
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}")
    with ledger.engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 1234
    monkeypatch.setenv("BRYGGA_SQLITE_BUSY_TIMEOUT_MS", "soon")
    with pytest.raises(Exception, match="BRYGGA_SQLITE_BUSY_TIMEOUT_MS must be a whole number"):
        Ledger(f"sqlite:///{tmp_path / 'm.sqlite'}")


def test_worker_id_names_this_process_and_fits_its_column():
    host, pid, started = worker_id().split(":")
    assert host.startswith(socket.gethostname()[:20] + "/") and int(pid) == os.getpid() and started.isdigit()
    assert len(worker_id()) <= 64
    assert liveness(worker_id()) is Liveness.ALIVE


def test_a_look_alike_host_is_another_host(monkeypatch):
    """Pods whose names share a prefix, or containers with their own pid namespace, are other hosts."""
    other = f"{socket.gethostname()[:20]}/000000000000:{os.getpid()}:1"
    assert liveness(other) is Liveness.UNKNOWN


def test_a_live_worker_on_this_host_keeps_its_lease_past_its_expiry(ledger, sid):
    assert _claim(ledger, sid, worker_id(), lease=timedelta(seconds=-1)).outcome == "go"
    assert _claim(ledger, sid, "w2").outcome == "busy", "a long upload is not taken over while its worker lives"


def test_a_replay_keeps_an_in_doubt_calls_settle_delay(ledger, sid):
    first = _claim(ledger, sid)
    settle_until = utcnow() + timedelta(minutes=1)
    ledger.fail_delivery("k", first.token, "read timeout", next_attempt_at=settle_until, in_doubt=True)
    ledger.quarantine(sid, "deliver", ["x"])
    ledger.release(sid, "translated")
    waiting = _claim(ledger, sid, "w2")
    assert (waiting.outcome, waiting.in_doubt, waiting.next_attempt_at) == ("wait", True, settle_until)


def test_a_release_with_a_settle_time_leaves_the_call_in_doubt(ledger, sid):
    first = _claim(ledger, sid)
    settle_until = utcnow() + timedelta(minutes=1)
    ledger.release_delivery("k", first.token, settle_until=settle_until)
    (row,) = ledger.deliveries(sid)
    assert row.state == "in_doubt" and row.lease_owner is None
    assert _claim(ledger, sid, "w2").outcome == "wait"


def test_a_call_site_forgotten_between_the_insert_and_the_read_is_claimed_afresh(ledger, sid, monkeypatch):
    first = _claim(ledger, sid)
    real_session = ledger.session
    calls = []

    def session():  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:  # right after this worker's insert failed, the other worker forgets its row
            ledger.forget_delivery("k")
        return real_session()

    monkeypatch.setattr(ledger, "session", session)
    again = _claim(ledger, sid, "w2")
    assert first.outcome == "go" and again.outcome == "go" and again.attempts == 1
