"""The bus as a route's source (brygga_adapters.bus.BusSource) on the embedded bus, and the consumer example: Ydre's
VA organisation takes Kinda's building-permit decisions off the bus into its work-order system."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from bus_helpers import MemoryOutbox, drain, unique_queue

from brygga.bus.cloudevent import to_cloudevent
from brygga.bus.consumer import BusConsumer
from brygga.bus.relay import relay
from brygga.bus.topology import Subscription, subscriptions_from_routes
from brygga.bus.transport import amqp_url, bus_url, connect
from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga.pipeline import PipelineContext, run_route
from brygga.plugins import Source, adapter_class
from brygga.routes import load_routes
from brygga.settings import REPO_ROOT, Settings
from brygga.status.changes import DocumentRef
from brygga.status.event import build_status_event, for_bus
from brygga_adapters.bus import BusSource
from brygga_adapters.bus.source import item_name
from brygga_simulators.connections import simulate

DECISION = "se.brygga.case.decision_made"
EXAMPLE = REPO_ROOT / "mappings" / "bus" / "testdata"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    monkeypatch.delenv("BRYGGA_DATABASE_URL", raising=False)
    monkeypatch.delenv("BRYGGA_BUS_URL", raising=False)
    return tmp_path


def brygga_bus() -> str:
    return bus_url(Settings.from_env())


def bus_source(queue: str, *bindings: str, **config: object) -> BusSource:
    return BusSource({"queue": queue, "bindings": list(bindings), **config}, None)


def publish(outbox: MemoryOutbox, *subscribers: BusSource) -> None:
    relay(outbox, brygga_bus(), [s.subscription for s in subscribers])


def names(source: BusSource, *, acknowledge: bool) -> list[str]:
    """One poll to its end: the items' names, each acknowledged or not."""
    found = []
    for item in source.poll():
        found.append(item.name)
        if acknowledge:
            source.acknowledge(item)
    return found


def test_the_bus_source_is_the_adapter_named_bus() -> None:
    assert adapter_class("bus") is BusSource
    assert isinstance(bus_source("q", "#"), Source)


def test_poll_yields_each_message_as_an_item_and_acknowledged_ones_are_gone(home: Path) -> None:
    source = bus_source("ydre.kinda", f"{DECISION}.0513")
    outbox = MemoryOutbox()
    rows = [outbox.add(DECISION), outbox.add(DECISION)]
    publish(outbox, source)

    items = []
    for item in source.poll():
        items.append(item)
        with item.open() as first, item.open() as again:  # a fresh reader each time
            assert first.read() == again.read()
        source.acknowledge(item)

    assert source.url == f"sqla+sqlite:///{home / 'ledger.sqlite'}"  # the embedded bus, in the ledger's database
    assert [item.name for item in items] == [f"{DECISION}-{row.event_id}.json" for row in rows]
    assert {item.location for item in items} == {"bus:ydre.kinda"}
    assert [item.open().read().decode() for item in items] == [row.body for row in rows]
    assert [item.size for item in items] == [len(row.body.encode()) for row in rows]
    assert names(bus_source("ydre.kinda", f"{DECISION}.0513"), acknowledge=True) == []


def test_messages_not_acknowledged_come_back_after_reconnecting_in_their_order(home: Path) -> None:
    source = bus_source("ydre.kinda", f"{DECISION}.0513")
    outbox = MemoryOutbox()
    for _ in range(3):
        outbox.add(DECISION)
    publish(outbox, source)

    first = names(source, acknowledge=False)
    assert len(first) == 3
    assert names(bus_source("ydre.kinda", f"{DECISION}.0513"), acknowledge=False) == first
    assert names(bus_source("ydre.kinda", f"{DECISION}.0513"), acknowledge=True) == first
    assert names(bus_source("ydre.kinda", f"{DECISION}.0513"), acknowledge=True) == []


def test_a_run_that_dies_before_landing_leaves_its_message_for_the_next_run(home: Path) -> None:
    source = bus_source("ydre.kinda", f"{DECISION}.0513")
    outbox = MemoryOutbox()
    rows = [outbox.add(DECISION) for _ in range(3)]
    publish(outbox, source)

    taken = []
    with pytest.raises(OSError, match="disk full"):
        for item in source.poll():
            if taken:  # the first is landed and acknowledged; landing the second fails
                raise OSError("disk full")
            taken.append(item.name)
            source.acknowledge(item)

    assert names(bus_source("ydre.kinda", f"{DECISION}.0513"), acknowledge=True) == [
        f"{DECISION}-{row.event_id}.json" for row in rows[1:]]


