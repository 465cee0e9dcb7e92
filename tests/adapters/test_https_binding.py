"""HTTPS is never downgraded: the port bound, the address posted to and every URL loaded, proven on real sockets.

A TLS server (certificate from a throwaway CA, trusted through the ca_bundle extra) serves a WSDL of our own
whose plain-http port is listed before the https one and points at a plain-TCP trap. The trap counts every
connection, so "nothing went over plain http" is a measurement, not an assumption.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from byggr_example_payload import example_payload_from_case
from echo_service import SERVICE_PATH, EchoApp, render_wsdl, schema_import
from tls_helpers import AppServer, Certificates, PlainTrap, make_certificates, serve_app

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected
from brygga.plugins import StatusUpdate
from brygga_adapters.byggr import ByggrTarget
from brygga_adapters.oep_callback import OepCallbackNotifier
from brygga_adapters.soap import SoapService, UnsafeTargetAddress, safe_settings
from brygga_simulators.byggr import ByggrSimulator
from brygga_simulators.oep_callback import OepCallbackSimulator

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trap() -> Iterator[PlainTrap]:
    with PlainTrap() as running:
        yield running


def _echo(trap: PlainTrap, certificates: Certificates | None, schema_import_xml: str = "") -> AppServer:
    return serve_app(EchoApp(f"http://localhost:{trap.port}{SERVICE_PATH}", schema_import_xml), certificates)


@pytest.fixture
def echo_tls(trap: PlainTrap, certificates: Certificates) -> Iterator[AppServer]:
    with _echo(trap, certificates) as running:
        yield running


def _https(server: AppServer, certificates: Certificates, path: str = SERVICE_PATH, **extra: str) -> Connection:
    query = "&".join(f"{key}={value}" for key, value in {"ca_bundle": certificates.ca_file, **extra}.items())
    return Connection.from_uri("echo-kumla", f"https://brygga:s3cret@localhost:{server.port}{path}?{query}")


def _posts(server: AppServer) -> list:
    return server.server.app.posts


def test_the_test_wsdl_lists_its_plain_http_soap11_port_first(tmp_path):
    # Guards the tests below: a first-port rule (zeep's default) would bind a wrong port with this WSDL.
    wsdl = tmp_path / "echo.wsdl"
    wsdl.write_bytes(render_wsdl("http://localhost:1/echo", "https://localhost:2/echo"))
    client = zeep.Client(str(wsdl), settings=safe_settings())
    ports = list(client.wsdl.services["EchoService"].ports.values())

    assert [(p.name, p.binding_options["address"].split(":")[0]) for p in ports] == [
        ("EchoSoap12", "https"),
        ("EchoHttp", "http"),
        ("EchoHttps", "https"),
    ]
    assert client.service._binding.name.localname == "EchoSoap12Binding"


def test_https_connection_binds_the_https_soap11_port_and_posts_over_tls(echo_tls, certificates, trap):
    service = SoapService(_https(echo_tls, certificates))

    answer = service.call("Echo", text="hej")

    assert (service.port.service, service.port.port, service.port.advertised_scheme) == (
        "EchoService",
        "EchoHttps",
        "https",
    )
    assert service.address == f"https://localhost:{echo_tls.port}/echo"
    assert answer == f"hej:{EMPTY_SHA256}"
    [post] = _posts(echo_tls)
    assert (post.scheme, post.soap_action) == ("https", "urn:brygga:test:echo/https")
    assert trap.connections == 0


def test_port_extra_chooses_the_binding_but_the_address_stays_the_connections(echo_tls, certificates, trap):
    service = SoapService(_https(echo_tls, certificates, port="EchoHttp"))

    service.call("Echo", text="hej")

    assert service.port.port == "EchoHttp"
    [post] = _posts(echo_tls)
    assert (post.scheme, post.soap_action) == ("https", "urn:brygga:test:echo/http")
    assert trap.connections == 0


def test_http_connection_that_allows_http_binds_a_port_advertising_http(trap):
    with _echo(trap, None) as plain:
        connection = Connection.from_uri("echo-local", f"http://localhost:{plain.port}/echo?allow_http=true")
        service = SoapService(connection)
        service.call("Echo", text="hej")

    assert service.port.port == "EchoHttp"
    assert [(p.scheme, p.soap_action) for p in _posts(plain)] == [("http", "urn:brygga:test:echo/http")]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"port": "NoSuchPort"}, "extra 'port' names no port"),
        ({"service": "NoSuchService"}, "extra 'service' names no service"),
        ({"port": "EchoSoap12"}, "no SOAP 1.1 port"),
        ({"endpoint": "wsdl"}, "extra 'endpoint' is no longer supported"),
    ],
)
def test_service_and_port_extras_that_fit_no_soap11_port_are_config_errors(echo_tls, certificates, extra, message):
    with pytest.raises(ConfigError, match=message):
        SoapService(_https(echo_tls, certificates, **extra))
    assert _posts(echo_tls) == []


def test_plain_http_connection_is_refused_before_any_request(trap):
    connection = Connection.from_uri("echo-kumla", f"http://brygga:s3cret@localhost:{trap.port}/echo")

    with pytest.raises(ConfigError, match=r"'echo-kumla'.*rule: https-only.*allow_http") as refused:
        SoapService(connection)
    assert "s3cret" not in str(refused.value)
    assert trap.connections == 0


def test_wsdl_extra_over_plain_http_under_an_https_connection_is_refused(echo_tls, certificates, trap):
    wsdl = f"http://localhost:{trap.port}/echo?wsdl"

    with pytest.raises(UnsafeTargetAddress, match=r"'echo-kumla'.*rule: no-downgrade"):
        SoapService(_https(echo_tls, certificates, wsdl=wsdl))
    assert trap.connections == 0


def test_a_schema_import_from_the_connections_own_host_loads_as_wcf_serves_it(certificates, trap):
    # WCF serves ?wsdl with its types as imports (?xsd=xsd0): those must load, over the connection's https.
    with _echo(trap, certificates) as server:
        server.server.app.schema_import_xml = schema_import(f"https://localhost:{server.port}/echo_types.xsd")
        service = SoapService(_https(server, certificates))
        assert service.client.get_element("{urn:brygga:test:types}Note") is not None  # defined only there
    assert trap.connections == 0


def test_a_schema_import_that_downgrades_or_leaves_the_allowed_hosts_is_refused(certificates, trap):
    refused = {f"http://localhost:{trap.port}/echo_types.xsd": "rule: no-downgrade",
               "https://127.0.0.1:{port}/echo_types.xsd": "rule: allowed-hosts",
               # The connection's own host, but another port: another service, perhaps an admin API.
               f"https://localhost:{trap.port}/echo_types.xsd": "rule: allowed-hosts; the connection's own host"}
    for location, rule in refused.items():
        with _echo(trap, certificates) as server:
            server.server.app.schema_import_xml = schema_import(location.format(port=server.port))
            with pytest.raises(TargetRejected, match=rule):
                SoapService(_https(server, certificates))
    assert trap.connections == 0


def test_an_import_from_another_allowed_host_gets_no_credentials(certificates, trap):
    # Basic auth goes to the connection's own origin only: the WSDL and the calls, not an import from elsewhere.
    with _echo(trap, certificates) as server:
        app = server.server.app
        app.schema_import_xml = schema_import(f"https://127.0.0.1:{server.port}/echo_types.xsd")
        service = SoapService(_https(server, certificates, allowed_hosts="127.0.0.1"))
        service.call("Echo", text="hej")

    assert app.gets == [("/echo", "Basic"), ("/echo_types.xsd", None)]
    assert [post.authorization for post in app.posts] == ["Basic"]


def test_transport_refuses_plain_http_loads_under_an_https_connection(echo_tls, certificates, trap):
    service = SoapService(_https(echo_tls, certificates))

    with pytest.raises(UnsafeTargetAddress, match="rule: no-downgrade"):
        service.transport.load(f"http://localhost:{trap.port}/echo_types.xsd")
    assert trap.connections == 0


def test_transport_loads_from_other_hosts_only_when_listed(echo_tls, certificates):
    # 127.0.0.1 is the same machine, but not the connection's host name: the allow-list is by name.
    url = f"https://127.0.0.1:{echo_tls.port}/echo_types.xsd"
    with pytest.raises(UnsafeTargetAddress, match=r"host '127\.0\.0\.1' is not allowed \(rule: allowed-hosts"):
        SoapService(_https(echo_tls, certificates)).transport.load(url)

    listed = SoapService(_https(echo_tls, certificates, allowed_hosts="127.0.0.1"))

    assert b"urn:brygga:test:types" in listed.transport.load(url)


def test_transport_refuses_to_post_plain_http_under_an_https_connection(echo_tls, certificates, trap):
    service = SoapService(_https(echo_tls, certificates))

    with pytest.raises(UnsafeTargetAddress, match="rule: no-downgrade"):
        service.transport.post(f"http://localhost:{trap.port}/echo", b"<x/>", {})
    assert trap.connections == 0


# --- every SOAP adapter over https, and refused over plain http ---------------------------------------


def _simulator_connection(server: AppServer, path: str, certificates: Certificates) -> Connection:
    return Connection.from_uri(
        "kumla", f"https://brygga:s3cret@localhost:{server.port}{path}?ca_bundle={certificates.ca_file}"
    )


def test_byggr_target_delivers_over_https(certificates, canonical_case, documents, make_request):
    app = ByggrSimulator()
    with serve_app(app, certificates) as server:
        target = ByggrTarget({}, _simulator_connection(server, app.path, certificates))
        receipt = target.deliver(make_request(example_payload_from_case(canonical_case), canonical_case, documents))

    assert receipt.created is True
    stored = app.cases[receipt.external_ref]
    assert sorted(d.content for h in stored.handelser for d in h.documents) == sorted(
        Path(d.path).read_bytes() for d in documents
    )
    assert set(app.auth_users) == {"brygga"}


def test_oep_callback_notifier_notifies_over_https(certificates):
    app = OepCallbackSimulator()
    with serve_app(app, certificates) as server:
        notifier = OepCallbackNotifier({}, _simulator_connection(server, app.path, certificates))
        notifier.notify(StatusUpdate("1001", "Mottaget", "Ditt ärende är registrerat.", external_ref="BN 2026-000001"))

    assert [call.operation for call in app.calls] == ["setStatus", "addMessage", "confirmDelivery"]


def test_byggr_target_refuses_plain_http_without_allow_http(byggr_sim, canonical_case, documents, make_request):
    connection = Connection.from_uri("byggr-kumla", byggr_sim.url.replace("http://", "http://brygga:s3cret@"))
    target = ByggrTarget({}, connection)

    with pytest.raises(ConfigError, match=r"'byggr-kumla'.*rule: https-only"):
        target.deliver(make_request(example_payload_from_case(canonical_case), canonical_case, documents))
    assert byggr_sim.app.captured_requests == []


def test_oep_callback_notifier_refuses_plain_http_without_allow_http(callback_sim):
    notifier = OepCallbackNotifier({}, Connection.from_uri("oep-kumla", callback_sim.url))

    with pytest.raises(ConfigError, match=r"'oep-kumla'.*rule: https-only"):
        notifier.notify(StatusUpdate("1001", "Mottaget", "Registrerat."))
    assert callback_sim.app.captured_requests == []
