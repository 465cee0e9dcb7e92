from __future__ import annotations

import pytest

from brygga.cli import main
from brygga.ledger import Ledger, State


@pytest.fixture
def ledger(tmp_path, monkeypatch) -> Ledger:
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    return ledger


def _quarantined(ledger: Ledger) -> str:
    sid = ledger.land(route_id="r", tenant="1881", content_sha256="d" * 64, raw_path="/x",
                      source_name="f.xml").submission_id
    ledger.update(sid, source_reference="1001")
    with ledger.timed_step(sid, "translate") as step:
        step["outcome"] = "quarantined"
    ledger.quarantine(sid, "translate", ["mapping m.yaml: rule x (source /a): value is not a valid personnummer"])
    return sid


def test_find_lists_the_match_and_trace_prints_steps_and_reasons(ledger, capsys):
    sid = _quarantined(ledger)
    assert main(["find", "1001"]) == 0
    (row,) = capsys.readouterr().out.splitlines()[2:]
    assert row.split()[0] == sid and row.split()[4:6] == ["quarantined", "1001"]
    assert main(["trace", sid]) == 0
    out = capsys.readouterr().out
    assert "state            quarantined" in out and "translate" in out
    assert "mapping m.yaml: rule x (source /a): value is not a valid personnummer" in out


def test_find_nothing_exits_1(ledger, capsys):
    assert main(["find", "BN 2026-999999"]) == 1
    assert "no submission matches" in capsys.readouterr().err


def test_replay_releases_and_refuses_twice(ledger, capsys):
    sid = _quarantined(ledger)
    assert main(["replay", sid]) == 0
    assert "released from quarantine as landed" in capsys.readouterr().out
    assert ledger.get(sid).state == State.LANDED
    assert main(["replay", sid]) == 1
    assert "not quarantined" in capsys.readouterr().err


def test_lint_checks_routes_and_mappings(capsys):
    assert main(["lint"]) == 0
    assert capsys.readouterr().out.strip() == "ok"


def test_lint_names_a_broken_routes_file(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "routes.yaml"
    bad.write_text("routes:\n  - id: kumla\n    tenant: {kommunkod: '18'}\n")
    monkeypatch.setenv("BRYGGA_ROUTES", str(bad))
    assert main(["lint"]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "/routes/0/tenant/kommunkod" in err and "rule: pattern" in err


def test_find_shows_every_version_of_a_reference_with_its_revision(ledger, capsys):
    for sha, revision in (("a" * 64, 1), ("b" * 64, 2)):
        sid = ledger.land(route_id="r", tenant="1881", content_sha256=sha, raw_path="/x",
                          source_name="f.xml").submission_id
        assert ledger.advance(sid, "landed", revision=revision, source_reference="1001", state="completed",
                              content_fingerprint=sha)
    sid = ledger.land(route_id="r", tenant="1881", content_sha256="c" * 64, raw_path="/x",
                      source_name="f.xml").submission_id
    ledger.update(sid, source_reference="1001", state="duplicate", content_fingerprint="b" * 64)
    assert main(["find", "1001"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert sorted((row[4], row[-1]) for row in rows) == [("completed", "1"), ("completed", "2"), ("duplicate", "-")]
    # Two runs cannot both claim revision 2 of the same reference.
    other = ledger.land(route_id="r", tenant="1881", content_sha256="d" * 64, raw_path="/x",
                        source_name="f.xml").submission_id
    assert not ledger.advance(other, "landed", revision=2, source_reference="1001", content_fingerprint="d" * 64)
    assert ledger.get(other).state == "landed"
