"""Fixtures for the REST target: the work-order simulator on a real socket, connections to it, requests, and small
werkzeug apps that record what they were sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from brygga.connections import Connection
from brygga.plugins import DeliveryRequest, StoredDocument
from brygga_adapters.rest import RestTarget, clear_sessions
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.serving import serve
from brygga_simulators.workorder import WorkOrderSimulator

TOKEN_PATH = "/workorder/v1/oauth2/token"

WORK_ORDER_CONFIG: dict[str, Any] = {
    "create": {"path": "/orders", "method": "POST"},
    "extern_ref_field": "/externalRef",
    "reference": {"json": "/orderNumber"},
    "search": {"path": "/orders", "query": {"externalRef": "{extern_ref}"}, "items": "/items",
               "reference": "/orderNumber"},
    "attachments": {"mode": "upload", "path": "/orders/{reference}/attachments", "list": "/attachments"},
    "amend": {"path": "/orders/{reference}/notes", "method": "POST"},
}

FELANMALAN: dict[str, Any] = {
    "category": "belysning",
    "title": "Gatlykta ur funktion",
    "description": "Lyktan vid busshållplatsen lyser inte.",
    "location": {"address": "Storgatan 12, Kumla", "latitude": 59.127, "longitude": 15.143},
    "reporter": {"name": "Anna-Karin Ström", "email": "anna-karin.strom@example.se", "personalNumber": "19800512-2380"},
    "priority": "normal",
}


@pytest.fixture(autouse=True)
def _fresh_sessions() -> Iterator[None]:
    # Sessions and OAuth2 tokens are process-wide; each test starts its own servers.
    clear_sessions()
    yield
    clear_sessions()


class MovableClock:
    """The simulator's "now", moved by tests: tokens expire without anyone sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def work_orders(clock: MovableClock) -> Iterator[RunningSimulator]:
    simulator = WorkOrderSimulator(clients="brygga:s3cret,orebro:0ther", token_ttl=3600, clock=clock)
    with start_simulator(simulator) as running:
        yield running


def connection_to(running: RunningSimulator, conn_id: str = "workorder-kumla", *, login: str = "brygga",
                  password: str = "s3cret", **extra: str) -> Connection:
    """A connection to a running server over plain http (allow_http, as for every simulator); oauth2 by default."""
    options = {"allow_http": "true", "auth": "oauth2", "token_url": TOKEN_PATH, "read_timeout": "10", **extra}
    query = "&".join(f"{key}={value}" for key, value in options.items() if value is not None)
    base = running.url.replace("http://", f"http://{login}:{password}@")
    return Connection.from_uri(conn_id, f"{base}?{query}")


@pytest.fixture
def connect() -> Callable[..., Connection]:
    return connection_to


@pytest.fixture
def target(work_orders: RunningSimulator) -> RestTarget:
    return RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders))


def delivery(documents: list[StoredDocument] | None = None, *, submission: str = "sub-0001",
             payload: dict[str, Any] | None = None, **fields: Any) -> DeliveryRequest:
    return DeliveryRequest(
        submission_id=submission,
        idempotency_key=fields.pop("idempotency_key", f"{submission}:workorder-kumla"),
        extern_ref=fields.pop("extern_ref", f"brygga:{submission}"),
        payload=json.loads(json.dumps(FELANMALAN if payload is None else payload)),
        case={},
        documents=documents or [],
        **fields,
    )


@pytest.fixture
def make_delivery() -> Callable[..., DeliveryRequest]:
    """``make_delivery(documents, submission=..., payload=..., amendment=...)``."""
    return delivery


def calls_to(running: RunningSimulator, path_end: str, method: str | None = None) -> int:
    """How many requests the simulator got whose path ends with ``path_end`` (and of ``method``)."""
    return sum(1 for entry in running.app.recorded
               if entry.path.endswith(path_end) and (method is None or entry.method == method))


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """A WSGI app answering from ``answer(request)`` (default 201 {"id": "C-1"}) and recording each request."""

    answer: Callable[[Request], Response] | None = None
    seen: list[Seen] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.seen.append(Seen(request.method, request.path, dict(request.headers), request.get_data()))
        if self.answer is not None:
            response = self.answer(request)
        else:
            response = Response(json.dumps({"id": "C-1"}), status=201, content_type="application/json")
        return response(environ, start_response)


@pytest.fixture
def recorder() -> Iterator[tuple[Recorder, RunningSimulator]]:
    """``(app, running)``: set ``app.answer`` to change what it answers."""
    app = Recorder()
    running = serve(app)
    yield app, running
    running.stop()


def json_answer(data: Any, status: int = 200, headers: dict[str, str] | None = None,
                content_type: str = "application/json") -> Response:
    response = Response(json.dumps(data), status=status, content_type=content_type)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
