"""The edges of outbound connections: no link-local or metadata addresses, WS-Security UsernameToken for SOAP
targets, and TLS verification that cannot be switched off (with mutual TLS), over real sockets."""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.server
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree
from tls_helpers import TLS_HOST, Certificates, PlainTrap, make_certificates

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected
from brygga.xmlsafe import parse_xml
from brygga_adapters.http import UnsafeUrl, build_session, check_url, endpoint_url
from brygga_adapters.http import urls as http_urls
from brygga_adapters.soap import SoapService, UnsafeTargetAddress
from brygga_adapters.soap.raw import call_raw
from brygga_simulators import RunningSimulator

SECRET = "s3cret"


def _conn(uri: str, conn_id: str = "edge-kumla") -> Connection:
    return Connection.from_uri(conn_id, uri)


def _assert_clean(error: BaseException) -> None:
    """Errors name the connection and the rule, never the password."""
    assert SECRET not in str(error)


# --- 1. link-local and metadata addresses ----------------------------------------------------------------

LINK_LOCAL_HOSTS = [
    "169.254.169.254",  # the metadata service of AWS, Azure, GCP and OpenStack
    "169.254.0.1",
    "169.254.255.255",
    "[fe80::1]",
    "[fe80::1%25eth0]",  # with a zone
    "[febf:ffff::1]",  # the top of fe80::/10
    "[::ffff:169.254.169.254]",  # IPv4-mapped IPv6
    "[::ffff:a9fe:a9fe]",
    "[::169.254.169.254]",  # IPv4-compatible IPv6
    "[fd00:ec2::254]",  # AWS's IPv6 metadata address
    "2852039166",  # 169.254.169.254 as one decimal number: the resolver connects there
    "0xa9fea9fe",
    "0251.0376.0251.0376",
    "169.254.43518",
    "169.254.169.254.",
]


def _allow_listed(host: str) -> str:
    """The host as an ``allowed_hosts`` entry: the allow-list must not be a way round the rule."""
    return host.strip("[]").replace("%25", "%")


@pytest.mark.parametrize("host", LINK_LOCAL_HOSTS)
def test_check_url_refuses_link_local_and_metadata_addresses_whatever_the_allow_list(host):
    connection = _conn(f"https://svc:{SECRET}@byggr.kumla.se/x?allowed_hosts={_allow_listed(host)}")

    with pytest.raises(UnsafeUrl, match=r"'edge-kumla': host .* is a link-local or cloud-metadata .*no-link-local"):
        check_url(connection, f"https://{host}/latest/meta-data/iam/security-credentials/")


@pytest.mark.parametrize("host", LINK_LOCAL_HOSTS)
def test_a_connection_to_a_link_local_address_is_refused_when_its_endpoint_is_built(host):
    connection = _conn(f"https://svc:{SECRET}@{host}:443/latest?allowed_hosts={_allow_listed(host)}")

    with pytest.raises(UnsafeUrl, match=r"'edge-kumla'.*rule: no-link-local") as refused:
        endpoint_url(connection)
    _assert_clean(refused.value)
    assert isinstance(refused.value, TargetRejected)  # permanent: trying again would be refused again


@pytest.mark.parametrize(
    "host",
    ["169.253.255.255", "169.255.0.1", "10.0.0.7", "127.0.0.1", "[fec0::1]", "[fd00:ec2::253]", "[fd00::7]",
     "[::ffff:10.0.0.7]", "byggr.kumla.se", "cafe.be"],
)
def test_neighbours_of_the_link_local_ranges_are_still_targets(host):
    # Municipal targets live on private networks: only link-local and metadata addresses are refused.
    connection = _conn(f"https://{host}/x")
    check_url(connection, endpoint_url(connection))


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """DNS that answers ``metadata.kumla.test`` with 169.254.169.254 and ``v6.kumla.test`` with fe80::1, and
    asks the real resolver for anything else. Returns the names looked up."""
    real = socket.getaddrinfo
    looked_up: list[str] = []
    fake = {"metadata.kumla.test": ("169.254.169.254", socket.AF_INET), "v6.kumla.test": ("fe80::1", socket.AF_INET6)}

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        looked_up.append(str(host))
        if host in fake:
            address, family = fake[host]
            sockaddr = (address, port or 0) if family == socket.AF_INET else (address, port or 0, 0, 0)
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(http_urls.socket, "getaddrinfo", getaddrinfo)
    return looked_up


