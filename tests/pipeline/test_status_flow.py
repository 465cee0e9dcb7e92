"""The resident follows the case: a case officer's actions in ByggR reach Mina sidor once each, in order.

The bundled kumla-bygglov route registers the case over real SOAP; then the status feed of byggr_kumla polls the
ByggR simulator (both reply styles) and tells the Open ePlatform callback simulator.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import orjson
import pytest
from routing import RouteRun

from brygga.ledger import Ledger
from brygga.settings import Settings
from brygga.status.context import StatusContext
from brygga.status.run import run_status
from brygga_simulators import RunningSimulator

SAMPLE = "bygglov-person.xml"


def registered(route: RouteRun) -> tuple[str, int]:
    """Run the sample through the route: its diarienummer and flowInstanceID."""
    route.drop(SAMPLE)
    route.run()
    submission = route.submission(SAMPLE)
    assert submission.state == "completed" and submission.external_ref
    return submission.external_ref, int(submission.source_reference or 0)


def callbacks(callback: RunningSimulator, flow_id: int, skip: int = 0) -> list[tuple[str, Any]]:
    """(operation, status or message text) the callback got for one flow instance, after the first ``skip``."""
    seen = [(c.operation, c.fields) for c in callback.app.calls if c.fields.get("flowInstanceID") == flow_id
            and c.operation in ("setStatus", "addMessage")]
    return [(op, f.get("statusAlias") or f.get("message", {}).get("message")) for op, f in seen[skip:]]


def status_events(connection: str = "byggr_kumla") -> list[Any]:
    return Ledger(Settings.from_env().database_url).status_events(connection=connection)


def test_each_officer_action_reaches_mina_sidor_once_and_in_order(route: RouteRun, byggr: RunningSimulator,
                                                                  callback: RunningSimulator) -> None:
    dnr, flow_id = registered(route)
    at_registration = len(callbacks(callback, flow_id))
    byggr.app.assign_handler(dnr)
    byggr.app.request_supplement(dnr)
    decision = b"%PDF-1.7\n" + bytes(range(256)) * 12_000 + b"\n%%EOF\n"  # about 3 MB
    byggr.app.decide(dnr, rubrik="Beslut om bygglov", document=("Beslut.pdf", decision))

    first = run_status("byggr_kumla")
    again = run_status("byggr_kumla")

    told = callbacks(callback, flow_id, skip=at_registration)
    assert told == [
        ("setStatus", "Handläggare utsedd"), ("addMessage", f"Ditt ärende {dnr} har fått en handläggare."),
        ("setStatus", "Komplettering begärd"), ("addMessage", told[3][1]),
        ("setStatus", "Beslut fattat"), ("addMessage", told[5][1]),
    ]
    assert "kompletteras" in told[3][1] and dnr in told[5][1]
    assert first.tell.outcomes == {"sent": 3} and first.ok
    assert again.poll.recorded == 0 and again.tell.outcomes == {}
    message = [c for c in callback.app.calls if c.operation == "addMessage"
               and c.fields.get("flowInstanceID") == flow_id][-1].fields["message"]
    attachment = message["attachments"]
    assert attachment["filename"] == "Beslut.pdf" and int(attachment["size"]) == len(decision)
    assert attachment["sha256"] == hashlib.sha256(decision).hexdigest()
    sent = [e for e in status_events() if e.state == "sent"]
    assert [e.kind for e in sent] == ["handler_assigned", "supplement_requested", "decision_made"]

    byggr.app.close(dnr)
    run_status("byggr_kumla")
    assert callbacks(callback, flow_id, skip=at_registration + 6) == [
        ("setStatus", "Avslutat"), ("addMessage", f"Ditt ärende {dnr} är nu avslutat.")]


def test_a_case_brygga_did_not_create_is_recorded_and_told_to_nobody(route: RouteRun, byggr: RunningSimulator,
                                                                     callback: RunningSimulator) -> None:
    dnr = byggr.app.seed_case("KUMLA BLACKSTA", "1:45")
    byggr.app.assign_handler(dnr)
    result = run_status("byggr_kumla")
    events = [e for e in status_events() if e.case_ref == dnr]
    assert events and {e.state for e in events} <= {"foreign", "ignored"}
    assert "foreign" in {e.state for e in events} and all(e.submission_id is None for e in events)
    assert result.tell.outcomes == {} and callback.app.calls == []


def test_two_status_runs_at_once_tell_each_event_once(route: RouteRun, byggr: RunningSimulator,
                                                      callback: RunningSimulator) -> None:
    dnr, flow_id = registered(route)
    at_registration = len(callbacks(callback, flow_id))
    byggr.app.assign_handler(dnr)
    byggr.app.decide(dnr)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_status("byggr_kumla")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_status("byggr_kumla")  # whatever a busy claim held back
    assert not errors
    told = callbacks(callback, flow_id, skip=at_registration)
    assert [op for op, _ in told] == ["setStatus", "addMessage"] * 2
    assert told[0][1] == "Handläggare utsedd" and told[2][1] == "Beslut fattat"


def test_the_watermark_moves_only_with_the_events_it_read(route: RouteRun, byggr: RunningSimulator,
                                                         callback: RunningSimulator,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    dnr, _ = registered(route)
    ledger = Ledger(Settings.from_env().database_url)
    run_status("byggr_kumla")
    mark = ledger.watermark("status:byggr_kumla")
    assert mark is not None
    byggr.app.assign_handler(dnr)

    def broken(self: Ledger, *args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the ledger went away")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(Ledger, "record_status_events", broken)
        run_status("byggr_kumla")
    assert ledger.watermark("status:byggr_kumla") == mark
    assert run_status("byggr_kumla").tell.outcomes == {"sent": 1}


def test_a_status_event_is_canonical_and_goes_on_the_outbox_without_free_text(
        route: RouteRun, byggr: RunningSimulator, callback: RunningSimulator) -> None:
    from brygga.status.event import validate_status_event

    dnr, flow_id = registered(route)
    byggr.app.decide(dnr, rubrik="Beslut om bygglov")
    run_status("byggr_kumla")
    [event] = [e for e in status_events() if e.kind == "decision_made"]
    canonical = orjson.loads(event.event_json)
    validate_status_event(canonical)
    assert canonical["case"] == {"diarienummer": dnr, "submissionId": event.submission_id, "route": "kumla-bygglov",
                                 "sourceReference": str(flow_id), "kommunkod": "1881",
                                 **({"externRef": canonical["case"]["externRef"]}
                                    if "externRef" in canonical["case"] else {})}
    ledger = StatusContext.for_connection("byggr_kumla").ledger
    [published] = [m for m in ledger.unpublished() if m.event_id == canonical["eventId"]]
    assert published.type == "se.brygga.case.decision_made"
    assert published.routing_key == "se.brygga.case.decision_made.1881"
    body = orjson.loads(published.body)
    assert body["id"] == canonical["eventId"] and body["specversion"] == "1.0"
    assert "text" not in body["data"] and "facts" not in body["data"].get("change", {})
    assert "Beslut om bygglov" not in published.body


def test_a_decision_reaches_mina_meddelanden_signed_with_its_document(
        route: RouteRun, byggr: RunningSimulator, callback: RunningSimulator, mailbox: Any) -> None:
    dnr, _ = registered(route)
    decision = b"%PDF-1.7\nbeslut\n%%EOF\n"
    byggr.app.decide(dnr, rubrik="Beslut om bygglov", document=("Beslut.pdf", decision))
    byggr.app.assign_handler(dnr)  # not a kind the route sends as digital mail
    run_status("byggr_kumla")
    run_status("byggr_kumla")
    [delivery] = [d.summary() for d in mailbox.running.app.deliveries]
    assert delivery["signature_valid"] is True
    assert delivery["subject"] == f"Beslut i ditt ärende {dnr}"
    assert [a["sha256"] for a in delivery["attachments"]] == [hashlib.sha256(decision).hexdigest()]
    [event] = [e for e in status_events() if e.kind == "decision_made"]
    assert event.state == "sent" and "delivered to the resident's mailbox" in (event.detail or "")


def test_a_resident_without_a_mailbox_is_told_through_mina_sidor_only(
        route: RouteRun, byggr: RunningSimulator, callback: RunningSimulator, mailbox: Any) -> None:
    from brygga.status.recipient import resident_personnummer

    dnr, flow_id = registered(route)
    at_registration = len(callbacks(callback, flow_id))
    mailbox.running.app.unreachable = frozenset({resident_personnummer(route.submission(SAMPLE))})
    byggr.app.decide(dnr)
    result = run_status("byggr_kumla")
    assert mailbox.running.app.deliveries == []
    assert [op for op, _ in callbacks(callback, flow_id, skip=at_registration)] == ["setStatus", "addMessage"]
    assert result.tell.digital_mail == {"unreachable": 1}
    [event] = [e for e in status_events() if e.kind == "decision_made"]
    assert event.state == "sent" and "no reachable mailbox; told through Mina sidor only" in (event.detail or "")


def test_a_callback_that_is_down_holds_the_case_back_and_heals_by_itself(
        route: RouteRun, byggr: RunningSimulator, callback: RunningSimulator) -> None:
    dnr, flow_id = registered(route)
    at_registration = len(callbacks(callback, flow_id))
    route.variant("retry: {budget: 24h, first_delay: 30s", "retry: {budget: 24h, first_delay: 0s")
    byggr.app.assign_handler(dnr)
    byggr.app.decide(dnr)
    callback.app.faults.set([{"operation": "setStatus", "action": "http_status", "status": 503, "times": 1}])
    down = run_status("byggr_kumla")
    assert down.tell.outcomes == {"waiting": 2} and down.ok  # the second waits behind the first
    assert callbacks(callback, flow_id, skip=at_registration) == []
    healed = run_status("byggr_kumla")
    assert healed.tell.outcomes == {"sent": 2}
    assert [status for op, status in callbacks(callback, flow_id, skip=at_registration) if op == "setStatus"] == [
        "Handläggare utsedd", "Beslut fattat"]


def test_a_refused_event_fails_visibly_and_the_case_goes_on(route: RouteRun, byggr: RunningSimulator,
                                                            callback: RunningSimulator) -> None:
    dnr, flow_id = registered(route)
    at_registration = len(callbacks(callback, flow_id))
    byggr.app.assign_handler(dnr)
    byggr.app.decide(dnr)
    callback.app.faults.set([{"operation": "setStatus", "action": "soap_fault", "faultcode": "Client",
                              "faultstring": "unknown status", "times": 1}])
    result = run_status("byggr_kumla")
    assert not result.ok and result.tell.outcomes == {"failed": 1, "sent": 1}
    assert "handler_assigned" in result.tell.failed[0] and "refused" in result.tell.failed[0]
    assert [status for op, status in callbacks(callback, flow_id, skip=at_registration) if op == "setStatus"] == [
        "Beslut fattat"]
    states = {e.kind: e.state for e in status_events() if e.kind}
    assert states["handler_assigned"] == "failed" and states["decision_made"] == "sent"


def test_nothing_is_told_before_the_registration_itself(route: RouteRun, byggr: RunningSimulator,
                                                        callback: RunningSimulator) -> None:
    """A case the officer touches while its submission is still in the pipeline waits for the route's own notify."""
    dnr, _ = registered(route)
    ledger = Ledger(Settings.from_env().database_url)
    submission = route.submission(SAMPLE)
    ledger.update(submission.id, state="archived")  # as if notify had not run yet
    byggr.app.assign_handler(dnr)
    assert run_status("byggr_kumla").tell.outcomes == {"waiting": 1}
    ledger.update(submission.id, state="completed")
    assert run_status("byggr_kumla").tell.outcomes == {"sent": 1}


