"""An outage of a target is one alert, then one recovery notice: the bundled route against ByggR answering 503,
run after run, with real e-mail to a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

from alerting import alert_to, ticker
from sqlalchemy import select, update

from brygga.ledger import Delivery, State
from brygga.ledger.models import AlertRecord, utcnow

SAMPLES = ("bygglov-person.xml", "bygglov-organisation.xml")
# What the samples hold about the applicants: none of it may be in an alert.
PERSONAL = ("19850314", "Johan", "Berglund", "Stationsgatan", "johan.berglund", "070-555")
SMTP = "{adapter: smtp, connection: alerts_smtp, config: {from: brygga@kumla.se, to: [it-drift@kumla.se]}}"
OUTAGE = [{"operation": "*", "action": "http_status", "status": 503}]


def _hours_into_the_outage(route, hours: float) -> None:  # type: ignore[no-untyped-def]
    """Move every failing call's first attempt back, as if ByggR had been down this long."""
    with route.context().ledger.session() as s:
        s.execute(update(Delivery).where(Delivery.target == "byggr", Delivery.state == "failed")
                  .values(first_attempt_at=utcnow() - timedelta(hours=hours)))


def _outage_alert(route):  # type: ignore[no-untyped-def]
    with route.context().ledger.session() as s:
        return s.get(AlertRecord, "delivery:kumla-bygglov:byggr")


def test_an_outage_of_the_target_gives_exactly_one_alert_and_one_recovery_notice(route, byggr, smtp):
    alert_to(route, SMTP)
    route.connect("alerts_smtp", smtp.uri())
    route.retry(first_delay="0s", max_delay="0s")  # every run calls ByggR again
    tick = ticker(route)
    byggr.app.faults.set(OUTAGE)
    for sample in SAMPLES:
        route.drop(sample)

    health = tick()
    assert health.ok and smtp.messages == [], "a fresh failure heals itself: no alert yet"

    _hours_into_the_outage(route, 13)  # over half of the 24-hour budget
    health = tick()
    assert not health.ok and {f.site for f in health.failing} == {"byggr"}
    (alert,) = smtp.messages
    assert alert["Subject"].startswith("Brygga kumla-bygglov: byggr failing since ")
    assert alert["To"] == "it-drift@kumla.se" and alert["From"] == "brygga@kumla.se"
    body = alert.get_content()
    ids = [route.submission(sample).id for sample in SAMPLES]
    assert "Waiting on byggr: 2 submissions." in body and all(sid in body for sid in ids)
    assert "over half of its retry budget of 24 h" in body
    assert "brygga quarantine list --route kumla-bygglov" in body
    assert any(f"brygga trace {sid}" in body for sid in ids)
    assert not [value for value in PERSONAL if value in body]
    assert health.alerts == ("delivery_failing byggr to smtp:alerts_smtp",)

    calls = len(byggr.app.faults.received())
    for _ in range(3):  # the outage goes on: ByggR is called again each run, nobody is told again
        assert not tick().ok
    assert len(byggr.app.faults.received()) > calls
    assert len(smtp.messages) == 1

    byggr.app.faults.clear()
    health = tick()
    assert health.ok and all(route.submission(s).state == State.COMPLETED for s in SAMPLES)
    _, recovery = smtp.messages
    assert recovery["Subject"] == "Brygga kumla-bygglov: byggr delivers again"
    assert "Nothing is waiting on byggr now." in recovery.get_content()
    assert "2 submissions waited on it" in recovery.get_content()
    assert _outage_alert(route).resolved_at is not None

    tick()
    assert len(smtp.messages) == 2, "after the recovery, nothing more"


def test_a_lasting_outage_is_said_again_after_reminder_after_and_only_then(route, byggr, smtp):
    alert_to(route, SMTP, reminder="12h")
    route.connect("alerts_smtp", smtp.uri())
    route.retry(first_delay="0s", max_delay="0s")
    tick = ticker(route)
    byggr.app.faults.set(OUTAGE)
    route.drop(SAMPLES[0])
    tick()
    _hours_into_the_outage(route, 13)
    tick()
    assert len(smtp.messages) == 1

    with route.context().ledger.session() as s:  # eleven hours later: not yet
        s.execute(update(AlertRecord).where(AlertRecord.key == "delivery:kumla-bygglov:byggr")
                  .values(last_sent_at=utcnow() - timedelta(hours=11)))
    tick()
    assert len(smtp.messages) == 1
    with route.context().ledger.session() as s:  # thirteen: the reminder
        s.execute(update(AlertRecord).where(AlertRecord.key == "delivery:kumla-bygglov:byggr")
                  .values(last_sent_at=utcnow() - timedelta(hours=13)))
    tick()
    assert len(smtp.messages) == 2
    assert smtp.messages[1]["Subject"].startswith("Brygga kumla-bygglov: byggr still failing since ")
    assert smtp.messages[1].get_content().startswith("Still failing.")
    tick()
    assert len(smtp.messages) == 2


def test_no_recovery_notice_while_the_target_is_down_and_the_waiting_went_to_quarantine(route, byggr, smtp):
    alert_to(route, SMTP)
    route.connect("alerts_smtp", smtp.uri())
    route.retry(first_delay="0s", max_delay="0s")
    tick = ticker(route)
    byggr.app.faults.set(OUTAGE)
    route.drop(SAMPLES[0])
    tick()
    _hours_into_the_outage(route, 13)
    tick()
    _hours_into_the_outage(route, 25)  # the budget is spent: the next attempt quarantines
    tick()
    assert route.submission(SAMPLES[0]).state == State.QUARANTINED
    subjects = [m["Subject"] for m in smtp.messages]
    assert subjects[0].startswith("Brygga kumla-bygglov: byggr failing since")
    assert subjects[1:] == ["Brygga kumla-bygglov: 1 submission quarantined"]
    tick()
    assert len(smtp.messages) == 2, "nothing waits on ByggR any more, but it has not delivered: no recovery"
    assert _outage_alert(route).resolved_at is None

    byggr.app.faults.clear()  # ByggR is back, and the next submission goes through: now it has recovered
    route.drop(SAMPLES[1])
    tick()
    assert smtp.messages[-1]["Subject"] == "Brygga kumla-bygglov: byggr delivers again"
    with route.context().ledger.session() as s:
        assert s.scalars(select(AlertRecord.key).where(AlertRecord.kind == "claim")).all() == [], "claims dropped"
