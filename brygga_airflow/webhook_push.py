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


EXCERPT_CHARS = 300  # of a problem's title and detail: enough for the rule they name


def _excerpt(value: object) -> str:
    """Printable characters only (no control characters into a terminal or a log), cut short."""
    text = "".join(ch for ch in str(value) if ch.isprintable())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."


def describe_refusal(answer: requests.Response) -> str:
    """``HTTP <status> <title>: <detail>`` from a problem+json answer; status and reason alone from any other
    (a proxy's HTML page, an empty body), whose content is not repeated."""
    try:
        problem = answer.json()
    except ValueError:  # requests' JSONDecodeError among them
        problem = None
    if not isinstance(problem, dict):
        kind = answer.headers.get("content-type", "no content type").split(";")[0].strip() or "no content type"
        return f"HTTP {answer.status_code} {_excerpt(answer.reason or '')} (a {_excerpt(kind)} answer, not a problem)"
    title = _excerpt(problem.get("title") or answer.reason or "")
    detail = _excerpt(problem.get("detail") or "")
    return f"HTTP {answer.status_code} {title}" + (f": {detail}" if detail else "")


def post_file(session: requests.Session, base: str, route_id: str, secret: str, path: Path) -> str:
    """Sign and post one file to ``base``'s intake for ``route_id``; the submission id it answered with."""
    body = path.read_bytes()
    answer = session.post(f"{base}/routes/{route_id}/submissions", data=body, timeout=60,
                          headers={"Content-Type": "application/json", **sign(secret, body, route_id=route_id)})
    if answer.status_code != 202:
        raise ConfigError(f"the webhook intake refused {path.name}: {describe_refusal(answer)}")
    return str(answer.json()["submission_id"])


def push_files(route: Route, files: list[Path]) -> list[str]:
    """Post each file to the route's webhook intake; the submission ids it answered with."""
    from brygga_airflow.connections import AirflowConnectionResolver

    resolver = AirflowConnectionResolver()
    secret = resolver.get(str(route.source.connection)).password or ""
    with served(create_app(connections=resolver)) as base, requests.Session() as session:
        return [post_file(session, base, route.id, secret, path) for path in files]
