"""One relay at a time (the ledger's lease ``bus-relay``), and published outbox rows deleted after KEEP_PUBLISHED.

The lease's holder is a real process: a live one on this host keeps the lease, a dead one gives it up at once.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bus_helpers import closed_port, drain, unique_queue
from sqlalchemy import select, update

from brygga.bus import BusUnavailable
from brygga.bus.relay import KEEP_PUBLISHED, LEASE, RelayResult, relay
from brygga.bus.topology import Subscription
from brygga.ledger import Ledger
from brygga.ledger.models import OutboxMessage
from brygga.ledger.workers import host_id, process_start

ELSEWHERE = "relay-host-2/0123456789ab:4242:1"  # a relay on another host: trusted until its lease runs out


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqla+sqlite:///{tmp_path / 'ledger.sqlite'}"


@pytest.fixture
def holder() -> Iterator[subprocess.Popen[bytes]]:
    """A live process on this host, standing in for a relay that holds the lease; it ends when its stdin closes."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def land(ledger: Ledger, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        ledger.land(route_id="cesam-bygga-hus", tenant="0513", content_sha256=f"{n:064x}", raw_path="/x",
                    source_name="f.xml")


def owner_of(process: subprocess.Popen[bytes]) -> str:
    return f"{host_id()}:{process.pid}:{process_start(process.pid)}"


def test_a_relay_while_another_runs_publishes_nothing_and_the_next_takes_over_once_it_is_gone(
        ledger: Ledger, url: str, holder: subprocess.Popen[bytes], caplog: pytest.LogCaptureFixture) -> None:
    land(ledger, 3)
    queue = Subscription(unique_queue(), ("#",))
    assert ledger.take_lease(LEASE, owner_of(holder), timedelta(minutes=5))
    caplog.set_level(logging.INFO, logger="brygga.bus.relay")

    assert relay(ledger, url, [queue]) == RelayResult(published=0, backlog=3, another_running=True)

    assert "another relay is running" in caplog.text
    assert ledger.outbox_backlog() == 3
    assert drain(url, queue) == []
    holder.stdin.close()  # type: ignore[union-attr]
    holder.wait()  # the holder is gone (killed, crashed): its lease is taken at once, not after its time
    assert relay(ledger, url, [queue]) == RelayResult(published=3, backlog=0)
    assert len(drain(url, queue)) == 3


def test_a_lease_held_on_another_host_counts_until_it_runs_out(ledger: Ledger, url: str) -> None:
    land(ledger, 1)
    assert ledger.take_lease(LEASE, ELSEWHERE, timedelta(minutes=5))
    assert relay(ledger, url, []) == RelayResult(published=0, backlog=1, another_running=True)

    ledger.release_lease(LEASE, ELSEWHERE)
    assert ledger.take_lease(LEASE, ELSEWHERE, timedelta(seconds=-1))  # taken, and already run out
    assert relay(ledger, url, []) == RelayResult(published=1, backlog=0)


def test_the_lease_is_given_back_after_a_relay_that_succeeded_and_one_that_failed(ledger: Ledger, url: str,
                                                                                  tmp_path: Path) -> None:
    land(ledger, 1)
    down = f"amqp://guest:guest@127.0.0.1:{closed_port()}//"
    with pytest.raises(BusUnavailable):
        relay(ledger, down, [], timeout=2)
    assert ledger.take_lease(LEASE, ELSEWHERE, timedelta(minutes=5))  # free again: the failed relay gave it back
    ledger.release_lease(LEASE, ELSEWHERE)

    assert relay(ledger, url, []) == RelayResult(published=1, backlog=0)
    assert ledger.take_lease(LEASE, ELSEWHERE, timedelta(minutes=5))


def _age(ledger: Ledger, ids: list[int], age: timedelta) -> None:
    with ledger.session() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                  .values(published_at=datetime.now(UTC) - age))


def _rows(ledger: Ledger) -> list[int]:
    with ledger.session() as s:
        return list(s.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


def test_a_relay_that_succeeded_deletes_rows_published_over_a_week_ago(ledger: Ledger, url: str) -> None:
    land(ledger, 3)
    relay(ledger, url, [])
    old, week_old_but_a_minute, recent = _rows(ledger)
    _age(ledger, [old], KEEP_PUBLISHED + timedelta(hours=1))
    _age(ledger, [week_old_but_a_minute], KEEP_PUBLISHED - timedelta(minutes=1))
    land(ledger, 1, start=3)
    [waiting] = [row.id for row in ledger.unpublished()]

    assert relay(ledger, url, []) == RelayResult(published=1, backlog=0)

    assert _rows(ledger) == [week_old_but_a_minute, recent, waiting]


def test_a_relay_that_failed_deletes_nothing(ledger: Ledger) -> None:
    land(ledger, 2)
    ledger.mark_published([row.id for row in ledger.unpublished(limit=1)])
    before = _rows(ledger)
    _age(ledger, before[:1], KEEP_PUBLISHED * 2)

    with pytest.raises(BusUnavailable):
        relay(ledger, f"amqp://guest:guest@127.0.0.1:{closed_port()}//", [], timeout=2)

    assert _rows(ledger) == before
    assert ledger.outbox_backlog() == 1
