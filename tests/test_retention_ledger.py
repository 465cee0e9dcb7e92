"""Retention (gallring) on a ledger and stores built by hand: which submissions are due, what is deleted, what stays.

The whole route run to completion and then purged is in tests/pipeline/test_retention.py.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from brygga.ledger import Ledger, Quarantine, State
from brygga.retention import PURGED_NAME, purge, purge_route
from brygga.routes import load_routes
from brygga.settings import Settings
from brygga.storage import ContentStore

KEEP = timedelta(days=90)
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
OLD = NOW - KEEP - timedelta(days=1)  # done 91 days before NOW: due
RECENT = NOW - timedelta(days=10)  # not due
PERSONAL_NAME = "Johan Berglund 19850314-2385.xml"


@dataclasses.dataclass
class World:
    settings: Settings
    ledger: Ledger
    route: object
    landing: ContentStore
    content: ContentStore
    counter: int = 0

    def submission(self, state: str, *, done_at: datetime, attachments: list[bytes] = (), route_id: str | None = None,
                   reference: str | None = None, revision: int | None = 1, fingerprint: str | None = None,
                   raw: bytes | None = None, archived: bool = True, source_name: str = PERSONAL_NAME) -> str:
        self.counter += 1
        raw = raw if raw is not None else f"<FlowInstance>{self.counter} Johan Berglund</FlowInstance>".encode()
        sha, path = self.landing.put(raw)
        shas = [self.content.put(data)[0] for data in attachments]
        case = {"caseType": "bygglov", "parties": [{"personnummer": "198503142385", "givenName": "Johan"}],
                "attachments": [{"name": f"ritning-{i}.pdf", "sha256": s} for i, s in enumerate(shas)]}
        sid = self.ledger.land(route_id=route_id or self.route.id, tenant="1881", content_sha256=sha,
                               raw_path=str(path), source_name=source_name).submission_id
        self.ledger.update(sid, state=state, canonical_json=json.dumps(case, ensure_ascii=False),
                           source_reference=reference or str(1000 + self.counter), revision=revision,
                           content_fingerprint=fingerprint or f"{self.counter:064x}",
                           external_ref="BN 2027-000001" if archived else None,
                           archive_location=f"/archive/brygga-{self.counter}" if archived else None,
                           updated_at=done_at)
        return sid

    def purge(self, *, apply: bool = True, now: datetime = NOW, actor: str = "tester"):  # type: ignore[no-untyped-def]
        return purge_route(self.ledger, self.settings, self.route, now=now, apply=apply, actor=actor)

    def raw_path(self, sid: str):  # type: ignore[no-untyped-def]
        return self.landing.path_for(self.ledger.get(sid).content_sha256)

    def attachment_paths(self, *data: bytes):  # type: ignore[no-untyped-def]
        import hashlib

        return [self.content.path_for(hashlib.sha256(d).hexdigest()) for d in data]


@pytest.fixture
def world(tmp_path, monkeypatch) -> World:
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    settings = Settings.from_env()
    settings.ensure_dirs()
    (route,) = [r for r in load_routes(settings.routes_file, settings.mappings_dir) if r.id == "kumla-bygglov"]
    route = dataclasses.replace(route, retention=KEEP)
    return World(settings, Ledger(settings.database_url), route, ContentStore(settings.landing),
                 ContentStore(settings.content))


def test_a_completed_submission_past_its_time_is_purged_and_the_facts_stay(world):
    sid = world.submission(State.COMPLETED, done_at=OLD, attachments=[b"drawing one", b"drawing two"])
    before = world.ledger.get(sid)
    raw, attachments = world.raw_path(sid), world.attachment_paths(b"drawing one", b"drawing two")
    size = raw.stat().st_size + sum(p.stat().st_size for p in attachments)

    report = world.purge()

    assert [p.submission_id for p in report.purged] == [sid]
    assert report.bytes_freed == size and report.purged[0].raw_deleted
    assert not raw.exists() and not any(p.exists() for p in attachments)
    after = world.ledger.get(sid)
    assert after.canonical_json is None and after.source_name == PURGED_NAME
    assert after.purged_at is not None and after.purged_at.replace(tzinfo=UTC) == NOW
    for kept in ("id", "route_id", "state", "external_ref", "archive_location", "content_sha256",
                 "content_fingerprint", "source_reference", "revision", "received_at", "updated_at"):
        assert getattr(after, kept) == getattr(before, kept), kept
    (entry,) = world.ledger.audit_log(sid)
    assert entry.actor == "tester" and entry.action == "purge"
    assert "2 deleted" in entry.detail and "Johan" not in entry.detail and "19850314" not in entry.detail


def test_bytes_reported_by_a_dry_run_are_the_bytes_freed(world):
    world.submission(State.COMPLETED, done_at=OLD, attachments=[b"a" * 1000, b"b" * 300])
    expected = sum(p.stat().st_size for p in world.landing.root.rglob("*") if p.is_file()) + 1300
    assert world.purge(apply=False).bytes_freed == expected
    assert world.purge().bytes_freed == expected


def test_a_dry_run_changes_nothing(world):
    sid = world.submission(State.COMPLETED, done_at=OLD, attachments=[b"drawing"])
    before = world.ledger.get(sid)
    report = world.purge(apply=False)
    assert [p.submission_id for p in report.purged] == [sid] and not report.applied
    after = world.ledger.get(sid)
    assert (after.canonical_json, after.source_name, after.purged_at) == (before.canonical_json, PERSONAL_NAME, None)
    assert world.raw_path(sid).exists() and world.attachment_paths(b"drawing")[0].exists()
    assert world.ledger.audit_log() == []


def test_nothing_is_purged_before_its_time(world):
    sid = world.submission(State.COMPLETED, done_at=RECENT, attachments=[b"drawing"])
    assert world.purge().purged == []
    assert world.ledger.get(sid).canonical_json is not None and world.raw_path(sid).exists()
    # The same submission, once its time has passed.
    assert [p.submission_id for p in world.purge(now=RECENT + KEEP + timedelta(seconds=1)).purged] == [sid]


def test_a_second_purge_does_nothing(world):
    sid = world.submission(State.COMPLETED, done_at=OLD, attachments=[b"drawing"])
    assert len(world.purge().purged) == 1
    again = world.purge(now=NOW + timedelta(days=1))
    assert again.purged == [] and again.held_back == []
    assert len(world.ledger.audit_log(sid)) == 1


@pytest.mark.parametrize("state", [State.QUARANTINED, State.LANDED, State.TRANSLATED, State.DELIVERED,
                                   State.ARCHIVED])
def test_quarantined_and_unfinished_submissions_are_never_purged(world, state):
    sid = world.submission(state, done_at=NOW - timedelta(days=3650), attachments=[b"shared drawing"])
    due = world.submission(State.COMPLETED, done_at=OLD, attachments=[b"shared drawing"])
    report = world.purge()
    assert [p.submission_id for p in report.purged] == [due]
    kept = world.ledger.get(sid)
    assert kept.purged_at is None and kept.canonical_json is not None and kept.source_name == PERSONAL_NAME
    assert world.raw_path(sid).exists()
    # It still refers to the drawing, so the drawing stays even though the due submission had it too.
    assert world.attachment_paths(b"shared drawing")[0].exists()
    assert report.purged[0].attachments_kept == 1 and report.purged[0].attachments_deleted == 0


def test_an_attachment_shared_with_a_submission_not_yet_due_is_kept_until_that_one_is_due(world):
    due = world.submission(State.COMPLETED, done_at=OLD, attachments=[b"situationsplan", b"own drawing"])
    later = world.submission(State.COMPLETED, done_at=RECENT, attachments=[b"situationsplan"])
    shared, own = world.attachment_paths(b"situationsplan", b"own drawing")
    world.purge()
    assert world.ledger.get(due).purged_at is not None
    assert shared.exists() and not own.exists()
    world.purge(now=RECENT + KEEP + timedelta(days=1))
    assert world.ledger.get(later).purged_at is not None and not shared.exists()


def test_an_attachment_shared_by_two_due_submissions_goes_with_the_last(world):
    first = world.submission(State.COMPLETED, done_at=OLD - timedelta(days=1), attachments=[b"situationsplan"])
    second = world.submission(State.COMPLETED, done_at=OLD, attachments=[b"situationsplan"])
    (shared,) = world.attachment_paths(b"situationsplan")
    report = world.purge(apply=False)
    assert [(p.submission_id, p.attachments_deleted) for p in report.purged] == [(first, 0), (second, 1)]
    assert report.bytes_freed == (world.raw_path(first).stat().st_size + world.raw_path(second).stat().st_size
                                  + shared.stat().st_size)
    world.purge()
    assert not shared.exists()


def test_raw_bytes_another_route_still_holds_are_kept(world):
    raw = b"<FlowInstance>the same file on two routes</FlowInstance>"
    due = world.submission(State.COMPLETED, done_at=OLD, raw=raw)
    world.submission(State.TRANSLATED, done_at=OLD, raw=raw, route_id="another-route")
    (item,) = world.purge().purged
    assert item.submission_id == due and not item.raw_deleted
    assert world.raw_path(due).exists()


def test_a_purge_that_stopped_half_way_is_finished_by_the_next(world):
    sid = world.submission(State.COMPLETED, done_at=OLD, attachments=[b"drawing one", b"drawing two"])
    # A crash after some files were deleted, before the row was updated.
    world.raw_path(sid).unlink()
    world.attachment_paths(b"drawing one")[0].unlink()
    (item,) = world.purge().purged
    assert item.submission_id == sid and not item.raw_deleted
    assert not world.attachment_paths(b"drawing two")[0].exists()
    assert world.ledger.get(sid).purged_at is not None and len(world.ledger.audit_log(sid)) == 1


def test_the_same_bytes_sent_again_after_a_purge_are_deleted_again(world):
    raw = b"<FlowInstance>sent twice, months apart</FlowInstance>"
    sid = world.submission(State.COMPLETED, done_at=OLD, raw=raw)
    world.purge()
    assert not world.raw_path(sid).exists()
    world.landing.put(raw)  # what intake does with the same bytes: it lands them, and finds the purged submission
    report = world.purge(now=NOW + timedelta(days=1))
    assert [(p.submission_id, p.relanded) for p in report.purged] == [(sid, True)]
    assert not world.raw_path(sid).exists()
    assert [e.action for e in world.ledger.audit_log(sid)] == ["purge", "purge"]
    assert "landed again" in world.ledger.audit_log(sid)[-1].detail


def test_a_duplicate_goes_once_the_version_it_repeats_is_completed(world):
    original = world.submission(State.DELIVERED, done_at=OLD, reference="2001", fingerprint="f" * 64)
    duplicate = world.submission(State.DUPLICATE, done_at=OLD, reference="2001", fingerprint="f" * 64, revision=None)
    report = world.purge()
    assert report.purged == [] and [sid for sid, _ in report.held_back] == [duplicate]
    world.ledger.update(original, state=State.COMPLETED, updated_at=RECENT)
    assert [p.submission_id for p in world.purge().purged] == [duplicate]
    assert world.ledger.get(original).purged_at is None


def test_a_superseded_version_goes_once_the_version_that_replaced_it_is_completed(world):
    superseded = world.submission(State.SUPERSEDED, done_at=OLD, reference="2002", revision=1, archived=False)
    later = world.submission(State.ARCHIVED, done_at=RECENT, reference="2002", revision=2)
    assert [sid for sid, _ in world.purge().held_back] == [superseded]
    world.ledger.update(later, state=State.COMPLETED, updated_at=RECENT)
    assert [p.submission_id for p in world.purge().purged] == [superseded]


def test_a_completed_version_waits_while_a_later_version_of_its_reference_is_not_done(world):
    first = world.submission(State.COMPLETED, done_at=OLD, reference="2003", revision=1)
    amendment = world.submission(State.QUARANTINED, done_at=RECENT, reference="2003", revision=2)
    ((held, why),) = world.purge().held_back
    assert held == first and "revision 2" in why and amendment in why
    world.ledger.update(amendment, state=State.COMPLETED, updated_at=RECENT)
    assert [p.submission_id for p in world.purge().purged] == [first]


def test_a_completed_submission_without_its_archive_package_is_held_back(world):
    sid = world.submission(State.COMPLETED, done_at=OLD, archived=False)
    assert world.purge().held_back == [(sid, "completed without an archive package")]


def test_quarantine_reasons_and_target_errors_go_their_counts_stay(world):
    """Text from outside (a file name, a target's fault text, masked by shape only) goes with the personal data."""
    sid = world.submission(State.COMPLETED, done_at=OLD)
    world.ledger.quarantine(sid, "translate", [f"{PERSONAL_NAME}: not well-formed (line 1)", "second"])
    claim = world.ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="k-purge", owner="w")
    world.ledger.fail_delivery("k-purge", claim.token, "SOAP fault s:Client: 'Sökande Anna Berg' saknas")
    world.ledger.release(sid, State.COMPLETED)
    world.ledger.update(sid, updated_at=OLD)
    world.purge()
    with world.ledger.session() as s:
        (reasons,) = s.scalars(select(Quarantine.reasons).where(Quarantine.submission_id == sid))
    assert reasons == ["2 reason(s), purged with the submission's personal data"]
    assert [d.last_error for d in world.ledger.deliveries(sid)] == [None]


