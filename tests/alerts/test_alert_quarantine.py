"""Quarantine alerts: one per route and check, by step and reason, each submission once, picked up from the ledger
(not only the run's batch), bounded in length however many; and a notifier that fails neither fails the run nor
loses its alert."""

from __future__ import annotations

import logging
import re

from alerting import MailServer, alert_to, free_port, ticker
from sqlalchemy import select

from brygga.alerts.alert import MAX_GROUPS, MAX_IDS
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


def test_a_quarantine_whose_run_never_got_to_its_check_is_alerted_by_the_next_check(route, smtp):
    alert_to(route, SMTP)
    route.connect("alerts_smtp", smtp.uri())
    route.drop("bygglov-malformed.xml")
    route.run()  # a later step task failed: the check (all_success) never ran
    sid = route.submission("bygglov-malformed.xml").id
    assert smtp.messages == []

    health = ticker(route)()  # the next run has nothing new
    assert health.batch == 0 and health.quarantined == []
    assert health.alerts == ("quarantine (1) to smtp:alerts_smtp",)
    (mail,) = smtp.messages
    assert mail["Subject"] == "Brygga kumla-bygglov: 1 submission quarantined" and sid in mail.get_content()
    ticker(route)()
    assert len(smtp.messages) == 1


def test_quarantines_from_before_alerts_were_configured_go_out_in_one_bounded_alert(route, smtp):
    ledger = route.context().ledger
    reasons = [f"mappings/open-eplatform/bygglov.yaml: rule {word} has no value (line {{n}})"
               for word in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
                            "juliett", "kilo", "lima", "mike", "november", "oscar")]
    ids = []
    for n in range(150):  # 150 old quarantines, 15 faults, from a time without notifiers
        name = f"Johan-Berglund-{n}.xml"  # a resident may name the file after themselves
        landing = ledger.land(route_id="kumla-bygglov", tenant="1880", content_sha256=f"{n:064x}", raw_path="/x",
                              source_name=name, quarantine_reasons=[f"{name}: " + reasons[n % 15].format(n=n)])
        ids.append(landing.submission_id)
    alert_to(route, SMTP)
    route.connect("alerts_smtp", smtp.uri())

    health = ticker(route)()
    assert health.alerts == ("quarantine (150) to smtp:alerts_smtp",)
    (mail,) = smtp.messages
    body = mail.get_content()
    assert mail["Subject"] == "Brygga kumla-bygglov: 150 submissions quarantined"
    assert len(body) < 6000, "counts and a few ids, not 150 of everything"
    groups = re.findall(r"^- intake, (\d+) submissions: (.*)$", body, flags=re.MULTILINE)
    assert len(groups) == MAX_GROUPS and {int(count) for count, _ in groups} == {10}
    assert "- other reasons, 50 submissions: brygga quarantine list --route kumla-bygglov" in body
    assert "<file>: mappings/open-eplatform/bygglov.yaml: rule alpha has no value (line #)" in body
    assert "Berglund" not in body and "Johan" not in body
    assert len([sid for sid in ids if sid in body]) <= MAX_GROUPS * MAX_IDS
    ticker(route)()
    assert len(smtp.messages) == 1, "each once"
