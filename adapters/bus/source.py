"""The bus as a route's source: each message on the route's queue is one submission (README.md beside this file).

``poll`` declares the route's queue and bindings, then takes up to ``max_messages`` messages, one at a time, while
the intake lands each; ``acknowledge`` lets the message go once its bytes are landed. A message the run did not
acknowledge (it died, or stopped at its batch size before landing it) goes back to the queue when the connection
closes, and is taken again by the next run. Landing is by content, so a message taken twice is one submission.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from brygga.bus.consumer import BusConsumer, body_of
from brygga.bus.topology import BINDING_KEY, EXCHANGE, QUEUE_NAME, Subscription
from brygga.bus.transport import amqp_url, bus_url
from brygga.connections import Connection
from brygga.plugins import IncomingItem, configure
from brygga.settings import Settings

ADAPTER = "bus"
# A body is read for its CloudEvents type and id (the item's name) only up to this size.
_NAME_PEEK_BYTES = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(text: str, limit: int) -> str:
    return _UNSAFE.sub("_", text).strip("._")[:limit]


def item_name(body: bytes, properties: dict[str, Any]) -> str:
    """``<type>-<id>.json`` from the CloudEvent (or the AMQP type and message id), safe as a file name.

    Only the envelope's type and id are read: the name is provenance in the ledger, never a path.
    """
    envelope: dict[str, Any] = {}
    if len(body) <= _NAME_PEEK_BYTES:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        envelope = parsed if isinstance(parsed, dict) else {}
    kind = envelope.get("type") or properties.get("type")
    ident = envelope.get("id") or properties.get("message_id")
    parts = [_safe(str(value), 100) for value in (kind, ident) if isinstance(value, str | int) and value != ""]
    parts = [part for part in parts if part]
    return ("-".join(parts) or "message") + ".json"


class BusSource:
    # Optional: without a connection the route reads Brygga's own bus.
    connection_fields: ClassVar[dict[str, str]] = {
        "(none)": "Brygga's own bus: BRYGGA_BUS_URL, or embedded in the ledger's database (docs/events.md)",
        "conn_type": "or another AMQP broker, as a URI BRYGGA_CONN_<ID>=amqp://login:password@host:5672/vhost "
                     "(amqps:// for TLS)",
        "host, port": "the broker; 5672 (amqps: 5671) by default",
        "path": "the virtual host, %-encoded; // for RabbitMQ's default vhost /",
        "login, password": "the broker account",
        "extra ca_bundle": "amqps:// only: PEM file of the CA that issued the broker's certificate, if not a public "
                           "one (the certificate must also name the host)",
    }
    config_spec: ClassVar[dict[str, Any]] = {
        "title": "Messages on a queue of Brygga's bus, each a submission",
        "type": "object",
        "additionalProperties": False,
        "required": ["queue", "bindings"],
        "properties": {
            "queue": {"type": "string", "pattern": f"^{QUEUE_NAME.pattern}$", "not": {"pattern": "^amq\\."},
                      "description": "The route's own durable queue; the relay declares it too, so events wait in it "
                                     "for the first run."},
            "bindings": {"type": "array", "minItems": 1, "uniqueItems": True,
                         "items": {"type": "string", "pattern": f"^{BINDING_KEY.pattern}$"},
                         "description": "Routing-key patterns, <type>.<kommunkod>: "
                                        "se.brygga.case.decision_made.0513; * is one word, # any."},
            "exchange": {"type": "string", "default": EXCHANGE, "minLength": 1,
                         "description": "The topic exchange the queue is bound to."},
            "max_messages": {"type": "integer", "minimum": 1, "default": 500,
                             "description": "Messages taken per poll; the rest wait for the next run."},
        },
    }

    def __init__(self, config: dict[str, Any], connection: Connection | None = None) -> None:
        config = configure(ADAPTER, self.config_spec, config)
        self.subscription = Subscription(config["queue"], tuple(config["bindings"]), config["exchange"])
        self.max_messages: int = config["max_messages"]
        # A connection names an AMQP broker of its own; without one, Brygga's bus (BRYGGA_BUS_URL or embedded).
        self.url = amqp_url(connection) if connection is not None else bus_url(Settings.from_env())
        self._consumer: BusConsumer | None = None
        self._taken: dict[IncomingItem, Any] = {}  # item -> its message, until acknowledged

    @property
    def location(self) -> str:
        return f"bus:{self.subscription.queue}"

    def poll(self) -> Iterator[IncomingItem]:
        with BusConsumer(self.url, self.subscription) as consumer:
            self._consumer = consumer
            try:
                for _ in range(self.max_messages):
                    message = consumer.get()
                    if message is None:
                        return
                    body = body_of(message)
                    item = IncomingItem(name=item_name(body, message.properties), location=self.location,
                                        open=functools.partial(io.BytesIO, body), size=len(body))
                    self._taken[item] = message
                    yield item  # the intake lands it and acknowledges it before it asks for the next
            finally:
                # Closing the connection gives back whatever was not acknowledged.
                self._taken.clear()
                self._consumer = None

    def acknowledge(self, item: IncomingItem) -> None:
        message = self._taken.pop(item, None)
        if message is None or self._consumer is None:
            return  # not taken by this poll, or its connection is closed: the message is back in the queue
        self._consumer.ack(message)
