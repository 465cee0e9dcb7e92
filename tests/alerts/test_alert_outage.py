"""An outage of a target is one alert, then one recovery notice: the bundled route against ByggR answering 503,
run after run, with real e-mail to a real SMTP server. Submissions whose retry budget runs out meanwhile go to
quarantine without an alert of their own: the recovery notice counts them and says how to replay them."""

from __future__ import annotations

from datetime import timedelta

from alerting import alert_to, ticker
from sqlalchemy import select, update

from brygga.admin.quarantine import replay
from brygga.ledger import Delivery, State
from brygga.ledger.models import AlertRecord, utcnow

SAMPLES = ("bygglov-person.xml", "bygglov-organisation.xml")
# What the samples hold about the applicants: none of it may be in an alert.
PERSONAL = ("19850314", "Johan", "Berglund", "Stationsgatan", "johan.berglund", "070-555")
SMTP = "{adapter: smtp, connection: alerts_smtp, config: {from: brygga@kumla.se, to: [it-drift@kumla.se]}}"
OUTAGE = [{"operation": "*", "action": "http_status", "status": 503}]
# An outage is keyed by the connection its calls go through: ByggR's is byggr_kumla.
OUTAGE_KEY = "delivery:byggr_kumla"


def _hours_into_the_outage(route, hours: float, *submission_ids: str) -> None:  # type: ignore[no-untyped-def]
    """Move every failing call's first attempt back (or those of ``submission_ids``), as if ByggR had been down
    this long."""
    only = [Delivery.submission_id.in_(submission_ids)] if submission_ids else []
    with route.context().ledger.session() as s:
        s.execute(update(Delivery).where(Delivery.target == "byggr", Delivery.state == "failed", *only)
                  .values(first_attempt_at=utcnow() - timedelta(hours=hours)))


def _outage_alert(route):  # type: ignore[no-untyped-def]
    with route.context().ledger.session() as s:
        return s.get(AlertRecord, OUTAGE_KEY)


def test_an_outage_of_the_target_gives_exactly_one_alert_and_one_recovery_notice(route, byggr, smtp):
    """THE test of grouped alerts, with an outage that outlasts one submission's retry budget."""
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
    assert "to byggr (connection byggr_kumla)" in body and "over half of its retry budget of 24 h" in body
    assert "brygga quarantine list --route kumla-bygglov" in body
    assert any(f"brygga trace {sid}" in body for sid in ids)
    assert not [value for value in PERSONAL if value in body]
    assert health.alerts == ("delivery_failing byggr to smtp:alerts_smtp",)

    calls = len(byggr.app.faults.received())
    for _ in range(2):  # the outage goes on: ByggR is called again each run, nobody is told again
        assert not tick().ok
    assert len(byggr.app.faults.received()) > calls

    spent, waiting = SAMPLES
    _hours_into_the_outage(route, 25, route.submission(spent).id)  # its budget runs out: quarantined in the outage
    health = tick()
    assert route.submission(spent).state == State.QUARANTINED
    assert health.quarantined == [route.submission(spent).id], "the run goes red"
    assert health.alerts == (), "part of the outage: no quarantine alert of its own"
    for _ in range(2):
        tick()
    assert len(smtp.messages) == 1

    byggr.app.faults.clear()
    health = tick()
    assert health.ok and route.submission(waiting).state == State.COMPLETED
    _, recovery = smtp.messages
    assert recovery["Subject"] == "Brygga kumla-bygglov: byggr delivers again"
    text = recovery.get_content()
    assert "Nothing is waiting on byggr now." in text and "2 submissions waited on it" in text
    assert "During the outage, 1 submission went to quarantine, its retry budget spent." in text
    assert "- brygga quarantine replay --route kumla-bygglov --step deliver  (1 submission)" in text
    assert _outage_alert(route).resolved_at is not None

    replay(route.context().ledger, route.submission(spent).id, actor="test")  # as the notice says
    tick()
    assert route.submission(spent).state == State.COMPLETED
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
        s.execute(update(AlertRecord).where(AlertRecord.key == OUTAGE_KEY)
                  .values(last_sent_at=utcnow() - timedelta(hours=11)))
    tick()
    assert len(smtp.messages) == 1
    with route.context().ledger.session() as s:  # thirteen: the reminder
        s.execute(update(AlertRecord).where(AlertRecord.key == OUTAGE_KEY)
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
    (alert,) = smtp.messages
    assert alert["Subject"].startswith("Brygga kumla-bygglov: byggr failing since"), "the quarantine is part of it"
    tick()
    assert len(smtp.messages) == 1, "nothing waits on ByggR any more, but it has not delivered: no recovery"
    assert _outage_alert(route).resolved_at is None

    byggr.app.faults.clear()  # ByggR is back, and the next submission goes through: now it has recovered
    route.drop(SAMPLES[1])
    tick()
    _, recovery = smtp.messages
    assert recovery["Subject"] == "Brygga kumla-bygglov: byggr delivers again"
    assert "brygga quarantine replay --route kumla-bygglov --step deliver  (1 submission)" in recovery.get_content()
    with route.context().ledger.session() as s:
        assert s.scalars(select(AlertRecord.key).where(AlertRecord.kind == "claim")).all() == [], "claims dropped"


def test_a_budget_spent_before_any_check_saw_the_outage_is_part_of_it(route, byggr, smtp):
    """No check saw the call over half its budget (none ran): the run that quarantines it opens the outage, and the
    quarantine is part of it, one alert in all."""
    alert_to(route, SMTP)
    route.connect("alerts_smtp", smtp.uri())
    route.retry(first_delay="0s", max_delay="0s")
    tick = ticker(route)
    byggr.app.faults.set(OUTAGE)
    route.drop(SAMPLES[0])
    route.run()  # its check never ran
    _hours_into_the_outage(route, 25)
    tick()
    assert route.submission(SAMPLES[0]).state == State.QUARANTINED
    (alert,) = smtp.messages
    assert alert["Subject"].startswith("Brygga kumla-bygglov: byggr failing since")
    assert "So far, 1 submission went to quarantine, its retry budget spent." in alert.get_content()
    tick()
    assert len(smtp.messages) == 1
