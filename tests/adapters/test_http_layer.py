"""brygga_adapters.http: endpoints from connections, the https rule, the host allow-list and the session."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
import requests
from requests.auth import HTTPBasicAuth
from tls_helpers import PlainTrap, make_certificates

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected
from brygga_adapters.http import (
    UnsafeUrl,
    allowed_hosts,
    build_session,
    cache_slot,
    check_url,
    endpoint_url,
    timeouts,
)
from brygga_adapters.http.urls import own_origin
from brygga_adapters.soap import UnsafeTargetAddress


def _conn(uri: str) -> Connection:
    return Connection.from_uri("register-kumla", uri)


# --- endpoint_url ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "url"),
    [
        ("https://u:p@fastighet.kommun.local/api/v1/", "https://fastighet.kommun.local/api/v1"),
        ("https://fastighet.kommun.local:8443/api/v1?read_timeout=9", "https://fastighet.kommun.local:8443/api/v1"),
        ("https://10.0.0.7", "https://10.0.0.7"),
        ("https://[fd00::7]:8443/x", "https://[fd00::7]:8443/x"),
        ("http://127.0.0.1:8081/sim?allow_http=true", "http://127.0.0.1:8081/sim"),
        ("https://host/x?allow_http=true", "https://host/x"),  # allowing http does not make https http
    ],
)
def test_endpoint_url_is_built_from_the_connection(uri, url):
    assert endpoint_url(_conn(uri)) == url


@pytest.mark.parametrize("uri", ["http://host/x", "http://host/x?allow_http=false", "http://u:s3cret@host/x"])
def test_plain_http_needs_allow_http(uri):
    with pytest.raises(ConfigError, match=r"'register-kumla'.*rule: https-only") as refused:
        endpoint_url(_conn(uri))
    assert "s3cret" not in str(refused.value)


def test_other_schemes_and_unclear_flags_are_config_errors():
    with pytest.raises(ConfigError, match="rule: https-only"):
        endpoint_url(_conn("ftp://host/x"))
    with pytest.raises(ConfigError, match="extra 'allow_http' must be true or false"):
        endpoint_url(_conn("http://host/x?allow_http=maybe"))


# --- check_url and allowed_hosts -----------------------------------------------------------------


def test_allowed_hosts_are_the_connections_own_and_the_listed_ones():
    connection = _conn("https://Byggr.Kommun.Local/x?allowed_hosts=a.example,%20B.example%20,")

    # The connection's own host on its own port only (443 by scheme); a listed host on any port (None).
    assert allowed_hosts(connection) == {("byggr.kommun.local", 443), ("a.example", None), ("b.example", None)}


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://h:8443/x", {("h", 8443)}),
        ("http://h/x?allow_http=true", {("h", 80)}),
        ("https://h/x?allowed_hosts=A.example:9443", {("h", 443), ("a.example", 9443)}),
        ("https://h/x?allowed_hosts=[fd00::7]:8443,fd00::8,[fd00::9]",
         {("h", 443), ("fd00::7", 8443), ("fd00::8", None), ("fd00::9", None)}),
    ],
)
def test_allowed_hosts_have_ports(uri, expected):
    assert allowed_hosts(_conn(uri)) == expected


@pytest.mark.parametrize("entry", ["a.example:https", "a.example:99999", "a.example:", "a.example/x", "u@a.example",
                                   "[fd00::7"])
def test_allowed_hosts_entries_must_be_host_or_host_and_port(entry):
    with pytest.raises(ConfigError, match=r"'register-kumla': extra 'allowed_hosts' takes .*host or host:port"):
        check_url(_conn(f"https://host/x?allowed_hosts={entry}"), "https://host/x")


@pytest.mark.parametrize(
    ("uri", "url", "rule"),
    [
        ("https://host/x", "https://other.example/x", "allowed-hosts"),
        ("https://host/x", "http://host/x", "no-downgrade: the connection is https"),
        ("https://host/x?allow_http=true", "http://host/x", "no-downgrade"),
        ("http://host/x", "http://host/x", "https-only"),  # http connection without allow_http
        ("https://host/x", "file:///etc/passwd", "web-schemes-only"),
        ("https://host/x", "gopher://host/x", "web-schemes-only"),
        ("https://host/x", "https://user:pw@host/x", "credentials-from-connection"),
        # The connection's own host, but another port: perhaps another service entirely.
        ("https://host/x", "https://HOST:9443/other/path?q=1", "allowed-hosts; the connection's own host only on"),
        ("https://host:8443/x", "https://host/x", "allowed-hosts"),
        ("http://host/x?allow_http=true", "https://host/y", "allowed-hosts"),  # 80 is not 443
        ("https://host/x?allowed_hosts=cdn.example:8443", "https://cdn.example/x", "allowed-hosts"),
        ("https://host/x?allowed_hosts=host:9443", "https://host:9444/x", "allowed-hosts"),
        ("https://host/x", "https://host:http/x", "allowed-hosts"),  # a port that is no number
    ],
)
def test_check_url_refuses_naming_the_rule(uri, url, rule):
    with pytest.raises(UnsafeUrl, match=rf"'register-kumla'.*rule: {rule}"):
        check_url(_conn(uri), url)


@pytest.mark.parametrize(
    ("uri", "url"),
    [
        ("https://host/x", "https://HOST:443/other/path?q=1"),
        ("https://host:8443/x", "https://host:8443/y"),
        ("https://host/x?allowed_hosts=cdn.example", "https://cdn.example/x"),
        ("https://host/x?allowed_hosts=cdn.example", "https://cdn.example:8443/x"),  # a bare entry: any port
        ("https://host/x?allowed_hosts=host:9443", "https://host:9443/x"),
        ("https://host/x?allowed_hosts=host", "https://host:9443/x"),
        ("https://host/x?allowed_hosts=[fd00::7]:8443", "https://[FD00::7]:8443/x"),
        ("http://host/x?allow_http=true", "http://host/y"),
        ("http://host:8080/x?allow_http=true", "https://host:8080/y"),  # upgrading on the same port is fine
    ],
)
def test_check_url_admits(uri, url):
    check_url(_conn(uri), url)


@pytest.mark.parametrize(
    ("uri", "url", "own"),
    [
        ("https://host/x", "https://HOST:443/y", True),
        ("https://host:8443/x", "https://host:8443/y", True),
        ("https://host/x", "https://host:8443/y", False),
        ("http://host:8080/x?allow_http=true", "https://host:8080/y", False),  # another scheme
        ("https://host/x?allowed_hosts=cdn.example", "https://cdn.example/x", False),
    ],
)
def test_own_origin_is_scheme_host_and_port(uri, url, own):
    assert own_origin(_conn(uri), url) is own


def test_errors_are_target_rejected_and_soaps_is_the_same_family():
    assert issubclass(UnsafeUrl, TargetRejected)
    assert issubclass(UnsafeTargetAddress, UnsafeUrl)


# --- timeouts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", (5.0, 30.0)),
        ("?connect_timeout=2&read_timeout=60", (2.0, 60.0)),
        ("?timeout=45", (5.0, 45.0)),
        ("?timeout=45&read_timeout=50", (5.0, 50.0)),
    ],
)
def test_timeouts(query, expected):
    assert timeouts(_conn(f"https://host/x{query}")) == expected


@pytest.mark.parametrize("query", ["?connect_timeout=soon", "?read_timeout=0", "?timeout=-1"])
def test_bad_timeouts_are_config_errors_naming_the_extra(query):
    key = query[1:].split("=")[0]
    with pytest.raises(ConfigError, match=rf"'register-kumla': extra '{key}'"):
        timeouts(_conn(f"https://host/x{query}"))


# --- build_session -------------------------------------------------------------------------------


def test_session_has_auth_tls_trust_client_certificate_and_no_redirects(tmp_path):
    certificates = make_certificates(tmp_path)
    connection = _conn(
        f"https://svc:s3cret@host/x?ca_bundle={certificates.ca_file}"
        f"&cert_file={certificates.cert_file}&key_file={certificates.key_file}"
    )

    session = build_session(connection)

    assert session.credentials == HTTPBasicAuth("svc", "s3cret")
    assert session.auth is None  # requests would send session.auth to every host; see the credentials test
    assert session.verify == str(certificates.ca_file)
    assert session.cert == (str(certificates.cert_file), str(certificates.key_file))
    assert session.max_redirects == 0
    assert session.trust_env is False
    assert session.headers["User-Agent"].startswith("Brygga/")


def test_session_defaults_and_trust_env():
    plain = build_session(_conn("https://host/x"))
    assert (plain.credentials, plain.auth, plain.verify, plain.cert) == (None, None, True, None)
    assert build_session(_conn("https://host/x?trust_env=true")).trust_env is True


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?ca_bundle=/no/such/ca.pem", "extra 'ca_bundle' does not name a readable file"),
        ("?key_file=/no/such/key.pem", "extra 'key_file' needs 'cert_file' too"),
        ("?cert_file=/no/such/cert.pem", "extra 'cert_file' does not name a readable file"),
    ],
)
def test_session_file_extras_are_checked(query, message):
    with pytest.raises(ConfigError, match=message):
        build_session(_conn(f"https://host/x{query}"))


def test_session_refuses_urls_the_connection_does_not_allow_before_connecting():
    with PlainTrap() as trap:
        session = build_session(_conn("https://localhost/x"))
        for url in (f"http://localhost:{trap.port}/", f"https://127.0.0.1:{trap.port}/"):
            with pytest.raises(UnsafeUrl):
                session.get(url, timeout=2)
        assert trap.connections == 0


class _Redirecting(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def redirecting() -> Iterator[tuple[http.server.HTTPServer, PlainTrap]]:
    with PlainTrap() as trap:
        handler = type("Handler", (_Redirecting,), {"target": f"http://127.0.0.1:{trap.port}/elsewhere"})
        server = http.server.HTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server, trap
        server.shutdown()
        server.server_close()


def test_redirects_are_not_followed(redirecting):
    server, trap = redirecting
    connection = _conn(f"http://127.0.0.1:{server.server_port}/x?allow_http=true")

    with pytest.raises(requests.TooManyRedirects):
        build_session(connection).get(endpoint_url(connection), timeout=5)
    assert trap.connections == 0


# --- credentials go to the connection's own origin only ----------------------------------------------


class _Recording(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[int, str | None]]  # (the server's port, the Authorization scheme or None), per request

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization")
        self.seen.append((self.server.server_port, authorization.split()[0] if authorization else None))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def two_servers() -> Iterator[tuple[int, int, list[tuple[int, str | None]]]]:
    seen: list[tuple[int, str | None]] = []
    handler = type("Handler", (_Recording,), {"seen": seen})
    servers = [http.server.HTTPServer(("127.0.0.1", 0), handler) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield servers[0].server_port, servers[1].server_port, seen
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("query", "scheme"), [("", "Basic"), ("&auth=bearer", "Bearer")])
def test_credentials_go_only_to_the_connections_own_origin(two_servers, query, scheme):
    own, other, seen = two_servers
    connection = _conn(
        f"http://svc:t0ken@127.0.0.1:{own}/x?allow_http=true&allowed_hosts=127.0.0.1:{other},localhost{query}"
    )
    session = build_session(connection)

    for url, headers in [
        (f"http://127.0.0.1:{own}/x", {}),
        (f"http://127.0.0.1:{other}/x", {}),  # the own host, another allowed port
        (f"http://localhost:{own}/x", {}),  # another allowed host (the same socket, by another name)
        (f"http://127.0.0.1:{other}/x", {"Authorization": "Basic c3ZjOnQwa2Vu"}),  # not even when put there
    ]:
        session.get(url, headers=headers, timeout=5).raise_for_status()

    assert seen == [(own, scheme), (other, None), (own, None), (other, None)]


# --- cache keys -------------------------------------------------------------------------------------


def test_the_cache_slot_names_the_connection_but_holds_no_secret():
    old = _conn("https://client:old-s3cret@api.kommun.local/v1?auth=oauth2&token_url=/token")
    rotated = _conn("https://client:new-s3cret@api.kommun.local/v1?auth=oauth2&token_url=/token")

    assert cache_slot(old)[0] == cache_slot(rotated)[0] == "register-kumla"
    assert cache_slot(old) != cache_slot(rotated)  # a rotated secret gets its own session and token
    assert cache_slot(old) == cache_slot(_conn("https://client:old-s3cret@api.kommun.local/v1?auth=oauth2&token_url=/token"))
    assert "s3cret" not in repr((cache_slot(old), cache_slot(rotated)))
