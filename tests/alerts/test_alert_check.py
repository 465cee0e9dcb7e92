"""The check's verdict and summary never depend on the alerts: when sending them fails as a whole (the ledger locked,
a broken ``alerts:`` section), the run is judged as ever, the failure is logged as an error (redacted), and the
alerts still due go with the next check."""

from __future__ import annotations

import logging

import pytest
from alerting import alert_to, ticker
from sqlalchemy.exc import OperationalError

import brygga.pipeline.health as health_module

SMTP = "{adapter: smtp, connection: alerts_smtp, config: {from: brygga@kumla.se, to: [it-drift@kumla.se]}}"


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name == health_module.__name__]


def test_a_locked_ledger_while_alerting_neither_changes_the_verdict_nor_loses_the_alert(route, smtp, caplog,
                                                                                         monkeypatch):
    alert_to(route, SMTP)
    route.connect("alerts_smtp", smtp.uri())
    route.drop("bygglov-malformed.xml")

    def locked(*args: object, **kwargs: object) -> list[str]:
        raise OperationalError("UPDATE alerts SET detail=? -- for 19850314-1234", {}, Exception("database is locked"))

    with monkeypatch.context() as patched, caplog.at_level(logging.ERROR):
        patched.setattr(health_module, "raise_alerts", locked)
        health = ticker(route)()
    sid = route.submission("bygglov-malformed.xml").id
    assert not health.ok and health.quarantined == [sid] and health.alerts == ()
    assert f"brygga trace {sid}" in health.summary()
    (error,) = _errors(caplog)
    assert error.startswith("check of route kumla-bygglov: alerts not sent this run (OperationalError: ")
    assert "database is locked" in error and "19850314" not in error, "logged redacted"
    assert smtp.messages == []

    # The ledger is free again: the next check sends what is due.
    health = ticker(route)()
    assert health.alerts == ("quarantine (1) to smtp:alerts_smtp",)
    assert sid in smtp.messages[0].get_content()


def test_a_broken_alerts_section_at_run_time_is_an_error_in_the_log_not_a_different_verdict(route, caplog):
    """The DAG's import and lint refuse an unknown notifier; a routes file changed under a running DAG is still
    judged by its runs, not by its alerts."""
    route.drop("bygglov-malformed.xml")
    alert_to(route, "{adapter: pager}")
    with caplog.at_level(logging.ERROR):
        health = ticker(route)()
    assert not health.ok and health.quarantined == [route.submission("bygglov-malformed.xml").id]
    assert health.alerts == ()
    (error,) = _errors(caplog)
    assert "alerts not sent this run (ConfigError: " in error and "unknown notifier 'pager'" in error
