"""Push files to a route's webhook intake as an e-service platform would: signed, over HTTP, one JSON per request.

`brygga run ROUTE FILE…` on a route whose source is the webhook serves the intake app here for the length of the
push (as Airflow's API server does in production), signs each file with the route connection's secret and posts
it; the run that follows takes the landed submissions in.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
import uvicorn
from fastapi import FastAPI

from brygga.errors import ConfigError
from brygga.routes import Route
from brygga_adapters.webhook import create_app, sign


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """Serve an ASGI app on a loopback socket that listens before the server starts (no request races the start);
    yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def push_files(route: Route, files: list[Path]) -> list[str]:
    """Post each file to the route's webhook intake; the submission ids it answered with."""
    from brygga_airflow.connections import AirflowConnectionResolver

    resolver = AirflowConnectionResolver()
    secret = resolver.get(str(route.source.connection)).password or ""
    ids = []
    with served(create_app(connections=resolver)) as base, requests.Session() as session:
        for path in files:
            body = path.read_bytes()
            answer = session.post(f"{base}/routes/{route.id}/submissions", data=body, timeout=60,
                                  headers={"Content-Type": "application/json", **sign(secret, body)})
            if answer.status_code != 202:
                problem = answer.json().get("detail", "") if answer.content else ""
                raise ConfigError(f"the webhook intake refused {path.name}: HTTP {answer.status_code} {problem}")
            ids.append(answer.json()["submission_id"])
    return ids
