"""The shared base of Brygga's REST simulators: a WSGI app serving JSON over real HTTP, with the failures of real ones.

What every REST simulator gets from ``RestSimulator``:
- optional HTTP Basic auth (``basic_auth="user:password"``) and/or a bearer token (``bearer_token=...``), answered
  with 401 and a ``WWW-Authenticate`` challenge like a real gateway;
- a fault plan (``faults``, ``brygga_simulators.faults``) matched by request path, set at ``/_sim/faults``: what a
  proxy or gateway in front of the service does wrong (a bare error, an HTML maintenance page with HTTP 200, a slow
  answer, a reset) and when;
- ``/_sim/<view>`` JSON inspection views (``requests`` is built in; subclasses add more through ``inspect``);
- a record of every request in ``recorded`` for tests. The ``/_sim/requests`` view shows parameter names only:
  query values (designations, names) may be personal data.

``path`` is the service root, what a Connection points at (``RunningSimulator.url``); subclasses implement
``handle(request)`` for every request under it. ``brygga_simulators.serving`` puts it on a real socket.
"""

from __future__ import annotations

import abc
import hmac
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from werkzeug.wrappers import Request, Response

from brygga_simulators.faults import (
    DROPPING,
    INSTEAD,
    MAINTENANCE_HTML,
    FaultPlan,
    answer_instead,
    drop_connection,
    wait,
)
from brygga_simulators.serving import sim_view

MAX_REQUEST_BYTES = 1024 * 1024
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    auth_scheme: str | None = None  # "basic", "bearer" or None
    auth_user: str | None = None  # the Basic user name; never a password or token
    status: int = 0


def problem(status: int, title: str, detail: str | None = None) -> Response:
    """An RFC 9457 problem+json answer, as Spring-style municipal APIs give."""
    body: dict[str, Any] = {"status": status, "title": title}
    if detail:
        body["detail"] = detail
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json")


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, content_type="application/json")


class RestSimulator(abc.ABC):
    """Base WSGI app. Subclasses set ``name`` and implement ``handle``; ``path`` is the service root."""

    name: ClassVar[str]

    def __init__(self, path: str, *, basic_auth: str | None = None, bearer_token: str | None = None) -> None:
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        self.path = path.rstrip("/") or "/"
        self.lock = threading.RLock()
        self.basic_auth = tuple(basic_auth.split(":", 1)) if basic_auth else None
        if self.basic_auth is not None and len(self.basic_auth) != 2:
            raise ValueError("basic_auth must be 'user:password'")
        self.bearer_token = bearer_token
        self._recorded: list[RecordedRequest] = []
        # What to do wrong, and when (brygga_simulators.faults), matched by request path; also at /_sim/faults.
        self.faults = FaultPlan()

    # --- WSGI -------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_REQUEST_BYTES
        response = self._respond(request)
        if not request.path.startswith("/_sim/"):
            self._record(request, response.status_code)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path.startswith("/_sim/"):
            return sim_view(request, self.faults, self.inspect)
        relative = request.path.removeprefix(self.path) if self.path != "/" else request.path
        rule = self.faults.match(request.path, relative or "/")
        if rule is not None and rule.action in INSTEAD:
            return answer_instead(rule, request, lambda r: problem(500, r.faultcode, r.faultstring))
        if rule is not None:
            wait(rule, "before")
        response = self._service(request)
        if rule is not None:
            if rule.action in DROPPING:
                return drop_connection(request.environ)
            wait(rule, "after")
        return response

    def _service(self, request: Request) -> Response:
        if not self._under_path(request.path):
            return self.outside_path(request)
        challenge = self._auth_challenge(request)
        if challenge is not None:
            return challenge
        return self.handle(request)

    def _under_path(self, path: str) -> bool:
        return self.path == "/" or path == self.path or path.startswith(self.path + "/")

    def _auth_challenge(self, request: Request) -> Response | None:
        """None when the request may pass; otherwise the 401 a real service would send."""
        if self.basic_auth is None and self.bearer_token is None:
            return None
        if self._authorized(request):
            return None
        response = problem(401, "Unauthorized")
        response.headers["WWW-Authenticate"] = (
            'Basic realm="brygga-simulator"' if self.basic_auth is not None else "Bearer"
        )
        return response

    def _authorized(self, request: Request) -> bool:
        auth = request.authorization
        if auth is None:
            return False
        if auth.type == "basic" and self.basic_auth is not None:
            user, password = self.basic_auth
            return _same(auth.username or "", user) and _same(auth.password or "", password)
        if auth.type == "bearer" and self.bearer_token is not None:
            return _same(auth.token or "", self.bearer_token)
        return False

    def _record(self, request: Request, status: int) -> None:
        auth = request.authorization
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query={key: request.args.getlist(key) for key in request.args},
            auth_scheme=auth.type if auth is not None else None,
            auth_user=auth.username if auth is not None and auth.type == "basic" else None,
            status=status,
        )
        with self.lock:
            self._recorded.append(entry)

    # --- for subclasses ---------------------------------------------------------------------------

    @abc.abstractmethod
    def handle(self, request: Request) -> Response:
        """Answer a request under ``path``, after auth and the fault plan."""

    def outside_path(self, request: Request) -> Response:
        """Answer for a path the service does not serve; subclasses may serve e.g. an OpenAPI document here."""
        return problem(404, "Not Found")

    def inspect(self, what: str) -> Any:
        """JSON-ready view named ``what`` (``/_sim/<what>``); raise KeyError for unknown views."""
        if what == "requests":
            return [{**asdict(entry), "query": sorted(entry.query)} for entry in self.recorded]
        raise KeyError(what)

    @property
    def recorded(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self._recorded)

    def reset(self) -> None:
        with self.lock:
            self._recorded.clear()
        self.faults.reset()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


__all__ = [
    "MAINTENANCE_HTML",
    "RecordedRequest",
    "RestSimulator",
    "json_response",
    "problem",
]
