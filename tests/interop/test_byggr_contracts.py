"""Both ByggR contract versions: what Brygga sends to a v8 and to a v4 installation is valid against that
version's own published WSDL, and the simulator's v4 mode refuses what ByggR's v4 contract refuses.

The adapter talks to the simulator over HTTP (in both reply styles); the simulator keeps every raw request;
each SOAP Body payload is validated against the schema embedded in the real WSDL of the configured version.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from archive_samples import stored
from lxml import etree
from soap_capture import SOAP_BODY, schema_errors, sent_payloads
from zeep import xsd

from brygga.connections import Connection
from brygga.plugins import Amendment, DeliveryRequest
from brygga.xmlsafe import parse_xml
from brygga_adapters.byggr import ByggrTarget
from brygga_adapters.byggr.replies import read_get_document, read_updated_arenden
from brygga_adapters.soap import clear_soap_cache, soap_service
from brygga_adapters.soap.raw import call_raw
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator
from brygga_simulators.byggr.service import WSDL_FILES
from brygga_simulators.wsdl_schema import compile_wsdl_schema

pytestmark = pytest.mark.interop

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
REAL_WSDL = {"v8": "vertical-systems/byggr/ArendeExportWS.wsdl", "v4": "vertical-systems/byggr/v4/ArendeExportWS.wsdl"}
MODES = [(style, contract) for contract in ("v8", "v4") for style in ("contract", "real")]


@pytest.fixture(scope="module")
def real_schemas(shared_reference: Path) -> dict[str, etree.XMLSchema]:
    return {version: compile_wsdl_schema((shared_reference / path).read_bytes()) for version, path in REAL_WSDL.items()}


@pytest.fixture(params=MODES, ids=[f"{contract}-{style}" for style, contract in MODES])
def byggr(request) -> Iterator[RunningSimulator]:
    style, contract = request.param
    clear_soap_cache()
    with start_simulator(ByggrSimulator(reply_style=style, contract=contract)) as running:
        yield running
    clear_soap_cache()


def _connection(running: RunningSimulator) -> Connection:
    return Connection.from_uri("byggr", f"{running.url}?allow_http=true")


def _request(tmp_path: Path, fnr: int | None = None) -> DeliveryRequest:
    document = stored(tmp_path, "Situationsplan.pdf", b"%PDF-1.4 situationsplan", "application/pdf")
    fastighet = {"trakt": "KUMLA STENEN", "fbetNr": "1:23", **({"fnr": fnr} if fnr else {})}
    payload = {
        "diarieprefix": "BN",
        "komkod": "1881",  # v8 carries it; the adapter leaves it out for v4
        "arendegrupp": "LOV",
        "arendetyp": "BL",
        "arendeslag": "A",
        "beskrivning": "Nybyggnad av enbostadshus",
        "ankomstDatum": "2026-10-14",
        "intressentLista": {"intressent": [
            {"persOrgNr": "19800512-2380", "arForetag": False, "namn": "Anna-Karin Ström", "fornamn": "Anna-Karin",
             "efternamn": "Ström", "rollLista": {"roll": ["SOK"]}},
            {"persOrgNr": "16556036-0793", "arForetag": True, "namn": "AB Exempel", "rollLista": {"roll": ["FAG"]}},
        ]},
        "objektLista": {"abstractArendeObjekt": [
            {"_type": "arendeFastighet", "arHuvudObjekt": True, "fastighet": fastighet}
        ]},
    }
    return DeliveryRequest("sub-1", "sub-1:byggr", "1881:open-eplatform:1", payload, {}, [document])


def _deliver_everything(running: RunningSimulator, tmp_path: Path) -> None:
    """A delivery, its retry, an amendment and its retry, a status poll and a document fetch."""
    contract = running.app.contract
    target = ByggrTarget({"contract": contract, "handelseslag": "Bygglov", "komplettering_handelseslag": "KOMPL"},
                         _connection(running))
    request = _request(tmp_path, fnr=22044332 if running.app.reply_style == "real" else None)
    dnr = target.deliver(request).external_ref
    target.deliver(request)
    amendment = dataclasses.replace(request, amendment=Amendment(dnr, 2, ("parties",)))
    target.deliver(amendment)
    target.deliver(amendment)

    service = soap_service(_connection(running))
    batch = read_updated_arenden(call_raw(
        service, "GetUpdatedArenden",
        filter={"LowerExclusiveBound": datetime.now() - timedelta(days=1), "UpperInclusiveBound": xsd.Nil},
    ))
    assert [a.dnr for a in batch.arenden] == [dnr]
    (first, *_) = batch.arenden[0].handelser[0].documents
    (document,) = read_get_document(call_raw(service, "GetDocument", documentId=first.dok_id, inkluderaFil=True))
    assert document.content == b"%PDF-1.4 situationsplan"


def test_every_request_is_valid_against_the_real_wsdl_of_its_version(byggr, tmp_path, real_schemas):
    _deliver_everything(byggr, tmp_path)

    payloads = sent_payloads(byggr.app)
    operations = {etree.QName(p).localname for p in payloads}
    assert {"GetRelateradeArendenByFastighet", "SaveNewArende", "SaveNewHandelse", "GetArende",
            "GetUpdatedArenden", "GetDocument"} <= operations
    schema = real_schemas[byggr.app.contract]
    for payload in payloads:
        assert schema_errors(schema, payload) == [], etree.QName(payload).localname


def test_a_v8_save_new_arende_is_refused_by_the_v4_contract_and_by_the_v4_simulator(tmp_path, real_schemas):
    clear_soap_cache()
    with start_simulator(ByggrSimulator()) as v8:
        _deliver_everything(v8, tmp_path)
        (save,) = [p for p in sent_payloads(v8.app) if etree.QName(p).localname == "SaveNewArende"]
    assert schema_errors(real_schemas["v8"], save) == []

    errors = " ".join(schema_errors(real_schemas["v4"], save))
    assert "komkod" in errors and "externRef" in errors

    with start_simulator(ByggrSimulator(contract="v4")) as v4:
        envelope = etree.Element("{http://schemas.xmlsoap.org/soap/envelope/}Envelope")
        etree.SubElement(envelope, SOAP_BODY).append(save)
        response = requests.post(v4.url, data=etree.tostring(envelope), timeout=10)
    assert response.status_code == 500 and "schema violation" in response.text
    assert v4.app.cases == {}
    clear_soap_cache()


@pytest.mark.parametrize("version", ["v8", "v4"])
def test_the_simulators_operations_have_the_real_soap_actions(shared_reference, version):
    def actions(wsdl: bytes) -> dict[str, str]:
        binding = parse_xml(wsdl).find(f"{{{WSDL_NS}}}binding")
        return {
            op.get("name"): op.find(f"{{{SOAP_BINDING_NS}}}operation").get("soapAction")
            for op in binding.iterfind(f"{{{WSDL_NS}}}operation")
        }

    ours = actions(WSDL_FILES[version].read_bytes())
    real = actions((shared_reference / REAL_WSDL[version]).read_bytes())
    assert "GetDocument" in ours
    assert {name: real.get(name) for name in ours} == ours
