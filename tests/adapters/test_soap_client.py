"""The SOAP adapter core: safe settings, caching, SSRF allow-list, reply limits and error mapping, over real HTTP.

The https rule and port binding are proven over TLS in test_https_binding.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from echo_service import SERVICE_PATH, SOAP_ENV, EchoApp
from requests.auth import HTTPBasicAuth
from tls_helpers import AppServer, EndlessBody, serve_app
from werkzeug.wrappers import Response

from brygga.connections import Connection
from brygga.errors import CredentialsRefused, TargetRejected, TargetUnavailable
from brygga_adapters.soap import SoapService, UnsafeTargetAddress, safe_settings, soap_service
from brygga_adapters.soap.raw import call_raw


def test_settings_are_safe():
    settings = safe_settings()
    assert (settings.strict, settings.forbid_dtd, settings.forbid_entities) == (True, True, True)
    # Remote imports are allowed, but only through GuardedTransport (tests/adapters/test_https_binding.py).
    assert settings.forbid_external is False
    assert settings.xml_huge_tree is False
    assert settings.force_https is False  # keeps the WSDL's real schemes visible to the port choice


def test_client_is_cached_per_connection(byggr_connection, byggr_sim):
    first = soap_service(byggr_connection)
    second = soap_service(byggr_connection)

    assert first is second
    assert first.address == byggr_sim.url
    assert first.transport.load_timeout == (2.0, 10.0)
    assert first.transport.session.credentials == HTTPBasicAuth("brygga", "s3cret")


def test_fault_becomes_target_rejected_without_payload(byggr_connection):
    service = soap_service(byggr_connection)

    with pytest.raises(TargetRejected, match=r"byggr-kumla\.GetArende refused: GetArende: no arende"):
        service.call("GetArende", dnr="BN 2026-999999")


def test_down_server_is_target_unavailable(free_port):
    connection = Connection.from_uri("down", f"http://127.0.0.1:{free_port}/svc?connect_timeout=1&allow_http=true")

    with pytest.raises(TargetUnavailable, match="could not connect"):
        soap_service(connection)


def test_http_503_without_fault_is_target_unavailable(byggr_connection, byggr_sim):
    service = soap_service(byggr_connection)
    byggr_sim.app.faults.set([{"operation": "GetArende", "action": "http_status", "status": 503}])

    with pytest.raises(TargetUnavailable, match="HTTP 503"):
        service.call("GetArende", dnr="BN 2026-000001")


def test_http_401_is_the_connections_problem_not_the_submissions(byggr_connection, byggr_sim):
    service = soap_service(byggr_connection)
    byggr_sim.app.faults.set([{"operation": "GetArende", "action": "http_status", "status": 401}])

    with pytest.raises(CredentialsRefused, match="HTTP 401: the target refused the connection's credentials"):
        service.call("GetArende", dnr="BN 2026-000001")


def test_wsdl_advertising_another_host_is_never_posted_to(byggr_sim, connect):
    # The WSDL's soap:address is not where calls go: the endpoint comes from the connection.
    byggr_sim.app.advertised_url = "http://internal-admin.example:8080/steal"

    service = SoapService(connect(byggr_sim, "byggr-pinned"))

    assert service.address == byggr_sim.url
    with pytest.raises(TargetRejected, match="no arende"):
        service.call("GetArende", dnr="BN 2026-000001")
    assert len(byggr_sim.app.captured_requests) == 1  # the call reached the connection's own host


def test_wsdl_extra_on_another_host_is_refused_unless_allowed(byggr_sim, connect):
    # The simulator answers on 127.0.0.1 under the name localhost too; the allow-list is by name.
    wsdl = byggr_sim.wsdl_url.replace("127.0.0.1", "localhost")

    with pytest.raises(UnsafeTargetAddress, match=r"host 'localhost' is not allowed \(rule: allowed-hosts"):
        SoapService(connect(byggr_sim, "byggr-evil", wsdl=wsdl))

    service = SoapService(connect(byggr_sim, "byggr-ok", wsdl=wsdl, allowed_hosts="other.example,localhost"))
    assert service.address == byggr_sim.url


def test_endpoint_connection_extra_is_still_accepted(byggr_sim, connect):
    service = SoapService(connect(byggr_sim, "byggr-pinned", endpoint="connection"))

    assert service.address == byggr_sim.url


def test_local_wsdl_file_from_extra(byggr_sim, connect):
    from brygga_simulators.byggr import ByggrSimulator

    service = SoapService(connect(byggr_sim, "byggr-local", wsdl=str(ByggrSimulator.wsdl_file)))

    assert service.address == byggr_sim.url
    with pytest.raises(TargetRejected, match="no arende"):
        service.call("GetArende", dnr="BN 2026-000001")


def test_local_file_outside_the_wsdl_folder_is_refused(byggr_sim, connect, tmp_path):
    from brygga_simulators.byggr import ByggrSimulator

    service = SoapService(connect(byggr_sim, "byggr-local", wsdl=str(ByggrSimulator.wsdl_file)))
    outside = tmp_path / "secret.xml"
    outside.write_text("<secret/>")

    with pytest.raises(UnsafeTargetAddress, match="rule: local-wsdl-folder"):
        service.transport.load(str(outside))


# --- what comes back: size limit and answers that are not SOAP ----------------------------------------------


@pytest.fixture
def echo() -> Iterator[AppServer]:
    with serve_app(EchoApp(f"http://localhost:1{SERVICE_PATH}"), None) as running:
        yield running


def _echo_service(server: AppServer) -> SoapService:
    return SoapService(Connection.from_uri("echo-local", f"{server.base_url}{SERVICE_PATH}?allow_http=true"))


def _call(service: SoapService, how: str) -> Any:
    # Both ways of calling: zeep reads the reply (call), or Brygga's tolerant readers do (call_raw).
    if how == "call":
        return service.call("Echo", text="hej")
    return call_raw(service, "Echo", text="hej")


@pytest.mark.parametrize("how", ["call", "call_raw"])
def test_a_reply_over_the_limit_is_not_read_further(echo, how):
    body = EndlessBody(f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><x>'.encode(), 64 * 1024 * 1024)
    echo.server.app.reply = lambda: Response(body, content_type="text/xml")
    service = _echo_service(echo)
    service.transport.max_reply_bytes = 1024 * 1024

    with pytest.raises(TargetRejected, match=r"^echo-local\.Echo: the answer is over the limit of 1048576 bytes"):
        _call(service, how)
    # Reading stopped near the limit: the server could not hand over the rest (socket buffers hold a few MB).
    assert body.handed_over < body.total


@pytest.mark.parametrize("how", ["call", "call_raw"])
@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (b"<html><head><title>Underh\xc3\xa5ll</title></head><body>St\xc3\xa4ngt.<br></body></html>", "text/html"),
        (b"", "text/xml"),
        (b"Service Unavailable", "text/plain"),
        (b'<?xml version="1.0"?><status>maintenance</status>', "text/xml"),
    ],
    ids=["html", "empty", "text", "other-xml"],
)
def test_an_http_200_that_is_not_soap_is_target_unavailable(echo, how, content, media_type):
    echo.server.app.reply = lambda: Response(content, content_type=media_type)

    with pytest.raises(TargetUnavailable) as unavailable:
        _call(_echo_service(echo), how)
    assert str(unavailable.value) == "echo-local.Echo: the answer is not SOAP (e.g. a maintenance page); retried later"


@pytest.mark.parametrize("how", ["call", "call_raw"])
def test_a_broken_soap_envelope_is_still_target_rejected(echo, how):
    # SOAP, so the target's own answer: refused as before, not retried.
    envelope = f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><EchoResponse'
    echo.server.app.reply = lambda: Response(envelope, content_type="text/xml")

    with pytest.raises(TargetRejected):
        _call(_echo_service(echo), how)
