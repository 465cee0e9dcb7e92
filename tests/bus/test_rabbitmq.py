"""The production bus: RabbitMQ on 127.0.0.1:5672 (guest/guest), publisher confirms and the bus source over AMQP.

Skipped, saying where it looked, when nothing answers there. Each test uses queues of its own and deletes them.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from bus_helpers import MemoryOutbox, drain, unique_queue
from kombu import Connection as KombuConnection
from kombu import Queue, binding

from brygga.bus import BusUnavailable
from brygga.bus.relay import RelayResult, relay
from brygga.bus.topology import EXCHANGE, Subscription, exchange
from brygga.bus.transport import connect
from brygga.connections import Connection
from brygga_adapters.bus import BusSource

HOST, PORT = "127.0.0.1", 5672
URL = f"amqp://guest:guest@{HOST}:{PORT}//"
DECISION = "se.brygga.case.decision_made"


@pytest.fixture(scope="module", autouse=True)
def rabbitmq() -> None:
    try:
        socket.create_connection((HOST, PORT), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"no RabbitMQ answers on {HOST}:{PORT} ({exc.__class__.__name__}); start one, e.g. "
                    f"docker run -p {PORT}:5672 rabbitmq:4")


@pytest.fixture
def queues() -> Iterator[list[str]]:
    """Names of the queues a test makes; deleted afterwards, so the broker keeps nothing of the tests."""
    made: list[str] = []
    yield made
    with KombuConnection(URL) as conn:
        channel = conn.default_channel
        for name in made:
            channel.queue_delete(name)


def bus_source(queue: str, *bindings: str) -> BusSource:
    return BusSource({"queue": queue, "bindings": list(bindings)}, Connection.from_uri("rabbit", URL))


def test_the_relay_keeps_events_for_a_consumer_that_has_not_run_and_the_source_takes_them(
        queues: list[str]) -> None:
    queue = unique_queue("ydre")
    queues.append(queue)
    outbox = MemoryOutbox()
    wanted = [outbox.add(DECISION, "0513")]
    outbox.add(DECISION, "0512")  # not bound: dropped by the exchange
    wanted.append(outbox.add("se.brygga.submission.delivered", "0513"))
    subscription = Subscription(queue, (f"{DECISION}.0513", "se.brygga.submission.*.0513"))

    assert relay(outbox, URL, [subscription]) == RelayResult(published=3, backlog=0)

    source = bus_source(queue, *subscription.bindings)
    taken = []
    for item in source.poll():
        taken.append((item.name, item.open().read().decode(), item.location))
        source.acknowledge(item)
    assert taken == [(f"{row.type}-{row.event_id}.json", row.body, f"bus:{queue}") for row in wanted]
    assert list(bus_source(queue, *subscription.bindings).poll()) == []


def test_messages_are_persistent_cloudevents_with_their_id_as_message_id(queues: list[str]) -> None:
    queue = unique_queue()
    queues.append(queue)
    outbox = MemoryOutbox()
    row = outbox.add(DECISION)
    subscription = Subscription(queue, ("#",))
    relay(outbox, URL, [subscription])

    [message] = drain(URL, subscription)
    assert message.properties["message_id"] == row.event_id
    assert message.properties["type"] == DECISION
    assert message.properties["delivery_mode"] == 2
    assert message.content_type == "application/cloudevents+json"
    assert message.body.decode() == row.body


def test_messages_not_acknowledged_are_redelivered_after_reconnecting(queues: list[str]) -> None:
    queue = unique_queue()
    queues.append(queue)
    outbox = MemoryOutbox()
    rows = [outbox.add(DECISION) for _ in range(3)]
    relay(outbox, URL, [Subscription(queue, ("#",))])

    first = [item.name for item in bus_source(queue, "#").poll()]  # nothing acknowledged
    source = bus_source(queue, "#")
    again = []
    for item in source.poll():
        again.append(item.name)
        source.acknowledge(item)
    assert first == again == [f"{DECISION}-{row.event_id}.json" for row in rows]
    assert list(bus_source(queue, "#").poll()) == []


def test_only_what_the_broker_confirmed_is_marked_published(queues: list[str]) -> None:
    """A queue that refuses what it has no room for makes RabbitMQ nack the publish: the relay stops there."""
    queue = unique_queue("full")
    queues.append(queue)
    with KombuConnection(URL) as conn:
        Queue(queue, bindings=[binding(exchange(), routing_key="#")], durable=True,
              queue_arguments={"x-max-length": 1, "x-overflow": "reject-publish"})(conn.default_channel).declare()
    outbox = MemoryOutbox()
    first, second = outbox.add(DECISION), outbox.add(DECISION)

    with pytest.raises(BusUnavailable, match=r"amqp://guest:\*\*\*@127.0.0.1:5672// did not take an event: "
                                             r"MessageNacked"):
        relay(outbox, URL, [])

    assert outbox.published == {first.id}
    assert outbox.unpublished() == [second]


def test_a_refused_login_is_bus_unavailable_without_the_password() -> None:
    outbox = MemoryOutbox()
    outbox.add(DECISION)
    with pytest.raises(BusUnavailable) as caught:
        relay(outbox, f"amqp://guest:not-the-pw@{HOST}:{PORT}//", [])
    assert "not-the-pw" not in str(caught.value)
    assert f"amqp://guest:***@{HOST}:{PORT}// cannot be reached: AccessRefused" in str(caught.value)
    assert outbox.published == set()


def test_publisher_confirms_are_asked_for_on_amqp_only() -> None:
    assert connect(URL, confirm=True).transport_options == {"confirm_publish": True}
    assert connect(URL).transport_options == {}
    assert EXCHANGE == "brygga.events"
