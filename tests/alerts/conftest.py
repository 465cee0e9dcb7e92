"""Alerts against real servers started here: an SMTP server (aiosmtpd) and an HTTP server for webhooks, and the
bundled route kumla-bygglov run in-process against the ByggR simulator, whose fault plan makes the outage."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from alerting import Hook, MailServer, RouteRun, free_port, local
from simulator_fixtures import callback, register

from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator
from brygga_simulators.mina_meddelanden.certificates import SimulatorPki, make_test_pki

__all__ = ["byggr", "callback", "hook", "pki", "register", "route", "smtp"]


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    server = MailServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def pki(tmp_path: Path) -> SimulatorPki:
    return make_test_pki(tmp_path / "pki")


@pytest.fixture
def hook() -> Iterator[Hook]:
    state: dict[str, Hook] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state["hook"].posts.append({"path": self.path, "headers": dict(self.headers),
                                        "json": json.loads(body)})
            self.send_response(state["hook"].status)
            self.send_header("Content-Length", "1")
            self.end_headers()
            self.wfile.write(b"1")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["hook"] = Hook(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["hook"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def byggr() -> Iterator[RunningSimulator]:
    with start_simulator(ByggrSimulator(reply_style="contract")) as sim:
        yield sim


@pytest.fixture
def route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, byggr: RunningSimulator,
          callback: RunningSimulator, register: RunningSimulator) -> RouteRun:
    """kumla-bygglov in its own home, with ByggR, the Open ePlatform callback and the property register."""
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    monkeypatch.delenv("BRYGGA_ADMIN_URL", raising=False)
    run = RouteRun(tmp_path, monkeypatch)
    run.connect("byggr_kumla", local(byggr))
    run.connect("oep_kumla", local(callback))
    run.connect("fastighetsregister_kumla", local(register))
    return run
