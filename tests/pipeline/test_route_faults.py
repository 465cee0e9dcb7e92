"""Faults heal themselves and problems show: the route under faults from the simulators' fault plans.

The long runs (outages over many ticks, SIGKILL, PostgreSQL) are in `make faults` (bench/faults.py); these are
the rules, one fault at a time, over real HTTP.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from routing import local
from sqlalchemy import update

from brygga.cli import main
from brygga.ledger import Delivery, State
from brygga.ledger.models import utcnow
from brygga.ledger.workers import host_id, process_start, worker_id
from brygga.pipeline import archive, check, deliver, intake, notify, translate

SAMPLE = "bygglov-person.xml"
PERSONNUMMER = "19121212-1212"
QUOTING_FAULT = f"Personnummer {PERSONNUMMER} (tolvan@example.se, 070-123 45 67) är redan sökande i ett ärende"


def _twice_at_once(work) -> list[Exception]:  # type: ignore[no-untyped-def]
    """Run ``work`` in two threads released together; their exceptions, which would otherwise vanish."""
    start, failures = threading.Barrier(2), []

    def run() -> None:
        start.wait()
        try:
            work()
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def _deliveries(route, sid, target="byggr"):  # type: ignore[no-untyped-def]
    return [d for d in route.context().ledger.deliveries(sid) if d.target == target]


def test_an_outage_is_waited_out_by_time_not_by_runs(route, byggr, caplog):
    byggr.app.faults.set([{"operation": "*", "action": "http_status", "status": 503}])
    route.drop(SAMPLE)
    with caplog.at_level(logging.WARNING):
        route.run()
    submission = route.submission(SAMPLE)
    (delivery,) = _deliveries(route, submission.id)
    assert submission.state == State.TRANSLATED and delivery.state == "failed"
    assert delivery.next_attempt_at is not None and delivery.lease_owner is None
    warning = next(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and submission.id in
                   r.getMessage())
    assert "target byggr failed (attempt 1" in warning and "HTTP 503" in warning and "rule: transient" in warning

    calls = len(byggr.app.faults.received())
    for _ in range(3):  # schedule ticks inside the backoff: nobody calls the target, nobody quarantines
        route.run()
    assert len(byggr.app.faults.received()) == calls
    assert route.context().ledger.steps(submission.id)[-1].outcome == "waiting"
    assert route.submission(SAMPLE).state == State.TRANSLATED

    byggr.app.faults.clear()
    with route.context().ledger.session() as s:  # the backoff has passed
        s.execute(update(Delivery).values(next_attempt_at=utcnow()))
    route.run()
    assert route.submission(SAMPLE).state == State.COMPLETED and len(byggr.app.cases) == 1


def test_only_a_spent_budget_quarantines_and_the_reason_says_so(route, byggr):
    route.retry(budget="0s")
    byggr.app.faults.set([{"operation": "*", "action": "http_status", "status": 503}])
    route.drop(SAMPLE)
    route.run()
    submission = route.submission(SAMPLE)
    (reason,) = route.context().ledger.quarantine_reasons(submission.id)
    assert submission.state == State.QUARANTINED
    assert "target byggr unavailable for" in reason and "retry budget of 0 s (retry.budget)" in reason


@pytest.mark.parametrize("fault", [
    {"action": "soap_fault", "faultcode": "Server", "faultstring": "database deadlock, try again"},
    {"action": "html_200"},
    {"action": "http_status", "status": 500},
    {"action": "reset"},
], ids=["soap-server-fault", "maintenance-page", "http-500", "connection-reset"])
def test_a_transient_fault_is_retried_and_the_lease_released(route, byggr, fault):
    route.retry(first_delay="0s", max_delay="0s", in_doubt_delay="0s")  # a reset after sending is in doubt
    byggr.app.faults.set([{"operation": "SaveNewArende", "nth": 1, **fault}])
    route.drop(SAMPLE)
    route.run()
    submission = route.submission(SAMPLE)
    (delivery,) = _deliveries(route, submission.id)
    assert submission.state == State.TRANSLATED, route.context().ledger.quarantine_reasons(submission.id)
    assert delivery.lease_owner is None and delivery.state in ("failed", "in_doubt")
    route.run()
    assert route.submission(SAMPLE).state == State.COMPLETED
    assert len(byggr.app.cases) == 1


def test_a_soap_client_fault_quarantines_at_once_without_the_values_it_quotes(route, byggr, caplog, capsys):
    byggr.app.faults.set([{"operation": "SaveNewArende", "action": "soap_fault", "faultcode": "Client",
                           "faultstring": QUOTING_FAULT}])
    route.drop(SAMPLE)
    with caplog.at_level(logging.DEBUG):
        route.run()
    ledger = route.context().ledger
    submission = route.submission(SAMPLE)
    assert submission.state == State.QUARANTINED
    (reason,) = ledger.quarantine_reasons(submission.id)
    assert "s:Client" in reason and "är redan sökande" in reason, "the code and the rest of the text are kept"
    texts = {"reason": reason, "last_error": _deliveries(route, submission.id)[0].last_error,
             "brygga trace": _trace_output(submission.id, capsys),
             "steps": "\n".join(str(s.detail) for s in ledger.steps(submission.id)),
             "log": "\n".join(r.getMessage() for r in caplog.records)}
    for where, text in texts.items():
        for value in (PERSONNUMMER, PERSONNUMMER[2:], "tolvan@example.se", "070-123 45 67"):
            assert value not in text, f"{value} in clear in {where}"
    assert any(r.levelno == logging.WARNING and f"submission {submission.id} quarantined at deliver" in
               r.getMessage() for r in caplog.records)


def _trace_output(submission_id: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``brygga trace`` prints for a submission, as an administrator reads it."""
    capsys.readouterr()
    assert main(["trace", submission_id]) == 0
    return capsys.readouterr().out


