"""The webhook intake: an e-service platform POSTs a JSON submission, Brygga lands it and answers 202.

``POST /routes/{route_id}/submissions`` for a route whose source adapter is ``webhook``. The caller authenticates
with an HMAC over the timestamp, the route id and the body (``signing``), since nothing in front of this app checks
it (mounted in Airflow's API server, a plugin's endpoints are not behind Airflow's auth). The raw bytes are landed
exactly as the file sources land theirs (content store, then brygga.pipeline.landing: ``ledger.land``, the source
reference, an ``intake`` step), durably, before the answer; only then is a run started through ``trigger``, whose
failure changes nothing (the route's schedule takes the backlog).

Answers are ``application/problem+json`` (RFC 9457) naming headers, limits and rules, never the body's content.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from brygga import http_body as bodies
from brygga.connections import ConnectionNotFound, ConnectionResolver, EnvConnectionResolver
from brygga.errors import ConfigError
from brygga.ledger import Ledger, State
from brygga.mapping import compile_mapping
from brygga.pipeline.landing import InboundMappings, land_item
from brygga.routes import Route, load_routes
from brygga.settings import Settings
from brygga.storage import ContentStore
from brygga_adapters.webhook.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureRefused,
    parse_signature,
    parse_timestamp,
    verify,
)
from brygga_adapters.webhook.source import WebhookSource

log = logging.getLogger("brygga.adapters.webhook")

ADAPTER = "webhook"
PROBLEM_MEDIA_TYPE = "application/problem+json"
Trigger = Callable[[str, str], None]


class SubmissionAccepted(BaseModel):
    submission_id: str = Field(description="Brygga's id of the submission (`brygga trace` shows its way).")
    duplicate: bool = Field(description="True when these exact bytes were already taken in for this route: "
                                        "the answer names the first submission, and nothing happens twice.")


class Problem(BaseModel):
    type: str = Field("about:blank", description="Always about:blank: the status says what kind of problem.")
    title: str = Field(description="The status's phrase.")
    status: int
    detail: str = Field(description="What was wrong: a header, a limit or a rule; never the body's content.")


class _Refusal(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers or {}


_TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 413: "Content Too Large",
           415: "Unsupported Media Type", 422: "Unprocessable Content", 500: "Internal Server Error",
           503: "Service Unavailable"}
# RFC 9110: a 401 names the scheme the client must use.
_CHALLENGE = {"WWW-Authenticate": f'HMAC-SHA256 headers="{TIMESTAMP_HEADER} {SIGNATURE_HEADER}"'}


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> _Refusal:
    return _Refusal(status, _TITLES[status], detail, headers)


# What routes.schema.json allows as a route id: only such an id is named back in a 404 (never what else a URL held).
_ROUTE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def _unknown_route(route_id: str) -> _Refusal:
    if _ROUTE_ID.fullmatch(route_id):
        return _problem(404, f"no route {route_id!r} takes pushed submissions here (a route with source adapter "
                             f"{ADAPTER!r})")
    return _problem(404, "the route id in the URL is not one (lower-case letters, digits, '-' and '_', at most 63 "
                         f"characters), so no route takes pushed submissions there (a route with source adapter "
                         f"{ADAPTER!r})")


class _Config:
    """The routes file and the ledger, read once and kept while the file stays the same."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: tuple[tuple[Any, ...], dict[str, Route]] | None = None
        self._ledgers: dict[str, Ledger] = {}
        self._homes: set[Path] = set()

    def routes(self, settings: Settings) -> dict[str, Route]:
        stat = settings.routes_file.stat() if settings.routes_file.exists() else None
        key = (settings.routes_file, settings.mappings_dir, stat and (stat.st_mtime_ns, stat.st_size))
        with self._lock:
            if self._routes is None or self._routes[0] != key:
                self._routes = key, {r.id: r for r in load_routes(settings.routes_file, settings.mappings_dir)}
            return self._routes[1]

    def ledger(self, settings: Settings) -> Ledger:
        with self._lock:
            if settings.home not in self._homes:
                settings.ensure_dirs()
                self._homes.add(settings.home)
            if settings.database_url not in self._ledgers:
                self._ledgers[settings.database_url] = Ledger(settings.database_url)
            return self._ledgers[settings.database_url]


