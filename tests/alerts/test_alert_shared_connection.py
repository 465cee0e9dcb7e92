"""One system behind a connection two routes share is one outage: kumla-bygglov and kumla-felanmalan both report to
Open ePlatform through the connection oep_kumla, so a callback answering 503 is one alert naming every route that
calls through it, then one recovery notice, whichever route's check sees it first."""

from __future__ import annotations

from datetime import timedelta

from alerting import alert_to, ticker
from sqlalchemy import select, update

from brygga.ledger import Delivery, State
from brygga.ledger.models import AlertRecord, utcnow

SMTP = "{adapter: smtp, connection: alerts_smtp, config: {from: brygga@kumla.se, to: [it-drift@kumla.se]}}"
OUTAGE = [{"operation": "*", "action": "http_status", "status": 503}]
ROUTES = "kumla-bygglov, kumla-felanmalan and kumla-varmepump"  # the routes file's routes that notify via oep_kumla


def _notify(route, **values) -> None:  # type: ignore[no-untyped-def]
    with route.context().ledger.session() as s:
        s.execute(update(Delivery).where(Delivery.target == "@notify", Delivery.state == "failed").values(**values))


def test_an_outage_of_a_connection_two_routes_share_is_one_alert_and_one_recovery(route, callback, smtp):
    alert_to(route, SMTP)
    route.connect("alerts_smtp", smtp.uri())
    felanmalan = route.without_work_orders()
    runs = {"bygglov-person.xml": route, "felanmalan-gatlykta.xml": felanmalan}
    ticks = [ticker(r) for r in runs.values()]
    callback.app.faults.set(OUTAGE)
    for sample, run in runs.items():
        run.drop(sample)
    for tick in ticks:
        assert tick().ok, "a fresh failure heals itself"

    _notify(route, first_attempt_at=utcnow() - timedelta(hours=13), next_attempt_at=utcnow())
    healths = [tick() for tick in ticks]
    assert [{f.site for f in h.failing} for h in healths] == [{"@notify"}, {"@notify"}], "both routes see it"
    (alert,) = smtp.messages
    assert alert["Subject"].startswith(f"Brygga {ROUTES}: @notify failing since ")
    body = alert.get_content()
    assert f"Calls from routes {ROUTES} to @notify (connection oep_kumla) have been failing since" in body
    assert "Waiting on @notify: 2 submissions." in body
    assert all(run.submission(sample).id in body for sample, run in runs.items())
    assert "brygga quarantine list --route kumla-felanmalan" in body
    with route.context().ledger.session() as s:
        assert s.scalars(select(AlertRecord.key).where(AlertRecord.kind == "delivery_failing")).all() == [
            "delivery:oep_kumla"]

    for _ in range(2):  # both routes run on; nobody is told again
        _notify(route, next_attempt_at=utcnow())
        for tick in ticks:
            assert not tick().ok
    assert len(smtp.messages) == 1

    callback.app.faults.clear()
    _notify(route, next_attempt_at=utcnow())  # the backoff has passed
    for tick in ticks:
        tick()
    assert all(run.submission(sample).state == State.COMPLETED for sample, run in runs.items())
    _, recovery = smtp.messages
    assert recovery["Subject"] == f"Brygga {ROUTES}: @notify delivers again"
    assert "2 submissions waited on it. Nothing is waiting on @notify now." in recovery.get_content()
    for tick in ticks:
        tick()
    assert len(smtp.messages) == 2
