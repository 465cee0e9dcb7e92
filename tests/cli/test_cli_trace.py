"""`brygga trace ID`: the whole story of one submission, with personal data masked unless --reveal, which is
audited."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from cli_ledger import NOW, PERSONAL, PERSONNUMMER, delivered, land

from brygga.admin import replay
from brygga.ledger.models import StatusEventRecord
from brygga.provenance import AirflowRun, bind_airflow_run

RUN = AirflowRun("brygga_kumla-bygglov", "scheduled__2026-05-04T08:00:00+00:00", "deliver", 2)


@pytest.fixture
def story(ledger):  # type: ignore[no-untyped-def]
    """A submission that was quarantined at deliver, replayed by an operator, then delivered, archived and told."""
    sid = delivered(ledger, "2001.xml", "BN 2026-000001", reference="2001", archive_location="/archive/pkg-2001")
    bind_airflow_run(RUN)
    ledger.record_step(sid, "translate", "ok", started_at=NOW, duration_ms=12.5)
    ledger.record_step(sid, "deliver", "quarantined", started_at=NOW, duration_ms=2500.0, detail="1 reason(s)")
    bind_airflow_run(None)
    ledger.quarantine(sid, "deliver", ["target byggr: SOAP fault s:Client: Personnummer [redacted] okänt"])
    ledger.update(sid, state="quarantined")
    replay(ledger, sid, actor="ops-bertil")
    ledger.update(sid, state="completed")
    claim = ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key=f"{sid}:byggr", owner="w1")
    ledger.fail_delivery(f"{sid}:byggr", claim.token, "HTTP 503 from byggr", next_attempt_at=NOW)
    with ledger.session() as s:
        s.add(StatusEventRecord(event_id=str(uuid.uuid4()), connection="byggr_kumla", case_ref="BN 2026-000001",
                                change_id="h-1", kind="handler_assigned", submission_id=sid, route_id="kumla-bygglov",
                                occurred_at=NOW, state="sent", event_json="{}", detail="told: Mina sidor"))
    return sid


def test_trace_tells_steps_airflow_deliveries_archive_quarantine_status_and_audit(brygga, story):
    ran = brygga("trace", story)
    assert ran.code == 0, ran.err
    out = ran.out
    assert f"submission       {story}" in out and "BN 2026-000001" in out and "/archive/pkg-2001" in out
    assert "12.5 ms" in out and "2.5 s" in out
    assert ("/dags/brygga_kumla-bygglov/runs/scheduled__2026-05-04T08%3A00%3A00%2B00%3A00/tasks/deliver (try 2)"
            in out), "the Airflow task instance that ran the step"
    delivery = next(line for line in out.splitlines() if line.startswith("byggr "))
    assert "failed" in delivery and "HTTP 503 from byggr" in delivery and " 1 " in delivery  # one attempt
    quarantine = next(line for line in out.splitlines() if "SOAP fault" in line)
    assert "replayed" in quarantine and "ops-bertil" in quarantine, "the history stays after a replay"
    assert "handler_assigned" in out and "told: Mina sidor" in out
    audit = next(line for line in out.splitlines() if "ops-bertil" in line and "replay" in line.split())
    assert "released from quarantine" in audit


def test_trace_masks_the_parties_by_default(brygga, story, ledger):
    ran = brygga("trace", story)
    assert "Parties: masked" in ran.out and "--reveal" in ran.out
    assert "person (applicant): personnummer •••; givenName •••; familyName •••; address •••" in ran.out
    for value in PERSONAL:
        assert value not in ran.out, f"{value} in the default trace"
    assert [a.action for a in ledger.audit_log(story)] == ["replay"], "showing masked data is not a reveal"


def test_trace_reveal_shows_the_parties_and_is_audited(brygga, story, ledger):
    ran = brygga("trace", story, "--reveal")
    assert ran.code == 0
    assert f"personnummer {PERSONNUMMER}; givenName Johan; familyName Berglund" in ran.out
    assert "Stationsgatan 5, 69232, Kumla" in ran.out and "Parties: in clear" in ran.out
    *_, reveal = ledger.audit_log(story)
    assert (reveal.actor, reveal.action, reveal.submission_id) == ("ops-anna", "reveal", story)


def test_trace_json_is_masked_unless_revealed(brygga, story, ledger):
    masked = brygga("trace", story, "--json")
    assert masked.code == 0
    trace = json.loads(masked.out)
    assert trace["submission"]["id"] == story and trace["steps"][1]["airflow"]["task_id"] == "deliver"
    assert trace["parties"][0]["personnummer"] == "•••" and trace["quarantines"][0]["resolved_by"] == "ops-bertil"
    assert not any(value in masked.out for value in PERSONAL)
    revealed = json.loads(brygga("trace", story, "--json", "--reveal").out)
    assert revealed["parties"][0]["personnummer"] == PERSONNUMMER
    assert [a.action for a in ledger.audit_log(story)] == ["replay", "reveal"]


def test_trace_of_a_submission_without_a_case(brygga, ledger):
    sid = land(ledger, "broken.xml", ago=timedelta(minutes=1))
    ran = brygga("trace", sid)
    assert ran.code == 0 and "Parties: none: not translated" in ran.out and "Steps: none" in ran.out


def test_trace_of_an_unknown_id_exits_1(brygga, ledger):
    ran = brygga("trace", "no-such-id")
    assert ran.code == 1 and "no submission with id 'no-such-id'" in ran.err and ran.out == ""