@pytest.mark.parametrize("name", ["metadata.kumla.test", "v6.kumla.test"])
def test_a_host_name_that_resolves_to_a_link_local_address_is_refused_at_request_time(resolver, name):
    session = build_session(_conn(f"https://svc:{SECRET}@{name}/x"))

    with pytest.raises(UnsafeUrl, match=rf"'edge-kumla': host '{name}' resolves to a link-local .*no-link-local"):
        session.get(f"https://{name}/x", timeout=2)
    assert resolver == [name]  # refused on what the name resolves to, before urllib3 looked it up to connect


def test_a_soap_wsdl_on_a_name_that_resolves_to_a_link_local_address_is_never_loaded(resolver):
    with pytest.raises(UnsafeTargetAddress, match=r"'edge-kumla': host 'metadata.kumla.test' resolves to a link"):
        SoapService(_conn(f"https://svc:{SECRET}@metadata.kumla.test/TekisArende/ArendeExportWS.svc"))
    assert resolver == ["metadata.kumla.test"]


def test_names_resolving_elsewhere_pass_the_resolution_check(resolver):
    # localhost resolves for real (127.0.0.1/::1); the request reaches a real listener.
    with PlainTrap() as trap:
        session = build_session(_conn(f"http://localhost:{trap.port}/x?allow_http=true"))
        with pytest.raises(requests.ConnectionError):  # the trap hangs up: not a refusal by the guard
            session.get(f"http://localhost:{trap.port}/x", timeout=2)
        assert "localhost" in resolver
    assert trap.connections >= 1


def test_a_decimal_address_resolves_to_the_metadata_service_and_is_refused_before_connecting():
    # Not a fake: the real resolver reads 2852039166 as 169.254.169.254, and so would requests.
    assert socket.getaddrinfo("2852039166", 80)[0][4][0] == "169.254.169.254"
    connection = _conn(f"https://svc:{SECRET}@byggr.kumla.se/x?allowed_hosts=2852039166")

    with pytest.raises(UnsafeUrl, match="no-link-local"):
        build_session(connection).get("https://2852039166/latest/meta-data/", timeout=2)


def test_a_soap_wsdl_extra_on_a_metadata_address_is_refused(byggr_sim, connect):
    connection = connect(byggr_sim, "byggr-meta", wsdl="http://169.254.169.254/wsdl", allowed_hosts="169.254.169.254")

    with pytest.raises(UnsafeTargetAddress, match=r"'byggr-meta'.*no-link-local"):
        SoapService(connection)
    assert byggr_sim.app.captured_requests == []


# --- 2. WS-Security UsernameToken ----------------------------------------------------------------------

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
SOAP_HEADER = "{http://schemas.xmlsoap.org/soap/envelope/}Header"


def _envelopes(running: RunningSimulator) -> list[etree._Element]:
    return [parse_xml(raw, max_bytes=len(raw)) for raw in running.app.captured_requests]


def _username_token(envelope: etree._Element) -> etree._Element | None:
    return envelope.find(f"{SOAP_HEADER}/{{{WSSE_NS}}}Security/{{{WSSE_NS}}}UsernameToken")


def _set_status(service: SoapService) -> Any:
    return service.call("setStatus", flowInstanceID=1001, statusAlias="Mottagen")