def test_routes_without_retention_are_left_alone(world):
    world.submission(State.COMPLETED, done_at=OLD)
    no_retention = dataclasses.replace(world.route, retention=None)
    assert purge(world.ledger, world.settings, [no_retention], now=NOW, apply=True) == []
    with pytest.raises(LookupError):
        purge(world.ledger, world.settings, [world.route], route_id="no-such-route", now=NOW)
    with pytest.raises(ValueError):
        purge_route(world.ledger, world.settings, no_retention, now=NOW)


def test_a_row_the_pipeline_writes_during_the_purge_keeps_its_attachment(world, monkeypatch):
    """A submission translated while the purge runs refers to a drawing the due one had: the drawing stays."""
    import brygga.retention as retention

    due = world.submission(State.COMPLETED, done_at=OLD, attachments=[b"situationsplan"])
    (shared,) = world.attachment_paths(b"situationsplan")
    real_refresh = retention._References.refresh

    def translated_meanwhile(self, since):  # type: ignore[no-untyped-def]
        if not hasattr(self, "_translated"):
            self._translated = world.submission(State.TRANSLATED, done_at=datetime.now(UTC),
                                                attachments=[b"situationsplan"])
        real_refresh(self, since)

    monkeypatch.setattr(retention._References, "refresh", translated_meanwhile)
    (item,) = world.purge().purged
    assert item.submission_id == due and item.attachments_kept == 1 and shared.exists()


