"""The relay from the ledger's transactional outbox to the bus, on the embedded bus (SQLite and PostgreSQL).

The ledger's own writes fill the outbox: each landed submission adds one ``se.brygga.submission.landed`` event.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from bus_helpers import MemoryOutbox, closed_port, drain, unique_queue

from brygga.bus import BusUnavailable
from brygga.bus.relay import RelayResult, relay
from brygga.bus.topology import Subscription, subscriptions_from_routes
from brygga.bus.transport import bus_url, shown_url
from brygga.errors import ConfigError
from brygga.ledger import Ledger
from brygga.routes import AdapterRef, Route, Tenant
from brygga.settings import Settings

LANDED_IN_KINDA = "se.brygga.submission.landed.0513"


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def land(ledger: Ledger, count: int, tenant: str = "0513", start: int = 0) -> list[str]:
    return [ledger.land(route_id="cesam-bygga-hus", tenant=tenant, content_sha256=f"{n:064x}", raw_path="/x",
                        source_name="f.xml").submission_id for n in range(start, start + count)]


def test_the_outbox_is_published_in_order_once_and_marked(ledger: Ledger, embedded_url: str) -> None:
    land(ledger, 3)
    rows = ledger.unpublished()
    kinda = Subscription(unique_queue("kinda"), ("se.brygga.submission.*.0513",))

    assert relay(ledger, embedded_url, [kinda]) == RelayResult(published=3, backlog=0)

    assert ledger.unpublished() == []
    got = drain(embedded_url, kinda)
    assert [m.body.decode() for m in got] == [row.body for row in rows]
    assert [m.properties["message_id"] for m in got] == [row.event_id for row in rows]
    assert {m.content_type for m in got} == {"application/cloudevents+json"}
    assert [json.loads(m.body)["id"] for m in got] == [row.event_id for row in rows]
    # A second relay has nothing new to send.
    assert relay(ledger, embedded_url, [kinda]) == RelayResult(published=0, backlog=0)
    assert drain(embedded_url, kinda) == []


def test_routing_keys_carry_the_type_and_the_kommun(ledger: Ledger, tmp_path: Path) -> None:
    url = f"sqla+sqlite:///{tmp_path / 'ledger.sqlite'}"
    land(ledger, 2, tenant="0513")
    land(ledger, 1, tenant="1881", start=2)
    kinda = Subscription(unique_queue("kinda"), ("se.brygga.submission.*.0513",))
    kumla = Subscription(unique_queue("kumla"), ("se.brygga.submission.landed.1881",))
    everything = Subscription(unique_queue("all"), ("#",))
    decisions = Subscription(unique_queue("decisions"), ("se.brygga.case.decision_made.*",))

    relay(ledger, url, [kinda, kumla, everything, decisions])

    def keys(subscription: Subscription) -> list[str]:
        return [m.properties["delivery_info"]["routing_key"] for m in drain(url, subscription)]

    assert keys(kinda) == [LANDED_IN_KINDA] * 2
    assert keys(kumla) == ["se.brygga.submission.landed.1881"]
    assert keys(everything) == [LANDED_IN_KINDA, LANDED_IN_KINDA, "se.brygga.submission.landed.1881"]
    assert keys(decisions) == []


def test_a_backlog_larger_than_a_batch_goes_in_one_relay(ledger: Ledger, tmp_path: Path) -> None:
    url = f"sqla+sqlite:///{tmp_path / 'ledger.sqlite'}"
    land(ledger, 5)
    queue = Subscription(unique_queue(), ("#",))
    assert relay(ledger, url, [queue], batch=2) == RelayResult(published=5, backlog=0)
    assert len(drain(url, queue)) == 5


def test_when_the_time_budget_is_spent_the_rest_waits_for_the_next_relay(ledger: Ledger, tmp_path: Path) -> None:
    url = f"sqla+sqlite:///{tmp_path / 'ledger.sqlite'}"
    land(ledger, 3)
    queue = Subscription(unique_queue(), ("#",))
    assert relay(ledger, url, [queue], timeout=0) == RelayResult(published=0, backlog=3)
    assert drain(url, queue) == []
    assert relay(ledger, url, [queue]) == RelayResult(published=3, backlog=0)


def test_a_bus_that_is_down_marks_nothing_and_the_next_relay_sends_everything_once(
        ledger: Ledger, tmp_path: Path) -> None:
    land(ledger, 3)
    rows = ledger.unpublished()
    queue = Subscription(unique_queue(), ("#",))
    down = f"sqla+sqlite:///{tmp_path / 'no-such-folder' / 'bus.sqlite'}"  # SQLite cannot open it

    with pytest.raises(BusUnavailable) as caught:
        relay(ledger, down, [queue])

    assert str(caught.value).startswith(f"the message bus at {down} cannot be reached: OperationalError")
    assert ledger.outbox_backlog() == 3
    up = f"sqla+sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert relay(ledger, up, [queue]) == RelayResult(published=3, backlog=0)
    assert [m.properties["message_id"] for m in drain(up, queue)] == [row.event_id for row in rows]


@pytest.mark.parametrize("scheme", ["amqp", "sqla+postgresql+psycopg2"])
def test_bus_unavailable_names_the_bus_without_its_password(ledger: Ledger, scheme: str) -> None:
    land(ledger, 1)
    port = closed_port()
    url = f"{scheme}://brygga:s3cret-pw@127.0.0.1:{port}/ledger"

    with pytest.raises(BusUnavailable) as caught:
        relay(ledger, url, [], timeout=5)  # with no queue to put anything in, the bus is asked all the same

    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert f"the message bus at {scheme}://brygga:***@127.0.0.1:{port}/ledger cannot be reached" in message
    assert ledger.outbox_backlog() == 1


def test_events_no_queue_is_bound_for_are_marked_and_dropped_without_a_warning(ledger: Ledger,
                                                                               tmp_path: Path) -> None:
    land(ledger, 2)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = relay(ledger, f"sqla+sqlite:///{tmp_path / 'ledger.sqlite'}", [])
    assert result == RelayResult(published=2, backlog=0)
    assert [str(w.message) for w in seen] == []


def test_events_of_every_type_keep_their_order_through_one_queue(tmp_path: Path) -> None:
    outbox = MemoryOutbox()
    for kind in ("received", "registered", "decision_made", "closed"):
        outbox.add(f"se.brygga.case.{kind}")
    url = f"sqla+sqlite:///{tmp_path / 'bus.sqlite'}"
    case = Subscription(unique_queue(), ("se.brygga.case.*.0513",))
    assert relay(outbox, url, [case]) == RelayResult(published=4, backlog=0)
    assert [m.properties["type"] for m in drain(url, case)] == [row.type for row in outbox.rows]


def test_the_default_bus_is_embedded_in_the_ledgers_database(tmp_path: Path) -> None:
    settings = Settings.from_env({"BRYGGA_HOME": str(tmp_path)})
    assert bus_url(settings, env={}) == f"sqla+sqlite:///{tmp_path / 'ledger.sqlite'}"
    rabbit = "amqp://brygga:secret@rabbit.kommun.se:5672/brygga"
    assert bus_url(settings, env={"BRYGGA_BUS_URL": f" {rabbit} "}) == rabbit
    assert shown_url(rabbit) == "amqp://brygga:***@rabbit.kommun.se:5672/brygga"
    assert shown_url("amqp://guest@localhost//") == "amqp://guest@localhost//"


def _route(route_id: str, adapter: str, config: dict[str, object], connection: str | None = None) -> Route:
    return Route(id=route_id, tenant=Tenant("0512", "Ydre kommun", "212000-0506"),
                 source=AdapterRef(adapter, connection, config), mappings=())


def test_subscriptions_come_from_the_routes_whose_source_is_the_bus() -> None:
    routes = [
        _route("ydre-kinda-beslut", "bus", {"queue": "ydre.kinda", "bindings": ["se.brygga.case.decision_made.0513"]}),
        _route("kumla-bygglov", "file-inbox", {"path": "inbox/kumla-bygglov"}),
        _route("elsewhere", "bus", {"queue": "their.queue", "bindings": ["#"], "exchange": "their.events"}),
        _route("ydre-kinda-klart", "bus", {"queue": "ydre.kinda", "bindings": ["se.brygga.case.closed.0513",
                                                                               "se.brygga.case.decision_made.0513"]}),
        # Another broker, with brygga.events of its own: its queue lives there, not on Brygga's bus.
        _route("ydre-cesam", "bus", {"queue": "ydre.cesam", "bindings": ["#"]}, connection="bus_cesam"),
    ]
    assert subscriptions_from_routes(routes) == [
        Subscription("ydre.kinda", ("se.brygga.case.decision_made.0513", "se.brygga.case.closed.0513"))]


@pytest.mark.parametrize(("queue", "bindings", "problem"), [
    ("amq.brygga", ("#",), "not amq."),
    ("ydre kinda", ("#",), "a queue name is"),
    ("ydre.kinda", (), "at least one binding"),
    ("ydre.kinda", ("se.brygga..0513",), "binding 'se.brygga..0513' is not a routing-key pattern"),
])
def test_a_subscription_that_no_bus_would_take_is_refused(queue: str, bindings: tuple[str, ...],
                                                          problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        Subscription(queue, bindings)
