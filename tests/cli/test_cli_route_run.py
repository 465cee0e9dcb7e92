"""The admin commands on what a real run of the bundled route left: a delivered application and one quarantined
at translate, found by its FlowInstanceID and by personnummer, traced without personal data."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from simulated_route import LocalRoute, simulated_connections

from brygga.admin import PERSON_KEY_CONNECTION
from brygga.ledger import Submission

SECRET = "a-person-key-secret-of-32-chars!!"
# The samples' applicant, and the misspelt number of the quarantined one ("Kumla" is also the kommun's name).
PERSONAL = ("19850314-2385", "198503142385", "19850314-2386", "Johan", "Berglund", "Stationsgatan",
            "johan.berglund@example.se")


@dataclass(frozen=True)
class Ran:
    delivered: Submission
    quarantined: Submission


@pytest.fixture
def bygglov(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ran]:
    monkeypatch.setenv(f"BRYGGA_CONN_{PERSON_KEY_CONNECTION.upper()}", f"https://:{SECRET}@brygga")
    with simulated_connections("kumla-bygglov", tmp_path / "simulated") as connections:
        for name, uri in connections.items():
            monkeypatch.setenv(name, uri)
        route = LocalRoute("kumla-bygglov")
        person = route.drop("bygglov-person.xml")
        bad = route.drop("bygglov-bad-personnummer.xml")
        route.run()
        yield Ran(route.submission(person), route.submission(bad))


def test_a_quarantined_submission_is_found_by_its_flow_instance_id(brygga, bygglov):
    assert bygglov.quarantined.state == "quarantined" and bygglov.delivered.state == "completed"
    ran = brygga("find", "2004")  # the FlowInstanceID of bygglov-bad-personnummer.xml
    assert ran.code == 0, ran.err
    (row,) = ran.out.splitlines()[2:]
    assert row.split()[0] == bygglov.quarantined.id and "quarantined" in row.split()
    groups = brygga("quarantine", "list")
    assert bygglov.quarantined.id in groups.out and "translate" in groups.out and "personnummer" in groups.out


def test_trace_of_real_runs_tells_the_story_without_personal_data(brygga, bygglov):
    delivered = brygga("trace", bygglov.delivered.id)
    assert delivered.code == 0
    assert bygglov.delivered.external_ref and bygglov.delivered.external_ref in delivered.out
    for step in ("intake", "translate", "deliver", "archive", "notify"):
        assert f"   {step}   " in delivered.out, f"no {step} step"
    assert "byggr " in delivered.out and "person (applicant): personnummer •••" in delivered.out
    stuck = brygga("trace", bygglov.quarantined.id)
    assert "not a valid personnummer" in stuck.out and "Parties: none: not translated" in stuck.out
    for text in (delivered.out, stuck.out, brygga("trace", bygglov.delivered.id, "--json").out):
        for value in PERSONAL:
            assert value not in text, f"{value} in the default output"


def test_find_by_personnummer_after_a_real_run(brygga, bygglov, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("850314-2385\n"))  # ten digits, as a resident writes it
    ran = brygga("find", "--personnummer")
    assert ran.code == 0, ran.err
    assert [line.split()[0] for line in ran.out.splitlines()[2:]] == [bygglov.delivered.id]
