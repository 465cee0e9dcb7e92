"""Health per route and call site, counted on a small ledger built to known numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from admin_ledger import T0, land, quarantine

from brygga.admin import discard, health
from brygga.admin.health import FORGOTTEN_ON_SUCCESS
from brygga.ledger import State
from brygga.pipeline.translate import LOOKUP


@pytest.fixture
def ledger(sql_ledger):  # type: ignore[no-untyped-def]
    """These queries are plain SQL: each test runs on SQLite and on PostgreSQL."""
    return sql_ledger

NOW = T0 + timedelta(hours=2)
SINCE = T0 - timedelta(hours=1)


def _deliver(ledger, sid: str, target: str, *, failures: int, ok: bool, at, retry_at=None) -> None:  # type: ignore[no-untyped-def]
    key = f"{sid}:{target}"
    for n in range(failures + ok):
        claim = ledger.claim_delivery(submission_id=sid, target=target, idempotency_key=key, owner="w",
                                      now=at + timedelta(minutes=n))
        assert claim.outcome == "go"
        if n < failures:
            last = n == failures - 1
            ledger.fail_delivery(key, claim.token, "HTTP 503", next_attempt_at=retry_at if last else None)
        else:
            ledger.complete_delivery(key, "BN 2026-000001")


@pytest.fixture
def world(ledger):  # type: ignore[no-untyped-def]
    old = land(ledger, "old.xml", received_at=T0 - timedelta(days=2))  # unfinished, from before the window
    done = land(ledger, "done.xml", state=State.COMPLETED)
    stuck = quarantine(ledger, "stuck.xml", "translate", ["not well-formed"], received_at=T0 + timedelta(minutes=1))
    waiting = land(ledger, "waiting.xml", state=State.TRANSLATED, received_at=T0 + timedelta(minutes=2))
    land(ledger, "orebro.xml", route="orebro-bygglov", received_at=T0 - timedelta(days=3), state=State.COMPLETED)
    _deliver(ledger, done, "byggr", failures=1, ok=True, at=T0)
    _deliver(ledger, waiting, "byggr", failures=2, ok=False, at=T0, retry_at=T0 + timedelta(hours=3))
    _deliver(ledger, done, "@status_callback", failures=0, ok=True, at=T0)
    return {"old": old, "done": done, "stuck": stuck, "waiting": waiting}


def test_a_route_in_numbers(ledger, world):
    kumla, orebro = health(ledger, since=SINCE, now=NOW)
    assert kumla.route_id == "kumla-bygglov"
    assert (kumla.received, kumla.completed, kumla.quarantined) == (3, 1, 1)
    assert kumla.error_rate == pytest.approx(1 / 3)
    assert (kumla.oldest_unfinished_id, kumla.oldest_unfinished_at) == (world["old"], T0 - timedelta(days=2))
    assert kumla.next_retry_at == T0 + timedelta(hours=3)
    assert (orebro.route_id, orebro.received, orebro.error_rate, orebro.oldest_unfinished_id) == (
        "orebro-bygglov", 0, 0.0, None)
    assert orebro.targets == []


def test_a_call_site_in_numbers(ledger, world):
    (kumla, _) = health(ledger, since=SINCE, now=NOW)
    callback, byggr = kumla.targets
    assert (byggr.target, byggr.delivered, byggr.failing, byggr.attempts) == ("byggr", 1, 1, 4)
    assert byggr.error_rate == pytest.approx(3 / 4), "of 4 calls only the one that delivered went through"
    assert byggr.next_retry_at == T0 + timedelta(hours=3)
    assert (callback.target, callback.delivered, callback.failing, callback.error_rate) == (
        "@status_callback", 1, 0, 0.0)
    assert callback.next_retry_at is None


def test_the_window_decides_what_is_counted(ledger, world):
    (kumla, _) = health(ledger, since=NOW - timedelta(minutes=30), now=NOW)
    assert (kumla.received, kumla.error_rate) == (0, 0.0)
    (byggr,) = [t for t in kumla.targets if t.target == "byggr"]
    assert (byggr.delivered, byggr.attempts, byggr.failing) == (0, 0, 1), "failing is now, whenever it started"
    assert kumla.oldest_unfinished_id == world["old"]


def test_a_call_that_will_never_be_tried_again_is_not_failing(ledger, world):
    ledger.quarantine(world["waiting"], "deliver", ["target byggr unavailable"])
    discard(ledger, world["waiting"], actor="ops-anna", reason="sent twice by the resident")
    (kumla, _) = health(ledger, since=SINCE, now=NOW)
    (byggr,) = [t for t in kumla.targets if t.target == "byggr"]
    assert byggr.failing == 0 and byggr.next_retry_at is None and kumla.next_retry_at is None


def test_a_quarantined_submissions_calls_are_not_failing(ledger, world):
    """Nothing tries them again until an operator replays it: no retry is due, and the site is not failing."""
    ledger.quarantine(world["waiting"], "deliver", ["target byggr unavailable"])
    (kumla, _) = health(ledger, since=SINCE, now=NOW)
    (byggr,) = [t for t in kumla.targets if t.target == "byggr"]
    assert (byggr.failing, byggr.next_retry_at, kumla.next_retry_at) == (0, None, None)


def test_a_call_site_forgotten_on_success_is_no_target(ledger, world):
    """The property lookup's row is deleted when it succeeds: its failures alone would read as a 100 % error rate."""
    assert LOOKUP in FORGOTTEN_ON_SUCCESS
    _deliver(ledger, world["old"], LOOKUP, failures=2, ok=False, at=T0, retry_at=T0 + timedelta(hours=1))
    (kumla, _) = health(ledger, since=SINCE, now=NOW)
    assert LOOKUP not in [t.target for t in kumla.targets]
    assert kumla.next_retry_at == T0 + timedelta(hours=1), "its next retry is still the route's"


def test_every_state_is_unfinished_or_done():
    states = {value for name, value in vars(State).items() if name.isupper() and isinstance(value, str)}
    assert set(State.UNFINISHED) | set(State.DONE) == states
    assert not set(State.UNFINISHED) & set(State.DONE)