def test_a_create_that_commits_after_the_read_timeout_is_checked_before_a_second_create(route, byggr):
    route.connect("byggr_kumla", local(byggr) + "&read_timeout=1")
    byggr.app.faults.set([{"operation": "SaveNewArende", "nth": 1, "action": "commit_after", "seconds": 2}])
    route.drop(SAMPLE)
    route.run()
    submission = route.submission(SAMPLE)
    (delivery,) = _deliveries(route, submission.id)
    assert delivery.state == "in_doubt" and "outcome is unknown" in delivery.last_error
    assert delivery.next_attempt_at >= utcnow().replace(tzinfo=None) + timedelta(seconds=50), "the settle delay"
    route.run()
    assert route.context().ledger.steps(submission.id)[-1].outcome == "waiting", "no retry before it settles"
    committed = threading.Event()
    for _ in range(100):  # the simulator commits 2 s after the call; poll it rather than sleep blindly
        if byggr.app.cases:
            committed.set()
            break
        committed.wait(0.1)
    assert committed.is_set()
    with route.context().ledger.session() as s:  # the settle delay has passed
        s.execute(update(Delivery).values(next_attempt_at=utcnow()))
    route.run()
    assert route.submission(SAMPLE).state == State.COMPLETED
    assert len(byggr.app.cases) == 1 and len(byggr.app.faults.received("SaveNewArende")) == 1


def test_two_runs_at_once_send_each_callback_once(route, byggr, callback):
    route.drop(SAMPLE)
    ctx = route.context()
    batch = intake(ctx)
    for step in (translate, deliver, archive):
        step(ctx, batch)
    callback.app.faults.set([{"operation": "setStatus", "action": "delay", "seconds": 1}])
    assert _twice_at_once(lambda: notify(route.context(), batch)) == []
    assert [c.operation for c in callback.app.calls] == ["setStatus", "addMessage", "confirmDelivery"]
    notify(route.context(), batch)
    assert route.submission(SAMPLE).state == State.COMPLETED and len(callback.app.calls) == 3


