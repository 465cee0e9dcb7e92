"""A local TLS listener for the amqps:// tests: a test CA, a server certificate for names of the test's choosing, and
a server that does the TLS handshake, notes how it went (and the name the client sent), then hangs up."""

from __future__ import annotations

import contextlib
import datetime
import queue
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class ServerPki:
    ca_file: Path
    cert_file: Path
    key_file: Path


def make_server_pki(folder: Path, *dns_names: str) -> ServerPki:
    """A fresh CA and a server certificate for ``dns_names`` only, valid for a day."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Brygga bus test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    pki = ServerPki(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return pki


@dataclass(frozen=True)
class Handshake:
    completed: bool
    server_name: str | None  # what the client sent as SNI


class TlsListener:
    """``with TlsListener(pki) as listener:`` serves on 127.0.0.1:``listener.port``; ``listener.handshakes`` gets
    one ``Handshake`` per connection."""

    def __init__(self, pki: ServerPki) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(pki.cert_file, pki.key_file)
        self._context.sni_callback = self._note_name
        self._names: dict[int, str | None] = {}
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.handshakes: queue.Queue[Handshake] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _note_name(self, connection: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: ssl.SSLContext) -> None:
        self._names[id(connection)] = name

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self._socket.accept()
            except OSError:
                return  # closed: the test is over
            raw.settimeout(5)
            with raw:
                try:
                    with self._context.wrap_socket(raw, server_side=True) as tls:
                        self.handshakes.put(Handshake(True, self._names.pop(id(tls), None)))
                except (ssl.SSLError, OSError):
                    self.handshakes.put(Handshake(False, None))

    def __enter__(self) -> TlsListener:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way (Linux)
        self._socket.close()
        self._thread.join(timeout=5)

    def first(self) -> Handshake:
        return self.handshakes.get(timeout=10)
