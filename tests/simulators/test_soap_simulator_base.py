"""What every SOAP simulator does: WSDL, safe parsing, schema validation, faults, inspection."""

from __future__ import annotations

import pytest
import requests
from lxml import etree

from brygga.xmlsafe import parse_xml
from brygga_simulators import simulator_class, start_simulator

FAULT = "{http://schemas.xmlsoap.org/soap/envelope/}Fault"


def _fault(response: requests.Response) -> tuple[str, str]:
    assert response.status_code == 500
    fault = parse_xml(response.content).find(f".//{FAULT}")
    assert fault is not None
    return fault.findtext("faultcode"), fault.findtext("faultstring")


def test_serves_wsdl_with_its_real_address(byggr):
    response = requests.get(byggr.wsdl_url, timeout=10)

    assert response.status_code == 200
    wsdl = parse_xml(response.content)
    (address,) = wsdl.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == byggr.url


def test_schema_violation_is_a_client_fault_naming_the_rule_not_the_value(byggr, post_soap):
    response = post_soap(
        byggr,
        '<GetRelateradeArendenByFastighet xmlns="www.tekis.se/ServiceContract">'
        "<fnr>19800512-2380</fnr><arHuvudObjekt>true</arHuvudObjekt>"
        "<statusFilter>None</statusFilter></GetRelateradeArendenByFastighet>",
    )

    code, text = _fault(response)
    assert code == "s:Client"
    assert "fnr" in text and "xs:int" in text
    assert "19800512" not in text


def test_missing_required_element_is_a_fault(byggr, post_soap):
    code, text = _fault(
        post_soap(byggr, '<SaveNewArende xmlns="www.tekis.se/ServiceContract"><message/></SaveNewArende>')
    )
    assert code == "s:Client"
    assert "AnkomststamplaHandlingar" in text


def test_unknown_operation_is_a_fault(byggr, post_soap):
    _, text = _fault(post_soap(byggr, '<DeleteEverything xmlns="www.tekis.se/ServiceContract"/>'))
    assert "unknown operation DeleteEverything" in text


def test_xxe_and_dtd_are_refused(byggr, post_soap):
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        b'<GetArende xmlns="www.tekis.se/ServiceContract"><dnr>&e;</dnr></GetArende></s:Body></s:Envelope>'
    )
    code, text = _fault(post_soap(byggr, xxe))
    assert code == "s:Client"
    assert "DOCTYPE" in text or "DTD" in text
    assert "root:" not in text
    assert byggr.app.cases == {}


def test_billion_laughs_is_refused(byggr, post_soap):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        b'<GetArende xmlns="www.tekis.se/ServiceContract"><dnr>&b;</dnr></GetArende></s:Body></s:Envelope>'
    )
    code, _ = _fault(post_soap(byggr, bomb))
    assert code == "s:Client"


def test_not_an_envelope_is_version_mismatch(byggr, post_soap):
    code, _ = _fault(post_soap(byggr, b"<Envelope><Body/></Envelope>"))
    assert code == "s:VersionMismatch"


def test_malformed_xml_is_a_fault(byggr, post_soap):
    code, text = _fault(post_soap(byggr, b"<s:Envelope"))
    assert code == "s:Client" and "not well-formed" in text


def test_get_without_wsdl_and_unknown_paths(byggr):
    assert requests.get(byggr.url, timeout=10).status_code == 405
    assert requests.get(byggr.base_url + "/elsewhere", timeout=10).status_code == 404
    assert requests.get(byggr.base_url + "/_sim/nothing", timeout=10).status_code == 404


def test_inspection_endpoint_is_json(byggr):
    assert requests.get(byggr.base_url + "/_sim/cases", timeout=10).json() == []


def test_start_by_class_and_context_manager_stops():
    with start_simulator(simulator_class("oep-callback")) as running:
        assert requests.get(running.wsdl_url, timeout=10).status_code == 200
    try:
        requests.get(running.wsdl_url, timeout=2)
    except requests.ConnectionError:
        pass
    else:  # pragma: no cover - the port must be closed after stop()
        raise AssertionError("simulator still answers after stop()")


def test_served_wsdls_are_self_contained(byggr, callback):
    for running in (byggr, callback):
        wsdl = parse_xml(requests.get(running.wsdl_url, timeout=10).content)
        imports = wsdl.iter("{http://www.w3.org/2001/XMLSchema}import")
        assert all(imp.get("schemaLocation") is None for imp in imports)
        assert isinstance(wsdl, etree._Element)


def test_a_text_node_over_libxml2s_10_mb_limit_is_parsed(byggr, post_soap):
    # Drawings arrive as base64 text nodes of tens of MB; the fault shows the request was parsed and dispatched.
    dnr = "B" * 11_000_000
    code, text = _fault(
        post_soap(byggr, f'<GetArende xmlns="www.tekis.se/ServiceContract"><dnr>{dnr}</dnr></GetArende>')
    )
    assert code == "s:Client"
    assert "no arende with dnr" in text and len(text) <= 500


def test_a_request_over_the_cap_is_refused(byggr, post_soap, monkeypatch):
    monkeypatch.setattr("brygga_simulators.soap_server.MAX_REQUEST_BYTES", 1000)
    response = post_soap(
        byggr, '<GetArende xmlns="www.tekis.se/ServiceContract"><dnr>' + "x" * 2000 + "</dnr></GetArende>"
    )
    assert response.status_code == 413


def test_a_lost_reply_does_the_work_then_drops_the_connection_once(byggr, post_soap):
    save = (
        '<SaveNewArende xmlns="www.tekis.se/ServiceContract"><message><Arende arendegrupp="LOV" arendetyp="BL">'
        '<ankomstDatum xmlns="www.tekis.se/arende">2026-01-01</ankomstDatum>'
        '<intressentLista xmlns="www.tekis.se/arende"><intressent><rollLista><roll>SOK</roll></rollLista>'
        "</intressent></intressentLista></Arende><AnkomststamplaHandlingar>false</AnkomststamplaHandlingar>"
        "</message></SaveNewArende>"
    )
    byggr.app.faults.set([{"operation": "SaveNewArende", "action": "lose_reply", "nth": 1}])

    with pytest.raises(requests.ConnectionError):
        post_soap(byggr, save)
    answered = post_soap(byggr, save)

    assert answered.status_code == 200
    assert len(byggr.app.cases) == 2  # the lost reply's case was created all the same
