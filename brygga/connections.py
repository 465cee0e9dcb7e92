"""Credentials and endpoints come from Connections, never from route or mapping files.

The core reads them from the environment as URIs: ``BRYGGA_CONN_BYGGR_KUMLA=https://user:secret@host/path?x=y``.
Inside Airflow, ``brygga_airflow`` resolves Airflow Connections and hands their fields to
``Connection.from_fields``, which reads them the way Airflow users enter them (see docs/connections.md).

A ``Connection`` only holds what was configured. Whether an endpoint may be used (https, allowed hosts) is
decided where it is used: ``brygga_adapters.http``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from brygga.errors import ConfigError

WEB_SCHEMES = ("http", "https")
# Not a web endpoint, but named the same way: an SFTP server (brygga_adapters.sftp), Airflow's conn_type ``sftp``.
SFTP_SCHEME = "sftp"
# A message broker (brygga_adapters.bus), Airflow's conn_type ``amqp``.
AMQP_SCHEMES = ("amqp", "amqps")
OTHER_SCHEMES = (SFTP_SCHEME, *AMQP_SCHEMES)
# With no scheme anywhere in the fields, a connection means https: plain http must be said explicitly.
DEFAULT_SCHEME = "https"


class ConnectionNotFound(LookupError):
    pass


class ConnectionUnavailable(RuntimeError):
    """The connection could not be read just now (Airflow's API or a secrets backend failed): not the same as one
    that is not configured, so the task fails and Airflow retries it."""


class InvalidConnection(ConfigError, ValueError):
    """A connection's fields contradict each other or cannot make a URL. Names the field, never its value."""


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
        """scheme://host[:port][/path], without credentials. Use ``brygga_adapters.http.endpoint_url`` to send."""
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{host}{port}{self.path}"

    def cache_key(self) -> tuple[object, ...]:
        """What a client cached per connection is keyed by. The password is in it, so a rotated secret gets a
        fresh client; the key is never logged."""
        return (self.conn_id, self.base_url, self.login, self.password, tuple(sorted(self.extra.items())))

    @classmethod
    def from_uri(cls, conn_id: str, uri: str) -> Connection:
        """``scheme://[login[:password]@]host[:port][/path][?extra=value&...]``; the path is the URL path."""
        parts = urlsplit(uri)
        if not parts.scheme or not parts.hostname:
            raise InvalidConnection(f"connection {conn_id!r}: URI needs a scheme and a host")
        try:
            port = parts.port
        except ValueError:
            raise InvalidConnection(f"connection {conn_id!r}: the URI's port is not a number") from None
        return cls(
            conn_id=conn_id,
            scheme=parts.scheme.lower(),
            host=parts.hostname,
            port=port,
            path=_normalise_path(parts.path),
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            extra=dict(parse_qsl(parts.query)),
        )

    @classmethod
    def from_fields(
        cls,
        conn_id: str,
        *,
        conn_type: str | None = None,
        host: str | None = None,
        port: int | str | None = None,
        schema: str | None = None,
        login: str | None = None,
        password: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Connection:
        """A connection from Airflow-style fields, read as Airflow's own HTTP connections read them.

        - scheme: the scheme the host carries (``https://byggr.kommun.local``), else ``schema`` when it is
          http/https, else ``conn_type`` when it is http/https/sftp (the URI form ``https://host/path``), else https;
        - host and port: the host field (which may carry a port) and the port field;
        - path: the ``path`` extra, else the path the host carries, else ``schema`` when it is not a scheme
          (an ``AIRFLOW_CONN_`` URI's path lands there, without its leading ``/``).
        Two fields that say different things are refused rather than guessed between.
        """
        extras = {key: text for key, value in (extra or {}).items() if (text := _extra_text(value)) is not None}
        schema = (schema or "").strip()
        host_parts = _split_host(conn_id, (host or "").strip())
        schema_is_scheme = schema.lower() in WEB_SCHEMES

        schemes = {
            "field 'host'": host_parts.scheme,
            "field 'schema'": schema.lower() if schema_is_scheme else "",
        }
        scheme = _agree(conn_id, "scheme", schemes)
        if not scheme:
            given = (conn_type or "").lower()
            scheme = given if given in (*WEB_SCHEMES, *OTHER_SCHEMES) else DEFAULT_SCHEME

        paths = {
            "extra 'path'": _normalise_path(extras.pop("path", "")),
            "field 'host'": _normalise_path(host_parts.path),
            "field 'schema'": "" if schema_is_scheme else _normalise_path(schema),
        }
        ports = {"field 'port'": _port(conn_id, port), "field 'host'": host_parts.port}
        if not host_parts.hostname:
            raise InvalidConnection(f"connection {conn_id!r}: field 'host' is empty")
        return cls(
            conn_id=conn_id,
            scheme=scheme,
            host=host_parts.hostname,
            port=_agree(conn_id, "port", ports),
            path=_agree(conn_id, "path", paths) or "",
            login=login or None,
            password=password or None,
            extra=extras,
        )


@dataclass(frozen=True)
class _HostParts:
    scheme: str
    hostname: str
    port: int | None
    path: str


def _split_host(conn_id: str, host: str) -> _HostParts:
    """The host field, which Airflow users fill with ``byggr.local``, ``byggr.local:8443`` or a whole URL."""
    if not host:
        return _HostParts("", "", None, "")
    has_scheme = "://" in host
    parts = urlsplit(host if has_scheme else f"//{host}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidConnection(
            f"connection {conn_id!r}: field 'host' may hold a scheme, host, port and path only "
            "(credentials go in login/password, options in the extras)"
        )
    try:
        port = parts.port
    except ValueError:
        raise InvalidConnection(f"connection {conn_id!r}: the port in field 'host' is not a number") from None
    scheme = parts.scheme.lower() if has_scheme else ""
    if scheme and scheme not in (*WEB_SCHEMES, *OTHER_SCHEMES):
        raise InvalidConnection(f"connection {conn_id!r}: field 'host' carries a scheme other than "
                                "http/https/sftp/amqp")
    return _HostParts(scheme, parts.hostname or "", port, parts.path)


def _agree(conn_id: str, what: str, sources: dict[str, Any]) -> Any:
    """The one value the given fields agree on (empty ones ignored), or None when none is set."""
    given = {name: value for name, value in sources.items() if value not in (None, "")}
    if len(set(given.values())) > 1:
        raise InvalidConnection(
            f"connection {conn_id!r}: {' and '.join(given)} give different {what}s; set it in one place"
        )
    return next(iter(given.values()), None)


def _port(conn_id: str, port: int | str | None) -> int | None:
    if port in (None, ""):
        return None
    try:
        value = int(port)
    except (TypeError, ValueError):
        raise InvalidConnection(f"connection {conn_id!r}: field 'port' is not a number") from None
    if not 0 < value < 65536:
        raise InvalidConnection(f"connection {conn_id!r}: field 'port' is out of range")
    return value


def _normalise_path(path: str) -> str:
    """'' or '/a/b': one leading slash, no trailing one."""
    path = path.strip().strip("/")
    return f"/{path}" if path else ""


def _extra_text(value: Any) -> str | None:
    """Extras as the text the adapters read: Airflow's JSON extras hold booleans, numbers and lists too."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


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
