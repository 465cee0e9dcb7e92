"""The status feed over ByggR's real GetUpdatedArenden reply: every change is read, classified by the bundled
vocabulary, matched to the submission that created its case, and the others are recorded as foreign."""

from __future__ import annotations

from pathlib import Path

import pytest

from brygga.ledger import Ledger
from brygga.ledger.models import Delivery, Submission
from brygga.settings import Settings
from brygga.status.changes import ChangeBatch
from brygga.status.context import StatusContext
from brygga.status.poll import poll
from brygga.status.vocabulary import load_vocabulary
from brygga_adapters.byggr.status_feed import changes_from_reply
from brygga_adapters.soap.raw import reply_payload

pytestmark = pytest.mark.interop
OURS = "BYGG 2020-001012"  # the sample's case with the most history: a handler, decisions, supplements
SUBMISSION = "5b1f8a56-0c2e-4a8e-9d39-1f0a6f2b7c11"


def _sample(shared_reference: Path) -> ChangeBatch:
    content = (shared_reference / "vertical-systems/byggr/examples/arendeexport.GetUpdatedArenden.200.xml").read_bytes()
    return changes_from_reply(reply_payload(200, content, "the real sample"))


def test_every_change_in_the_real_reply_has_a_rule(shared_reference: Path) -> None:
    vocabulary = load_vocabulary(Settings.from_env().mappings_dir / "status" / "byggr.yaml")
    batch = _sample(shared_reference)
    unmapped = [dict(c.facts) for c in batch.changes if vocabulary.classify(c) is None]
    assert len(batch.changes) == 38 and unmapped == []


def test_the_real_reply_is_recorded_once_ours_told_and_the_rest_foreign(
        shared_reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    batch = _sample(shared_reference)
    ledger = Ledger(Settings.from_env().database_url)
    with ledger.session() as s:  # as if kumla-bygglov had registered the sample's case OURS
        s.add(Submission(id=SUBMISSION, route_id="kumla-bygglov", tenant="1881", content_sha256="0" * 64, raw_path="x",
                         source_name="x.xml", source_reference="2241", state="completed", external_ref=OURS))
        s.flush()
        s.add(Delivery(idempotency_key="k-1", submission_id=SUBMISSION, target="byggr", state="delivered",
                       external_ref=OURS))
    monkeypatch.setattr(StatusContext, "source", property(lambda self: _Replay(batch)))
    ctx = StatusContext.for_connection("byggr_kumla")
    first = poll(ctx)
    again = poll(ctx)
    events = ledger.status_events(connection="byggr_kumla")
    assert first.read == again.read == 38 and first.recorded == 38 and again.recorded == 0
    ours = [e for e in events if e.case_ref == OURS]
    assert {e.state for e in events if e.case_ref != OURS} <= {"foreign", "ignored"}
    told = [e.kind for e in ours if e.state == "pending"]
    assert "handler_assigned" in told and "decision_made" in told and "supplement_requested" in told
    assert all(e.submission_id == SUBMISSION for e in ours if e.state == "pending")
    assert ledger.watermark("status:byggr_kumla") == batch.until


class _Replay:
    """A feed that answers every poll with the real reply."""

    def __init__(self, batch: ChangeBatch) -> None:
        self.batch = batch

    def changes(self, since):  # type: ignore[no-untyped-def]
        return self.batch
