"""Quarantine as an operator works it: list, group by reason, replay one or many, discard with a reason."""

from __future__ import annotations

import pytest
from admin_ledger import T0, land, quarantine
from sqlalchemy import select

from brygga.admin import QuarantineFilter, discard, quarantine_groups, quarantined, replay, replay_many
from brygga.admin.quarantine import reason_key
from brygga.ledger import Ledger, OutboxMessage, State

DATE_RULE = "mapping bygglov.yaml: rule sokande (source /FlowInstance/Values[1]/line {n}): not a date"


@pytest.fixture
def stuck(ledger):  # type: ignore[no-untyped-def]
    """Three at translate (two of one rule, on other lines), one at deliver, one on another route and kommun."""
    return {
        "date12": quarantine(ledger, "a.xml", "translate", [DATE_RULE.format(n=12)]),
        "date40": quarantine(ledger, "b.xml", "translate", [DATE_RULE.format(n=40)]),
        "malformed": quarantine(ledger, "c.xml", "translate", ["c.xml: not well-formed XML (line 2, column 9)"]),
        "byggr": quarantine(ledger, "d.xml", "deliver", ["target byggr refused: s:Client Arendetyp saknas"]),
        "orebro": quarantine(ledger, "e.xml", "translate", [DATE_RULE.format(n=7)], route="orebro-bygglov",
                             tenant="1880"),
    }


def _ids(rows) -> set[str]:  # type: ignore[no-untyped-def]
    return {row.submission.id for row in rows}


def test_the_list_filters_by_route_step_reason_and_kommun(ledger, stuck):
    land(ledger, "fine.xml", state=State.COMPLETED)
    assert _ids(quarantined(ledger)) == set(stuck.values())
    assert _ids(quarantined(ledger, QuarantineFilter(route="orebro-bygglov"))) == {stuck["orebro"]}
    assert _ids(quarantined(ledger, QuarantineFilter(step="deliver"))) == {stuck["byggr"]}
    assert _ids(quarantined(ledger, QuarantineFilter(reason="NOT A DATE"))) == {
        stuck["date12"], stuck["date40"], stuck["orebro"]}
    assert _ids(quarantined(ledger, QuarantineFilter(tenant="1881", reason="not a date"))) == {
        stuck["date12"], stuck["date40"]}
    (row,) = quarantined(ledger, QuarantineFilter(step="deliver"))
    assert row.step == "deliver" and row.reasons == ["target byggr refused: s:Client Arendetyp saknas"]
    assert row.since.tzinfo is not None


def test_groups_put_one_fault_together_whatever_its_line_or_file(ledger, stuck):
    also_malformed = quarantine(ledger, "zz-other.xml", "translate",
                                ["zz-other.xml: not well-formed XML (line 5, column 1)"])
    groups = quarantine_groups(ledger)
    assert [(g.route_id, g.step, g.count) for g in groups][:2] == [("kumla-bygglov", "translate", 2)] * 2
    by_members = {frozenset(g.submission_ids): g for g in groups}
    date = by_members[frozenset({stuck["date12"], stuck["date40"]})]
    assert date.reason == DATE_RULE.format(n=12), "one real reason stands for the group"
    assert frozenset({stuck["malformed"], also_malformed}) in by_members
    assert frozenset({stuck["orebro"]}) in by_members, "another route is another group"
    assert frozenset({stuck["byggr"]}) in by_members
    assert len(groups) == 4
    assert [g.submission_ids for g in quarantine_groups(ledger, QuarantineFilter(step="deliver"))] == [
        [stuck["byggr"]]]