def test_without_the_wsse_extra_no_security_header_is_sent_and_basic_auth_is(callback_sim, connect):
    _set_status(SoapService(connect(callback_sim, "oep-kumla")))

    [envelope] = _envelopes(callback_sim)
    assert envelope.find(f"{SOAP_HEADER}/{{{WSSE_NS}}}Security") is None
    assert callback_sim.app.auth_users == ["brygga"]


def test_username_token_sends_login_and_password_in_the_envelope_instead_of_basic_auth(callback_sim, connect):
    service = SoapService(connect(callback_sim, "oep-kumla", wsse="username_token"))

    assert _set_status(service) is not None  # the simulator accepted the envelope with its header
    call_raw(service, "setStatus", flowInstanceID=1002, statusAlias="Mottagen")  # the raw path gets it too

    envelopes = _envelopes(callback_sim)
    assert len(envelopes) == 2
    for envelope in envelopes:
        token = _username_token(envelope)
        assert token is not None
        assert token.findtext(f"{{{WSSE_NS}}}Username") == "brygga"
        password = token.find(f"{{{WSSE_NS}}}Password")
        assert password.get("Type") == f"{PROFILE}#PasswordText"
        assert password.text == SECRET
    # The credentials travel once, in the envelope: no HTTP Basic beside them.
    assert callback_sim.app.auth_users == [None, None]


def test_username_token_digest_sends_a_fresh_digest_never_the_password(callback_sim, connect):
    service = SoapService(connect(callback_sim, "oep-kumla", wsse="username_token_digest"))

    _set_status(service)
    _set_status(service)

    nonces = []
    for raw, envelope in zip(callback_sim.app.captured_requests, _envelopes(callback_sim), strict=True):
        assert SECRET.encode() not in raw
        token = _username_token(envelope)
        assert token is not None and token.findtext(f"{{{WSSE_NS}}}Username") == "brygga"
        password = token.find(f"{{{WSSE_NS}}}Password")
        assert password.get("Type") == f"{PROFILE}#PasswordDigest"
        nonce, created = token.findtext(f"{{{WSSE_NS}}}Nonce"), token.findtext(f"{{{WSU_NS}}}Created")
        assert created.endswith("Z")
        # The profile's digest: Base64(SHA-1(nonce + created + password)), as the server recomputes it.
        expected = hashlib.sha1(base64.b64decode(nonce) + created.encode() + SECRET.encode()).digest()
        assert password.text == base64.b64encode(expected).decode()
        nonces.append(nonce)
    assert len(set(nonces)) == 2  # a fresh nonce per request: a captured header cannot simply be replayed
    assert callback_sim.app.auth_users == [None, None]


def test_wsse_with_the_auth_extra_sends_http_basic_as_well(callback_sim, connect):
    _set_status(SoapService(connect(callback_sim, "oep-kumla", wsse="username_token", auth="basic")))

    [envelope] = _envelopes(callback_sim)
    assert _username_token(envelope) is not None
    assert callback_sim.app.auth_users == ["brygga"]


def test_an_unknown_wsse_value_is_refused_naming_the_extra_and_the_choices(callback_sim, connect):
    with pytest.raises(
        ConfigError, match=r"'oep-kumla': extra 'wsse' must be one of username_token, username_token_digest"
    ) as refused:
        SoapService(connect(callback_sim, "oep-kumla", wsse="x509-hush-hush"))
    assert "hush" not in str(refused.value)
    assert callback_sim.app.captured_requests == []


def test_wsse_needs_the_connections_login_and_password(callback_sim):
    connection = _conn(f"{callback_sim.url}?allow_http=true&wsse=username_token", "oep-kumla")

    with pytest.raises(ConfigError, match=r"'oep-kumla': extra 'wsse' needs the connection's login and password"):
        SoapService(connection)


# --- 3. TLS verification is always on -------------------------------------------------------------------

