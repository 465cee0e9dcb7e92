"""Helpers of the bus tests: an in-memory outbox for events of any type, draining a queue, a port where nothing
listens."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from brygga.bus.cloudevent import routing_key, to_cloudevent
from brygga.bus.consumer import BusConsumer, body_of
from brygga.bus.topology import Subscription


@dataclass
class Row:
    """An outbox row as the relay reads it (brygga.ledger.OutboxMessage)."""

    id: int
    event_id: str
    type: str
    routing_key: str
    body: str


@dataclass
class MemoryOutbox:
    """The relay's ``Outbox`` over a list: events of any type, without the ledger's own transactions."""

    rows: list[Row] = field(default_factory=list)
    published: set[int] = field(default_factory=set)
    lease_holder: str | None = None  # the relay's lease: one holder, given back by release_lease
    leases_taken: list[str] = field(default_factory=list)
    pruned_before: list[datetime] = field(default_factory=list)

    def add(self, type: str, kommunkod: str | None = "0513", *, body: str | None = None,
            event_id: str | None = None) -> Row:
        event_id = event_id or str(uuid.uuid4())
        if body is None:
            body = to_cloudevent(event_id=event_id, type=type, source="/brygga/tests", subject=None,
                                 time=datetime(2026, 11, 30, 9, 0, tzinfo=UTC), data={"n": len(self.rows)})
        row = Row(len(self.rows) + 1, event_id, type, routing_key(type, kommunkod), body)
        self.rows.append(row)
        return row

    def unpublished(self, limit: int = 500) -> list[Row]:
        return [row for row in self.rows if row.id not in self.published][:limit]

    def mark_published(self, ids: list[int]) -> None:
        self.published.update(ids)

    def outbox_backlog(self) -> int:
        return len(self.unpublished(limit=len(self.rows) + 1))

    def take_lease(self, name: str, owner: str, ttl: timedelta) -> bool:
        if self.lease_holder not in (None, owner):
            return False
        self.lease_holder = owner
        self.leases_taken.append(name)
        return True

    def release_lease(self, name: str, owner: str) -> None:
        if self.lease_holder == owner:
            self.lease_holder = None

    def prune_outbox(self, published_before: datetime) -> int:
        self.pruned_before.append(published_before)
        return 0


@dataclass(frozen=True)
class Received:
    body: bytes
    properties: dict[str, Any]
    content_type: str | None


def drain(url: str, subscription: Subscription) -> list[Received]:
    """Everything waiting in the subscription's queue, acknowledged, oldest first."""
    got = []
    with BusConsumer(url, subscription) as consumer:
        while (message := consumer.get()) is not None:
            got.append(Received(body_of(message), dict(message.properties), message.content_type))
            consumer.ack(message)
    return got


def unique_queue(prefix: str = "test") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