def test_a_purged_submission_can_no_longer_be_found_by_personnummer(world):
    """The keyed hash of a resident's personnummer goes with the personal data, and so does a discard's reason."""
    from brygga.admin import SearchQuery, search
    from brygga.ledger.models import PersonKey

    sid = world.submission(State.COMPLETED, done_at=OLD)
    world.ledger.add_person_keys(sid, ["a" * 64])
    with world.ledger.session() as s:
        s.add(Quarantine(submission_id=sid, step="deliver", reasons=["x"], resolution="discarded",
                         resolved_by="admin", resolution_note=f"sent twice by {PERSONAL_NAME}"))
    assert [r.id for r in search(world.ledger, SearchQuery(person_key="a" * 64))] == [sid]
    world.purge()
    assert search(world.ledger, SearchQuery(person_key="a" * 64)) == []
    with world.ledger.session() as s:
        assert s.scalars(select(PersonKey).where(PersonKey.submission_id == sid)).all() == []
        (note,) = s.scalars(select(Quarantine.resolution_note).where(Quarantine.submission_id == sid))
    assert PERSONAL_NAME not in note


def _discarded(world: World, *, done_at: datetime, reason: str, **kwargs) -> str:  # type: ignore[no-untyped-def]
    """A submission an operator took out of quarantine for good, ``done_at``."""
    from brygga.admin import discard

    sid = world.submission(State.QUARANTINED, done_at=done_at, **kwargs)
    world.ledger.quarantine(sid, "deliver", ["target byggr refused: s:Client Arendetyp saknas"])
    discard(world.ledger, sid, actor="ops-anna", reason=reason)
    world.ledger.update(sid, updated_at=done_at)
    return sid


