"""The SOAP adapter core: safe settings, caching, SSRF allow-list and error mapping, over real HTTP."""

from __future__ import annotations

import pytest

from brygga.connections import Connection
from brygga.errors import TargetRejected, TargetUnavailable
from brygga_adapters.soap import SoapService, UnsafeTargetAddress, safe_settings, soap_service


def test_settings_are_safe():
    settings = safe_settings()
    assert (settings.strict, settings.forbid_dtd, settings.forbid_entities, settings.forbid_external) == (
        True,
        True,
        True,
        True,
    )
    assert settings.xml_huge_tree is False


def test_client_is_cached_per_connection(byggr_connection, byggr_sim):
    first = soap_service(byggr_connection)
    second = soap_service(byggr_connection)

    assert first is second
    assert first.address == byggr_sim.url
    assert first.transport.load_timeout == (2.0, 10.0)
    assert first.transport.session.auth == ("brygga", "s3cret")


def test_fault_becomes_target_rejected_without_payload(byggr_connection):
    service = soap_service(byggr_connection)

    with pytest.raises(TargetRejected, match=r"byggr-kumla\.GetArende refused: GetArende: no arende"):
        service.call("GetArende", dnr="BN 2026-999999")


def test_down_server_is_target_unavailable(free_port):
    connection = Connection.from_uri("down", f"http://127.0.0.1:{free_port}/svc?connect_timeout=1")

    with pytest.raises(TargetUnavailable, match="could not connect"):
        soap_service(connection)


def test_http_503_without_fault_is_target_unavailable(byggr_connection, byggr_sim):
    service = soap_service(byggr_connection)
    byggr_sim.app.forced_http_status = 503

    with pytest.raises(TargetUnavailable, match="HTTP 503"):
        service.call("GetArende", dnr="BN 2026-000001")


def test_http_401_is_target_rejected(byggr_connection, byggr_sim):
    service = soap_service(byggr_connection)
    byggr_sim.app.forced_http_status = 401

    with pytest.raises(TargetRejected, match="HTTP 401"):
        service.call("GetArende", dnr="BN 2026-000001")


def test_wsdl_pointing_at_another_host_is_refused(byggr_sim, connect):
    byggr_sim.app.advertised_url = "http://internal-admin.example:8080/steal"

    with pytest.raises(UnsafeTargetAddress, match=r"internal-admin\.example"):
        SoapService(connect(byggr_sim, "byggr-evil"))
    assert byggr_sim.app.captured_requests == []  # nothing was posted anywhere


def test_allowed_hosts_extra_admits_the_wsdl_address(byggr_sim, connect):
    byggr_sim.app.advertised_url = "http://byggr-backend.example/svc"

    service = SoapService(connect(byggr_sim, "byggr-ok", allowed_hosts="other.example,byggr-backend.example"))

    assert service.address == "http://byggr-backend.example/svc"


def test_endpoint_connection_posts_to_the_connection_url(byggr_sim, connect):
    byggr_sim.app.advertised_url = "http://internal-admin.example:8080/steal"

    service = SoapService(connect(byggr_sim, "byggr-pinned", endpoint="connection"))

    assert service.address == byggr_sim.url
    with pytest.raises(TargetRejected, match="no arende"):
        service.call("GetArende", dnr="BN 2026-000001")


def test_local_wsdl_file_from_extra(byggr_sim, connect):
    from brygga_simulators.byggr import ByggrSimulator

    service = SoapService(
        connect(byggr_sim, "byggr-local", wsdl=str(ByggrSimulator.wsdl_file), endpoint="connection")
    )

    assert service.address == byggr_sim.url