TLS_ALWAYS_ON = r"TLS certificate verification is always on and cannot be switched off; .*'ca_bundle' extra"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("verify", "false"),
        ("verify", "0"),
        ("verify", "/etc/ssl/certs/kumla-ca.pem"),  # Airflow's HTTP hook reads a CA path here; Brygga does not
        ("verify_ssl", "no"),
        ("insecure", "true"),
        ("insecure", "1"),
        ("insecure_skip_verify", "yes"),
        ("disable_ssl_verification", "on"),
    ],
)
def test_an_extra_that_would_switch_tls_verification_off_is_refused(key, value):
    connection = _conn(f"https://svc:{SECRET}@byggr.kumla.se/x?{key}={value}")

    for build in (endpoint_url, build_session):
        with pytest.raises(ConfigError, match=rf"'edge-kumla': extra '{key}' is refused: {TLS_ALWAYS_ON}") as refused:
            build(connection)
        _assert_clean(refused.value)


def test_an_extra_that_keeps_tls_verification_on_is_harmless():
    session = build_session(_conn("https://byggr.kumla.se/x?verify=true&insecure=false&verify_ssl="))
    assert session.verify is True


def test_an_airflow_json_false_is_refused_too():
    # Airflow's JSON extras hold booleans; from_fields turns them into the text the adapters read.
    connection = Connection.from_fields("edge-kumla", host="byggr.kumla.se", extra={"verify": False})
    with pytest.raises(ConfigError, match=TLS_ALWAYS_ON):
        build_session(connection)


@pytest.mark.parametrize("switch_off", ["request", "session"])
def test_code_cannot_switch_verification_off_either(switch_off):
    with PlainTrap() as trap:
        connection = _conn(f"https://localhost:{trap.port}/x")
        session = build_session(connection)
        kwargs: dict[str, Any] = {"verify": False} if switch_off == "request" else {}
        if switch_off == "session":
            session.verify = False
        with pytest.raises(ConfigError, match=rf"'edge-kumla': {TLS_ALWAYS_ON}"):
            session.get(f"https://localhost:{trap.port}/x", timeout=2, **kwargs)
        assert trap.connections == 0


# Real TLS servers: python's ssl and http.server in a thread, certificates made here with cryptography.


@dataclass(frozen=True)
class ClientCertificate:
    ca_file: Path  # the CA the server trusts client certificates from
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    encoding, private_format = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return key.private_bytes(encoding, private_format, serialization.NoEncryption())


def _certificate(
    subject: str, issuer: str, public_key: Any, signing_key: Any, *, ca: bool, extensions: list[Any]
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def make_self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed server certificate for localhost: (cert_file, key_file). Trusted by nobody unless named."""
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.DNSName(TLS_HOST)])
    cert = _certificate(TLS_HOST, TLS_HOST, key.public_key(), key, ca=True, extensions=[san])
    cert_file, key_file = folder / "self-signed.pem", folder / "self-signed-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(_key_pem(key))
    return cert_file, key_file


def make_client_certificate(folder: Path, common_name: str = "brygga-kumla") -> ClientCertificate:
    """A client CA and a client certificate (clientAuth) signed by it."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Kumla client CA", "Kumla client CA", ca_key.public_key(), ca_key, ca=True, extensions=[])
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    cert = _certificate(common_name, "Kumla client CA", key.public_key(), ca_key, ca=False, extensions=[usage])
    folder.mkdir(parents=True, exist_ok=True)
    files = ClientCertificate(folder / "client-ca.pem", folder / "client.pem", folder / "client-key.pem")
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(_key_pem(key))
    return files


@dataclass
class TlsServer:
    """An https server on 127.0.0.1 answering 200 to GET, recording each request's client certificate CN."""

    server: http.server.ThreadingHTTPServer
    thread: threading.Thread
    seen: list[str | None] = field(default_factory=list)  # per request: the client certificate's CN, or None

    @property
    def url(self) -> str:
        return f"https://{TLS_HOST}:{self.server.server_port}/x"