def test_a_discarded_submission_is_purged_with_its_operators_reason(world):
    from brygga.admin import SearchQuery, search

    sid = _discarded(world, done_at=OLD, reason=f"sent twice by Johan Berglund ({PERSONAL_NAME})",
                     attachments=[b"drawing"])
    world.ledger.add_person_keys(sid, ["b" * 64])
    raw, (drawing,) = world.raw_path(sid), world.attachment_paths(b"drawing")
    recent = _discarded(world, done_at=RECENT, reason="a test file")

    assert [p.submission_id for p in world.purge().purged] == [sid]

    after = world.ledger.get(sid)
    assert (after.state, after.canonical_json, after.source_name) == (State.DISCARDED, None, PURGED_NAME)
    assert not raw.exists() and not drawing.exists()
    assert search(world.ledger, SearchQuery(person_key="b" * 64)) == []
    discard_entry, purge_entry = world.ledger.audit_log(sid)
    assert (discard_entry.actor, discard_entry.action) == ("ops-anna", "discard"), "who discarded it, and when, stay"
    assert "Johan" not in discard_entry.detail and purge_entry.action == "purge"
    (row,) = world.ledger.quarantines(sid)
    assert row.resolution == "discarded" and "Johan" not in row.resolution_note
    assert world.ledger.get(recent).purged_at is None, "not before its time"


