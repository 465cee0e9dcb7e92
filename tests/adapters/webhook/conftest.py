"""The webhook intake on a real socket (uvicorn in a thread), with a temporary BRYGGA_HOME and routes file:
``intake`` (a ``webhook_server.WebhookRun``) serves ``create_app`` with a ``trigger`` that records its calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from webhook_server import ROUTES_YAML, SECRET, ServedApp, Trigger, WebhookRun

from brygga_adapters.webhook import create_app


@pytest.fixture
def trigger() -> Trigger:
    return Trigger()


@pytest.fixture
def intake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trigger: Trigger) -> Iterator[WebhookRun]:
    routes = tmp_path / "routes.yaml"
    routes.write_text(ROUTES_YAML, encoding="utf-8")
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BRYGGA_ROUTES", str(routes))
    monkeypatch.delenv("BRYGGA_CONFIG", raising=False)
    monkeypatch.delenv("BRYGGA_DATABASE_URL", raising=False)
    # The host names the platform that pushes (Brygga never calls it); the password is the shared secret.
    monkeypatch.setenv("BRYGGA_CONN_WEBHOOK_KUMLA", f"https://:{SECRET}@etjanster.kumla.example")
    monkeypatch.setenv("BRYGGA_CONN_WEBHOOK_WEAK", "https://:short@etjanster.kumla.example")
    served = ServedApp(create_app(trigger=trigger))
    try:
        yield WebhookRun(tmp_path / "home", served.url, trigger)
    finally:
        served.stop()