def test_a_run_that_stops_at_its_batch_size_leaves_the_rest_waiting(home: Path) -> None:
    source = bus_source("ydre.kinda", "#", max_messages=2)
    outbox = MemoryOutbox()
    for _ in range(3):
        outbox.add(DECISION)
    publish(outbox, source)

    assert len(names(source, acknowledge=True)) == 2
    assert len(names(source, acknowledge=True)) == 1
    assert names(source, acknowledge=True) == []


def test_a_queue_with_two_bindings_gets_what_either_matches_in_publishing_order(home: Path) -> None:
    source = bus_source("ydre.watch", f"{DECISION}.0513", "se.brygga.submission.delivered.*")
    outbox = MemoryOutbox()
    wanted = [outbox.add(DECISION, "0513"), outbox.add("se.brygga.submission.delivered", "1881")]
    outbox.add(DECISION, "0512")  # another kommun's decision
    outbox.add("se.brygga.submission.landed", "0513")  # another state
    wanted.append(outbox.add("se.brygga.submission.delivered", "0513"))
    publish(outbox, source)

    assert names(source, acknowledge=True) == [f"{row.type}-{row.event_id}.json" for row in wanted]


def test_the_source_declares_its_queue_so_it_keeps_what_comes_before_the_relay_knows_it(home: Path) -> None:
    source = bus_source("ydre.kinda", f"{DECISION}.0513")
    assert names(source, acknowledge=True) == []  # the first run: declares, finds nothing
    outbox = MemoryOutbox()
    row = outbox.add(DECISION)
    # A relay in another process knows the queue only from the routes; on RabbitMQ the binding would already hold.
    relay(outbox, brygga_bus(), [source.subscription])
    assert names(source, acknowledge=True) == [f"{DECISION}-{row.event_id}.json"]


