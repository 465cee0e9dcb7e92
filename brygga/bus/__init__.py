"""Canonical events on a message bus (docs/events.md).

- ``cloudevent``: one event as a CloudEvent 1.0 in the structured JSON format;
- ``transport``: the bus's URL (RabbitMQ, or the embedded default in the ledger's database) and connections to it;
- ``topology``: the ``brygga.events`` topic exchange and the queues routes consume from;
- ``relay``: publishes the ledger's transactional outbox;
- ``consumer``: takes messages off one queue, one at a time, acknowledged by the caller.

Kept light on purpose: the ledger imports ``brygga.bus.cloudevent`` inside every transaction that adds an event, and
that must not load the messaging library.
"""

from brygga.errors import BryggaError


class BusUnavailable(BryggaError):
    """The bus could not be reached or did not take a message. Nothing was marked published: safe to retry.

    The message names the bus by its URL without the password.
    """


__all__ = ["BusUnavailable"]
