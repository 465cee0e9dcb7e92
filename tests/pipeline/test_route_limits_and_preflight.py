"""Real-sized drawings, size limits and what targets would refuse, met where an administrator would meet them."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from brygga.admin import SearchQuery, replay, search
from brygga.ledger import State
from brygga_simulators.oep_export import write_export_with_drawing

MIB = 1024 * 1024


@pytest.mark.parametrize("byggr", ["contract"], indirect=True)
def test_a_50_mb_drawing_arrives_intact_at_the_case_system_and_in_the_archive(route, byggr, callback):
    route.inbox.mkdir(parents=True)
    drawing = write_export_with_drawing(route.inbox / "stor-ritning.xml", 50 * MIB)
    route.run()
    (found,) = search(route.context().ledger, SearchQuery(text="2001"))
    submission = route.context().ledger.get(found.id)
    assert submission.state == State.COMPLETED, route.context().ledger.quarantine_reasons(submission.id)
    (case,) = byggr.app.cases.values()
    delivered = [d for h in case.handelser for d in h.documents if len(d.content) == drawing.size]
    assert [hashlib.sha256(d.content).hexdigest() for d in delivered] == [drawing.sha256]
    archived = [f for f in (Path(submission.archive_location) / "representations" / "rep1" / "data").iterdir()
                if f.stat().st_size == drawing.size]
    assert len(archived) == 1
    digest = hashlib.sha256()
    with archived[0].open("rb") as handle:
        for block in iter(lambda: handle.read(MIB), b""):
            digest.update(block)
    assert digest.hexdigest() == drawing.sha256


def test_a_file_over_the_routes_limit_is_landed_quarantined_and_can_be_replayed(route, byggr):
    route.variant('    schedule: "*/1', '    limits: {max_file_bytes: 1000}\n    schedule: "*/1')
    data = route.drop("bygglov-person.xml")
    route.run()
    submission = route.submission(data)
    ledger = route.context().ledger
    assert submission.state == State.QUARANTINED
    (reason,) = ledger.quarantine_reasons(submission.id)
    assert f"{len(data):,} bytes" in reason and "1,000 bytes" in reason and "limits.max_file_bytes" in reason
    assert not list(route.inbox.iterdir()), "taken out of the inbox: the ledger has it now"
    assert byggr.app.cases == {}
    replay(ledger, submission.id, actor="test")
    route.run()
    assert ledger.get(submission.id).state == State.COMPLETED


def test_an_attachment_over_the_limit_is_quarantined_naming_the_field_size_and_limit(route, byggr):
    route.variant('    schedule: "*/1', '    limits: {max_attachment_bytes: 100}\n    schedule: "*/1')
    data = route.drop("bygglov-person.xml")  # its third file is 108 bytes
    route.run()
    submission = route.submission(data)
    assert submission.state == State.QUARANTINED
    (reason,) = route.context().ledger.quarantine_reasons(submission.id)
    assert re.search(r"rule attachments\[\d\]", reason)
    assert "108 bytes" in reason and "100 bytes" in reason and "limits.max_attachment_bytes" in reason
    assert byggr.app.cases == {}


def test_a_flow_instance_id_the_callback_cannot_take_is_found_before_anything_is_created(route, byggr, callback):
    original = (Path(__file__).parents[2] / "samples" / "open-eplatform" / "bygglov-person.xml").read_bytes()
    data = route.drop("x.xml", data=original.replace(b"<FlowInstanceID>2001<", b"<FlowInstanceID>OEP-2001<"))
    route.run()
    submission = route.submission(data)
    assert submission.state == State.QUARANTINED
    assert [s.step for s in route.context().ledger.steps(submission.id)][-1] == "translate"
    reasons = " ".join(route.context().ledger.quarantine_reasons(submission.id))
    assert "notify" in reasons and "source.reference" in reasons and "OEP-2001" not in reasons
    assert byggr.app.cases == {} and callback.app.calls == []
    assert not (route.home / "archive-out").exists() or not list((route.home / "archive-out").iterdir())
