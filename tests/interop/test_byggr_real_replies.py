"""Real ByggR replies (Sundsvall's recorded samples in ../shared/reference) are read by the adapter's tolerant
readers, though zeep's strict parsing refuses them; and the simulator's "real" reply style has their quirks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree

from brygga.connections import Connection
from brygga.plugins import DeliveryRequest, StoredDocument
from brygga_adapters.byggr import ByggrTarget
from brygga_adapters.byggr.replies import read_get_document, read_related_arenden, read_updated_arenden
from brygga_adapters.soap import clear_soap_cache
from brygga_adapters.soap.raw import reply_payload
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator

pytestmark = pytest.mark.interop

EXAMPLES = "vertical-systems/byggr/examples"
RELATED = "junit-soap-byggr-get-related-errands-by-legal-id-response.xml"
UPDATED = "arendeexport.GetUpdatedArenden.200.xml"
DOCUMENT = "arendeexport.GetDocument.200.xml"
CEST = timezone(timedelta(hours=2))


def _sample(reference: Path, name: str) -> bytes:
    return (reference / EXAMPLES / name).read_bytes()


def _payload(reference: Path, name: str) -> etree._Element:
    return reply_payload(200, _sample(reference, name), f"sample {name}")


@pytest.mark.parametrize(
    ("name", "operation"), [(RELATED, "GetRelateradeArendenByPersOrgNrAndRole"), (UPDATED, "GetUpdatedArenden")]
)
def test_zeep_strict_parsing_refuses_what_the_tolerant_reader_reads(shared_reference, name, operation):
    # Why the tolerant reader exists: the same replies through zeep, strict, with ByggR's own WSDL.
    # (The GetDocument sample happens to fit the contract.)
    client = zeep.Client(str(shared_reference / "vertical-systems/byggr/ArendeExportWS.wsdl"))
    binding_operation = client.service._binding._operations[operation]
    envelope = etree.fromstring(_sample(shared_reference, name))

    with pytest.raises(zeep.exceptions.XMLParseError):
        binding_operation.process_reply(envelope)


def test_related_arenden_by_pers_org_nr(shared_reference):
    arenden = read_related_arenden(_payload(shared_reference, RELATED), "GetRelateradeArendenByPersOrgNrAndRole")

    assert [a.dnr for a in arenden] == ["BYGG 2023-000255", "BYGG 2023-000256", "BYGG 2023-000257"]
    first = arenden[0]
    assert (first.arende_id, first.status, first.extern_ref) == (233648, "Pågående", None)
    ((fnr, trakt, fbet_nr),) = [(f.fnr, f.trakt, f.fbet_nr) for f in first.fastigheter]
    assert (fnr, trakt, fbet_nr) == (22044332, "BAGGER", "2")
    assert [h.handelse_id for h in first.handelser] == [1465775, 1465800, 1465809, 1465848, 1465815]
    # Two real dates, then "{{now offset='-30 days'}}", "{{now}}" and another template: None, not a failure.
    assert [h.start for h in first.handelser] == [
        datetime(2023, 9, 6, 10, 18, tzinfo=CEST),
        datetime(2023, 10, 18, 15, 34, tzinfo=CEST),
        None,
        None,
        None,
    ]
    ansokan, komplettering = first.handelser[:2]
    assert (ansokan.riktning, ansokan.anteckning, ansokan.handelsetyp) == ("In", None, "ANSÖKAN")
    assert [d.dok_id for d in ansokan.documents] == ["250324565", "250324566", "250324567"]
    assert (komplettering.rubrik, komplettering.handelseslag, komplettering.handelsetyp) == (
        "Komplettering till Admin",
        "KOMPADM",
        "HANDLING",
    )
    assert komplettering.anteckning == "Inkomna kompletteringar via e-tjänst."
    assert [(d.dok_id, d.namn) for d in komplettering.documents] == [("250324633", "Some_name")]
    assert [h.riktning for h in first.handelser[2:]] == ["Ut", "In", "Ut"]
    assert [(a.fastigheter[0].fnr, a.fastigheter[0].fbet_nr, len(a.handelser)) for a in arenden[1:]] == [
        (22044332, "3", 1),
        (22044332, "3", 1),
    ]


def test_updated_arenden(shared_reference):
    batch = read_updated_arenden(_payload(shared_reference, UPDATED))

    assert batch.batch_start == datetime(2021, 12, 16, 7, 16, 56)
    assert batch.batch_end == datetime(2021, 12, 17, 14, 14, 35)
    assert [a.dnr for a in batch.arenden] == [
        "BYGG 2021-000771",
        "BYGG 2020-001012",
        "BYGG 2021-000772",
        "BYGG 2020-000602",
        "BYGG 2020-000615",
        "BYGG 2018-000026",
    ]
    assert [a.status for a in batch.arenden].count("Avslutat") == 2
    assert [len(a.handelser) for a in batch.arenden] == [2, 15, 2, 4, 5, 4]
    two_properties = batch.arenden[2]
    assert [(f.fnr, f.fbet_nr) for f in two_properties.fastigheter] == [(22045607, "36:14"), (22047538, "1:5")]
    manuell = batch.arenden[0].handelser[1]
    assert (manuell.handelse_id, manuell.handelsetyp, manuell.documents) == (362924, "STATUS", ())


def test_get_document(shared_reference):
    (document,) = read_get_document(_payload(shared_reference, DOCUMENT))

    assert (document.name, document.description, document.extension) == (
        "2017 Inget bygglov krävs.docx",
        "Beslut",
        "docx",
    )
    assert document.content[:4] == b"PK\x03\x04"  # a .docx is a zip
    assert len(document.content) == 32564
    assert hashlib.sha256(document.content).hexdigest() == (
        "f99dc4bd3458f4fa80b48d322535a99b015e871a08d16bd7a4d5486593c6543b"
    )


# --- the simulator's real style has the real quirks ------------------------------------------------------

ARENDE_NS = "www.tekis.se/arende"
# Elements whose attributes ByggR adds beyond the contract, compared by local name.
COMPARED = ("intressent", "intressentKommunikation", "handelse", "handling", "dokument", "abstractArendeObjekt",
            "fastighet")


def _attributes(root: etree._Element, local_name: str) -> set[str]:
    names: set[str] = set()
    for element in root.iter(f"{{*}}{local_name}"):
        names.update(etree.QName(key).localname for key in element.attrib)
    return names


@pytest.fixture
def real_byggr() -> Iterator[RunningSimulator]:
    clear_soap_cache()
    with start_simulator(ByggrSimulator(reply_style="real")) as running:
        yield running
    clear_soap_cache()


def _deliver(running: RunningSimulator, tmp_path: Path) -> str:
    content = b"%PDF-1.4 ansokan"
    path = tmp_path / "doc"
    path.write_bytes(content)
    document = StoredDocument("Ansokan.pdf", "application/pdf", len(content), hashlib.sha256(content).hexdigest(), path)
    payload = {
        "diarieprefix": "BN",
        "komkod": "1881",
        "arendegrupp": "LOV",
        "arendetyp": "BL",
        "arendeslag": "A",
        "ankomstDatum": "2026-10-14",
        "intressentLista": {"intressent": [{
            "persOrgNr": "19800512-2380", "arForetag": False, "namn": "Test Testsson",
            "intressentKommunikationLista": {"intressentKommunikation": [
                {"arAktiv": True, "komtyp": "MOB", "beskrivning": "070-000 00 00"}]},
            "rollLista": {"roll": ["SOK"]},
        }]},
        "objektLista": {"abstractArendeObjekt": [{
            "_type": "arendeFastighet", "arHuvudObjekt": True,
            "fastighet": {"trakt": "KUMLA STENEN", "fbetNr": "1:23"},
        }]},
    }
    request = DeliveryRequest("sub-1", "sub-1:byggr", "1881:open-eplatform:1", payload, {}, [document])
    target = ByggrTarget({}, Connection.from_uri("byggr", f"{running.url}?allow_http=true"))
    receipt = target.deliver(request)
    assert target.deliver(request).external_ref == receipt.external_ref
    return receipt.external_ref


def _last_reply(running: RunningSimulator, post: str) -> etree._Element:
    envelope = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{post}</s:Body></s:Envelope>'
    response = requests.post(running.url, data=envelope.encode(), timeout=10)
    assert response.status_code == 200
    return etree.fromstring(response.content)


def test_real_style_related_reply_has_the_attributes_of_the_real_one(shared_reference, real_byggr, tmp_path):
    _deliver(real_byggr, tmp_path)
    ours = _last_reply(
        real_byggr,
        '<GetRelateradeArendenByFastighet xmlns="www.tekis.se/ServiceContract" '
        'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><fnr i:nil="true"/><trakt>KUMLA STENEN</trakt>'
        '<fBetNr>1:23</fBetNr><arHuvudObjekt i:nil="true"/><statusFilter>None</statusFilter>'
        "</GetRelateradeArendenByFastighet>",
    )
    real = etree.fromstring(_sample(shared_reference, RELATED))

    assert _attributes(real, "Arende") <= _attributes(ours, "Arende")
    for name in COMPARED:
        assert _attributes(real, name) <= _attributes(ours, name), name


def test_real_style_batch_has_the_attributes_of_the_real_one(shared_reference, real_byggr, tmp_path):
    _deliver(real_byggr, tmp_path)
    ours = _last_reply(
        real_byggr,
        '<GetUpdatedArenden xmlns="www.tekis.se/ServiceContract" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        '<filter><LowerExclusiveBound>2000-01-01T00:00:00</LowerExclusiveBound><UpperInclusiveBound i:nil="true"/>'
        "</filter></GetUpdatedArenden>",
    )
    real = etree.fromstring(_sample(shared_reference, UPDATED))

    assert _attributes(real, "arende") <= _attributes(ours, "arende")
    assert {"attentionId"} <= _attributes(ours, "intressent")
    # Both write batch bounds without an offset.
    for root in (real, ours):
        assert datetime.fromisoformat(root.findtext(".//{*}BatchEnd").strip()).tzinfo is None
