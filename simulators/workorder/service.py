"""A municipal work-order system (arbetsordersystem) for felanmälan, over REST/JSON with OAuth2 client credentials.

The API is a FastAPI app (``brygga_simulators.workorder.api``, OpenAPI at ``{root}/openapi.json``) run inside the
shared ``RestSimulator`` WSGI machinery through ``a2wsgi``, so fault plans, ``/_sim/`` views and the request record
work as for every other simulator. Settings (also ``--option key=value``): ``path`` (service root, default
``/workorder/v1``), ``clients`` (``id:secret,id:secret``; default ``brygga:s3cret``), ``token_ttl`` (seconds,
default 3600), ``max_upload_bytes`` (default 100 MiB). ``clock`` (Python only) is what "now" is, for tests of
token expiry and the changes feed. ``flaws`` (``flaws=a,b`` from a shell) makes a non-conforming variant, for the
conformance kit's tests: the names and what each does wrong are in ``brygga_simulators.workorder.flaws.FLAWS``.

Inspection (``/_sim/<view>``): ``orders`` and ``changes`` show references, codes, statuses, sizes and digests but
no text a resident wrote (title, description, location, reporter, file names, notes: only which fields are
there); ``counts`` is what a fault harness counts. ``POST /_sim/orders/<orderNumber>/status`` with
``{"status": "closed"}`` moves an order, as ``set_status`` does from Python.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from typing import IO, Any, ClassVar

from a2wsgi import ASGIMiddleware
from werkzeug.wrappers import Request, Response

from brygga_simulators.rest_server import RestSimulator, json_response, problem
from brygga_simulators.workorder.api import build_app
from brygga_simulators.workorder.flaws import parse_flaws
from brygga_simulators.workorder.store import Clock, StoreError, WorkOrderStore, parse_clients, utc_now

DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024
READ_CHUNK = 64 * 1024
SIM_BODY_BYTES = 64 * 1024
SIM_STATUS = re.compile(r"^/_sim/orders/([^/]+)/status$")

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _shared_loop() -> asyncio.AbstractEventLoop:
    """One event loop thread for every work-order simulator in the process (a2wsgi would start one per app)."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="workorder-asgi", daemon=True).start()
        return _loop


class WorkOrderSimulator(RestSimulator):
    name: ClassVar[str] = "work-order"
    # The base caps bodies at 1 MiB on its own Request object; this service reads the WSGI input itself (through
    # the ASGI app) and caps attachment bodies at max_upload_bytes instead.
    max_request_bytes: int = DEFAULT_MAX_UPLOAD_BYTES

    def __init__(
        self,
        *,
        path: str = "/workorder/v1",
        clients: str | dict[str, str] = "brygga:s3cret",
        token_ttl: int | str = 3600,
        max_upload_bytes: int | str = DEFAULT_MAX_UPLOAD_BYTES,
        clock: Clock = utc_now,
        flaws: Collection[str] | str = (),
    ) -> None:
        super().__init__(path)
        self.max_request_bytes = int(max_upload_bytes)
        if self.max_request_bytes < 1:
            raise ValueError("max_upload_bytes is a number of bytes, 1 or more")
        self.flaws = parse_flaws(flaws)
        self.store = WorkOrderStore(parse_clients(clients), int(token_ttl), clock, self.flaws)
        self.app = build_app(self.store, self.path, self.max_request_bytes, self.flaws)
        self._asgi = ASGIMiddleware(self.app, loop=_shared_loop())  # type: ignore[arg-type]

    # --- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # The one /_sim/ view that changes state; the base's views only read.
        match = SIM_STATUS.match(environ.get("PATH_INFO", ""))
        if match is not None:
            request = Request(environ)
            request.max_content_length = SIM_BODY_BYTES
            return self._sim_set_status(request, match.group(1))(environ, start_response)
        return super().__call__(environ, start_response)

    def handle(self, request: Request) -> Response:
        environ = dict(request.environ)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + self.path
        environ["PATH_INFO"] = request.path.removeprefix(self.path) or "/"
        body = _BodyInput.of(environ, self.max_request_bytes)
        if body is None:
            return problem(413, "Content Too Large", f"an attachment is at most {self.max_request_bytes} bytes")
        environ["wsgi.input"] = body
        try:
            return Response.from_app(self._asgi, environ, buffered=True)
        finally:
            # What the app left unread (a refusal before the body) is read off the socket, so the client gets
            # the answer rather than a reset; beyond twice the cap the connection is just closed.
            body.drain(2 * self.max_request_bytes)
            body.close()

    def outside_path(self, request: Request) -> Response:
        return problem(404, "Not Found")

    # --- for tests -------------------------------------------------------------------------------

    def set_status(self, order_number: str, status: str) -> dict[str, Any]:
        """Move an order to ``status`` (registered, assigned, in_progress, waiting, closed); a change is recorded."""
        try:
            return self.store.set_status(order_number, status)
        except StoreError as exc:
            raise (KeyError if exc.status == 404 else ValueError)(exc.detail) from None

    @property
    def orders(self) -> list[dict[str, Any]]:
        """Every order as the API shows it, with ``client`` (who created it); copies."""
        return [{**order, "client": client} for client, order in self.store.all_orders()]

    def order(self, order_number: str) -> dict[str, Any]:
        for order in self.orders:
            if order["orderNumber"] == order_number:
                return order
        raise KeyError(order_number)

    def inspect(self, what: str) -> Any:
        if what == "orders":
            return [_summary(client, order) for client, order in self.store.all_orders()]
        if what == "changes":
            return self.store.all_changes()
        if what == "counts":
            return self.counts()
        return super().inspect(what)

    def counts(self) -> dict[str, Any]:
        """Orders per client and per externalRef, attachments per order and repeated contents (by sha256)."""
        per_ref: Counter[str] = Counter()
        per_client: Counter[str] = Counter()
        attachments: dict[str, int] = {}
        duplicates: dict[str, int] = {}
        for client, order in self.store.all_orders():
            per_ref[order.get("externalRef")] += 1
            per_client[client] += 1
            seen = Counter(attachment["sha256"] for attachment in order["attachments"])
            attachments[order["orderNumber"]] = sum(seen.values())
            duplicates[order["orderNumber"]] = sum(n - 1 for n in seen.values())
        return {"orders": sum(per_client.values()), "orders_per_client": dict(per_client),
                "orders_per_external_ref": dict(per_ref), "attachments_per_order": attachments,
                "duplicate_attachments": duplicates}

    def reset(self) -> None:
        super().reset()
        self.store.clear()

    def _sim_set_status(self, request: Request, order_number: str) -> Response:
        if request.method != "POST":
            response = Response("POST {\"status\": ...}", status=405, mimetype="text/plain")
            response.headers["Allow"] = "POST"
            return response
        try:
            status = json.loads(request.get_data(cache=False) or b"{}").get("status")
        except (ValueError, AttributeError):
            status = None
        if not isinstance(status, str):
            return problem(400, "Bad Request", 'the body is {"status": "<status>"}')
        try:
            order = self.store.set_status(order_number, status)
        except StoreError as exc:
            return problem(exc.status, exc.title, exc.detail)
        return json_response(_summary(_client_of(self.store, order_number), order))


