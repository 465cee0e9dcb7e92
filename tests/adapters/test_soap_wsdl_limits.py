"""Loading a WSDL over real HTTP: capped as a call's reply is, and an HTML page in its place named as such.

An endpoint whose ``?wsdl`` never ends (a broken proxy, a hostile host) must not make the worker read until its memory
is gone; a login page where the WSDL should be must say so, not "malformed XML"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tls_helpers import AppServer, EndlessBody, serve_app
from werkzeug.wrappers import Request, Response

from brygga.connections import Connection
from brygga.errors import TargetRejected, TargetUnavailable
from brygga_adapters.soap import SoapService, transport

SERVICE = "/svc"
WSDL_HEAD = b'<?xml version="1.0"?><definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><documentation>'


@pytest.fixture
def answer() -> Iterator[dict[str, Response]]:
    """What the server answers every GET with: set ``answer["wsdl"]`` in a test."""
    yield {}


@pytest.fixture
def server(answer: dict[str, Response]) -> Iterator[AppServer]:
    def app(environ: dict, start_response: object) -> object:
        assert Request(environ).method == "GET"
        return answer["wsdl"](environ, start_response)

    with serve_app(app, None) as running:
        yield running


def _service(server: AppServer) -> SoapService:
    return SoapService(Connection.from_uri("wsdl-limits", f"{server.base_url}{SERVICE}?allow_http=true"))


def test_an_endless_wsdl_is_not_read_past_the_limit(server: AppServer, answer: dict[str, Response],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    body = EndlessBody(WSDL_HEAD, 64 * 1024 * 1024)
    answer["wsdl"] = Response(body, content_type="text/xml")
    monkeypatch.setattr(transport, "MAX_REPLY_BYTES", 1024 * 1024)

    with pytest.raises(TargetRejected) as refused:
        _service(server)
    assert str(refused.value) == (
        f"connection 'wsdl-limits': {server.base_url}{SERVICE}?wsdl (the WSDL or a schema it imports) is over the "
        "limit of 1048576 bytes; it was not read further")
    # Reading stopped near the limit: the server could not hand over the rest (socket buffers hold a few MB).
    assert body.handed_over < body.total


def test_a_login_page_instead_of_the_wsdl_says_so(server: AppServer, answer: dict[str, Response]) -> None:
    answer["wsdl"] = Response("<!DOCTYPE html>\n<html><body><h1>Logga in</h1></body></html>",
                              content_type="text/html; charset=utf-8")

    with pytest.raises(TargetUnavailable) as unavailable:
        _service(server)
    assert str(unavailable.value) == (
        f"connection 'wsdl-limits': {server.base_url}{SERVICE}?wsdl answered text/html, not a WSDL (a login or "
        "maintenance page?)")
