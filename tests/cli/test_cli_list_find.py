"""`brygga list` and `brygga find`: tables newest first, filters, every reference an admin holds, and the
personnummer search that never takes the number from the command line."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import pytest
from cli_ledger import PERSONAL, PERSONNUMMER, delivered, land, quarantined

from brygga.admin import PERSON_KEY_CONNECTION, person_key
from brygga.ledger import State

SECRET = "a-person-key-secret-of-32-chars!!"


@pytest.fixture
def submissions(ledger):  # type: ignore[no-untyped-def]
    """Four submissions, received 1 hour, 5 hours, 3 days and 10 days ago."""
    return {
        "new": delivered(ledger, "2001.xml", "BN 2026-000001", reference="2001", ago=timedelta(hours=1)),
        "stuck": quarantined(ledger, "2004.xml", "translate", ["bad personnummer"], reference="2004",
                             ago=timedelta(hours=5)),
        "felanmalan": land(ledger, "gatlykta.json", route="kumla-felanmalan", reference="301",
                           ago=timedelta(days=3), state=State.COMPLETED, external_ref="AO-2026-00001"),
        "ydre": quarantined(ledger, "va.xml", "intake", ["not valid XML"], tenant="0512", reference="640",
                            ago=timedelta(days=10)),
    }


def _ids(out: str) -> list[str]:
    """The id column of a table, in order: every row starts with an id."""
    return [line.split()[0] for line in out.splitlines()[2:] if line.strip()]


def test_list_shows_every_submission_newest_first_with_its_references(brygga, submissions):
    ran = brygga("list")
    assert ran.code == 0
    header = ran.out.splitlines()[0].split()
    assert header == ["id", "received", "route", "state", "reference", "diarienummer"]
    assert _ids(ran.out) == [submissions[k] for k in ("new", "stuck", "felanmalan", "ydre")]
    row = next(line for line in ran.out.splitlines() if line.startswith(submissions["new"]))
    assert "kumla-bygglov" in row and "completed" in row and "2001" in row and "BN 2026-000001" in row
    assert all(line == line.rstrip() for line in ran.out.splitlines()), "no trailing padding in a pipe"


@pytest.mark.parametrize(("argv", "expected"), [
    (["--state", "quarantined"], ["stuck", "ydre"]),
    (["--route", "kumla-felanmalan"], ["felanmalan"]),
    (["--tenant", "0512"], ["ydre"]),
    (["--since", "2d"], ["new", "stuck"]),
    (["--since", "4h"], ["new"]),
    (["--until", "2d"], ["felanmalan", "ydre"]),
    (["--since", "11d", "--until", "1d", "--state", "completed"], ["felanmalan"]),
])
def test_list_filters_narrow_the_list(brygga, submissions, argv, expected):
    ran = brygga("list", *argv)
    assert ran.code == 0, ran.err
    assert _ids(ran.out) == [submissions[k] for k in expected]


def test_list_takes_iso_dates_and_says_when_the_limit_cuts(brygga, submissions):
    assert _ids(brygga("list", "--since", "2000-01-01", "--until", "2100-01-01T00:00+01:00").out) == list(
        submissions.values())
    ran = brygga("list", "--limit", "1")
    assert _ids(ran.out) == [submissions["new"]]
    assert "1 of 4 shown" in ran.err and "--limit" in ran.err


def test_list_exit_codes_for_nothing_and_for_a_bad_value(brygga, submissions):
    nothing = brygga("list", "--route", "no-such-route")
    assert (nothing.code, nothing.out) == (1, "") and "no submission matches" in nothing.err
    bad = brygga("list", "--since", "last tuesday")
    assert bad.code == 2 and "not a time: 'last tuesday'" in bad.err and "Traceback" not in bad.err
    assert brygga("list", "--state", "lost").code == 2
    assert brygga("list", "--limit", "0").code == 2



@pytest.mark.parametrize(("option", "value"), [("--since", "99999999d"), ("--until", "1000000w"),
                                               ("--since", "99999999999999999999999d"),
                                               ("--since", "0001-01-01T00:00+01:00"), ("--until", "0001-01-01")])
def test_a_time_out_of_range_is_a_usage_error(brygga, submissions, option, value):
    ran = brygga("list", option, value)
    assert ran.code == 2 and f"out of range: {value!r}" in ran.err and "Traceback" not in ran.err

def test_list_json_is_the_rows(brygga, submissions):
    ran = brygga("list", "--state", "quarantined", "--json")
    rows = json.loads(ran.out)
    assert [r["id"] for r in rows] == [submissions["stuck"], submissions["ydre"]]
    assert rows[0]["source_reference"] == "2004" and rows[0]["received_at"].endswith("+00:00")


@pytest.mark.parametrize(("text", "which"), [
    ("2004", "stuck"),  # the FlowInstanceID of a submission that never translated
    ("BN 2026-000001", "new"),  # the diarienummer
    ("AO-2026-00001", "felanmalan"),
    ("gatlykta", "felanmalan"),  # part of the file name
    ("deadbeef00", None),  # a sha256 prefix no submission has
])
def test_find_by_any_reference(brygga, submissions, ledger, text, which):
    ran = brygga("find", text)
    if which is None:
        assert ran.code == 1 and ran.out == ""
        return
    assert ran.code == 0, ran.err
    assert _ids(ran.out) == [submissions[which]]


def test_find_by_id_and_sha256_prefix(brygga, submissions, ledger):
    sid = submissions["ydre"]
    assert _ids(brygga("find", sid).out) == [sid]
    assert ledger.get(sid).content_sha256 == hashlib.sha256(b"kumla-bygglov/va.xml").hexdigest()
    assert _ids(brygga("find", hashlib.sha256(b"kumla-bygglov/va.xml").hexdigest()[:12]).out) == [sid]


def test_find_nothing_and_usage(brygga, submissions):
    ran = brygga("find", "BN 2026-999999")
    assert ran.code == 1 and "no submission matches 'BN 2026-999999'" in ran.err
    assert brygga("find").code == 2



def test_find_by_a_piece_of_a_personnummer_does_not_find_a_file_named_with_it(brygga, ledger):
    land(ledger, "Johan Berglund 19850314-2385 ansokan.xml", reference="2010")
    for piece in ("19850314-238", "850314"):
        ran = brygga("find", piece)
        assert (ran.code, ran.out) == (1, ""), piece
        assert "matches a whole file name only" in ran.err
    # Shaped like a personnummer (or a phone number): refused outright, as the admin page refuses it.
    ran = brygga("find", "0314-2385")
    assert (ran.code, ran.out) == (2, "") and "looks like a personnummer" in ran.err
    assert brygga("find", "ansokan").code == 0, "a part without six digits is searched as before"

def test_find_refuses_a_personnummer_on_the_command_line(brygga, submissions):
    ran = brygga("find", "19850314-2385")
    assert ran.code == 2 and "--personnummer" in ran.err and "19850314-2385" not in ran.err + ran.out


def test_find_by_personnummer_reads_it_from_stdin_and_searches_its_key(brygga, submissions, ledger, monkeypatch):
    monkeypatch.setenv(f"BRYGGA_CONN_{PERSON_KEY_CONNECTION.upper()}", f"https://:{SECRET}@brygga")
    ledger.add_person_keys(submissions["new"], [person_key(PERSONNUMMER, SECRET.encode())])
    monkeypatch.setattr("sys.stdin", io.StringIO("19850314-2385\n"))
    ran = brygga("find", "--personnummer")
    assert ran.code == 0, ran.err
    assert _ids(ran.out) == [submissions["new"]]
    assert not any(value in ran.out + ran.err for value in PERSONAL)

    monkeypatch.setattr("sys.stdin", io.StringIO("19121212-1212\n"))  # valid, but in no submission
    ran = brygga("find", "--personnummer")
    assert ran.code == 1 and "no submission with that personnummer" in ran.err and "1212" not in ran.err

    monkeypatch.setattr("sys.stdin", io.StringIO("19850314-2386\n"))  # the check digit is wrong
    ran = brygga("find", "--personnummer")
    assert ran.code == 2 and "not a valid personnummer" in ran.err and "2386" not in ran.err


def test_find_by_personnummer_without_the_secret_says_how_to_configure_it(brygga, submissions, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("19850314-2385\n"))
    ran = brygga("find", "--personnummer")
    assert ran.code == 3
    assert "not configured" in ran.err and "BRYGGA_CONN_BRYGGA_PERSON_KEY" in ran.err


def test_the_state_choices_are_the_ledgers_states():
    from brygga.admin.cli import STATES

    assert set(STATES) == {value for name, value in vars(State).items() if name.isupper() and isinstance(value, str)}


def test_find_by_personnummer_is_audited_without_the_number(brygga, submissions, ledger, monkeypatch):
    monkeypatch.setenv(f"BRYGGA_CONN_{PERSON_KEY_CONNECTION.upper()}", f"https://:{SECRET}@brygga")
    ledger.add_person_keys(submissions["new"], [person_key(PERSONNUMMER, SECRET.encode())])
    ledger.add_person_keys(submissions["stuck"], [person_key(PERSONNUMMER, SECRET.encode())])
    plain = brygga("find", "2001")
    assert plain.code == 0 and not ledger.audit_log(), "only a search by personnummer is audited"

    monkeypatch.setattr("sys.stdin", io.StringIO("19850314-2385\n"))
    assert brygga("find", "--personnummer", "--json").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("19121212-1212\n"))  # in no submission: audited all the same
    assert brygga("find", "--personnummer").code == 1

    rows = [(a.actor, a.action, a.submission_id, a.detail) for a in ledger.audit_log()]
    assert rows == [("ops-anna", "person_search", None, "searched by a personnummer: 2 submission(s) found"),
                    ("ops-anna", "person_search", None, "searched by a personnummer: 0 submission(s) found")]
    assert not any(digits in str(rows) for digits in ("198503142385", "8503142385", "191212121212", "1212-1212"))
