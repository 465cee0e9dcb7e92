"""Real sockets for the https tests: a throwaway CA and server certificate, a TLS server for any WSGI app, and a
plain-TCP trap that counts every connection made to it (proof that nothing went over plain http).

Imported by tests/adapters directly and by tests/interop by path (tests are not a package).
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

TLS_HOST = "localhost"  # the name in the certificate; the connection must use it for verification to pass


@dataclass(frozen=True)
class Certificates:
    ca_file: Path  # what a connection's ca_bundle extra names
    cert_file: Path
    key_file: Path


def make_certificates(folder: Path) -> Certificates:
    """A CA and a server certificate for localhost/127.0.0.1 signed by it, valid for a day."""
    now = datetime.datetime.now(datetime.UTC)

    def build(
        subject: str, issuer: x509.Name | None, signing_key: Any, public_key: Any, *, ca: bool
    ) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(TLS_HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("Brygga test CA", None, ca_key, ca_key.public_key(), ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = build(TLS_HOST, ca_cert.subject, ca_key, server_key.public_key(), ca=False)

    folder.mkdir(parents=True, exist_ok=True)
    files = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class AppServer:
    """A WSGI app on 127.0.0.1, reached as https://localhost:PORT (or http:// when served without TLS)."""

    server: BaseWSGIServer
    thread: threading.Thread
    tls: bool

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{TLS_HOST}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class EndlessBody:
    """A body that starts with ``head`` and goes on until ``total`` bytes, counting how much of it the server handed
    to the socket: a reply or a WSDL that would fill a reader's memory."""

    def __init__(self, head: bytes, total: int) -> None:
        self.head = head
        self.total = total
        self.handed_over = 0

    def __iter__(self) -> Iterator[bytes]:
        self.handed_over = len(self.head)
        yield self.head
        chunk = b"a" * (256 * 1024)
        while self.handed_over + len(chunk) <= self.total:
            self.handed_over += len(chunk)
            yield chunk


def serve_app(app: Callable[..., Any], certificates: Certificates | None) -> AppServer:
    """Serve ``app`` in a daemon thread, behind TLS when ``certificates`` are given."""
    context = None
    if certificates is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificates.cert_file, certificates.key_file)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return AppServer(server, thread, tls=context is not None)


@dataclass
class PlainTrap:
    """A plain TCP listener on 127.0.0.1 that accepts, counts and closes every connection."""

    sock: socket.socket = field(default_factory=socket.socket)
    connections: int = 0
    _stopped: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.05)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self.sock.close()

    def __enter__(self) -> PlainTrap:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
