"""Fixtures for the REST target: the work-order simulator on a real socket, connections to it, requests, and small
werkzeug apps that record what they were sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_workorder import WORK_ORDER_CONFIG, connection_to, delivery
from werkzeug.wrappers import Request, Response

from brygga.connections import Connection
from brygga.plugins import DeliveryRequest
from brygga_adapters.rest import RestTarget, clear_sessions
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.serving import serve
from brygga_simulators.workorder import WorkOrderSimulator


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


@pytest.fixture
def connect() -> Callable[..., Connection]:
    return connection_to


@pytest.fixture
def target(work_orders: RunningSimulator) -> RestTarget:
    return RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders))


@pytest.fixture
def make_delivery() -> Callable[..., DeliveryRequest]:
    """``make_delivery(documents, submission=..., payload=..., amendment=...)``."""
    return delivery


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