def _fsync_dir(path: Path) -> None:
    """The rename that put the blob in place is durable only once its folder is synced."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _land(settings: Settings, ledger: Ledger, route: Route, body: bytes) -> tuple[str, bool, bool]:
    """Land the raw bytes and record them as intake does a source's items (brygga.pipeline.landing: the source
    reference peeked, the intake step and its metric, under the submission's correlation id):
    (submission id, created, done)."""
    started, t0 = datetime.now(UTC), time.perf_counter()
    sha256, path = ContentStore(settings.landing).put(body)
    _fsync_dir(path.parent)
    # Compiled per request, and only for a new submission: a route's mappings are small, and a fixed one counts
    # from the next push on.
    mappings = InboundMappings(route, lambda mapping: compile_mapping(mapping, file=settings.shown(mapping)))
    landed = land_item(ledger, route, mappings, sha256=sha256, raw_path=path, size=len(body),
                       source_name=f"{ADAPTER}:{uuid.uuid4().hex[:12]}", started_at=started, t0=t0)
    done = not landed.created and ledger.get(landed.submission_id).state in State.DONE
    return landed.submission_id, landed.created, done


def _start_run(trigger: Trigger, route_id: str, submission_id: str) -> None:
    try:
        trigger(route_id, submission_id)
    except Exception as exc:  # the submission is landed: the route's schedule takes it all the same
        log.warning("route %s: submission %s is landed, but starting a run failed (%s); the route's schedule "
                    "will take it", route_id, submission_id, type(exc).__name__)


def _problem_content(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": Problem.model_json_schema()}}}


_HEADER_DOCS = [
    {"name": TIMESTAMP_HEADER, "in": "header", "required": True,
     "description": "When the request was signed, in unix seconds; it must be within the route's window_seconds "
                    "(default 300) of the server's clock.",
     "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}, "example": "1795452130"},
    {"name": SIGNATURE_HEADER, "in": "header", "required": True,
     "description": 'sha256=<hex of HMAC-SHA256(secret, timestamp + "." + route_id + "." + body)>, the secret '
                    "being the password of the route's connection and route_id the one in the URL.",
     "schema": {"type": "string", "pattern": "^sha256=[0-9a-fA-F]{64}$"}},
]

_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: _problem_content("The body is not UTF-8 JSON; the detail names the line and column."),
    401: _problem_content("A signature header is missing or wrong, or the timestamp is outside the replay "
                          "window."),
    404: _problem_content("No route with that id takes pushed submissions (its source adapter is not webhook)."),
    413: _problem_content("The body is over the route's max_body_bytes (or limits.max_file_bytes)."),
    415: _problem_content(f"The Content-Type is not {bodies.JSON_MEDIA_TYPE} (UTF-8)."),
    422: _problem_content("The body is JSON but not one object."),
    500: _problem_content("The route is not configured for the webhook (its connection or secret)."),
    503: _problem_content("The submission could not be stored; nothing was taken in: send it again later."),
}


def create_app(settings_factory: Callable[[], Settings] = Settings.from_env, trigger: Trigger | None = None,
               connections: ConnectionResolver | None = None) -> FastAPI:
    """The intake app. ``trigger(route_id, submission_id)`` starts a run after the answer (None: the route's
    schedule alone); ``connections`` finds the route's secret (default: ``BRYGGA_CONN_<ID>``)."""
    resolver = connections or EnvConnectionResolver()
    config = _Config()
    app = FastAPI(
        title="Brygga webhook intake",
        version="1",
        description="E-service platforms push submissions as JSON. Each request is signed with the route's shared "
                    "secret (HMAC-SHA256 over the timestamp, the route id and the body); the raw bytes are stored "
                    "durably before the 202 answer, and the same body twice is one submission.",
    )

    @app.exception_handler(_Refusal)
    async def refused(_: Request, problem: _Refusal) -> JSONResponse:
        body = Problem(title=problem.title, status=problem.status, detail=problem.detail)
        return JSONResponse(body.model_dump(), status_code=problem.status, headers=problem.headers,
                            media_type=PROBLEM_MEDIA_TYPE)

    def webhook_route(route_id: str) -> tuple[Settings, Route, WebhookSource]:
        settings = settings_factory()
        try:
            route = config.routes(settings).get(route_id)
        except ConfigError as exc:
            log.error("webhook: the routes file cannot be read: %s", exc)
            raise _problem(500, "the routes file cannot be read; the administrator's log says why") from None
        if route is None or route.source.adapter != ADAPTER:
            raise _unknown_route(route_id)
        try:
            connection = resolver.get(route.source.connection) if route.source.connection else None
            return settings, route, WebhookSource(dict(route.source.config), connection)
        except (ConfigError, ConnectionNotFound) as exc:
            log.error("route %s: the webhook source is not configured: %s", route_id, exc)
            raise _problem(500, f"route {route_id!r} is not configured for pushed submissions; the "
                                "administrator's log says why") from None

    def land(settings: Settings, route: Route, body: bytes) -> tuple[str, bool, bool]:
        try:
            return _land(settings, config.ledger(settings), route, body)
        except Exception as exc:  # disk, database: nothing was accepted, and the platform can send it again
            log.error("route %s: a pushed submission could not be stored (%s)", route.id, type(exc).__name__)
            raise _problem(503, "the submission could not be stored; nothing was taken in, send it again later",
                           {"Retry-After": "60"}) from None

    @app.post(
        "/routes/{route_id}/submissions",
        status_code=202,
        response_model=SubmissionAccepted,
        response_description="Accepted: the raw bytes are stored and recorded; a run takes them.",
        summary="Push one submission (a JSON object) to a route",
        description="The raw bytes are stored, recorded in the ledger and then answered with 202; a run of the "
                    "route starts right after. Sending the same bytes again is safe: the answer names the same "
                    "submission with duplicate true.",
        responses=_ANSWERS,
        openapi_extra={
            "parameters": _HEADER_DOCS,
            "requestBody": {"required": True, "content": {bodies.JSON_MEDIA_TYPE: {
                "schema": {"type": "object", "description": "The submission as the e-service platform exports "
                                                            "it; the route's mappings translate it."}}}},
        },
    )
    async def submit(route_id: str, request: Request, background: BackgroundTasks) -> JSONResponse:
        settings, route, source = await run_in_threadpool(webhook_route, route_id)
        try:
            stamp = parse_timestamp(request.headers.get(TIMESTAMP_HEADER), source.window_seconds)
            digest = parse_signature(request.headers.get(SIGNATURE_HEADER))
            bodies.check_media_type(request.headers.get("content-type"))
            limit, limit_name = min((source.max_body_bytes, "the source's max_body_bytes"),
                                    (route.limits.max_file_bytes, "the route's limits.max_file_bytes"))
            body = await bodies.read_capped(request.stream(), limit, limit_name)
            verify(source.secret, body, stamp, route.id, digest)
            await run_in_threadpool(bodies.check_json_object, body)
        except SignatureRefused as exc:
            log.info("route %s: a push was refused: %s", route_id, exc)
            raise _problem(401, str(exc), _CHALLENGE) from None
        except bodies.BodyProblem as exc:
            log.info("route %s: a push was refused (%d): %s", route_id, exc.status, exc.detail)
            raise _problem(exc.status, exc.detail) from None
        submission_id, created, done = await run_in_threadpool(land, settings, route, body)
        log.info("route %s: submission %s %s (%d bytes)", route_id, submission_id,
                 "landed" if created else "was already landed", len(body))
        if trigger is not None and not done:
            background.add_task(_start_run, trigger, route_id, submission_id)
        answer = SubmissionAccepted(submission_id=submission_id, duplicate=not created)
        return JSONResponse(answer.model_dump(), status_code=202, background=background)

    @app.get("/health", summary="Liveness: the app answers", response_model=dict[str, str])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
