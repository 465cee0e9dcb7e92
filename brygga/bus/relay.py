"""The relay: publishes what the ledger's transactional outbox holds, in order, and marks what the bus took.

Each outbox row is one CloudEvent, written in the same transaction as the change it tells of (brygga/ledger/
outbox.py). The relay sends the rows in id order, each as it is (structured JSON, persistent, the CloudEvents id as
the AMQP message id), with publisher confirms on AMQP, and marks published only what the broker confirmed. A bus
that is down raises ``BusUnavailable`` before anything is marked; the next relay sends it all. So every event is
published at least once: a relay that dies between the broker's confirm and the mark sends that batch again, and
consumers drop what they have seen by its CloudEvents id.

One relay at a time: two would each send the backlog, interleaved. A relay holds the ledger's lease ``bus-relay``
while it runs; one that finds it held by a live relay returns at once, publishing nothing. A relay killed on this
host leaves a lease the next one takes at once; one on another host, a lease that runs out after ``LEASE_MARGIN``
and the time budget. After a relay that succeeded, published rows older than ``KEEP_PUBLISHED`` are deleted.
Logs hold counts only.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from kombu import Producer
from kombu.exceptions import KombuError
from kombu.transport.virtual.base import UndeliverableWarning

from brygga.bus.topology import Subscription, declare, exchange
from brygga.bus.transport import connect, failures, unavailable
from brygga.ledger.workers import worker_id

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/cloudevents+json"
PERSISTENT = 2  # AMQP delivery mode: written to disk by the broker
LEASE = "bus-relay"
# Held for the time budget and this much more: connecting, declaring and the last confirm may outlast the budget.
LEASE_MARGIN = timedelta(minutes=5)
# Published outbox rows are kept this long (for an administrator's look back), then deleted by the relay.
KEEP_PUBLISHED = timedelta(days=7)


class Outbox(Protocol):
    """What the relay needs of the ledger (brygga.ledger.Ledger)."""

    def unpublished(self, limit: int = 500) -> Sequence[Any]: ...

    def mark_published(self, ids: list[int]) -> None: ...

    def outbox_backlog(self) -> int: ...

    def take_lease(self, name: str, owner: str, ttl: timedelta) -> bool: ...

    def release_lease(self, name: str, owner: str) -> None: ...

    def prune_outbox(self, published_before: datetime) -> int: ...


@dataclass(frozen=True)
class RelayResult:
    published: int  # sent and confirmed in this relay
    backlog: int  # still unpublished afterwards (the time budget ran out, or new events came meanwhile)
    another_running: bool = False  # nothing was done: another relay holds the lease


def relay(ledger: Outbox, url: str, subscriptions: Iterable[Subscription], *, batch: int = 500,
          timeout: float = 10) -> RelayResult:
    """Publish the outbox to the bus at ``url`` until it is empty or ``timeout`` seconds have passed.

    ``subscriptions``: every consumer's queue and bindings (``subscriptions_from_routes``), declared first so that
    no event is dropped for a consumer that has not run yet. Raises ``BusUnavailable`` (naming the bus without its
    password) when the bus cannot be reached or refuses a message; what it confirmed before that is marked.
    Returns at once, publishing nothing, while another relay holds the lease (``another_running``).
    """
    owner = worker_id()
    if not ledger.take_lease(LEASE, owner, timedelta(seconds=timeout) + LEASE_MARGIN):
        backlog = ledger.outbox_backlog()
        log.info("bus relay: another relay is running; nothing published here, %d waiting", backlog)
        return RelayResult(published=0, backlog=backlog, another_running=True)
    try:
        published = _relay(ledger, url, subscriptions, batch=batch, timeout=timeout)
        pruned = ledger.prune_outbox(datetime.now(UTC) - KEEP_PUBLISHED)
    finally:
        ledger.release_lease(LEASE, owner)
    backlog = ledger.outbox_backlog()
    log.info("bus relay: published %d event(s); %d waiting; %d published over %d days ago deleted", published,
             backlog, pruned, KEEP_PUBLISHED.days)
    return RelayResult(published=published, backlog=backlog)


def _relay(ledger: Outbox, url: str, subscriptions: Iterable[Subscription], *, batch: int, timeout: float) -> int:
    """Publish until the outbox is empty or the time is up; the number published."""
    deadline = time.monotonic() + timeout
    connection = connect(url, confirm=True, connect_timeout=max(0.5, min(timeout, 5.0)))
    caught = failures(connection)
    published = 0
    try:
        with warnings.catch_warnings():
            # An event no queue is bound for is dropped by design (topic exchange); kombu warns about each one.
            warnings.simplefilter("ignore", UndeliverableWarning)
            try:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
                channel = connection.channel()
                declare(channel, subscriptions)
                producer = Producer(channel, exchange=exchange(), auto_declare=False)
            except (*caught, KombuError) as exc:
                raise unavailable(url, exc) from None
            while True:
                rows = ledger.unpublished(batch)
                if not rows:
                    break
                sent = _publish(producer, rows, deadline, url, caught, ledger)
                published += sent
                if sent < len(rows) or len(rows) < batch:
                    break  # out of time, or the backlog was smaller than a batch
    except Exception:
        log.warning("bus relay: stopped after publishing %d event(s)", published)
        raise
    finally:
        connection.release()
    return published


def _publish(producer: Producer, rows: Sequence[Any], deadline: float, url: str,
             caught: tuple[type[BaseException], ...], ledger: Outbox) -> int:
    """Publish ``rows`` in order until the deadline; mark published what the bus confirmed, also when it fails."""
    confirmed: list[int] = []
    try:
        for row in rows:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # With confirm_publish, publish returns once the broker has the message, or raises.
            producer.publish(row.body, routing_key=row.routing_key, content_type=CONTENT_TYPE,
                             content_encoding="utf-8", delivery_mode=PERSISTENT, message_id=row.event_id,
                             type=row.type, confirm_timeout=max(remaining, 1.0))
            confirmed.append(row.id)
    except (*caught, KombuError) as exc:
        raise unavailable(url, exc, "did not take an event") from None
    finally:
        ledger.mark_published(confirmed)
    return len(confirmed)