class _Answering(http.server.BaseHTTPRequestHandler):
    seen: list[str | None]

    def do_GET(self) -> None:
        peer = self.connection.getpeercert()  # type: ignore[attr-defined]  # an SSLSocket
        subject = dict(item for rdn in peer["subject"] for item in rdn) if peer else {}
        self.seen.append(subject.get("commonName"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def tls_server() -> Iterator[Callable[..., TlsServer]]:
    """``tls_server(cert_file, key_file, client_ca=None)``: with ``client_ca`` the server requires a client
    certificate issued by that CA (mutual TLS)."""
    started: list[TlsServer] = []

    def start(cert_file: Path, key_file: Path, client_ca: Path | None = None) -> TlsServer:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        if client_ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(client_ca)
        seen: list[str | None] = []
        handler = type("Handler", (_Answering,), {"seen": seen})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # Handshakes happen on accept; one that fails is dropped there (an OSError), no request is handled.
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        running = TlsServer(server, thread, seen)
        started.append(running)
        return running

    yield start
    for running in started:
        running.server.shutdown()
        running.server.server_close()
        running.thread.join(timeout=5)


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "server")


def test_a_self_signed_server_is_refused_without_ca_bundle_and_trusted_with_it(tls_server, tmp_path):
    cert_file, key_file = make_self_signed(tmp_path)
    server = tls_server(cert_file, key_file)

    with pytest.raises(requests.exceptions.SSLError):
        build_session(_conn(server.url)).get(server.url, timeout=5)
    assert server.seen == []  # the handshake failed: nothing was sent

    trusted = build_session(_conn(f"{server.url}?ca_bundle={cert_file}"))
    assert trusted.get(server.url, timeout=5).status_code == 200
    assert server.seen == [None]


def test_ca_bundle_wins_over_requests_ca_bundle_from_the_environment(tls_server, certificates, tmp_path, monkeypatch):
    # trust_env honours the environment, but this target is trusted through the connection's own CA only.
    other_ca = make_certificates(tmp_path / "other").ca_file
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))
    monkeypatch.setenv("NO_PROXY", "*")
    server = tls_server(certificates.cert_file, certificates.key_file)

    session = build_session(_conn(f"{server.url}?ca_bundle={certificates.ca_file}&trust_env=true"))

    assert session.get(server.url, timeout=5).status_code == 200


def test_the_client_certificate_is_presented_when_the_server_requires_one(tls_server, certificates, tmp_path):
    client = make_client_certificate(tmp_path / "client")
    server = tls_server(certificates.cert_file, certificates.key_file, client_ca=client.ca_file)
    trust = f"ca_bundle={certificates.ca_file}"

    # Without a client certificate the server ends the handshake; no request is handled.
    with pytest.raises(requests.ConnectionError):
        build_session(_conn(f"{server.url}?{trust}")).get(server.url, timeout=5)
    assert server.seen == []

    session = build_session(
        _conn(f"https://svc:{SECRET}@{TLS_HOST}:{server.server.server_port}/x?{trust}"
              f"&cert_file={client.cert_file}&key_file={client.key_file}")
    )
    assert session.get(server.url, timeout=5).status_code == 200
    assert server.seen == ["brygga-kumla"]


def test_a_client_certificate_does_not_replace_checking_the_server(tls_server, certificates, tmp_path):
    client = make_client_certificate(tmp_path / "client")
    server = tls_server(certificates.cert_file, certificates.key_file, client_ca=client.ca_file)

    # The right client certificate, but no ca_bundle: the server's certificate is still checked, and fails.
    session = build_session(_conn(f"{server.url}?cert_file={client.cert_file}&key_file={client.key_file}"))
    with pytest.raises(requests.exceptions.SSLError):
        session.get(server.url, timeout=5)
    assert server.seen == []
