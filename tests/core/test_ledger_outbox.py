"""The ledger's transactional outbox, status events, watermarks and leases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from brygga.ledger import Ledger, NewStatusEvent, OutboxMessage, State
from brygga.ledger.workers import worker_id


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def _outbox(ledger: Ledger) -> list[OutboxMessage]:
    with ledger.session() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _land(ledger: Ledger, sha: str = "a" * 64) -> str:
    return ledger.land(route_id="kumla-bygglov", tenant="1881", content_sha256=sha, raw_path="x",
                       source_name="x.xml").submission_id


def test_each_state_change_writes_one_cloudevent_in_its_transaction(ledger: Ledger) -> None:
    sid = _land(ledger)
    _land(ledger)  # the same bytes again: no new submission, no new event
    assert ledger.advance(sid, State.LANDED, state=State.TRANSLATED, revision=1, source_reference="1001")
    assert not ledger.advance(sid, State.LANDED, state=State.TRANSLATED)  # not in that state: nothing happened
    ledger.quarantine(sid, "deliver", ["target byggr refused"])
    types = [m.type for m in _outbox(ledger)]
    assert types == ["se.brygga.submission.landed", "se.brygga.submission.translated",
                     "se.brygga.submission.quarantined"]
    body = orjson.loads(_outbox(ledger)[1].body)
    assert body["specversion"] == "1.0" and body["subject"] == sid and body["source"] == "/brygga/routes/kumla-bygglov"
    assert body["data"] == {"submissionId": sid, "state": "translated", "route": "kumla-bygglov", "kommunkod": "1881",
                            "sourceReference": "1001", "revision": 1}
    assert _outbox(ledger)[1].routing_key == "se.brygga.submission.translated.1881"


def test_a_change_that_rolls_back_writes_no_event(ledger: Ledger) -> None:
    first, second = _land(ledger, "a" * 64), _land(ledger, "b" * 64)
    ledger.advance(first, State.LANDED, state=State.TRANSLATED, revision=1, source_reference="1001")
    before = len(_outbox(ledger))
    # The same reference and revision twice breaks a unique key: the update and its event roll back together.
    assert not ledger.advance(second, State.LANDED, state=State.TRANSLATED, revision=1, source_reference="1001")
    assert len(_outbox(ledger)) == before and ledger.get(second).state == State.LANDED


def _event(n: int, case: str = "BN 2026-000001", occurred: datetime | None = None) -> NewStatusEvent:
    event = {"eventId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{case}/{n}")), "connection": "byggr_kumla",
             "kind": "handler_assigned", "occurredAt": (occurred or datetime(2026, 11, 30, 9, tzinfo=UTC)).isoformat(),
             "case": {"diarienummer": case, "kommunkod": "1881"}, "change": {"id": f"handelse:{n}"}}
    return NewStatusEvent(event, {"eventId": event["eventId"]}, "pending")


def test_status_events_are_recorded_once_and_the_watermark_only_moves_on(ledger: Ledger) -> None:
    later, earlier = datetime(2026, 11, 30, 10, tzinfo=UTC), datetime(2026, 11, 30, 9, tzinfo=UTC)
    assert ledger.record_status_events([_event(1), _event(2)], watermark="status:x", until=later) == 2
    assert ledger.record_status_events([_event(2), _event(3)], watermark="status:x", until=earlier) == 1
    assert ledger.watermark("status:x") == later
    assert [e.change_id for e in ledger.status_events(connection="byggr_kumla")] == [
        "handelse:1", "handelse:2", "handelse:3"]
    assert [m.type for m in _outbox(ledger)] == ["se.brygga.case.handler_assigned"] * 3
    assert {m.event_id for m in _outbox(ledger)} == {e.event_id for e in ledger.status_events()}


def test_a_watermark_in_another_zone_is_kept_as_the_same_moment(ledger: Ledger) -> None:
    from zoneinfo import ZoneInfo

    swedish = datetime(2026, 7, 1, 12, tzinfo=ZoneInfo("Europe/Stockholm"))
    ledger.record_status_events([], watermark="status:x", until=swedish)
    assert ledger.watermark("status:x") == swedish and ledger.watermark("status:x").hour == 10  # UTC


def test_an_event_is_finished_once_and_its_notes_add_up(ledger: Ledger) -> None:
    ledger.record_status_events([_event(1)], watermark="status:x", until=datetime(2026, 11, 30, tzinfo=UTC))
    [event] = ledger.status_events()
    ledger.note_status_event(event.event_id, "digital mail: delivered to the resident's mailbox")
    assert ledger.finish_status_event(event.event_id, "sent", "digital mail: delivered to the resident's mailbox")
    assert not ledger.finish_status_event(event.event_id, "failed", "too late")
    [event] = ledger.status_events()
    assert event.state == "sent" and event.detail == "digital mail: delivered to the resident's mailbox"


def test_one_lease_holder_at_a_time(ledger: Ledger) -> None:
    me, elsewhere = worker_id(), "other-host:4242:1"
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    assert ledger.take_lease("bus-relay", elsewhere, timedelta(minutes=5), now=now)
    assert not ledger.take_lease("bus-relay", me, timedelta(minutes=5), now=now + timedelta(minutes=1))
    assert ledger.take_lease("bus-relay", me, timedelta(minutes=5), now=now + timedelta(minutes=6))  # ran out
    assert not ledger.take_lease("bus-relay", elsewhere, timedelta(minutes=5), now=now + timedelta(minutes=20))
    ledger.release_lease("bus-relay", me)
    assert ledger.take_lease("bus-relay", elsewhere, timedelta(minutes=5))


def test_published_events_are_pruned_after_a_while(ledger: Ledger) -> None:
    _land(ledger, "a" * 64)
    _land(ledger, "b" * 64)
    first, second = _outbox(ledger)
    ledger.mark_published([first.id])
    assert ledger.prune_outbox(datetime.now(UTC) - timedelta(days=1)) == 0
    assert ledger.prune_outbox(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert [m.id for m in _outbox(ledger)] == [second.id] and ledger.outbox_backlog() == 1


def test_a_second_ledger_in_one_process_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """Opening the file to create it would, on close, drop the POSIX locks SQLite holds through the first engine's
    connection (sqlite.org/howtocorrupt.html, 2.2). The existing file is left alone."""
    import os

    path = tmp_path / "ledger.sqlite"
    first = Ledger(f"sqlite:///{path}")
    _land(first)
    opened = []
    real_open = os.open

    def watching(file, flags, *args):  # type: ignore[no-untyped-def]
        opened.append((str(file), flags))
        return real_open(file, flags, *args)

    os.open = watching  # type: ignore[assignment]
    try:
        Ledger(f"sqlite:///{path}")
    finally:
        os.open = real_open  # type: ignore[assignment]
    assert [flags & os.O_EXCL for file, flags in opened if file == str(path)] == [os.O_EXCL]
    assert (path.stat().st_mode & 0o777) == 0o600
