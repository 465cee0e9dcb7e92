"""`brygga quarantine list|show|replay|discard` and the old `brygga replay`: grouped by reason, bulk replay by
filter with a confirmation and a progress bar, discard with a reason; every action audited with the OS user."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cli_ledger import land, personnummer_reason, quarantined

from brygga.ledger import State


class _Terminal:
    """A stdin that is a terminal, where the operator types ``answer``."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        return self.answer + "\n"


@pytest.fixture
def stuck(ledger):  # type: ignore[no-untyped-def]
    """Two bygglov submissions stopped by the same mapping fault (at other lines), one by bad XML, and a
    felanmälan refused by the work-order system."""
    return {
        "pnr1": quarantined(ledger, "2004.xml", "translate", [personnummer_reason(12)], reference="2004",
                            ago=timedelta(hours=3)),
        "pnr2": quarantined(ledger, "2005.xml", "translate", [personnummer_reason(40)], reference="2005",
                            ago=timedelta(hours=2)),
        "xml": quarantined(ledger, "2007.xml", "intake", ["not valid XML: line 3"], reference="2007"),
        "wo": quarantined(ledger, "gatlykta.json", "deliver", ["target workorder: HTTP 422: unknown category"],
                          route="kumla-felanmalan", reference="301"),
    }


def test_list_groups_by_reason_biggest_first(brygga, stuck):
    ran = brygga("quarantine", "list")
    assert ran.code == 0
    rows = [line for line in ran.out.splitlines()[2:] if line.strip()]
    assert len(rows) == 3
    assert rows[0].split()[:3] == ["2", "kumla-bygglov", "translate"] and "not a valid personnummer" in rows[0]
    assert stuck["pnr1"] in rows[0], "the group names its oldest submission"
    assert {row.split()[2] for row in rows[1:]} == {"intake", "deliver"}


def test_list_all_shows_each_submission_and_filters(brygga, stuck):
    ran = brygga("quarantine", "list", "--all")
    assert ran.code == 0 and all(sid in ran.out for sid in stuck.values())
    narrowed = brygga("quarantine", "list", "--all", "--route", "kumla-bygglov", "--reason", "PERSONNUMMER")
    assert [line.split()[0] for line in narrowed.out.splitlines()[2:]] == [stuck["pnr1"], stuck["pnr2"]]
    assert stuck["wo"] in brygga("quarantine", "list", "--all", "--step", "deliver").out
    empty = brygga("quarantine", "list", "--route", "no-such-route")
    assert empty.code == 0 and "nothing in quarantine (route 'no-such-route')" in empty.out


def test_show_gives_the_reasons_history_and_next_commands(brygga, stuck, ledger):
    ran = brygga("quarantine", "show", stuck["xml"])
    assert ran.code == 0
    assert "not valid XML: line 3" in ran.out and "open" in ran.out
    assert f"brygga quarantine replay {stuck['xml']}" in ran.out
    assert f"brygga quarantine discard {stuck['xml']} --reason TEXT" in ran.out
    never = land(ledger, "ok.xml", state=State.COMPLETED)
    clean = brygga("quarantine", "show", never)
    assert clean.code == 1 and "never been in quarantine (it is completed)" in clean.err
    assert brygga("quarantine", "show", "no-such-id").code == 1


def test_bulk_replay_by_filter_with_yes_shows_progress_and_audits(brygga, stuck, ledger):
    ran = brygga("quarantine", "replay", "--route", "kumla-bygglov", "--step", "translate", "--reason",
                 "personnummer", "--yes")
    assert ran.code == 0, ran.err
    assert "replaying" in ran.err and "2/2" in ran.err, "the progress bar"
    assert "replayed 2 submission(s)" in ran.out
    for key in ("pnr1", "pnr2"):
        assert ledger.get(stuck[key]).state == State.LANDED
        (row,) = ledger.quarantines(stuck[key])
        assert (row.resolution, row.resolved_by) == ("replayed", "ops-anna")
        assert [(a.actor, a.action) for a in ledger.audit_log(stuck[key])] == [("ops-anna", "replay")]
    assert ledger.get(stuck["xml"]).state == ledger.get(stuck["wo"]).state == State.QUARANTINED
    again = brygga("quarantine", "replay", "--reason", "personnummer", "--yes")
    assert again.code == 1 and "nothing in quarantine matches" in again.err


