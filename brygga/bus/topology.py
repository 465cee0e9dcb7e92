"""The bus's shape: one topic exchange, ``brygga.events``, and a durable queue per consumer, bound by routing key.

Routing keys are ``<CloudEvents type>.<kommunkod>`` (``se.brygga.case.decision_made.0513``): a queue binds to one
kommun's decisions, to every kommun's (``se.brygga.case.decision_made.*``), or to everything (``#``).

Whoever publishes declares the queues of every known consumer first. On RabbitMQ that keeps the events for a
consumer that has not run yet; on the embedded bus it is the only way a message finds its queue at all, since
kombu's virtual transports keep exchange-to-queue bindings in the memory of the process that declared them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kombu import Connection as KombuConnection
from kombu import Exchange, Queue, binding

from brygga.errors import ConfigError

if TYPE_CHECKING:
    from brygga.routes import Route

EXCHANGE = "brygga.events"
SOURCE_ADAPTER = "bus"  # the entry-point name of brygga_adapters.bus.BusSource
# RabbitMQ's names: up to 255 bytes; "amq." is reserved. Kept to what every transport takes.
QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}", re.ASCII)
_WORD = r"(?:[A-Za-z0-9_-]+|\*|#)"
BINDING_KEY = re.compile(rf"{_WORD}(?:\.{_WORD})*", re.ASCII)


def exchange(name: str = EXCHANGE) -> Exchange:
    return Exchange(name, type="topic", durable=True, auto_delete=False)


@dataclass(frozen=True)
class Subscription:
    """A durable queue and the routing-key patterns it is bound to ``exchange`` with."""

    queue: str
    bindings: tuple[str, ...]
    exchange: str = EXCHANGE

    def __post_init__(self) -> None:
        if not QUEUE_NAME.fullmatch(self.queue) or self.queue.startswith("amq."):
            raise ConfigError(f"bus queue {self.queue!r}: a queue name is 1-200 letters, digits and . _ : -, starting "
                              "with a letter or digit, and not amq.")
        if not self.bindings:
            raise ConfigError(f"bus queue {self.queue!r}: give at least one binding (a routing-key pattern)")
        for key in self.bindings:
            if not BINDING_KEY.fullmatch(key):
                raise ConfigError(f"bus queue {self.queue!r}: binding {key!r} is not a routing-key pattern (words of "
                                  "letters, digits, _ and -, or * for one word or # for any, joined by dots)")

    def kombu_queue(self) -> Queue:
        ex = exchange(self.exchange)
        # Bindings only, no queue-level exchange: kombu would add a binding with an empty routing key.
        return Queue(self.queue, bindings=[binding(ex, routing_key=key) for key in self.bindings], durable=True,
                     auto_delete=False)


def declare(connection: KombuConnection | Any, subscriptions: Iterable[Subscription]) -> None:
    """Declare the exchange, then each queue and its bindings. ``connection``: a kombu connection or channel.

    Idempotent: declaring what exists changes nothing. A binding a route no longer lists stays on RabbitMQ until an
    administrator removes it (docs/events.md).
    """
    channel = connection.default_channel if isinstance(connection, KombuConnection) else connection
    exchange().declare(channel=channel)
    for subscription in subscriptions:
        subscription.kombu_queue()(channel).declare()


def subscriptions_from_routes(routes: Iterable[Route]) -> list[Subscription]:
    """The queue and bindings of every route whose source is Brygga's own bus (no connection) and reads
    ``brygga.events``.

    A route with a connection reads another broker: its queue lives there, and declaring it on Brygga's bus would
    fill a queue nobody reads. Two routes naming one queue share it (their bindings merged): each message then goes
    to one of them only.
    """
    merged: dict[str, list[str]] = {}
    for route in routes:
        if route.source.adapter != SOURCE_ADAPTER:
            continue
        if route.source.connection:
            continue  # another broker's queue: the route declares it there itself, on its first run
        config = route.source.config
        if config.get("exchange", EXCHANGE) != EXCHANGE:
            continue  # someone else's exchange: the relay does not publish there
        keys = merged.setdefault(str(config.get("queue", "")), [])
        keys.extend(key for key in config.get("bindings", []) if key not in keys)
    return [Subscription(queue, tuple(keys)) for queue, keys in merged.items()]