def test_replay_starts_from_the_step_that_stopped_and_is_audited(ledger, stuck):
    assert replay(ledger, stuck["date12"], actor="ops-anna").from_state == State.LANDED
    assert replay(ledger, stuck["byggr"], actor="ops-anna").from_state == State.TRANSLATED
    assert ledger.get(stuck["byggr"]).state == State.TRANSLATED
    assert ledger.quarantine_reasons(stuck["byggr"]) == [], "no open quarantine"
    (row,) = ledger.quarantines(stuck["byggr"])
    assert (row.resolution, row.resolved_by) == ("replayed", "ops-anna")
    assert [(a.actor, a.action) for a in ledger.audit_log(stuck["byggr"])] == [("ops-anna", "replay")]
    assert stuck["byggr"] in ledger.unfinished("kumla-bygglov")


def test_replay_refuses_what_is_not_quarantined(ledger, stuck):
    done = land(ledger, "done.xml", state=State.COMPLETED)
    with pytest.raises(ValueError, match="is completed, not quarantined"):
        replay(ledger, done, actor="ops-anna")
    replay(ledger, stuck["date12"], actor="ops-anna")
    with pytest.raises(ValueError, match="not quarantined"):
        replay(ledger, stuck["date12"], actor="ops-bo")
    with pytest.raises(LookupError):
        replay(ledger, "nope", actor="ops-anna")
    assert [a.actor for a in ledger.audit_log(stuck["date12"])] == ["ops-anna"]


def test_replay_many_takes_what_the_filter_selects(ledger, stuck):
    heard: list[tuple[str, object]] = []
    done = replay_many(ledger, QuarantineFilter(route="kumla-bygglov", step="translate", reason="not a date"),
                       actor="ops-anna", on_each=lambda sid, outcome: heard.append((sid, outcome)))
    assert {r.submission_id for r in done} == {stuck["date12"], stuck["date40"]}
    assert [sid for sid, _ in heard] == [r.submission_id for r in done]
    assert all(outcome in done for _, outcome in heard)
    for name in ("malformed", "byggr", "orebro"):
        assert ledger.get(stuck[name]).state == State.QUARANTINED, name
    audited = [(a.submission_id, a.actor, a.action) for a in ledger.audit_log()]
    assert sorted(audited) == sorted((sid, "ops-anna", "replay") for sid in (stuck["date12"], stuck["date40"]))


def test_replay_many_reports_one_it_could_not_take_and_goes_on(ledger, stuck):
    heard: dict[str, object] = {}

    def replay_one_first(sid: str, outcome: object) -> None:
        heard[sid] = outcome
        if len(heard) == 1:  # another operator replays the next one meanwhile
            replay(ledger, stuck["date40"], actor="ops-bo")

    done = replay_many(ledger, QuarantineFilter(reason="not a date", tenant="1881"), actor="ops-anna",
                       on_each=replay_one_first)
    assert [r.submission_id for r in done] == [stuck["date12"]]
    assert isinstance(heard[stuck["date40"]], ValueError)


def test_discard_needs_a_reason(ledger, stuck):
    for blank in ("", "   "):
        with pytest.raises(ValueError, match="needs a reason"):
            discard(ledger, stuck["malformed"], actor="ops-anna", reason=blank)
    assert ledger.get(stuck["malformed"]).state == State.QUARANTINED and ledger.audit_log() == []


def test_discard_ends_the_quarantine_for_good_and_says_why(ledger, stuck):
    sid = stuck["malformed"]
    discard(ledger, sid, actor="ops-anna", reason="test file from 19121212-1212, sent by mistake")
    assert ledger.get(sid).state == State.DISCARDED
    assert sid not in ledger.unfinished("kumla-bygglov") and ledger.pending("kumla-bygglov", State.LANDED) == []
    (row,) = ledger.quarantines(sid)
    assert (row.resolution, row.resolved_by) == ("discarded", "ops-anna") and row.released_at is not None
    assert row.resolution_note == "test file from [redacted], sent by mistake"
    (audit,) = ledger.audit_log(sid)
    assert (audit.actor, audit.action, audit.detail) == ("ops-anna", "discard", row.resolution_note)
    with ledger.session() as s:
        types = list(s.scalars(select(OutboxMessage.type).order_by(OutboxMessage.id)))
    assert types[-1] == "se.brygga.submission.discarded"
    assert sid not in _ids(quarantined(ledger))
    with pytest.raises(ValueError, match="is discarded, not quarantined"):
        discard(ledger, sid, actor="ops-anna", reason="again")
    with pytest.raises(ValueError, match="not quarantined"):
        replay(ledger, sid, actor="ops-anna")