@pytest.mark.parametrize("later_state", [State.DISCARDED, State.SUPERSEDED, State.COMPLETED])
def test_a_later_version_that_goes_nowhere_holds_no_earlier_version_back(world, later_state):
    first = world.submission(State.COMPLETED, done_at=OLD, reference="2004", revision=1)
    later = world.submission(later_state, done_at=RECENT, reference="2004", revision=2)
    report = world.purge()
    assert [p.submission_id for p in report.purged] == [first] and report.held_back == []
    assert world.ledger.get(later).purged_at is None


def test_a_discarded_version_waits_while_a_later_version_is_on_its_way(world):
    """It may have reached a target before it stopped: an amendment to that case reads its case."""
    first = _discarded(world, done_at=OLD, reason="stopped at archive", reference="2005", revision=1)
    amendment = world.submission(State.TRANSLATED, done_at=RECENT, reference="2005", revision=2)
    ((held, why),) = world.purge().held_back
    assert held == first and amendment in why
    world.ledger.update(amendment, state=State.COMPLETED, updated_at=RECENT)
    assert [p.submission_id for p in world.purge().purged] == [first]


def test_a_duplicate_of_a_discarded_version_goes_too(world):
    original = _discarded(world, done_at=OLD, reason="a test file", reference="2006", fingerprint="e" * 64)
    duplicate = world.submission(State.DUPLICATE, done_at=OLD, reference="2006", fingerprint="e" * 64, revision=None)
    assert {p.submission_id for p in world.purge().purged} == {original, duplicate}
