"""Takes messages off one queue, one at a time, each acknowledged by the caller once it is safe.

A message stays the consumer's until it is acknowledged. Closing the connection gives back the ones that were not:
RabbitMQ puts them back in the queue, the embedded bus makes them visible again where they were; one taken by a
process that died without closing anything comes back after the embedded bus's visibility timeout (RabbitMQ: when
it notices the connection is gone).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from kombu import Connection as KombuConnection
from kombu.exceptions import KombuError

from brygga.bus.topology import Subscription
from brygga.bus.transport import connect, failures, unavailable


def body_of(message: Any) -> bytes:
    """A message's body as the bytes that were published."""
    body = message.body
    if isinstance(body, str):  # py-amqp decodes a body whose content_encoding names a charset (utf-8)
        return body.encode(message.content_encoding or "utf-8")
    return bytes(body)


class BusConsumer:
    """``with BusConsumer(url, subscription) as consumer:`` declares the queue and its bindings, then ``get()``
    returns the next message (a kombu ``Message``, ``body`` in bytes) or None, and ``ack(message)`` lets it go."""

    def __init__(self, url: str, subscription: Subscription, *, connect_timeout: float = 5.0,
                 visibility_timeout: float | None = None) -> None:
        self.url = url
        self.subscription = subscription
        self._connect_timeout = connect_timeout
        self._visibility_timeout = visibility_timeout  # the embedded bus only (brygga.bus.transport)
        self._connection: KombuConnection | None = None
        self._queue: Any = None
        self._failures: tuple[type[BaseException], ...] = ()

    def __enter__(self) -> BusConsumer:
        self._connection = connect(self.url, connect_timeout=self._connect_timeout,
                                   visibility_timeout=self._visibility_timeout)
        self._failures = (*failures(self._connection), KombuError)
        try:
            self._connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            channel = self._connection.channel()
            self._queue = self.subscription.kombu_queue()(channel)
            self._queue.declare()  # the queue, its exchange and bindings: keeps what comes before our first get
        except self._failures as exc:
            self.close()
            raise unavailable(self.url, exc) from None
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def get(self) -> Any:
        if self._queue is None:
            raise RuntimeError("BusConsumer.get() outside its with block")
        try:
            return self._queue.get(no_ack=False)
        except self._failures as exc:
            raise unavailable(self.url, exc, "did not give a message") from None

    def ack(self, message: Any) -> None:
        try:
            message.ack()
        except self._failures as exc:
            raise unavailable(self.url, exc, "did not take an acknowledgement") from None

    def close(self) -> None:
        """Close the connection; every message not acknowledged goes back to the queue."""
        connection, self._connection, self._queue = self._connection, None, None
        if connection is not None:
            connection.release()
