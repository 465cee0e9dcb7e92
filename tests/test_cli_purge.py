"""`brygga purge`: a dry run by default, `--apply` purges and audits, with the settings the other commands read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from brygga.cli import main
from brygga.ledger import Ledger, State
from brygga.retention import PURGED_NAME
from brygga.settings import Settings
from brygga.storage import ContentStore

ROUTE = "kumla-bygglov"  # the bundled routes file keeps its submissions 90 days


@pytest.fixture
def home(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    settings = Settings.from_env()
    return settings, Ledger(settings.database_url)


def _completed(settings: Settings, ledger: Ledger, days_ago: int, drawing: bytes) -> str:
    raw_sha, raw_path = ContentStore(settings.landing).put(f"<FlowInstance>{days_ago}</FlowInstance>".encode())
    attachment, _ = ContentStore(settings.content).put(drawing)
    sid = ledger.land(route_id=ROUTE, tenant="1881", content_sha256=raw_sha, raw_path=str(raw_path),
                      source_name="Johan Berglund.xml").submission_id
    case = {"parties": [{"givenName": "Johan"}], "attachments": [{"sha256": attachment}]}
    ledger.update(sid, state=State.COMPLETED, canonical_json=json.dumps(case), external_ref="BN 2026-000001",
                  archive_location="/archive/p", updated_at=datetime.now(UTC) - timedelta(days=days_ago))
    return sid


def test_purge_is_a_dry_run_by_default(home, capsys):
    settings, ledger = home
    due = _completed(settings, ledger, 100, b"drawing")
    kept = _completed(settings, ledger, 10, b"another drawing")
    assert main(["purge"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "--apply" in out
    assert f"route {ROUTE} (keep_for 90d" in out and "due 1 submission(s), 1 raw file(s), 1 attachment file(s)" in out
    assert due in out and kept not in out
    assert ledger.get(due).canonical_json is not None and ledger.get(due).purged_at is None
    assert ledger.audit_log() == []


def test_purge_apply_purges_audits_and_a_second_run_finds_nothing(home, capsys):
    settings, ledger = home
    due = _completed(settings, ledger, 100, b"drawing")
    assert main(["purge", "--apply", "--actor", "anna.admin"]) == 0
    out = capsys.readouterr().out
    assert "dry run" not in out and "purged 1 submission(s)" in out and "bytes freed" in out and due in out
    purged = ledger.get(due)
    assert purged.canonical_json is None and purged.source_name == PURGED_NAME and purged.purged_at is not None
    assert not ContentStore(settings.landing).path_for(purged.content_sha256).exists()
    (entry,) = ledger.audit_log(due)
    assert (entry.actor, entry.action) == ("anna.admin", "purge")
    assert main(["purge", "--apply"]) == 0
    assert "purged 0 submission(s)" in capsys.readouterr().out
    assert len(ledger.audit_log()) == 1


def test_the_actor_defaults_to_the_os_user(home, monkeypatch, capsys):
    settings, ledger = home
    due = _completed(settings, ledger, 100, b"drawing")
    monkeypatch.setattr("getpass.getuser", lambda: "sysadmin")
    assert main(["purge", "--apply", "--route", ROUTE]) == 0
    assert [e.actor for e in ledger.audit_log(due)] == ["sysadmin"]


def test_an_unknown_route_is_a_usage_error(home, capsys):
    assert main(["purge", "--route", "no-such-route"]) == 2
    assert "no route with id 'no-such-route'" in capsys.readouterr().err


def test_a_route_without_retention_purges_nothing(home, tmp_path, monkeypatch, capsys):
    settings, ledger = home
    due = _completed(settings, ledger, 1000, b"drawing")
    routes = settings.routes_file.read_text(encoding="utf-8")
    assert "retention: {keep_for: 90d}" in routes
    without = tmp_path / "routes.yaml"
    without.write_text(routes.replace("retention: {keep_for: 90d}", ""), encoding="utf-8")
    monkeypatch.setenv("BRYGGA_ROUTES", str(without))
    assert main(["purge", "--apply"]) == 0
    assert "no route has a retention" in capsys.readouterr().out
    assert ledger.get(due).purged_at is None and ledger.audit_log() == []


def test_help_explains_the_dry_run(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["purge", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--apply" in out and "--route" in out and "--actor" in out and "audit" in out
