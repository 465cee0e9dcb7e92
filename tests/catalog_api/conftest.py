"""The validation API under test, two ways: in-process through FastAPI's TestClient, and served by uvicorn on a real
loopback socket (``api`` runs each test both ways). The bundled schemas, routes and mappings only: nothing of the
shell's BRYGGA_* settings leaks in."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from validation_api_client import LIMIT, Api

from brygga.catalog.api import create_app
from brygga_airflow.webhook_push import served


@pytest.fixture(autouse=True)
def bundled_only(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in [n for n in os.environ if n.startswith("BRYGGA")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(scope="module")
def socket_url() -> Iterator[str]:
    with served(create_app(max_body_bytes=LIMIT, max_json_bytes=LIMIT)) as url:
        yield url


@pytest.fixture(params=["testclient", "socket"])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    if request.param == "testclient":
        with TestClient(create_app(max_body_bytes=LIMIT, max_json_bytes=LIMIT)) as client:
            yield Api("testclient", client=client)
    else:
        yield Api("socket", url=request.getfixturevalue("socket_url"))
