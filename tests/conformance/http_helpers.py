"""Endpoints that are no simulator: any WSGI app on a real socket (``serving``, on tls_helpers.serve_app), and a
small HTTP proxy in front of a simulator that rewrites its answers: a vendor's endpoint that behaves like the
simulator but for one thing (a Server faultcode where the simulator sends Client, say), without a flaw for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from tls_helpers import serve_app
from werkzeug.wrappers import Request, Response

HOP_BY_HOP = {"connection", "content-length", "content-encoding", "transfer-encoding", "keep-alive"}


class RewritingProxy:
    """Forwards every request to ``upstream`` (scheme://host:port) and replaces ``old`` with ``new`` in each answer,
    and the upstream's own address with the proxy's (a served WSDL names where it is)."""

    def __init__(self, upstream: str, old: bytes, new: bytes) -> None:
        self.upstream = upstream.rstrip("/")
        self.old, self.new = old, new
        self.address = ""  # set once it serves

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host", *HOP_BY_HOP}}
        answer = requests.request(request.method, self.upstream + request.full_path.rstrip("?"),
                                  data=request.get_data(), headers=headers, allow_redirects=False, timeout=30)
        body = answer.content.replace(self.old, self.new).replace(self.upstream.encode(), self.address.encode())
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP]
        return Response(body, status=answer.status_code, headers=kept)(environ, start_response)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served over plain http: its address (http://localhost:PORT) while it serves."""
    with serve_app(app, None) as server:
        yield server.base_url


@contextmanager
def rewriting_proxy(upstream: str, old: bytes, new: bytes) -> Iterator[str]:
    """The proxy's address while it serves."""
    proxy = RewritingProxy(upstream, old, new)
    with serving(proxy) as address:
        proxy.address = address
        yield address
