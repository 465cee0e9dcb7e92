"""The outbox: each CloudEvent names its submission (``correlationid``), and each state change is counted once its
transaction commits, never when it rolls back."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest
from observed import points
from sqlalchemy import select

from brygga.ledger import Ledger, OutboxMessage, State, outbox
from brygga.provenance import correlation


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def _land(ledger: Ledger, sha: str) -> str:
    return ledger.land(route_id="kumla-bygglov", tenant="1881", content_sha256=sha, raw_path="x",
                       source_name="x.xml").submission_id


def _bodies(ledger: Ledger) -> list[dict]:
    with ledger.session() as s:
        return [orjson.loads(body) for body in s.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id))]


def _status(case: dict[str, str]) -> dict:
    return {"eventId": str(uuid.uuid4()), "connection": "byggr_kumla", "kind": "decision_made", "case": case}


def test_a_case_event_names_the_submission_that_made_the_case(ledger):
    sid = _land(ledger, "a" * 64)
    with ledger.session() as s:
        outbox.status_recorded(s, _status({"diarienummer": "BN 2026-000001", "submissionId": sid}), {"kind": "x"})
        outbox.status_recorded(s, _status({"diarienummer": "BN 2026-000002"}), {"kind": "y"})
    landed, made_by_brygga, foreign = _bodies(ledger)
    assert landed["correlationid"] == sid and made_by_brygga["correlationid"] == sid
    assert "correlationid" not in foreign  # a case Brygga did not create has no submission


def test_a_case_event_recorded_while_working_on_a_submission_names_it(ledger):
    with correlation("6f1c2b7e-0000-4000-8000-000000000001"), ledger.session() as s:
        outbox.status_recorded(s, _status({"diarienummer": "BN 2026-000003"}), {})
    assert _bodies(ledger)[-1]["correlationid"] == "6f1c2b7e-0000-4000-8000-000000000001"


def test_state_changes_are_counted_when_they_commit(ledger, metric_reader):
    sid = _land(ledger, "a" * 64)
    with pytest.raises(RuntimeError), ledger.session() as s:
        outbox.submission_changed(s, sid, State.TRANSLATED)
        raise RuntimeError("the ledger fails before the commit")
    assert {dict(p.attributes)["state"]: p.value for p in points(metric_reader, "brygga.submissions")} == {"landed": 1}
    with ledger.session() as s:
        outbox.submission_changed(s, sid, State.TRANSLATED)
        outbox.submission_changed(s, sid, State.DELIVERED)
        assert len(points(metric_reader, "brygga.submissions")) == 1, "counted before the commit"
    counted = {dict(p.attributes)["state"]: p.value for p in points(metric_reader, "brygga.submissions")}
    assert counted == {"landed": 1, "translated": 1, "delivered": 1}
    assert {dict(p.attributes)["route"] for p in points(metric_reader, "brygga.submissions")} == {"kumla-bygglov"}
