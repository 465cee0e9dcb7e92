"""A simulator on a real socket: served in a daemon thread, without an access log, stopped cleanly; and the
``/_sim/`` inspection views every simulator answers.

SOAP and REST simulators alike (and the tests' own WSGI apps, behind TLS when given an ``ssl_context``).
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from brygga_simulators.faults import FaultPlan


class _QuietHandler(WSGIRequestHandler):
    """No access log: request lines are noise in test output, and their query strings may be personal data."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class RunningSimulator:
    """A simulator serving on a real socket in a background thread."""

    app: Any  # a SoapSimulator or a RestSimulator: what it holds, for tests to inspect
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        scheme = "https" if self.server.ssl_context is not None else "http"
        return f"{scheme}://{self.server.host}:{self.server.port}"

    @property
    def url(self) -> str:
        """What a Connection points at: the service's own path on this server."""
        path = getattr(self.app, "path", "/")
        return self.base_url + (path if path != "/" else "")

    @property
    def wsdl_url(self) -> str:
        return self.url + "?wsdl"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(app: Any, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None,
          name: str | None = None) -> RunningSimulator:
    """Bind (port 0 picks a free port) and serve the WSGI ``app`` in a daemon thread."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler, ssl_context=ssl_context)
    # A short poll interval keeps stop() quick; shutdown() waits for the next poll.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"simulator-{name or getattr(app, 'name', 'app')}", daemon=True)
    thread.start()
    return RunningSimulator(app=app, server=server, thread=thread)


def sim_view(request: Request, faults: FaultPlan, inspect: Callable[[str], Any]) -> Response:
    """A request under ``/_sim/``: the fault plan's endpoint, else the simulator's JSON view."""
    answered = faults.endpoint(request)
    if answered is not None:
        return answered
    return inspection_response(inspect, request.path.removeprefix("/_sim/"))


def inspection_response(inspect: Callable[[str], Any], what: str) -> Response:
    """``/_sim/<what>``: a simulator's JSON view for tests and demos; 404 for a view it does not have."""
    try:
        view = inspect(what)
    except KeyError:
        return Response("unknown inspection view", status=404, mimetype="text/plain")
    return Response(json.dumps(view, ensure_ascii=False, default=str), mimetype="application/json")