def test_a_retry_after_a_failed_confirmation_does_not_send_the_message_again(route, callback):
    route.retry(first_delay="0s", max_delay="0s")
    callback.app.faults.set([{"operation": "confirmDelivery", "nth": 1, "action": "http_status", "status": 503}])
    route.drop(SAMPLE)
    route.run()
    assert route.submission(SAMPLE).state == State.ARCHIVED
    route.run()
    assert route.submission(SAMPLE).state == State.COMPLETED
    assert len(callback.app.calls_for("addMessage")) == 1 and len(callback.app.calls_for("setStatus")) == 1


def test_the_runs_check_reports_quarantines_and_calls_over_half_their_budget(route, byggr):
    route.drop(SAMPLE)
    route.drop("bygglov-malformed.xml")
    batch = route.run()
    health = check(route.context(), batch)
    malformed = route.submission("bygglov-malformed.xml")
    assert not health.ok and health.quarantined == [malformed.id]
    assert f"brygga trace {malformed.id}" in health.summary()

    byggr.app.faults.set([{"operation": "*", "action": "http_status", "status": 503}])
    route.drop("bygglov-organisation.xml")
    batch = route.run()
    assert check(route.context(), batch).ok, "a fresh outage heals itself: no alarm yet"
    with route.context().ledger.session() as s:  # twelve hours into a 24-hour budget
        s.execute(update(Delivery).values(first_attempt_at=utcnow() - timedelta(hours=12)))
    health = check(route.context(), batch)
    (failing,) = health.failing
    assert failing.site == "byggr" and failing.budget == timedelta(hours=24)
    assert "failing for over half their retry budget" in health.summary()


def test_two_whole_runs_at_once_lose_nothing_and_do_everything_once(route, byggr, callback):
    for name in (SAMPLE, "bygglov-organisation.xml"):
        route.drop(name)
    byggr.app.faults.set([{"operation": "SaveNewArende", "action": "delay", "seconds": 0.5}])

    def two_runs() -> None:
        route.run()
        route.run()  # the one that deferred to the other carries on in its next run

    assert _twice_at_once(two_runs) == []
    for name in (SAMPLE, "bygglov-organisation.xml"):
        assert route.submission(name).state == State.COMPLETED
    assert len(byggr.app.cases) == 2 and len(callback.app.calls_for("addMessage")) == 2
    assert len(list((route.home / "archive-out").iterdir())) == 2


def test_what_a_killed_run_left_in_staging_and_the_drop_folder_is_swept(route):
    staging, drop = route.home / "archive-staging", route.home / "archive-out"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead_owner = f"{host_id()}:{child.pid}:{process_start(child.pid)}"
    child.kill()
    child.wait()

    def left(folder: Path, name: str, *, days_old: float = 0) -> Path:
        path = folder / name
        (path / "metadata").mkdir(parents=True)
        (path / "metadata" / "case.json").write_text("{}")
        stamp = time.time() - days_old * 86400
        os.utime(path, (stamp, stamp))
        return path

    killed = left(staging, "run-" + dead_owner.replace(":", "~").replace("/", "+") + "-abc123")
    running = left(staging, "run-" + worker_id().replace(":", "~").replace("/", "+") + "-def456")
    legacy = left(staging, "brygga-old-package", days_old=2)
    interrupted_copy = left(drop, ".incoming-brygga-x-0123456789ab", days_old=1)
    copy_under_way = left(drop, ".incoming-brygga-y-0123456789ab")
    route.drop(SAMPLE)
    route.run()
    assert route.submission(SAMPLE).state == State.COMPLETED
    assert not killed.exists() and not legacy.exists() and not interrupted_copy.exists()
    assert running.exists() and copy_under_way.exists()
