"""One call under the retry rules (brygga/pipeline/attempts.py), against a real ledger."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from brygga.errors import ConfigError, TargetRejected, TargetUnavailable
from brygga.ledger import Delivery, Ledger, State
from brygga.ledger.models import utcnow
from brygga.pipeline.attempts import CallSite, attempt
from brygga.pipeline.guard import StepHandle
from brygga.retry import RetryPolicy

POLICY = RetryPolicy(in_doubt_delay=timedelta(seconds=90))


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


@pytest.fixture
def sid(ledger) -> str:
    return ledger.land(route_id="r", tenant="1881", content_sha256="e" * 64, raw_path="/x",
                       source_name="f.xml").submission_id


def _attempt(ledger: Ledger, sid: str, call):  # type: ignore[no-untyped-def]
    step = StepHandle(ledger, sid, "deliver", {"outcome": "ok", "detail": None})
    site = CallSite(sid, "byggr", "key", POLICY, "target byggr")
    return attempt(SimpleNamespace(ledger=ledger), step, site, call), step


def test_a_worker_fenced_out_while_calling_does_not_quarantine(ledger, sid):
    def taken_over_then_refused():  # type: ignore[no-untyped-def]
        # Our lease ran out mid-call (we run on another host, as far as the other worker can tell), and another
        # worker took the row over: the fencing token moved on.
        with ledger.session() as s:
            s.execute(update(Delivery).values(lease_owner="other:1:1", lease_token=Delivery.lease_token + 1))
        raise TargetRejected("byggr_kumla.SaveNewArende refused")

    # A lease that has already run out, held by a worker on another host; this worker takes it and calls.
    ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="key", owner="elsewhere:1:1",
                          lease=timedelta(seconds=1), now=utcnow() - timedelta(minutes=5))
    done, step = _attempt(ledger, sid, taken_over_then_refused)
    assert done is None and step.result["outcome"] == "deferred"
    assert ledger.get(sid).state == State.LANDED and ledger.quarantine_reasons(sid) == []


def test_a_call_cut_off_mid_flight_is_in_doubt_for_the_settle_delay(ledger, sid):
    def interrupted():  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # as a task timeout or SIGTERM arrives: a BaseException in the middle of the call

    with pytest.raises(KeyboardInterrupt):
        _attempt(ledger, sid, interrupted)
    (row,) = ledger.deliveries(sid)
    assert row.state == "in_doubt" and row.lease_owner is None
    waiting = ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="key", owner="w2")
    assert waiting.outcome == "wait" and waiting.in_doubt


def test_a_configuration_error_releases_the_lease_without_doubt(ledger, sid):
    def misconfigured():  # type: ignore[no-untyped-def]
        raise ConfigError("connection 'byggr_kumla': https-only")

    with pytest.raises(ConfigError):
        _attempt(ledger, sid, misconfigured)
    again = ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="key", owner="w2")
    assert again.outcome == "go" and not again.in_doubt


def test_a_transient_fault_is_noted_and_scheduled(ledger, sid):
    def unavailable():  # type: ignore[no-untyped-def]
        raise TargetUnavailable("byggr_kumla.SaveNewArende: HTTP 503")

    done, step = _attempt(ledger, sid, unavailable)
    (row,) = ledger.deliveries(sid)
    assert done is None and step.result["outcome"] == "retry" and row.state == "failed"
    assert row.next_attempt_at is not None and row.last_error.endswith("HTTP 503")


def test_a_success_records_the_reference(ledger, sid):
    step = StepHandle(ledger, sid, "deliver", {"outcome": "ok", "detail": None})
    site = CallSite(sid, "byggr", "key", POLICY, "target byggr")
    done = attempt(SimpleNamespace(ledger=ledger), step, site, lambda: "BN 2026-000007", external_ref=str)
    assert done is not None and done.result == "BN 2026-000007"
    assert ledger.delivered_ref(sid, "byggr") == "BN 2026-000007"


@pytest.mark.parametrize(("asked", "waits"), [(600, timedelta(minutes=10)), (7200, POLICY.max_delay), (None, None)])
def test_the_target_s_retry_after_is_waited_within_the_longest_delay(ledger, sid, asked, waits):
    def busy():  # type: ignore[no-untyped-def]
        error = TargetUnavailable("HTTP 503")
        error.retry_after = asked  # type: ignore[attr-defined]
        raise error

    before = utcnow()
    done, _ = _attempt(ledger, sid, busy)
    (row,) = ledger.deliveries(sid)
    waited = row.next_attempt_at.replace(tzinfo=before.tzinfo) - before
    assert done is None
    if waits is None:  # without one, the route's first backoff step
        assert waited <= POLICY.first_delay + timedelta(seconds=5)
    else:
        assert waits <= waited <= waits + timedelta(seconds=5)
