"""Which URLs a connection may reach: the https rule and the host allow-list, in one place for SOAP and REST.

- **https only.** A connection is https unless it says ``allow_http: true`` (the local simulators do). Under an
  https connection nothing may be fetched or posted over plain http: not the WSDL, not an import, not the
  endpoint. That would send personal data and the Basic-auth password in clear text.
- **Allowed hosts (SSRF guard).** Municipal targets live on private networks, so "private" cannot be the rule.
  Every URL must be on the connection's own host and port, or on an ``allowed_hosts`` entry: ``host`` (any
  port) or ``host:port``. Another port on the same host can be another service (an admin API, say).
- **No link-local or cloud-metadata addresses** (169.254.0.0/16, fe80::/10, fd00:ec2::254, and IPv4 written as
  IPv6 or in legacy forms such as ``2852039166``), whatever the allow-list says: that is where a cloud's
  metadata service hands out credentials. ``check_url`` refuses literal addresses; ``check_resolved`` (run by
  ``GuardedSession`` before every request) refuses host names that resolve to one.
- **Credentials go to the connection's own origin only** (scheme, host and port); ``GuardedSession`` adds them.
- **The endpoint comes from the connection**, never from a WSDL or a payload.
"""

from __future__ import annotations

import re
import socket
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import urlsplit

from brygga.connections import WEB_SCHEMES, Connection
from brygga.errors import ConfigError
from brygga_adapters.http.errors import UnsafeUrl
from brygga_adapters.http.extras import flag, refuse_tls_off

ALLOW_HTTP = "allow_http"
DEFAULT_PORTS = {"https": 443, "http": 80}

# Link-local networks hold the cloud metadata services (169.254.169.254 on AWS, Azure, GCP, OpenStack) and
# nothing a municipal target could legitimately be; fd00:ec2::254 is AWS's IPv6 metadata address.
LINK_LOCAL_NETWORKS = (ip_network("169.254.0.0/16"), ip_network("fe80::/10"))
METADATA_ADDRESSES = frozenset({ip_address("fd00:ec2::254")})
NO_LINK_LOCAL = "no-link-local"
# The shapes inet_aton reads as IPv4 besides dotted quads (2852039166, 0xa9fea9fe, 0251.0376.0251.0376,
# 169.254.43518); the resolver, and so requests, connects to them as addresses.
_LEGACY_IPV4 = re.compile(r"[0-9a-fx.]+")


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
    refuse_tls_off(connection)
    if is_link_local(connection.host):
        raise UnsafeUrl(_link_local_message(where, connection.host))
    path = connection.path.strip().strip("/")
    host = f"[{connection.host}]" if ":" in connection.host else connection.host
    port = f":{connection.port}" if connection.port else ""
    return f"{scheme}://{host}{port}{'/' + path if path else ''}"


def effective_port(scheme: str, port: int | None) -> int | None:
    """The port a URL really goes to: the one it names, else the scheme's default."""
    return port or DEFAULT_PORTS.get(scheme.lower())


def allowed_hosts(connection: Connection) -> frozenset[tuple[str, int | None]]:
    """Where this connection's URLs may go, as lower-cased ``(host, port)`` pairs; port None means any port.

    The connection's own host on its own (effective) port, plus each ``allowed_hosts`` entry (comma-separated):
    ``host`` for any port, ``host:port`` for one (an IPv6 address with a port in brackets: ``[fd00::7]:8443``).
    """
    own = (_bare(connection.host), effective_port(connection.scheme, connection.port))
    extra = connection.extra.get("allowed_hosts", "")
    return frozenset({own, *(_listed(connection, entry.strip()) for entry in extra.split(",") if entry.strip())})


