"""The HTTP side of SOAP calls: a requests session with timeouts and auth, behind a host allow-list.

SSRF guard: municipal targets live on private networks, so "private" cannot be the rule. Instead every URL
the transport touches (the WSDL, anything it imports, the endpoint it posts to) must be on the connection's
own host or on the connection's ``allowed_hosts`` extra. Redirects are not followed, since a redirect
could lead anywhere.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import requests
from zeep.transports import Transport

from brygga.connections import Connection
from brygga_adapters.soap.errors import UnsafeTargetAddress

# zeep logs every request and response envelope at DEBUG: case data and personnummer. Logging is
# processing of personal data, so those records are dropped whatever level an operator configures.
logging.getLogger("zeep.transports").addFilter(lambda record: record.levelno > logging.DEBUG)

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0


def _seconds(connection: Connection, key: str, default: float) -> float:
    raw = connection.extra.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UnsafeTargetAddress(
            f"connection {connection.conn_id!r}: extra {key!r} must be seconds"
        ) from None
    return value if value > 0 else default


def timeouts(connection: Connection) -> tuple[float, float]:
    """(connect, read) seconds; ``timeout`` is accepted as the read timeout, as in the core's URI example."""
    read_default = _seconds(connection, "timeout", DEFAULT_READ_TIMEOUT)
    return (
        _seconds(connection, "connect_timeout", DEFAULT_CONNECT_TIMEOUT),
        _seconds(connection, "read_timeout", read_default),
    )


def allowed_hosts(connection: Connection) -> frozenset[str]:
    extra = connection.extra.get("allowed_hosts", "")
    hosts = {host.strip().lower() for host in extra.split(",") if host.strip()}
    return frozenset({connection.host.lower(), *hosts})


def build_session(connection: Connection) -> requests.Session:
    session = requests.Session()
    session.max_redirects = 0
    session.trust_env = connection.extra.get("trust_env", "false").lower() == "true"
    if connection.login:
        session.auth = (connection.login, connection.password or "")
    ca_bundle = connection.extra.get("ca_bundle")
    if ca_bundle:
        session.verify = ca_bundle
    session.headers["User-Agent"] = "Brygga"
    return session


class GuardedTransport(Transport):
    """zeep transport that refuses hosts (and local files) outside what the connection allows."""

    def __init__(self, connection: Connection, local_wsdl_dir: Path | None = None) -> None:
        connect, read = timeouts(connection)
        super().__init__(
            timeout=(connect, read), operation_timeout=(connect, read), session=build_session(connection)
        )
        self.conn_id = connection.conn_id
        self.allowed = allowed_hosts(connection)
        self.local_wsdl_dir = local_wsdl_dir.resolve() if local_wsdl_dir else None

    def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https"):
            host = (parts.hostname or "").lower()
            if host not in self.allowed:
                raise UnsafeTargetAddress(
                    f"connection {self.conn_id!r}: host {host!r} is not allowed (see the allowed_hosts extra)"
                )
            return
        path = Path(parts.path if parts.scheme == "file" else url).expanduser().resolve()
        if self.local_wsdl_dir is None or not path.is_relative_to(self.local_wsdl_dir):
            raise UnsafeTargetAddress(
                f"connection {self.conn_id!r}: local file outside the WSDL folder refused"
            )

    def load(self, url: str) -> bytes:
        self.check_url(url)
        return super().load(url)

    def post(self, address, message, headers):  # type: ignore[no-untyped-def]
        self.check_url(address)
        return super().post(address, message, headers)

    def get(self, address, params, headers):  # type: ignore[no-untyped-def]
        self.check_url(address)
        return super().get(address, params, headers)
