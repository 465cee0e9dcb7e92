"""Trace: the whole story of one submission, and the history of its quarantines after they ended."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from admin_ledger import T0, land, quarantine

from brygga.admin import replay, trace
from brygga.ledger import NewStatusEvent, State
from brygga.provenance import AirflowRun, bind_airflow_run


def test_steps_link_to_the_airflow_task_instance_that_ran_them(ledger):
    sid = land(ledger)
    ledger.record_step(sid, "intake", "ok", started_at=T0, duration_ms=2.5)  # outside Airflow
    run = AirflowRun("brygga_kumla-bygglov", "scheduled__2026-05-04T08:00:00+00:00", "run_route", 2)
    bind_airflow_run(run)
    with ledger.timed_step(sid, "translate") as step:
        step["detail"] = "property register: 1 of 1 found"
    steps = trace(ledger, sid).steps
    assert [(s.step, s.outcome, s.airflow) for s in steps] == [("intake", "ok", None), ("translate", "ok", run)]
    assert steps[0].started_at == T0 and steps[0].duration_ms == 2.5
    assert steps[1].detail == "property register: 1 of 1 found"
    assert steps[1].airflow.ui_path() == ("/dags/brygga_kumla-bygglov/runs/scheduled__2026-05-04T08%3A00%3A00%2B00%3A00"
                                          "/tasks/run_route")


def test_deliveries_show_attempts_and_the_redacted_answer(ledger):
    sid = land(ledger, state=State.TRANSLATED)
    claim = ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="k1", owner="w", now=T0)
    retry_at = T0 + timedelta(minutes=5)
    ledger.fail_delivery("k1", claim.token, "SOAP fault: Personnummer 19121212-1212 finns inte",
                         next_attempt_at=retry_at)
    (delivery,) = trace(ledger, sid).deliveries
    assert (delivery.target, delivery.state, delivery.attempts) == ("byggr", "failed", 1)
    assert delivery.first_attempt_at == T0 and delivery.next_attempt_at == retry_at
    assert "19121212-1212" not in delivery.last_error and "[redacted]" in delivery.last_error


def test_the_quarantine_history_stays_after_a_replay(ledger):
    sid = quarantine(ledger, "a.xml", "translate", ["mapping bygglov.yaml: rule sokande (source /x): not a date"])
    replay(ledger, sid, actor="ops-anna")
    ledger.quarantine(sid, "translate", ["mapping bygglov.yaml: rule sokande (source /x): still not a date"])
    story = trace(ledger, sid)
    first, second = story.quarantines
    assert first.reasons == ["mapping bygglov.yaml: rule sokande (source /x): not a date"]
    assert (first.resolution, first.resolved_by) == ("replayed", "ops-anna") and first.released_at is not None
    assert (second.resolution, second.released_at) == (None, None), "the second quarantine is open"
    (audit,) = story.audit
    assert (audit.actor, audit.action, audit.detail) == ("ops-anna", "replay", "released from quarantine as landed")
    assert audit.at.tzinfo is not None


def test_status_messages_archive_and_other_versions(ledger):
    first = land(ledger, "v1.xml", reference="4711", state=State.COMPLETED, revision=1,
                 archive_location="/archive-out/pkg-1")
    second = land(ledger, "v2.xml", reference="4711", revision=2, received_at=T0 + timedelta(days=1))
    land(ledger, "v3.xml", reference="4711", route="orebro-bygglov")  # another route's reference
    event = {"eventId": str(uuid.uuid4()), "connection": "byggr_kumla", "kind": "handler_assigned",
             "occurredAt": datetime(2026, 5, 5, 9, tzinfo=UTC).isoformat(),
             "case": {"diarienummer": "BN 2026-000042", "kommunkod": "1881", "submissionId": first,
                      "route": "kumla-bygglov"}, "change": {"id": "handelse:1"}}
    ledger.record_status_events([NewStatusEvent(event, {"eventId": event["eventId"]}, "pending")],
                                watermark="status:byggr_kumla", until=datetime(2026, 5, 5, 10, tzinfo=UTC))
    story = trace(ledger, first)
    (status,) = story.status_events
    assert (status.event_id, status.kind, status.state, status.case_ref) == (
        event["eventId"], "handler_assigned", "pending", "BN 2026-000042")
    assert status.occurred_at == datetime(2026, 5, 5, 9, tzinfo=UTC)
    assert story.archive_location == "/archive-out/pkg-1" and not story.purged
    assert [v.id for v in story.other_versions] == [second]


def test_a_purged_submission_says_so(ledger):
    sid = land(ledger, state=State.COMPLETED, purged_at=T0)
    assert trace(ledger, sid).purged


def test_an_unknown_id_is_a_lookup_error(ledger):
    with pytest.raises(LookupError, match="no submission with id nope"):
        trace(ledger, "nope")