def test_a_quarantine_without_its_row_still_lists(ledger):
    """A submission quarantined before the quarantine table held every case (an old ledger) is listed all the same."""
    sid = land(ledger, "old.xml", state=State.QUARANTINED, updated_at=T0)
    ledger.record_step(sid, "deliver", "error", started_at=T0, duration_ms=1.0)
    (row,) = quarantined(ledger)
    assert (row.submission.id, row.step, row.reasons, row.since) == (sid, "deliver", [], T0)
    assert replay(ledger, sid, actor="ops-anna").from_state == State.TRANSLATED


def test_a_release_takes_only_a_quarantined_submission(ledger, stuck):
    done = land(ledger, "done.xml", state=State.COMPLETED)
    assert ledger.release(done, State.LANDED) is False
    assert ledger.get(done).state == State.COMPLETED and done not in ledger.unfinished("kumla-bygglov")
    assert ledger.release(stuck["date12"], State.LANDED) is True
    assert ledger.release(stuck["date12"], State.TRANSLATED) is False, "of two releases at once, one goes through"
    assert ledger.get(stuck["date12"]).state == State.LANDED


def test_a_replay_always_says_who(ledger, stuck):
    with pytest.raises(TypeError):
        replay(ledger, stuck["date12"])  # type: ignore[call-arg]
    assert ledger.get(stuck["date12"]).state == State.QUARANTINED and ledger.audit_log() == []


def test_a_replay_reads_the_step_from_the_quarantine_row_not_every_step(ledger, stuck, monkeypatch):
    read: list[str] = []
    steps = Ledger.steps

    def counted(self, submission_id):  # type: ignore[no-untyped-def]
        read.append(submission_id)
        return steps(self, submission_id)

    monkeypatch.setattr(Ledger, "steps", counted)
    assert replay(ledger, stuck["byggr"], actor="ops-anna").from_state == State.TRANSLATED
    done = replay_many(ledger, QuarantineFilter(), actor="ops-anna")
    assert len(done) == 4 and read == []


def test_a_reason_key_leaves_out_what_differs_per_submission():
    assert reason_key("Anna 19121212-1212.xml: not well-formed XML (line 2, column 9)",
                      "Anna 19121212-1212.xml") == "<file>: not well-formed XML (line #, column #)"
    assert reason_key("attachment ritning-johan.pdf is not a PDF (2026-05-01 12:00)") == (
        "attachment <file> is not a PDF (#)")
    assert reason_key("mapping mappings/open-eplatform/bygglov.yaml: rule x") == (
        "mapping mappings/open-eplatform/bygglov.yaml: rule x"), "a path names the mapping: it stays"
    assert reason_key(f"submission {'0' * 8}-1111-2222-3333-{'4' * 12}: sha256 {'ab' * 32}") == (
        "submission <id>: sha256 <hex>")
    assert len(reason_key("x" * 1000)) == 200


def test_groups_put_one_fault_together_whatever_file_it_names(ledger):
    one = quarantine(ledger, "Johan 19850314-2385.xml", "translate",
                     ["Johan 19850314-2385.xml: not well-formed XML (line 1, column 1)"])
    other = quarantine(ledger, "Anna 19121212-1212.xml", "translate",
                       ["Anna 19121212-1212.xml: not well-formed XML (line 3, column 7)"])
    drawing = quarantine(ledger, "a.xml", "translate", ["attachment ritning-johan.pdf is not a PDF"])
    plan = quarantine(ledger, "b.xml", "translate", ["attachment situationsplan.pdf is not a PDF"])
    assert sorted(sorted(g.submission_ids) for g in quarantine_groups(ledger)) == sorted(
        [sorted([one, other]), sorted([drawing, plan])])
