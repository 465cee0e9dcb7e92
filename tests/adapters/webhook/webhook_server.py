"""Helpers of the webhook tests: the app served by uvicorn on a real socket, a recording trigger, and a run that
signs and posts bodies and reads the ledger the app landed into (fixtures in conftest.py)."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import uvicorn
from fastapi import FastAPI

from brygga.ledger import Ledger, Submission
from brygga.pipeline import PipelineContext, run_route
from brygga.settings import Settings
from brygga_adapters.webhook import sign

ROUTE = "kumla-felanmalan-webhook"
# A second route on the same connection, so the same secret: a request signed for one must not pass for the other.
SIBLING = "kumla-bygglov-webhook"
SECRET = "6f1c0d9a4be27e35c8a1f0d2b7e64c93a5d8f1e0c2b4a6d8e0f1a3c5b7d9e1f3"
ROUTES_YAML = f"""
routes:
  - id: {ROUTE}
    description: Felanmälan gata och park pushed as JSON by the e-service platform.
    tenant: {{kommunkod: "1881", name: Kumla kommun, organisationsnummer: "212000-1819"}}
    source:
      adapter: webhook
      connection: webhook_kumla
      config: {{max_body_bytes: 4096}}
    mappings: [webhook/felanmalan.yaml]
    archive:
      adapter: archive-folder
      config: {{path: archive-out}}
    schedule: "*/5 * * * *"
  - id: {SIBLING}
    tenant: {{kommunkod: "1881", name: Kumla kommun, organisationsnummer: "212000-1819"}}
    source:
      adapter: webhook
      connection: webhook_kumla
    mappings: [webhook/felanmalan.yaml]
  - id: kumla-felanmalan
    tenant: {{kommunkod: "1881", name: Kumla kommun, organisationsnummer: "212000-1819"}}
    source:
      adapter: file-inbox
      config: {{path: inbox/kumla-felanmalan}}
    mappings: [open-eplatform/felanmalan.yaml]
  - id: kumla-weak-secret
    tenant: {{kommunkod: "1881", name: Kumla kommun, organisationsnummer: "212000-1819"}}
    source:
      adapter: webhook
      connection: webhook_weak
    mappings: [webhook/felanmalan.yaml]
"""


class ServedApp:
    """An ASGI app served by uvicorn on a socket bound (and listening) before the server starts, so a request
    never races the start: it waits in the listen backlog until the server accepts it."""

    def __init__(self, app: FastAPI) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()


@dataclass
class Trigger:
    """Records each call; with ``fail`` set, raises after recording (as an unreachable Airflow would)."""

    fail: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)
    _called: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    def __call__(self, route_id: str, submission_id: str) -> None:
        self.calls.append((route_id, submission_id))
        self._called.release()
        if self.fail:
            raise ConnectionRefusedError("the Airflow API is not reachable")

    def wait(self, count: int = 1) -> list[tuple[str, str]]:
        """The calls once ``count`` more have come (the trigger runs after the answer is sent)."""
        for _ in range(count):
            assert self._called.acquire(timeout=30), "trigger was not called"
        return self.calls


@dataclass
class WebhookRun:
    home: Path
    url: str
    trigger: Trigger

    def post(self, body: bytes, *, route: str = ROUTE, secret: str = SECRET, timestamp: int | None = None,
             headers: dict[str, str] | None = None, data: Any = None, signed_for: str | None = None,
             ) -> requests.Response:
        """Post ``body`` to ``route``, signed for ``signed_for`` (default: that same route)."""
        signature = sign(secret, body, timestamp, route_id=signed_for or route)
        signed = {"Content-Type": "application/json", **signature, **(headers or {})}
        return requests.post(f"{self.url}/routes/{route}/submissions", data=body if data is None else data,
                             headers=signed, timeout=30)

    def ledger(self) -> Ledger:
        return Ledger(Settings.from_env().database_url)

    def submission(self, submission_id: str) -> Submission:
        return self.ledger().get(submission_id)

    def run_pipeline(self, route_id: str = ROUTE) -> tuple[PipelineContext, list[str]]:
        context = PipelineContext.for_route(route_id, settings=Settings.from_env())
        return context, run_route(context)
