"""Who the audit names: BRYGGA_ACTOR when set (under `docker compose run` the OS user is the container's, the same
for every operator), else the OS user; `brygga status retry` too, unless --actor names someone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cli_ledger import quarantined

from brygga.cli_ledger import MAX_ACTOR, os_user


@pytest.fixture
def stuck(ledger):  # type: ignore[no-untyped-def]
    return quarantined(ledger, "2007.xml", "intake", ["not valid XML: line 3"], reference="2007",
                       ago=timedelta(hours=1))


def test_the_os_user_without_brygga_actor(home):
    assert os_user() == "ops-anna"


@pytest.mark.parametrize(("value", "actor"), [("  ops-bertil \n", "ops-bertil"), ("Bertil  Ek", "Bertil Ek"),
                                              ("x" * 150, "x" * MAX_ACTOR), ("   ", "ops-anna")])
def test_brygga_actor_trimmed_to_one_short_line(home, monkeypatch, value, actor):
    monkeypatch.setenv("BRYGGA_ACTOR", value)
    assert os_user() == actor


def test_a_container_user_without_a_name_is_unknown(home, monkeypatch):
    def nameless() -> str:
        raise KeyError("getpwuid(): uid not found: 50000")

    monkeypatch.setattr("getpass.getuser", nameless)
    assert os_user() == "unknown"
    monkeypatch.setenv("BRYGGA_ACTOR", "ops-bertil")
    assert os_user() == "ops-bertil"


def test_replay_and_discard_are_audited_with_brygga_actor(brygga, ledger, stuck, monkeypatch):
    monkeypatch.setenv("BRYGGA_ACTOR", "ops-bertil")
    assert brygga("replay", stuck).code == 0
    (entry,) = ledger.audit_log(stuck)
    assert (entry.actor, entry.action) == ("ops-bertil", "replay")
    (row,) = ledger.quarantines(stuck)
    assert row.resolved_by == "ops-bertil"


def _status_retries(ledger) -> list[str]:  # type: ignore[no-untyped-def]
    return [entry.actor for entry in ledger.audit_log() if entry.action == "status-retry"]


def test_status_retry_names_who_retries(brygga, ledger, monkeypatch):
    monkeypatch.setattr("brygga.status.tell.retry_failed", lambda _ledger, _event_id: True)
    assert brygga("status", "retry", "event-1").code == 0
    monkeypatch.setenv("BRYGGA_ACTOR", "ops-bertil")
    assert brygga("status", "retry", "event-2").code == 0
    assert brygga("status", "retry", "event-3", "--actor", "ops-cecilia").code == 0
    assert _status_retries(ledger) == ["ops-anna", "ops-bertil", "ops-cecilia"]
