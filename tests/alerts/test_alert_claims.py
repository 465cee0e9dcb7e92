"""Alert state in the ledger, on SQLite and on PostgreSQL: one sender per group at a time, so that two workers
checking the same outage at once send one alert; quarantines picked up once each; old rows pruned."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from postgres import throwaway_database
from sqlalchemy import select, update

from brygga.alerts import AlertsConfig, NotifierSpec, raise_alerts, state
from brygga.connections import EnvConnectionResolver
from brygga.ledger import Ledger, Quarantine, State, Submission
from brygga.ledger.models import AlertRecord, utcnow
from brygga.pipeline.health import Failing, RunHealth

ROUTE = "kumla-bygglov"


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        yield Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
        return
    with throwaway_database("brygga_alerts") as url:
        ledger = Ledger(url)
        yield ledger
        ledger.engine.dispose()


def _at_once(work: Callable[[], object], workers: int = 2) -> list[object]:
    """``work`` in ``workers`` threads released together; their results (an exception fails the test)."""
    start, results, failures = threading.Barrier(workers), [], []

    def run() -> None:
        start.wait()
        try:
            results.append(work())
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    return results


def test_one_of_two_senders_at_once_gets_the_claim_and_drops_it_after(ledger):
    both_tried = threading.Barrier(2)

    def claim() -> bool:
        with state.claimed(ledger, "delivery:r:byggr", ROUTE) as won:
            both_tried.wait()  # hold it until the other has tried
            return won

    assert sorted(_at_once(claim)) == [False, True]
    with state.claimed(ledger, "delivery:r:byggr", ROUTE) as won:
        assert won, "dropped after the send: the next run claims it"


def test_a_claim_left_by_a_sender_that_died_is_taken_over_after_the_lease(ledger):
    with ledger.session() as s:
        state.insert_ignore(s, key="claim:quarantine:r", kind="claim", route_id=ROUTE, opened_at=utcnow(),
                            detail="dead")
    with state.claimed(ledger, "quarantine:r", ROUTE) as won:
        assert not won, "a fresh claim is someone's"
    with ledger.session() as s:
        s.execute(update(AlertRecord).where(AlertRecord.key == "claim:quarantine:r")
                  .values(opened_at=utcnow() - state.LEASE - timedelta(seconds=1)))
    with state.claimed(ledger, "quarantine:r", ROUTE) as won:
        assert won
    with ledger.session() as s:
        assert s.scalars(select(AlertRecord.key)).all() == []


def test_insert_ignore_inserts_once(ledger):
    with ledger.session() as s:
        first = state.insert_ignore(s, key="quarantine:r:1", kind="quarantine", route_id=ROUTE, opened_at=utcnow())
    with ledger.session() as s:
        second = state.insert_ignore(s, key="quarantine:r:1", kind="quarantine", route_id=ROUTE, opened_at=utcnow())
    assert (first, second) == (True, False)


def test_two_checks_of_the_same_outage_at_once_send_one_alert(ledger, caplog):
    landing = ledger.land(route_id=ROUTE, tenant="1881", content_sha256="a" * 64, raw_path="/x", source_name="x.xml")
    sid = landing.submission_id
    claim = ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="k1",
                                  now=utcnow() - timedelta(hours=13))
    ledger.fail_delivery("k1", claim.token, "HTTP 503")
    ctx = SimpleNamespace(ledger=ledger, route=SimpleNamespace(id=ROUTE), connections=EnvConnectionResolver({}))
    health = RunHealth(ROUTE, 1, [], [Failing(sid, "byggr", timedelta(hours=13), timedelta(hours=24))])
    config = AlertsConfig(notifiers=(NotifierSpec("log"),))

    with caplog.at_level(logging.WARNING, logger="brygga.alerts"):
        sent = _at_once(lambda: raise_alerts(ctx, health, config=config, routes=[]))  # type: ignore[arg-type]
    assert sorted(sent, key=len) == [[], ["delivery_failing byggr to log"]]
    alerts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT ")]
    assert len(alerts) == 1 and alerts[0].startswith(f"ALERT Brygga {ROUTE}: byggr failing since ")
    assert raise_alerts(ctx, health, config=config, routes=[]) == [], \
        "the next check: sent already"  # type: ignore[arg-type]


def test_alert_rows_sent_long_ago_are_pruned_once_their_matter_is_over(ledger, caplog):
    ctx = SimpleNamespace(ledger=ledger, route=SimpleNamespace(id=ROUTE), connections=EnvConnectionResolver({}))
    config = AlertsConfig(notifiers=(NotifierSpec("log"),))
    quiet = RunHealth(ROUTE, 0, [], [])
    still, replayed = (ledger.land(route_id=ROUTE, tenant="1881", content_sha256=f"{n:064x}", raw_path="/x",
                                   source_name="x.xml", quarantine_reasons=["x.xml: not well-formed XML"])
                       .submission_id for n in range(2))
    assert raise_alerts(ctx, quiet, config=config, routes=[]) == ["quarantine (2) to log"]  # type: ignore[arg-type]
    long_ago = utcnow() - state.KEEP - timedelta(days=1)
    with ledger.session() as s:
        s.execute(update(Quarantine).where(Quarantine.submission_id == replayed).values(released_at=utcnow()))
        s.execute(update(Submission).where(Submission.id == replayed).values(state=State.LANDED))
        for key, resolved in (("delivery:ended", long_ago), ("delivery:lasting", None)):
            s.add(AlertRecord(key=key, kind="delivery_failing", route_id=ROUTE, opened_at=long_ago,
                              resolved_at=resolved, detail='{"site":"x","members":[["kumla-bygglov","x"]]}'))
        s.execute(update(AlertRecord).values(last_sent_at=long_ago))
        open_key = state.quarantine_key(ROUTE, s.scalar(select(Quarantine.id).where(Quarantine.submission_id == still)))

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="brygga.alerts"):
        assert raise_alerts(ctx, quiet, config=config, routes=[]) == []  # type: ignore[arg-type]
    assert not [r for r in caplog.records if r.getMessage().startswith("ALERT ")], "the open one: not again"
    with ledger.session() as s:
        assert sorted(s.scalars(select(AlertRecord.key))) == sorted(["delivery:lasting", open_key])