def own_origin(connection: Connection, url: str) -> bool:
    """True when ``url`` has the connection's own scheme, host and port: the only origin credentials go to."""
    parts = urlsplit(url)
    try:
        port = effective_port(parts.scheme, parts.port)
    except ValueError:
        return False
    own_scheme = connection.scheme.lower()
    return (parts.scheme.lower(), _bare(parts.hostname or ""), port) == (
        own_scheme,
        _bare(connection.host),
        effective_port(own_scheme, connection.port),
    )


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
    if is_link_local(host):
        # Before the allow-list: not even the connection's own host or an allowed_hosts entry may be one.
        raise UnsafeUrl(_link_local_message(where, host))
    try:
        port = effective_port(scheme, parts.port)
    except ValueError:
        raise UnsafeUrl(f"{where}: the URL's port is not a port number (rule: allowed-hosts)") from None
    allowed = allowed_hosts(connection)
    if (host, None) in allowed or (host, port) in allowed:
        return
    if any(host == allowed_host for allowed_host, _ in allowed):
        raise UnsafeUrl(
            f"{where}: port {port} of host {host!r} is not allowed (rule: allowed-hosts; the connection's own "
            "host only on its own port; an allowed_hosts entry host:port admits another)"
        )
    raise UnsafeUrl(f"{where}: host {host!r} is not allowed (rule: allowed-hosts; see the allowed_hosts extra)")


def check_resolved(connection: Connection, url: str) -> None:
    """Refuse ``url`` when its host name resolves to a link-local or metadata address (rule ``no-link-local``).

    Run just before a request is sent, after ``check_url``. A name that does not resolve here is left to the
    request, which then fails as a connection error (or is resolved by a proxy, with ``trust_env``).
    """
    parts = urlsplit(url)
    host = _bare(parts.hostname or "")
    if not host or literal_address(host) is not None:
        return  # no name to resolve; check_url has judged the address itself
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return
    for _family, _type, _proto, _canonname, sockaddr in infos:
        if is_link_local(str(sockaddr[0])):
            raise UnsafeUrl(
                f"connection {connection.conn_id!r}: host {host!r} resolves to a link-local or cloud-metadata "
                f"address (rule: {NO_LINK_LOCAL})"
            )


def literal_address(host: str) -> IPv4Address | IPv6Address | None:
    """The address ``host`` is written as, in any form the resolver reads as one; None for a host name."""
    host = _bare(host).rstrip(".")
    try:
        return ip_address(host.partition("%")[0])  # without an IPv6 zone: fe80::1%eth0 is still fe80::1
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_link_local(host: str) -> bool:
    """True for a link-local or cloud-metadata address, also written as IPv4-mapped or IPv4-compatible IPv6."""
    address = literal_address(host)
    if address is None:
        return False
    if isinstance(address, IPv6Address):
        address = address.ipv4_mapped or (_ipv4_compatible(address) or address)
    if address in METADATA_ADDRESSES:
        return True
    return any(address in network for network in LINK_LOCAL_NETWORKS if network.version == address.version)


def _ipv4_compatible(address: IPv6Address) -> IPv4Address | None:
    # ::a.b.c.d, deprecated but still read by some stacks as the IPv4 address (:: and ::1 are not IPv4).
    value = int(address)
    return IPv4Address(value) if 1 < value < 2**32 else None


def _link_local_message(where: str, host: str) -> str:
    return (
        f"{where}: host {host!r} is a link-local or cloud-metadata address, never a target "
        f"(rule: {NO_LINK_LOCAL})"
    )


def _listed(connection: Connection, entry: str) -> tuple[str, int | None]:
    """One ``allowed_hosts`` entry as ``(host, port)``; refused, naming the extra, unless host or host:port."""
    if entry.count(":") > 1 and not entry.startswith("["):
        return _bare(entry), None  # a bare IPv6 address: any port
    try:
        parts = urlsplit(f"//{entry}")
        if parts.hostname and parts.netloc == entry and "@" not in entry and not entry.endswith(":"):
            return _bare(parts.hostname), parts.port
    except ValueError:  # an unclosed bracket, a port that is not a number
        pass
    raise ConfigError(
        f"connection {connection.conn_id!r}: extra 'allowed_hosts' takes comma-separated host or host:port"
    )


def _bare(host: str) -> str:
    return host.strip().strip("[]").lower()