def test_bulk_replay_asks_first(brygga, stuck, ledger, monkeypatch):
    piped = brygga("quarantine", "replay", "--all")  # no terminal to ask on
    assert piped.code == 1 and "add --yes" in piped.err and "4 submission(s) match" in piped.err
    monkeypatch.setattr("sys.stdin", _Terminal("n"))
    declined = brygga("quarantine", "replay", "--step", "intake")
    assert declined.code == 1 and "Replay 1 quarantined submission(s)" in declined.err
    assert all(ledger.get(sid).state == State.QUARANTINED for sid in stuck.values())
    monkeypatch.setattr("sys.stdin", _Terminal("y"))
    confirmed = brygga("quarantine", "replay", "--step", "intake")
    assert confirmed.code == 0 and ledger.get(stuck["xml"]).state == State.LANDED


def test_replay_by_id_and_the_old_command(brygga, stuck, ledger):
    ran = brygga("replay", stuck["wo"])
    assert ran.code == 0 and f"submission {stuck['wo']} released from quarantine as translated" in ran.out
    twice = brygga("quarantine", "replay", stuck["wo"], stuck["xml"])
    assert twice.code == 1 and "not quarantined" in twice.err and f"submission {stuck['xml']} released" in twice.out
    unknown = brygga("quarantine", "replay", "no-such-id")
    assert unknown.code == 1 and "no submission with id 'no-such-id'" in unknown.err


def test_replay_usage_errors(brygga, stuck):
    assert brygga("quarantine", "replay").code == 2
    both = brygga("quarantine", "replay", stuck["xml"], "--route", "kumla-bygglov")
    assert both.code == 2 and "not both" in both.err
    assert brygga("quarantine", "replay", "--step", "nowhere").code == 2


def test_discard_with_a_reason(brygga, stuck, ledger):
    ran = brygga("quarantine", "discard", stuck["xml"], "--reason", "a test file; ring 070-123 45 67 about it")
    assert ran.code == 0 and "discarded" in ran.out
    assert ledger.get(stuck["xml"]).state == State.DISCARDED
    (row,) = ledger.quarantines(stuck["xml"])
    assert (row.resolution, row.resolved_by) == ("discarded", "ops-anna")
    assert "a test file" in row.resolution_note and "070-123 45 67" not in row.resolution_note
    (entry,) = ledger.audit_log(stuck["xml"])
    assert (entry.actor, entry.action) == ("ops-anna", "discard")
    shown = brygga("trace", stuck["xml"]).out
    assert "discarded" in shown and "a test file" in shown

    assert brygga("quarantine", "discard", stuck["xml"], "--reason", "again").code == 1
    assert brygga("quarantine", "discard", stuck["pnr1"], "--reason", "  ").code == 2
    assert brygga("quarantine", "discard", stuck["pnr1"]).code == 2  # --reason is required
    assert ledger.get(stuck["pnr1"]).state == State.QUARANTINED


def test_several_reasons_stay_on_their_row_off_a_terminal(brygga, ledger):
    """A pipe into grep sees each submission on one line, its reasons and all."""
    sid = quarantined(ledger, "2009.xml", "translate", ["title: missing", "receivedAt: not a date"], reference="2009")
    for argv in (("quarantine", "list", "--all"), ("trace", sid)):
        out = brygga(*argv).out
        (row,) = [line for line in out.splitlines() if "title: missing" in line]
        assert "title: missing; receivedAt: not a date" in row, argv
        assert not any(line.strip().startswith("receivedAt") for line in out.splitlines()), argv


@pytest.mark.parametrize("command", [("replay",), ("quarantine", "replay")])
def test_replay_messages_name_the_command_typed(brygga, stuck, command):
    typed = " ".join(command)
    unknown = brygga(*command, "no-such-id")
    assert unknown.code == 1 and unknown.err.startswith(f"brygga {typed}: no submission with id 'no-such-id'")
    usage = brygga(*command)
    assert usage.code == 2 and usage.err.startswith(f"brygga {typed}: name the submissions")
    nothing = brygga(*command, "--route", "no-such-route")
    assert nothing.code == 1 and nothing.err.startswith(f"brygga {typed}: nothing in quarantine matches")
    assert f"brygga {typed} --all --yes" in brygga(*command, "--help").out
