"""Credentials and endpoints come from Connections, never from route or mapping files.

The core reads them from the environment as URIs, in the same form Airflow uses for
``AIRFLOW_CONN_<ID>``: ``BRYGGA_CONN_BYGGR_KUMLA=http://user:secret@host:8080/path?timeout=30``.
Inside Airflow, ``brygga_airflow`` resolves them from Airflow Connections instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit


class ConnectionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Connection:
    conn_id: str
    scheme: str
    host: str
    port: int | None = None
    path: str = ""
    login: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{self.host}{port}{self.path}"

    @classmethod
    def from_uri(cls, conn_id: str, uri: str) -> Connection:
        parts = urlsplit(uri)
        if not parts.scheme or not parts.hostname:
            raise ValueError(f"connection {conn_id!r}: URI needs a scheme and a host")
        return cls(
            conn_id=conn_id,
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port,
            path=parts.path.rstrip("/"),
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            extra=dict(parse_qsl(parts.query)),
        )


class ConnectionResolver(Protocol):
    def get(self, conn_id: str) -> Connection: ...


class EnvConnectionResolver:
    """Reads ``BRYGGA_CONN_<ID>`` (ID upper-cased, '-' as '_') from the environment."""

    def __init__(self, env: dict[str, str] | None = None, prefix: str = "BRYGGA_CONN_") -> None:
        self._env = os.environ if env is None else env
        self._prefix = prefix

    def get(self, conn_id: str) -> Connection:
        key = self._prefix + conn_id.upper().replace("-", "_")
        uri = self._env.get(key)
        if not uri:
            raise ConnectionNotFound(f"connection {conn_id!r} is not configured: set {key}")
        return Connection.from_uri(conn_id, uri)
