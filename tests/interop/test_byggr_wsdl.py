"""What Brygga sends to ByggR must be valid against ByggR's own published WSDL, not just our simulator's.

The adapter talks to the simulator over HTTP; the simulator keeps every raw request; each SOAP Body payload
is then validated against the schema embedded in the real ArendeExportWS.wsdl.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from archive_samples import stored
from lxml import etree
from soap_capture import schema_errors, sent_payloads
from zeep import xsd

from brygga.connections import Connection
from brygga.plugins import DeliveryRequest
from brygga.xmlsafe import parse_xml
from brygga_adapters.byggr import ByggrTarget
from brygga_adapters.soap import clear_soap_cache, soap_service
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator
from brygga_simulators.wsdl_schema import compile_wsdl_schema

pytestmark = pytest.mark.interop

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
TESTS = Path(__file__).resolve().parents[1]


def _example_payload_module() -> ModuleType:
    # The reference mapping helper lives with the adapter tests; load it by path (tests are not a package).
    spec = importlib.util.spec_from_file_location(
        "byggr_example_payload", TESTS / "adapters" / "byggr_example_payload.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def real_schema(shared_reference: Path) -> etree.XMLSchema:
    return compile_wsdl_schema((shared_reference / "vertical-systems/byggr/ArendeExportWS.wsdl").read_bytes())


@pytest.fixture(scope="module")
def v4_schema(shared_reference: Path) -> etree.XMLSchema:
    return compile_wsdl_schema(
        (shared_reference / "vertical-systems/byggr/v4/ArendeExportWS.wsdl").read_bytes()
    )


@pytest.fixture
def byggr() -> Iterator[RunningSimulator]:
    clear_soap_cache()
    with start_simulator("byggr") as running:
        yield running
    clear_soap_cache()


def _deliver(running: RunningSimulator, tmp_path: Path) -> None:
    helper = _example_payload_module()
    case = {
        "tenant": {"kommunkod": "1881"},
        "receivedAt": "2026-10-14T09:12:44+02:00",
        "title": "Ansökan om bygglov",
        "parties": [
            {
                "kind": "person",
                "roles": ["applicant", "contact"],
                "personnummer": "198005122380",
                "givenName": "Anna-Karin",
                "familyName": "Ström",
                "address": {"street": "Storgatan 12", "postalCode": "69231", "city": "Kumla"},
                "email": "anna-karin.strom@example.se",
                "phone": "070-123 45 67",
            },
            {
                "kind": "organisation",
                "roles": ["property_owner"],
                "organisationsnummer": "5560360793",
                "name": "AB Exempel",
            },
        ],
        "properties": [{"fastighetsbeteckning": "KUMLA STENEN 1:23"}],
        "details": {"bygglov": {"description": "Nybyggnad av enbostadshus"}},
    }
    document = stored(tmp_path, "Situationsplan.pdf", b"%PDF-1.4 situationsplan", "application/pdf")
    request = DeliveryRequest(
        "sub-1", "sub-1:byggr", "brygga:sub-1", helper.example_payload_from_case(case), case, [document]
    )
    target = ByggrTarget({"handelseslag": "Bygglov"}, Connection.from_uri("byggr", f"{running.url}?allow_http=true"))
    target.deliver(request)
    target.deliver(request)  # the retry path adds GetArende


def test_our_operations_exist_in_the_real_wsdl_with_the_same_soap_action(shared_reference):
    def actions(wsdl: bytes) -> dict[str, str]:
        root = parse_xml(wsdl)
        binding = root.find(f"{{{WSDL_NS}}}binding")
        return {
            op.get("name"): op.find(f"{{{SOAP_BINDING_NS}}}operation").get("soapAction")
            for op in binding.iterfind(f"{{{WSDL_NS}}}operation")
        }

    ours = actions(ByggrSimulator.wsdl_file.read_bytes())
    real = actions((shared_reference / "vertical-systems/byggr/ArendeExportWS.wsdl").read_bytes())
    assert {name: real.get(name) for name in ours} == ours


def test_adapter_requests_validate_against_the_real_byggr_schema(byggr, tmp_path, real_schema):
    _deliver(byggr, tmp_path)
    service = soap_service(Connection.from_uri("byggr", f"{byggr.url}?allow_http=true"))
    service.call(
        "GetUpdatedArenden",
        filter={"LowerExclusiveBound": datetime.now() - timedelta(days=1), "UpperInclusiveBound": xsd.Nil},
    )

    payloads = sent_payloads(byggr.app)
    operations = [etree.QName(p).localname for p in payloads]
    assert {
        "GetRelateradeArendenByFastighet",
        "SaveNewArende",
        "SaveNewHandelse",
        "GetArende",
        "GetUpdatedArenden",
    } <= set(operations)
    for payload in payloads:
        assert schema_errors(real_schema, payload) == []


def test_lookups_and_handelse_also_validate_against_the_v4_schema(byggr, tmp_path, v4_schema):
    # v4 predates externRef (and names the municipality attribute differently), so SaveNewArende differs.
    _deliver(byggr, tmp_path)
    for payload in sent_payloads(byggr.app):
        if etree.QName(payload).localname != "SaveNewArende":
            assert schema_errors(v4_schema, payload) == []


def test_the_real_schema_does_catch_an_invalid_request(byggr, tmp_path, real_schema):
    # Guards the test itself: a validator that accepts everything would prove nothing.
    _deliver(byggr, tmp_path)
    save = next(p for p in sent_payloads(byggr.app) if etree.QName(p).localname == "SaveNewArende")
    ankomst = save.find(".//{www.tekis.se/arende}ankomstDatum")
    ankomst.getparent().remove(ankomst)

    document = etree.ElementTree(etree.fromstring(etree.tostring(save)))
    assert not real_schema.validate(document)
    assert "ankomstDatum" in str(real_schema.error_log.last_error)
