"""Quarantine alerts: one per route and run, by step and reason, each submission once; and a notifier that fails
neither fails the run nor loses its alert."""

from __future__ import annotations

import logging

from alerting import MailServer, alert_to, free_port, ticker
from sqlalchemy import select

from brygga.ledger import State
from brygga.ledger.models import AlertRecord

SMTP = "{adapter: smtp, connection: alerts_smtp, config: {from: brygga@kumla.se, to: [it-drift@kumla.se]}}"
TEAMS = "{adapter: webhook, connection: alerts_teams}"
# What the samples hold about the applicants, the bad personnummer among it: none of it may be in an alert.
PERSONAL = ("19850314", "Johan", "Berglund", "Stationsgatan", "johan.berglund", "070-555")


def test_each_quarantine_is_alerted_once_by_step_and_reason(route, smtp):
    alert_to(route, SMTP)
    route.connect("alerts_smtp", smtp.uri())
    tick = ticker(route)
    route.drop("bygglov-person.xml")
    malformed = route.drop("bygglov-malformed.xml")
    route.drop("bygglov-bad-personnummer.xml")

    health = tick()
    quarantined = [route.submission(name).id for name in ("bygglov-malformed.xml", "bygglov-bad-personnummer.xml")]
    assert sorted(health.quarantined) == sorted(quarantined)
    (alert,) = smtp.messages
    body = alert.get_content()
    assert alert["Subject"] == "Brygga kumla-bygglov: 2 submissions quarantined"
    assert "By step and reason:" in body and all(sid in body for sid in quarantined)
    assert route.submission("bygglov-person.xml").id not in body, "the one that went through is not named"
    assert body.count("\n- translate, 1 submission: ") == 2, "two faults, two groups"
    assert not [value for value in PERSONAL if value in body]
    assert "brygga quarantine list --route kumla-bygglov" in body

    tick()
    assert len(smtp.messages) == 1, "a quarantine already alerted is not alerted again"

    again = route.drop("bygglov-malformed.xml", as_name="again.xml", data=malformed + b"\n")
    tick()
    assert len(smtp.messages) == 2
    body = smtp.messages[1].get_content()
    assert smtp.messages[1]["Subject"] == "Brygga kumla-bygglov: 1 submission quarantined"
    assert route.submission(again).id in body and not [sid for sid in quarantined if sid in body]


def test_a_failing_notifier_neither_fails_the_run_nor_loses_its_alert(route, hook, caplog):
    down = MailServer(port=free_port())  # nothing listens there yet
    alert_to(route, SMTP, TEAMS)
    route.connect("alerts_smtp", down.uri())
    route.connect("alerts_teams", hook.uri())
    tick = ticker(route)
    route.drop("bygglov-malformed.xml")

    with caplog.at_level(logging.WARNING, logger="brygga.alerts"):
        health = tick()
    sid = route.submission("bygglov-malformed.xml").id
    assert health.quarantined == [sid] and route.submission("bygglov-malformed.xml").state == State.QUARANTINED
    assert health.alerts == ("quarantine (1) to webhook:alerts_teams",)
    assert len(hook.posts) == 1 and sid in hook.bodies[0]["text"]
    (warning,) = [r.getMessage() for r in caplog.records if "smtp:alerts_smtp" in r.getMessage()]
    assert "did not take the quarantine alert of route kumla-bygglov (sent again next run)" in warning
    assert "ConnectionRefusedError" in warning
    with route.context().ledger.session() as s:
        (record,) = s.scalars(select(AlertRecord).where(AlertRecord.kind == "quarantine"))
        assert record.last_sent_at is None and '"due":["smtp:alerts_smtp"]' in (record.detail or "")

    down.start()  # the mail server is back
    try:
        health = tick()
        assert health.alerts == ("quarantine (1) to smtp:alerts_smtp",)
        (mail,) = down.messages
        assert sid in mail.get_content()
        assert len(hook.posts) == 1, "the webhook had it already: not twice"
        tick()
        assert len(down.messages) == 1 and len(hook.posts) == 1
    finally:
        down.stop()


def test_without_notifiers_the_check_only_judges(route):
    start = "alerts:\n  notifiers:\n    - {adapter: log}\n"
    route.variant(start, "alerts:\n  notifiers: []\n")
    route.drop("bygglov-malformed.xml")
    health = ticker(route)()
    assert not health.ok and health.alerts == ()
    with route.context().ledger.session() as s:
        assert s.scalars(select(AlertRecord.key)).all() == [], "no alert state without anyone to tell"