def test_a_consumer_in_another_process_takes_what_this_one_published(home: Path) -> None:
    url = brygga_bus()
    queue = Subscription(unique_queue(), ("#",))
    outbox = MemoryOutbox()
    rows = [outbox.add(DECISION) for _ in range(20)]
    relay(outbox, url, [queue])

    script = textwrap.dedent(f"""
        import json, sys
        from brygga.bus.consumer import BusConsumer
        from brygga.bus.topology import Subscription
        got = []
        with BusConsumer({url!r}, Subscription({queue.queue!r}, ("#",))) as consumer:
            while (message := consumer.get()) is not None:
                got.append(message.properties["message_id"])
                consumer.ack(message)
        print(json.dumps(got))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)

    assert json.loads(done.stdout) == [row.event_id for row in rows]
    assert drain(url, queue) == []


def test_a_message_held_by_a_killed_consumer_comes_back_after_the_visibility_timeout(home: Path) -> None:
    url = brygga_bus()
    queue = Subscription(unique_queue(), ("#",))
    outbox = MemoryOutbox()
    held, other = outbox.add(DECISION), outbox.add(DECISION)
    relay(outbox, url, [queue])
    script = textwrap.dedent(f"""
        import os
        from brygga.bus.consumer import BusConsumer
        from brygga.bus.topology import Subscription
        with BusConsumer({url!r}, Subscription({queue.queue!r}, ("#",))) as consumer:
            consumer.get()
            os._exit(9)  # killed while holding it: nothing is given back
    """)
    assert subprocess.run([sys.executable, "-c", script], timeout=60).returncode == 9

    # Within the timeout another consumer does not see it ...
    assert [m.properties["message_id"] for m in drain(url, queue)] == [other.event_id]
    # ... after it, it is there again.
    with BusConsumer(url, queue, visibility_timeout=0) as consumer:
        message = consumer.get()
        assert message is not None and message.properties["message_id"] == held.event_id
        consumer.ack(message)
        assert consumer.get() is None


def test_an_acknowledged_message_leaves_no_row_behind(home: Path) -> None:
    """kombu's own SQLAlchemy transport keeps every message it ever delivered; the embedded bus deletes them."""
    url = brygga_bus()
    queue = Subscription(unique_queue(), ("#",))
    outbox = MemoryOutbox()
    for _ in range(3):
        outbox.add(DECISION)
    relay(outbox, url, [queue])
    assert len(drain(url, queue)) == 3
    with connect(url) as connection:
        channel = connection.default_channel
        assert channel.session.query(channel.message_cls).count() == 0


def test_item_names_are_safe_and_come_from_the_cloudevent() -> None:
    body = json.dumps({"specversion": "1.0", "id": "../../etc/passwd", "type": "se.brygga.case.closed"}).encode()
    assert item_name(body, {}) == "se.brygga.case.closed-etc_passwd.json"
    assert item_name(b"not json", {"type": "x.y", "message_id": "m 1"}) == "x.y-m_1.json"
    assert item_name(b"[1, 2]", {}) == "message.json"


def test_config_needs_a_queue_and_bindings_and_an_amqp_connection() -> None:
    with pytest.raises(ConfigError, match="'bindings' is a required property"):
        BusSource({"queue": "q"}, None)
    with pytest.raises(ConfigError, match="config/bindings/0"):
        BusSource({"queue": "q", "bindings": ["a..b"]}, None)
    with pytest.raises(ConfigError, match="config/queue"):
        BusSource({"queue": "amq.q", "bindings": ["#"]}, None)
    web = Connection.from_uri("bus_ydre", "https://rabbit.ydre.se")
    with pytest.raises(ConfigError, match=r"connection 'bus_ydre': the bus needs an amqp:// or amqps:// URI"):
        BusSource({"queue": "q", "bindings": ["#"]}, web)


@pytest.mark.parametrize(("uri", "url"), [
    ("amqp://guest:guest@127.0.0.1:5672//", "amqp://guest:guest@127.0.0.1:5672/%2F"),
    ("amqps://brygga:p%40ss@rabbit.ydre.se/brygga", "amqps://brygga:p%40ss@rabbit.ydre.se/brygga"),
])
def test_an_amqp_connection_becomes_the_bus_url(uri: str, url: str) -> None:
    assert amqp_url(Connection.from_uri("bus", uri)) == url
    assert BusSource({"queue": "q", "bindings": ["#"]}, Connection.from_uri("bus", uri)).url == url


# --- the consumer example: Ydre follows Kinda's decisions --------------------------------------------------------

# The route the lead adds to routes/routes.yaml (tenants kinda and ydre are there already).
ROUTE = """\
  # Cesam Öst the other way round: Ydre's VA organisation follows the decisions Kinda makes on the life event's
  # building permits. Brygga publishes every case event on its bus (docs/events.md); this route's queue takes
  # Kinda's decisions (routing key se.brygga.case.decision_made.0513), the mapping those on the life event's cases,
  # and each becomes a work order to plan the VA connection in Ydre's work-order system.
  - id: ydre-kinda-beslut
    description: Decisions on Kinda's "Bygga nytt hus" building permits, as work orders for Ydre's VA organisation.
    tenant: ydre
    source:
      adapter: bus                  # Brygga's own bus: BRYGGA_BUS_URL, or embedded in the ledger's database
      config:
        queue: ydre.kinda-beslut
        bindings: [se.brygga.case.decision_made.0513]
    mappings: [bus/kinda-beslut.yaml]
    targets:
      - id: va-ydre
        adapter: rest
        connection: workorder_ydre
        mappings: {bygglovsbeslut: workorder/va-planering.yaml}
        config:
          create: {path: /orders}
          extern_ref_field: /externalRef
          reference: {json: /orderNumber}
          search: {path: /orders, query: {externalRef: "{extern_ref}"}, items: /items, reference: /orderNumber}
          amend: {path: "/orders/{reference}/notes"}
    retention: {keep_for: 90d}
    schedule: "*/5 * * * *"
"""
TENANTS = """\
tenants:
  kinda: {kommunkod: "0513", name: Kinda kommun, organisationsnummer: "212000-0514"}
  ydre:
    kommunkod: "0512"
    name: Ydre kommun
    organisationsnummer: "212000-0506"
    values: {va_kategori: VA-ANSL}
"""


def test_the_examples_events_are_what_brygga_puts_on_the_bus() -> None:
    """mappings/bus/testdata/beslut-kinda.json is built by the real code, not written by hand."""
    event = build_status_event(
        kind="decision_made", occurred_at=datetime(2026, 11, 30, 10, 12, tzinfo=timezone(timedelta(hours=1))),
        source_system="byggr", connection="byggr_kinda", diarienummer="BN 2026-000123", change_id="handelse:360004",
        facts={"handelsetyp": "BESLUT"}, extern_ref="0513:open-eplatform:2241",
        submission_id="6f1c2b7e-3d4a-4e5f-8a9b-0c1d2e3f4a5b", source_reference="2241", route="cesam-bygga-hus",
        kommunkod="0513", status="Beslut fattat", text="Beslut har fattats i ditt ärende BN 2026-000123.",
        documents=[DocumentRef("580001", "Beslut.pdf")])
    body = to_cloudevent(event_id=event["eventId"], type=DECISION, source="/brygga/connections/byggr_kinda",
                         subject="BN 2026-000123", time=datetime(2026, 11, 30, 9, 14, 3, tzinfo=UTC),
                         data=for_bus(event))
    assert json.loads((EXAMPLE / "beslut-kinda.json").read_text(encoding="utf-8")) == json.loads(body)


def test_ydre_turns_a_decision_in_kinda_into_one_work_order(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    routes_file = home / "routes.yaml"
    routes_file.write_text(f"{TENANTS}\nroutes:\n{ROUTE}", encoding="utf-8")
    monkeypatch.setenv("BRYGGA_ROUTES", str(routes_file))
    settings = Settings.from_env()
    routes = load_routes(settings.routes_file, settings.mappings_dir)
    event = (EXAMPLE / "beslut-kinda.json").read_text(encoding="utf-8")
    elsewhere = (EXAMPLE / "beslut-annan-rutt.json").read_text(encoding="utf-8")
    outbox = MemoryOutbox()
    outbox.add(DECISION, "0513", body=event, event_id=json.loads(event)["id"])
    outbox.add(DECISION, "0512", body=event)  # a decision in Ydre itself: not bound, never taken
    outbox.add(DECISION, "0513", body=elsewhere, event_id=json.loads(elsewhere)["id"])

    with simulate("rest", home / "workorder") as workorder:
        monkeypatch.setenv("BRYGGA_CONN_WORKORDER_YDRE", workorder.uri)
        relay(outbox, bus_url(settings), subscriptions_from_routes(routes))
        ctx = PipelineContext.for_route("ydre-kinda-beslut", settings=settings)
        batch = run_route(ctx)
        # The same event published again (at least once) is the same bytes: landed as a duplicate, no new order.
        outbox.add(DECISION, "0513", body=event, event_id=json.loads(event)["id"])
        relay(outbox, bus_url(settings), subscriptions_from_routes(routes))
        run_route(PipelineContext.for_route("ydre-kinda-beslut", settings=settings))
        orders = workorder.running.app.orders

    assert len(batch) == 2
    decided, refused = (ctx.ledger.by_content("ydre-kinda-beslut", hashlib.sha256(body.encode()).hexdigest())
                        for body in (event, elsewhere))
    assert decided is not None and refused is not None
    assert (decided.case_type, decided.external_ref) == ("bygglovsbeslut", orders[0]["orderNumber"])
    assert refused.state == "quarantined"  # the decision on another of Kinda's routes: the mapping does not accept it
    assert len(orders) == 1
    assert orders[0]["externalRef"] == f"0512:brygga-bus:{json.loads(event)['id']}"
    assert orders[0]["category"] == "VA-ANSL"
    assert orders[0]["title"] == "Planera VA-anslutning: bygglovsbeslut i Kinda kommun"
    assert orders[0]["attributes"] == {"bygglov_kommunkod": "0513", "bygglov_diarienummer": "BN 2026-000123",
                                       "beslutsdatum": "2026-11-30", "etjanst_referens": "2241"}


@pytest.mark.parametrize("fields", [
    {"conn_type": "amqp", "host": "rabbit.kommun.local", "port": 5672, "schema": "brygga"},
    {"conn_type": "generic", "host": "amqp://rabbit.kommun.local:5672/brygga"},
])
def test_an_airflow_amqp_connection_reaches_the_bus_source_as_amqp(fields: dict[str, object]) -> None:
    from brygga.bus.transport import amqp_url
    from brygga.connections import Connection

    connection = Connection.from_fields("bus_kinda", login="brygga", password="s3cret", **fields)
    assert connection.scheme == "amqp"
    url = amqp_url(connection)
    assert url.startswith("amqp://brygga:s3cret@rabbit.kommun.local:5672")