def test_a_digital_mail_whose_answer_was_lost_is_not_sent_again_by_itself(
        route: RouteRun, byggr: RunningSimulator, callback: RunningSimulator, mailbox: Any) -> None:
    from brygga.cli import main

    dnr, _ = registered(route)
    byggr.app.decide(dnr)
    mailbox.running.app.faults.set([{"operation": "deliverSecure", "action": "lose_reply", "times": 1}])
    lost = run_status("byggr_kumla")
    assert not lost.ok and "may have been delivered" in lost.tell.failed[0]
    assert len(mailbox.running.app.deliveries) == 1  # it did arrive; Brygga cannot know
    assert run_status("byggr_kumla").tell.outcomes == {}  # nothing resent by itself
    [event] = [e for e in status_events() if e.kind == "decision_made"]
    assert event.state == "failed"
    assert main(["status", "retry", event.event_id, "--actor", "test"]) == 0  # the admin checked, and wants it
    assert run_status("byggr_kumla").tell.outcomes == {"sent": 1}
    assert len(mailbox.running.app.deliveries) == 2
    assert [e.state for e in status_events() if e.kind == "decision_made"] == ["sent"]
    assert main(["status", "retry", event.event_id]) == 1  # only a failed event can be retried


def test_a_change_to_a_case_whose_delivery_is_in_doubt_is_matched_by_its_extern_ref(
        route: RouteRun, byggr: RunningSimulator, callback: RunningSimulator) -> None:
    from sqlalchemy import update

    from brygga.ledger import Delivery, Submission

    dnr, _ = registered(route)
    submission = route.submission(SAMPLE)
    ledger = Ledger(Settings.from_env().database_url)
    with ledger.session() as s:  # as if ByggR's answer to SaveNewArende had been lost: the case exists, unknown here
        s.execute(update(Delivery).where(Delivery.submission_id == submission.id, Delivery.target == "byggr")
                  .values(state="in_doubt", external_ref=None))
        s.execute(update(Submission).where(Submission.id == submission.id).values(state="translated"))
    byggr.app.assign_handler(dnr)
    assert run_status("byggr_kumla").tell.outcomes == {"waiting": 1}
    [event] = [e for e in status_events() if e.kind == "handler_assigned"]
    assert event.state == "pending" and event.submission_id == submission.id


def test_a_draft_decision_is_told_only_once_it_is_sent_out(route: RouteRun, byggr: RunningSimulator,
                                                           callback: RunningSimulator) -> None:
    dnr, flow_id = registered(route)
    at_registration = len(callbacks(callback, flow_id))
    draft = byggr.app.decide(dnr, draft=True)
    assert run_status("byggr_kumla").tell.outcomes == {}
    assert callbacks(callback, flow_id, skip=at_registration) == []
    byggr.app.send_out(dnr, draft["handelseId"])
    assert run_status("byggr_kumla").tell.outcomes == {"sent": 1}
    told = callbacks(callback, flow_id, skip=at_registration)
    assert [op for op, _ in told] == ["setStatus", "addMessage"] and told[0][1] == "Beslut fattat"
    message = [c for c in callback.app.calls if c.operation == "addMessage"][-1].fields["message"]
    assert message["attachments"]["filename"] == "Beslut.pdf"
