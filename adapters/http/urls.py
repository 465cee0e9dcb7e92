"""Which URLs a connection may reach: the https rule and the host allow-list, in one place for SOAP and REST.

- **https only.** A connection is https unless it says ``allow_http: true`` (the local simulators do). Under an
  https connection nothing may be fetched or posted over plain http: not the WSDL, not an import, not the
  endpoint. That would send personal data and the Basic-auth password in clear text.
- **Allowed hosts (SSRF guard).** Municipal targets live on private networks, so "private" cannot be the rule.
  Every URL must be on the connection's own host or on its ``allowed_hosts`` extra.
- **The endpoint comes from the connection**, never from a WSDL or a payload.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from brygga.connections import WEB_SCHEMES, Connection
from brygga.errors import ConfigError
from brygga_adapters.http.errors import UnsafeUrl
from brygga_adapters.http.extras import flag

ALLOW_HTTP = "allow_http"


def http_allowed(connection: Connection) -> bool:
    """Plain http is allowed only for an http connection that says so with ``allow_http: true``."""
    return connection.scheme == "http" and flag(connection, ALLOW_HTTP)


def endpoint_url(connection: Connection) -> str:
    """scheme://host[:port][/path] from the connection's fields, refused unless https (or explicitly http)."""
    where = f"connection {connection.conn_id!r}"
    scheme = connection.scheme.lower()
    if scheme not in WEB_SCHEMES:
        raise ConfigError(f"{where}: the scheme must be https (rule: https-only)")
    if scheme == "http" and not flag(connection, ALLOW_HTTP):
        raise ConfigError(
            f"{where}: plain http is refused: it would send personal data and the password in clear text "
            f"(rule: https-only; use https, or set the extra {ALLOW_HTTP}: true for a local simulator)"
        )
    if not connection.host or any(char in connection.host for char in "/@?#"):
        raise ConfigError(f"{where}: field 'host' must be a host name or address")
    path = connection.path.strip().strip("/")
    host = f"[{connection.host}]" if ":" in connection.host else connection.host
    port = f":{connection.port}" if connection.port else ""
    return f"{scheme}://{host}{port}{'/' + path if path else ''}"


def allowed_hosts(connection: Connection) -> frozenset[str]:
    """The connection's own host plus its ``allowed_hosts`` extra (comma-separated), lower-cased."""
    extra = connection.extra.get("allowed_hosts", "")
    hosts = {_bare(host) for host in extra.split(",") if host.strip()}
    return frozenset({_bare(connection.host), *hosts})


def check_url(connection: Connection, url: str) -> None:
    """Refuse ``url`` unless this connection may reach it; raises ``UnsafeUrl`` naming the rule."""
    where = f"connection {connection.conn_id!r}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES:
        raise UnsafeUrl(f"{where}: only http(s) URLs may be fetched (rule: web-schemes-only)")
    if scheme == "http" and not http_allowed(connection):
        rule = "no-downgrade: the connection is https" if connection.scheme == "https" else "https-only"
        raise UnsafeUrl(f"{where}: a plain http URL is refused (rule: {rule})")
    if parts.username or parts.password:
        raise UnsafeUrl(f"{where}: a URL carrying credentials is refused (rule: credentials-from-connection)")
    host = _bare(parts.hostname or "")
    if host not in allowed_hosts(connection):
        raise UnsafeUrl(f"{where}: host {host!r} is not allowed (rule: allowed-hosts; see the allowed_hosts extra)")


def _bare(host: str) -> str:
    return host.strip().strip("[]").lower()