def _client_of(store: WorkOrderStore, order_number: str) -> str:
    return next(client for client, order in store.all_orders() if order["orderNumber"] == order_number)


def _summary(client: str, order: dict[str, Any]) -> dict[str, Any]:
    """An order without what a resident wrote: references, codes, status and times; which fields are present;
    attachments by media type, size and sha256 (file names may name people)."""
    return {
        "orderNumber": order["orderNumber"],
        "client": client,
        "externalRef": order.get("externalRef"),
        "status": order["status"],
        "category": order["category"],
        "priority": order["priority"],
        "createdAt": order["createdAt"],
        "updatedAt": order["updatedAt"],
        "fields": sorted(key for key in order if key not in ("attachments", "notes")),
        "attachments": [{"mediaType": a["mediaType"], "size": a["size"], "sha256": a["sha256"]}
                        for a in order["attachments"]],
        "notes": len(order["notes"]),
    }


class _BodyInput:
    """The request body as the ASGI app reads it: at most Content-Length bytes; a chunked body (no length) is
    first spooled to a temporary file, up to the cap, so a2wsgi (which needs a length) can pass it on."""

    def __init__(self, stream: IO[bytes], length: int, spooled: IO[bytes] | None = None) -> None:
        self._stream, self._left, self._spooled = stream, length, spooled

    @classmethod
    def of(cls, environ: dict[str, Any], cap: int) -> _BodyInput | None:
        """None when a chunked body is over ``cap``."""
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit() or not environ.get("wsgi.input_terminated"):
            return cls(stream, int(length) if length.isdigit() else 0)
        # Outlives this method: closed by close() once the app has read it.
        spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
        size = 0
        while chunk := stream.read(READ_CHUNK):
            size += len(chunk)
            if size > cap:
                spooled.close()
                return None
            spooled.write(chunk)
        spooled.seek(0)
        environ["CONTENT_LENGTH"] = str(size)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return cls(spooled, size, spooled)

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._stream.read(self._left if size < 0 else min(size, self._left))
        self._left -= len(data)
        if not data:
            self._left = 0
        return data

    def drain(self, limit: int) -> None:
        if self._left > limit:
            return
        while self.read(READ_CHUNK):
            pass

    def close(self) -> None:
        if self._spooled is not None:
            self._spooled.close()
