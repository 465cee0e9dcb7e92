"""A real route run, over sockets to the simulators: metrics per step and call, the correlation id in every request
Brygga's adapters send (SOAP through zeep, REST through requests), in the outbox's CloudEvents and in the logs."""

from __future__ import annotations

import json
import logging

from observed import by_attributes, points
from sqlalchemy import select

from brygga.ledger import State, Submission
from brygga.ledger.models import OutboxMessage
from brygga_simulators import start_simulator

STEPS = ("intake", "translate", "deliver", "archive", "notify")


def _only_submission(route):  # type: ignore[no-untyped-def]
    """The ledger, and the one submission the run made."""
    ledger = route.context().ledger
    with ledger.session() as s:
        (submission,) = s.scalars(select(Submission))
    return ledger, submission


def _key(**attributes: str) -> frozenset[tuple[str, str]]:
    return frozenset(attributes.items())


def test_a_building_permit_run_is_measured_step_by_step_and_call_by_call(bygglov, metric_reader):
    bygglov.drop("bygglov-person.xml")
    bygglov.run()
    ledger, submission = _only_submission(bygglov)
    assert submission.state == State.COMPLETED, ledger.quarantine_reasons(submission.id)

    steps = by_attributes(metric_reader, "brygga.step.duration")
    for step in STEPS:
        timed = steps[_key(route="kumla-bygglov", step=step, outcome="ok")]
        recorded = next(s for s in ledger.steps(submission.id) if s.step == step)
        assert timed.count == 1 and timed.sum >= recorded.duration_ms > 0
    counted = by_attributes(metric_reader, "brygga.steps")
    assert {dict(key)["step"] for key in counted} == set(STEPS)

    calls = by_attributes(metric_reader, "brygga.calls")
    for site in ("@property_lookup", "byggr", "@archive", "@notify"):
        assert calls[_key(route="kumla-bygglov", target=site, outcome="delivered")].value == 1
    assert len(calls) == 4
    assert by_attributes(metric_reader, "brygga.call.duration")[
        _key(route="kumla-bygglov", target="byggr", outcome="delivered")].sum > 0

    states = {dict(p.attributes)["state"]: p.value for p in points(metric_reader, "brygga.submissions")}
    assert states == {"landed": 1, "translated": 1, "delivered": 1, "archived": 1, "completed": 1}


def test_a_case_system_that_is_down_is_measured_as_a_failed_call_and_a_retried_step(bygglov, metric_reader):
    with start_simulator("byggr") as doomed:
        dead = f"{doomed.url}?allow_http=true"
    bygglov.connect("byggr_kumla", dead)
    bygglov.drop("bygglov-person.xml")
    bygglov.run()
    calls = by_attributes(metric_reader, "brygga.calls")
    assert calls[_key(route="kumla-bygglov", target="byggr", outcome="failed")].value == 1
    assert _key(route="kumla-bygglov", target="byggr", outcome="delivered") not in calls
    steps = by_attributes(metric_reader, "brygga.steps")
    assert steps[_key(route="kumla-bygglov", step="deliver", outcome="retry")].value == 1


def test_every_soap_and_rest_request_carries_the_submission_id(bygglov):
    bygglov.drop("bygglov-person.xml")
    bygglov.run()
    _, submission = _only_submission(bygglov)
    for name in ("byggr", "callback", "register"):
        seen = bygglov.recorders[name].seen
        assert seen, f"{name} got no request; the check would prove nothing"
        assert {request.correlation for request in seen} == {submission.id}, (name, seen)
    assert any(r.method == "POST" for r in bygglov.recorders["byggr"].seen)  # the SOAP calls, not only the WSDL


def test_the_status_calls_for_a_case_carry_the_submission_id(bygglov, byggr):
    """A case officer's action reaches Mina sidor later, from the status DAG: with the same id as the submission."""
    from brygga.status.run import run_status

    bygglov.drop("bygglov-person.xml")
    bygglov.run()
    _, submission = _only_submission(bygglov)
    callback = bygglov.recorders["callback"]
    at_registration = len(callback.seen)
    byggr.app.assign_handler(submission.external_ref)
    assert run_status("byggr_kumla").tell.outcomes == {"sent": 1}
    told = callback.seen[at_registration:]
    assert told and {request.correlation for request in told} == {submission.id}


def test_the_rest_target_and_its_token_endpoint_get_the_submission_id(felanmalan):
    felanmalan.drop("felanmalan-gatlykta.xml")
    felanmalan.run()
    ledger, submission = _only_submission(felanmalan)
    assert submission.state == State.COMPLETED, ledger.quarantine_reasons(submission.id)
    seen = felanmalan.recorders["workorder"].seen
    paths = {(request.method, request.path) for request in seen}
    assert any(path.endswith("/oauth2/token") for _, path in paths) and any(
        method == "POST" and path.endswith("/orders") for method, path in paths), paths
    assert {request.correlation for request in seen} == {submission.id}
    assert {request.correlation for request in felanmalan.recorders["callback"].seen} == {submission.id}


def test_no_request_outside_a_submission_carries_an_id(felanmalan):
    """Nothing to do: the run sends nothing, and no id leaks from an earlier context."""
    felanmalan.run()
    assert felanmalan.recorders["workorder"].seen == []


def test_every_event_in_the_outbox_carries_the_submission_id(bygglov):
    bygglov.drop("bygglov-person.xml")
    bygglov.run()
    ledger, submission = _only_submission(bygglov)
    with ledger.session() as s:
        bodies = [json.loads(body) for body in s.scalars(select(OutboxMessage.body))]
    assert [body["type"] for body in bodies] == [f"se.brygga.submission.{state}" for state in
                                                  ("landed", "translated", "delivered", "archived", "completed")]
    assert {body["correlationid"] for body in bodies} == {submission.id}


def test_log_records_of_a_run_name_their_submission(bygglov, caplog):
    bygglov.drop("bygglov-person.xml")
    with caplog.at_level(logging.INFO):
        bygglov.run()
    _, submission = _only_submission(bygglov)
    inside = [record for record in caplog.records if getattr(record, "brygga_correlation_id", None)]
    assert inside, "no record was made inside a step; the check would prove nothing"
    assert {record.brygga_correlation_id for record in inside} == {submission.id}
    assert all(submission.id in record.getMessage() for record in inside)
