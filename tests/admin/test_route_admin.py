"""The admin API against the bundled route run over the simulators: what an operator does after a real run."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from brygga import admin
from brygga.admin import SearchQuery
from brygga.admin.personal import PERSON_KEY_CONNECTION, person_key
from brygga.connections import Connection, EnvConnectionResolver
from brygga.ledger import State
from brygga.pipeline import intake, translate
from brygga.provenance import AirflowRun, bind_airflow_run
from brygga.settings import REPO_ROOT

SAMPLE = "bygglov-person.xml"
FLOW_INSTANCE_ID = "2001"  # the sample's FlowInstanceID
APPLICANT = "198503142385"  # the sample's applicant
SECRET = "a-person-key-secret-of-32-chars!!"


def test_a_replay_never_makes_a_second_case(route, byggr):
    # The case is created, its answer lost, and the spent budget quarantines the submission in doubt.
    spent = route.retry(budget="0s", in_doubt_delay="0s").read_text(encoding="utf-8")
    byggr.app.faults.set([{"operation": "SaveNewArende", "nth": 1, "action": "lose_reply"}])
    route.drop(SAMPLE)
    route.run()
    ledger = route.context().ledger
    submission = route.submission(SAMPLE)
    assert submission.state == State.QUARANTINED and len(byggr.app.cases) == 1

    route.variant("budget: 0s,", "budget: 24h,")  # the operator's fix
    assert "budget: 0s," in spent
    assert admin.replay(ledger, submission.id, actor="ops-anna").from_state == State.TRANSLATED
    route.run()

    assert route.submission(SAMPLE).state == State.COMPLETED
    assert len(byggr.app.cases) == 1 and len(byggr.app.faults.received("SaveNewArende")) == 1
    (case,) = byggr.app.cases.values()
    story = admin.trace(ledger, submission.id)
    assert story.submission.external_ref == case.dnr
    (quarantine,) = story.quarantines
    assert quarantine.step == "deliver" and "outcome is unknown" in quarantine.reasons[0]
    assert (quarantine.resolution, quarantine.resolved_by) == ("replayed", "ops-anna")
    assert [(a.actor, a.action) for a in story.audit] == [("ops-anna", "replay")]


def test_a_discarded_submission_is_never_picked_up_again(route, byggr):
    route.drop("bygglov-malformed.xml")
    route.run()
    submission = route.submission("bygglov-malformed.xml")
    ledger = route.context().ledger
    assert submission.state == State.QUARANTINED
    admin.discard(ledger, submission.id, actor="ops-anna", reason="a test file, sent by mistake")
    steps = len(ledger.steps(submission.id))

    route.drop("bygglov-malformed.xml", "the-same-bytes-again.xml")
    route.run()

    assert route.submission("bygglov-malformed.xml").state == State.DISCARDED
    again = [(s.step, s.outcome) for s in ledger.steps(submission.id)[steps:]]
    assert again == [("intake", "duplicate")], "intake knew the bytes; no other step ran on them"
    assert admin.count(ledger, SearchQuery(route=route.route_id)) == 1
    with pytest.raises(ValueError, match="not quarantined"):
        admin.replay(ledger, submission.id, actor="ops-anna")


def test_an_operator_finds_and_traces_what_a_run_did(route, byggr):
    route.connect(PERSON_KEY_CONNECTION, f"https://:{SECRET}@person-key.invalid")
    bind_airflow_run(AirflowRun("brygga_kumla-bygglov", "scheduled__2026-05-01", "run_route", 1))
    route.drop(SAMPLE)
    route.drop("bygglov-malformed.xml")
    route.run()
    ledger = route.context().ledger
    delivered = route.submission(SAMPLE)
    malformed = route.submission("bygglov-malformed.xml")
    assert delivered.state == State.COMPLETED and malformed.state == State.QUARANTINED

    def found(**query: str) -> list[str]:
        return [row.id for row in admin.search(ledger, SearchQuery(**query))]

    key = person_key(APPLICANT[2:], SECRET.encode())
    assert ledger.person_keys(delivered.id) == [key]
    assert found(person_key=key) == [delivered.id]
    assert found(text=FLOW_INSTANCE_ID) == [delivered.id]
    assert found(text=delivered.external_ref) == [delivered.id]
    assert found(text="BYGGLOV-MALFORMED") == [malformed.id], "a file that never translated is found by its name"
    assert found(state=State.QUARANTINED) == [malformed.id]

    story = admin.trace(ledger, delivered.id)
    assert [s.step for s in story.steps] == ["intake", "translate", "deliver", "archive", "notify"]
    assert {s.airflow for s in story.steps} == {AirflowRun("brygga_kumla-bygglov", "scheduled__2026-05-01",
                                                           "run_route", 1)}
    byggr_delivery = next(d for d in story.deliveries if d.target == "byggr")
    assert byggr_delivery.state == "delivered" and byggr_delivery.external_ref == delivered.external_ref
    assert story.archive_location == delivered.archive_location and story.quarantines == []
    text = repr(admin.search(ledger, SearchQuery())) + repr(story)
    for personal in (APPLICANT, APPLICANT[2:8], "Berglund", "Stationsgatan", "johan.berglund"):
        assert personal not in text, "rows and traces carry references only"


def test_without_the_secret_no_person_keys_are_kept(route, byggr):
    route.drop(SAMPLE)
    route.run()
    submission = route.submission(SAMPLE)
    assert submission.state == State.COMPLETED
    assert route.context().ledger.person_keys(submission.id) == []


def test_a_submission_stopped_after_its_mapping_is_found_by_its_reference(route, byggr, callback, monkeypatch):
    """Intake could not read the reference (its peek gives up on some files); translate records the mapping's as
    soon as the case is mapped, so a submission its preflight stops is found by it all the same."""
    monkeypatch.setattr(importlib.import_module("brygga.pipeline.landing"), "peek_route_reference",
                        lambda *args, **kwargs: None)
    route.connect(PERSON_KEY_CONNECTION, f"https://:{SECRET}@person-key.invalid")
    original = (REPO_ROOT / "samples" / "open-eplatform" / SAMPLE).read_bytes()
    data = route.drop("x.xml", data=original.replace(b"<FlowInstanceID>2001<", b"<FlowInstanceID>OEP-2001<"))
    route.run()
    ledger = route.context().ledger
    stopped = route.submission(data)
    assert stopped.state == State.QUARANTINED and stopped.revision is None and stopped.canonical_json is None
    assert [row.id for row in admin.search(ledger, SearchQuery(text="OEP-2001"))] == [stopped.id]
    assert ledger.person_keys(stopped.id) == [person_key(APPLICANT, SECRET.encode())]
    assert ledger.versions(route.route_id, "OEP-2001", besides="") == [], "no version of its reference yet"


class _SecretsBackendDown(EnvConnectionResolver):
    """The person-key connection cannot be read just now (a secrets backend that does not answer)."""

    def get(self, conn_id: str) -> Connection:
        if conn_id == PERSON_KEY_CONNECTION:
            raise TimeoutError("the secrets backend did not answer")
        return super().get(conn_id)


def test_a_person_key_secret_that_cannot_be_read_fails_the_task_and_nothing_goes_on_without_keys(route, byggr):
    route.connect(PERSON_KEY_CONNECTION, f"https://:{SECRET}@person-key.invalid")
    route.drop(SAMPLE)
    ctx = route.context()
    landed = intake(ctx)
    with pytest.raises(TimeoutError):
        translate(dataclasses.replace(ctx, connections=_SecretsBackendDown()), landed)
    submission = route.submission(SAMPLE)
    assert submission.state == State.LANDED and ctx.ledger.quarantines(submission.id) == []
    route.run()  # Airflow's retry, with the backend back
    assert route.submission(SAMPLE).state == State.COMPLETED
    assert ctx.ledger.person_keys(submission.id) == [person_key(APPLICANT, SECRET.encode())]
