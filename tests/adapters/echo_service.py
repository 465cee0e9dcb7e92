"""A tiny SOAP service for tests/adapters/data/two_ports.wsdl: serves the WSDL, answers Echo, records each request.

Its answer names the SHA-256 of the ``data`` it received, so a test can prove what arrived. ``reply``, when set,
answers every POST instead (a maintenance page, an endless body).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from brygga.xmlsafe import parse_xml

DATA = Path(__file__).with_name("data")
ECHO_NS = "urn:brygga:test:echo"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_PATH = "/echo"


def schema_import(location: str) -> str:
    return f'<xs:import namespace="urn:brygga:test:types" schemaLocation="{location}"/>'


def render_wsdl(http_address: str, https_address: str, schema_import_xml: str = "") -> bytes:
    text = (DATA / "two_ports.wsdl").read_text(encoding="utf-8")
    text = text.replace("HTTP_ADDRESS", http_address).replace("HTTPS_ADDRESS", https_address)
    return text.replace("SCHEMA_IMPORT", schema_import_xml).encode()


@dataclass(frozen=True)
class Post:
    scheme: str
    soap_action: str
    content_length: int | None
    chunked: bool
    text: str
    data_sha256: str
    authorization: str | None = None  # the Authorization header's scheme (Basic, Bearer), never its value


@dataclass
class EchoApp:
    """WSGI app. ``http_address`` is what the WSDL advertises for its plain-http port."""

    http_address: str
    schema_import_xml: str = ""
    posts: list[Post] = field(default_factory=list)
    gets: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization scheme)
    reply: Callable[[], Response] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._respond(Request(environ))(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.method == "GET":
            with self.lock:
                self.gets.append((request.path, _auth_scheme(request)))
        if request.method == "POST" and self.reply is not None:
            return self.reply()
        if request.method == "GET" and request.path == SERVICE_PATH and "wsdl" in request.args:
            own_address = request.host_url.rstrip("/") + SERVICE_PATH
            return Response(render_wsdl(self.http_address, own_address, self.schema_import_xml), mimetype="text/xml")
        if request.method == "GET" and request.path == "/echo_types.xsd":
            return Response((DATA / "echo_types.xsd").read_bytes(), mimetype="text/xml")
        if request.method != "POST" or request.path != SERVICE_PATH:
            return Response("not found", status=404)
        envelope = parse_xml(request.get_data(), source="echo request")
        echo = envelope.find(f"{{{SOAP_ENV}}}Body/{{{ECHO_NS}}}Echo")
        text = echo.findtext(f"{{{ECHO_NS}}}text") or ""
        data = base64.b64decode(echo.findtext(f"{{{ECHO_NS}}}data") or "")
        post = Post(
            scheme=request.scheme,
            soap_action=request.headers.get("SOAPAction", "").strip('"'),
            content_length=request.content_length,
            chunked="chunked" in request.headers.get("Transfer-Encoding", ""),
            text=text,
            data_sha256=hashlib.sha256(data).hexdigest(),
            authorization=_auth_scheme(request),
        )
        with self.lock:
            self.posts.append(post)
        answer = (
            f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><EchoResponse xmlns="{ECHO_NS}">'
            f"<text>{text}:{post.data_sha256}</text></EchoResponse></s:Body></s:Envelope>"
        )
        return Response(answer, content_type="text/xml; charset=utf-8")


def _auth_scheme(request: Request) -> str | None:
    authorization = request.headers.get("Authorization")
    return authorization.split()[0] if authorization else None
