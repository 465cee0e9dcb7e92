"""A step of one submission in one transaction (brygga/pipeline/guard.py, StepHandle): its move on, its Step record
and what it noted on the way commit together, and every guarantee of the separate writes holds."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from postgres import throwaway_database
from sqlalchemy import select
from transactions import counting

from brygga.errors import ConfigError, TargetRejected
from brygga.ledger import Ledger, OutboxMessage, State
from brygga.ledger.writes import complete_delivery
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.guard import per_submission


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path) -> Iterator[Ledger]:
    """The embedded default, and PostgreSQL (skipped when none answers): RETURNING, ON CONFLICT and a unique key
    failing mid-transaction behave the same on both."""
    if request.param == "sqlite":
        yield Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
        return
    with throwaway_database("brygga_lean") as url:
        ledger = Ledger(url)
        yield ledger
        ledger.engine.dispose()


def _land(ledger: Ledger, n: int = 0) -> str:
    return ledger.land(route_id="r", tenant="1881", content_sha256=f"{n:064x}", raw_path="/x",
                       source_name="f.xml").submission_id


def _ctx(ledger: Ledger) -> SimpleNamespace:
    return SimpleNamespace(ledger=ledger, route=SimpleNamespace(id="r"))


def _outbox_types(ledger: Ledger) -> list[str]:
    with ledger.session() as s:
        return list(s.scalars(select(OutboxMessage.type).order_by(OutboxMessage.id)))


def test_the_move_its_event_and_the_step_record_are_one_transaction_and_the_end_writes_nothing(ledger):
    sid = _land(ledger)
    with counting(ledger.engine) as tx, per_submission(_ctx(ledger), sid, "translate") as step:
        step.note("ok", "revision 1")
        assert step.advance(State.LANDED, state=State.TRANSLATED, revision=1, source_reference="1001")
    assert tx.take() == (1, 1), tx.statements
    (row,) = ledger.steps(sid)
    assert (row.step, row.outcome, row.detail) == ("translate", "ok", "revision 1")
    assert ledger.get(sid).state == State.TRANSLATED
    assert _outbox_types(ledger)[-1] == "se.brygga.submission.translated"


def test_a_note_after_the_move_updates_the_one_row(ledger):
    sid = _land(ledger)
    with counting(ledger.engine) as tx, per_submission(_ctx(ledger), sid, "deliver") as step:
        assert step.advance(State.LANDED, state=State.DELIVERED)
        step.note("ok", "noted late")
    assert tx.take() == (2, 2)
    (row,) = ledger.steps(sid)
    assert row.detail == "noted late"


def test_of_two_runs_at_once_one_moves_it_and_the_other_records_its_step_as_deferred(ledger):
    sid = _land(ledger)
    with per_submission(_ctx(ledger), sid, "translate") as first, per_submission(_ctx(ledger), sid,
                                                                                   "translate") as second:
        assert first.advance(State.LANDED, state=State.TRANSLATED)
        assert not second.advance(State.LANDED, state=State.TRANSLATED)
        second.note("deferred", "another run translated it meanwhile")
    assert sorted(s.outcome for s in ledger.steps(sid)) == ["deferred", "ok"]
    assert _outbox_types(ledger).count("se.brygga.submission.translated") == 1


def test_a_unique_key_refusing_the_move_is_false_and_keeps_what_waits_to_be_written(ledger):
    first, second = _land(ledger, 1), _land(ledger, 2)
    assert ledger.advance(first, State.LANDED, state=State.TRANSLATED, revision=1, source_reference="1001")
    ledger.claim_delivery(submission_id=second, target="byggr", idempotency_key="k")
    with per_submission(_ctx(ledger), second, "deliver") as step:
        step.later(complete_delivery("k", "BN 2026-000001"))
        # revision 1 of reference 1001 is taken: the move, its event and its step record roll back together
        assert not step.advance(State.LANDED, state=State.TRANSLATED, revision=1, source_reference="1001")
        step.note("deferred", "revision taken")
    assert ledger.get(second).state == State.LANDED
    assert [(s.outcome, s.detail) for s in ledger.steps(second)] == [("deferred", "revision taken")]
    assert ledger.delivered_ref(second, "byggr") == "BN 2026-000001", "the target's answer was kept at the end"


def test_a_quarantine_carries_the_step_record_and_what_the_step_noted(ledger):
    sid = _land(ledger)
    ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="k")
    with counting(ledger.engine) as tx, per_submission(_ctx(ledger), sid, "deliver") as step:
        step.later(complete_delivery("k", "BN 2026-000002"))
        step.quarantine(["target ecos refused"])
    assert tx.take() == (1, 1)
    assert ledger.get(sid).state == State.QUARANTINED and ledger.quarantine_reasons(sid) == ["target ecos refused"]
    assert [(s.outcome, s.detail) for s in ledger.steps(sid)] == [("quarantined", "1 reason(s)")]
    assert ledger.delivered_ref(sid, "byggr") == "BN 2026-000002"


def test_a_permanent_fault_quarantines_and_an_unexpected_one_is_recorded_as_an_error(ledger):
    refused, broken = _land(ledger, 1), _land(ledger, 2)
    with per_submission(_ctx(ledger), refused, "deliver"):
        raise TargetRejected("byggr refused it")
    with per_submission(_ctx(ledger), broken, "deliver"):
        raise KeyError("a payload value")
    assert [(s.outcome, s.detail) for s in ledger.steps(refused)] == [("quarantined", "1 reason(s)")]
    assert [(s.outcome, s.detail) for s in ledger.steps(broken)] == [("error", "KeyError")]
    assert ledger.get(broken).state == State.QUARANTINED
    assert "a payload value" not in " ".join(ledger.quarantine_reasons(broken))


def test_an_infrastructure_fault_propagates_and_leaves_the_submission_where_it_was(ledger):
    sid = _land(ledger)
    ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="k")
    with pytest.raises(ConfigError), per_submission(_ctx(ledger), sid, "deliver") as step:
        step.later(complete_delivery("k", "BN 2026-000003"))
        raise ConfigError("connection byggr_kumla: no such connection")
    assert ledger.get(sid).state == State.LANDED and ledger.quarantine_reasons(sid) == []
    assert [(s.outcome, s.detail) for s in ledger.steps(sid)] == [("error", "ConfigError")]
    assert ledger.delivered_ref(sid, "byggr") == "BN 2026-000003", "a call that got through is recorded all the same"


def test_load_reads_the_batch_in_one_query_in_the_order_asked(ledger):
    ids = [_land(ledger, n) for n in range(4)]
    ledger.advance(ids[2], State.LANDED, state=State.TRANSLATED, canonical_json='{"caseType": "bygglov"}')
    with counting(ledger.engine) as tx:
        landed = ledger.load([ids[3], ids[0], "no-such-id", ids[2], ids[1], ids[0]], State.LANDED)
        translated = ledger.load(ids, State.TRANSLATED)
    assert [s.id for s in landed] == [ids[3], ids[0], ids[1]]
    assert tx.take()[0] == 2
    assert PipelineContext.case_of(translated[0]) == {"caseType": "bygglov"}
    with pytest.raises(LookupError):
        PipelineContext.case_of(landed[0])
    assert ledger.load([], State.LANDED) == []


def test_source_references_of_a_batch_are_one_query(ledger):
    ids = [_land(ledger, n) for n in range(3)]
    ledger.update(ids[1], source_reference="2001")
    with counting(ledger.engine) as tx:
        found = ledger.source_references([*ids, "no-such-id"])
    assert found == {ids[0]: None, ids[1]: "2001", ids[2]: None} and tx.take()[0] == 1
    assert ledger.source_references([]) == {}


def test_a_new_item_is_one_write_with_its_reference_and_its_intake_step(ledger):
    from datetime import UTC, datetime

    from brygga.ledger import StepRecord

    with counting(ledger.engine) as tx:
        landing = ledger.land(route_id="r", tenant="1881", content_sha256="f" * 64, raw_path="/x", source_name="f.xml",
                              submission_id="00000000-0000-4000-8000-000000000001", source_reference="2001",
                              record=StepRecord("00000000-0000-4000-8000-000000000001", "intake", "ok",
                                                datetime.now(UTC), 1.5, "sha256=ff size=1"))
    assert tx.take() == (1, 1)
    assert landing.created and landing.submission_id == "00000000-0000-4000-8000-000000000001"
    assert ledger.get(landing.submission_id).source_reference == "2001"
    assert [(s.step, s.outcome) for s in ledger.steps(landing.submission_id)] == [("intake", "ok")]


def test_a_call_is_its_claim_then_one_transaction_with_the_move(ledger):
    from datetime import timedelta

    from brygga.pipeline.attempts import CallSite, attempt
    from brygga.retry import RetryPolicy

    sid = _land(ledger)
    site = CallSite(sid, "byggr", "key", RetryPolicy(in_doubt_delay=timedelta(seconds=90)), "target byggr")
    with counting(ledger.engine) as tx, per_submission(_ctx(ledger), sid, "deliver") as step:
        done = attempt(_ctx(ledger), step, site, lambda: "BN 2026-000009", external_ref=str)
        assert done is not None and done.result == "BN 2026-000009"
        assert tx.take() == (1, 1), "the claim, committed before the call"
        assert step.advance(State.LANDED, state=State.DELIVERED, external_ref=done.result)
    assert tx.take() == (1, 1), "the answer, the move and the step record"
    assert ledger.delivered_ref(sid, "byggr") == "BN 2026-000009"
    (row,) = ledger.deliveries(sid)
    assert row.lease_owner is None


def test_a_second_call_of_the_step_finds_the_first_one_s_answer_committed_before_it_goes_out(ledger):
    from datetime import timedelta

    from brygga.pipeline.attempts import CallSite, attempt
    from brygga.retry import RetryPolicy

    sid = _land(ledger)
    policy = RetryPolicy(in_doubt_delay=timedelta(seconds=90))
    seen: list[str | None] = []

    def second_call() -> str:
        seen.append(ledger.delivered_ref(sid, "byggr"))  # what a worker killed now would leave behind
        return "MB 2026-1"

    with per_submission(_ctx(ledger), sid, "deliver") as step:
        attempt(_ctx(ledger), step, CallSite(sid, "byggr", "k1", policy, "target byggr"), lambda: "BN 2026-1",
                external_ref=str)
        attempt(_ctx(ledger), step, CallSite(sid, "ecos", "k2", policy, "target ecos"), second_call,
                external_ref=str)
    assert seen == ["BN 2026-1"]
    assert ledger.delivered_ref(sid, "ecos") == "MB 2026-1", "the last answer goes with the step's record"


def test_person_keys_stored_before_are_left_as_they_are_without_failing_the_transaction(ledger):
    sid = _land(ledger)
    assert ledger.add_person_keys(sid, ["a" * 64, "b" * 64]) == 2
    assert ledger.add_person_keys(sid, ["b" * 64, "c" * 64]) == 1
    assert ledger.person_keys(sid) == ["a" * 64, "b" * 64, "c" * 64]
