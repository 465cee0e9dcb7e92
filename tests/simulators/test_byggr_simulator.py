"""The ByggR simulator's operations and business rules, driven through zeep as a client would."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
import requests
import zeep
from lxml import etree
from zeep import xsd

from brygga_simulators import start_simulator
from brygga_simulators.byggr import ByggrSimulator


@pytest.fixture
def client(byggr):
    return zeep.Client(
        byggr.wsdl_url, settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True)
    )


def _arende(client, extern_ref="ref-1", roles=("SOK",), fbet_nr="1:23"):
    fastighet = client.get_type("{www.tekis.se/arende}arendeFastighet")
    return {
        "arendegrupp": "LOV",
        "arendetyp": "BL",
        "ankomstDatum": "2026-10-14",
        "externRef": extern_ref,
        "intressentLista": {"intressent": [{"namn": "Test Testsson", "rollLista": {"roll": list(roles)}}]},
        "objektLista": {
            "abstractArendeObjekt": [
                fastighet(arHuvudObjekt=True, fastighet={"trakt": "STENEN", "fbetNr": fbet_nr})
            ]
        },
    }


def _save(client, **kwargs):
    return client.service.SaveNewArende(
        message={"Arende": _arende(client, **kwargs), "AnkomststamplaHandlingar": False}
    )


def _handelse(client, dnr, content=b"%PDF-1.4 x"):
    return client.service.SaveNewHandelse(
        message={
            "Dnr": dnr,
            "Handelse": {
                "handelseId": 0,
                "riktning": "In",
                "rubrik": "Komplettering",
                "startDatum": datetime.now(),
                "sekretess": False,
                "makulerad": False,
                "arbetsmaterial": False,
            },
            "Handlingar": {
                "handling": [
                    {
                        "handlingId": 0,
                        "typ": "BIL",
                        "handlingDatum": "2026-10-14",
                        "makulerad": False,
                        "dokument": {"namn": "a.pdf", "fil": {"filBuffer": content}},
                    }
                ]
            },
            "BesvaradHandelseId": xsd.Nil,
            "AnkomststamplaHandlingar": True,
            "AutoGenereraBeslutNr": False,
        }
    )


def test_dnr_is_sequential_per_year(client):
    year = datetime.now().year
    assert _save(client, extern_ref="a") == f"BN {year}-000001"
    assert _save(client, extern_ref="b") == f"BN {year}-000002"


def test_year_rollover_restarts_numbering():
    clock = {"now": datetime(2026, 12, 31, 23, 0).astimezone()}
    app = ByggrSimulator(clock=lambda: clock["now"])
    with start_simulator(app) as running:
        client = zeep.Client(running.wsdl_url)
        _save(client, extern_ref="a")
        clock["now"] = datetime(2027, 1, 1, 8, 0).astimezone()
        assert _save(client, extern_ref="b") == "BN 2027-000001"


def test_applicant_is_required(client):
    with pytest.raises(zeep.exceptions.Fault, match="roll SOK"):
        _save(client, roles=("KPER",))


def test_handelse_on_unknown_dnr_is_a_fault(client):
    with pytest.raises(zeep.exceptions.Fault, match="no arende with dnr"):
        _handelse(client, "BN 2026-000404")


def test_handelse_keeps_document_bytes_and_get_arende_shows_metadata(client, byggr):
    dnr = _save(client)
    handelse_id = _handelse(client, dnr, content=b"hello pdf")

    arende = client.service.GetArende(dnr=dnr)
    (handelse,) = arende.handelseLista.handelse
    assert handelse.handelseId == handelse_id
    (handling,) = handelse.handlingLista.handling
    assert handling.dokument.namn == "a.pdf"
    assert handling.dokument.fil is None  # files are not sent back in GetArende
    (document,) = byggr.app.cases[dnr].handelser[0].documents
    assert document.sha256 == hashlib.sha256(b"hello pdf").hexdigest()
    assert arende.status == "Pågående"
    assert arende.externRef == "ref-1"


def test_handling_without_file_is_a_fault(client):
    dnr = _save(client)
    with pytest.raises(zeep.exceptions.Fault, match="filBuffer is required"):
        _handelse(client, dnr, content=b"")


def test_related_by_fastighet_finds_cases_by_trakt_and_number(client):
    dnr = _save(client)
    _save(client, extern_ref="other", fbet_nr="9:99")

    found = client.service.GetRelateradeArendenByFastighet(
        fnr=xsd.Nil, trakt="stenen", fBetNr="1:23", arHuvudObjekt=xsd.Nil, statusFilter="Aktiv"
    )
    assert [a.dnr for a in found] == [dnr]
    assert found[0].objektLista.abstractArendeObjekt[0].fastighet.fbetNr == "1:23"
    none = client.service.GetRelateradeArendenByFastighet(
        fnr=xsd.Nil, trakt="STENEN", fBetNr="1:23", arHuvudObjekt=xsd.Nil, statusFilter="Inaktiv"
    )
    assert not none


def test_related_by_fastighet_needs_a_key(client):
    with pytest.raises(zeep.exceptions.Fault, match="fnr, or both trakt and fBetNr"):
        client.service.GetRelateradeArendenByFastighet(
            fnr=xsd.Nil, arHuvudObjekt=xsd.Nil, statusFilter="None"
        )


def test_updated_arenden_by_batch_filter(client):
    before = datetime.now().astimezone() - timedelta(seconds=1)
    dnr = _save(client)

    batch = client.service.GetUpdatedArenden(
        filter={"LowerExclusiveBound": before, "UpperInclusiveBound": xsd.Nil}
    )
    assert [a.dnr for a in batch.Arenden.arende] == [dnr]
    later = client.service.GetUpdatedArenden(
        filter={"LowerExclusiveBound": datetime.now().astimezone(), "UpperInclusiveBound": xsd.Nil}
    )
    assert not later.Arenden


def test_inspection_view_has_no_personal_data(client, byggr):
    dnr = _save(client)
    _handelse(client, dnr)

    (case,) = requests.get(byggr.base_url + "/_sim/cases", timeout=10).json()
    assert case["dnr"] == dnr and case["externRef"] == "ref-1"
    assert case["handelser"][0]["documents"][0]["sha256"]
    assert "Testsson" not in str(case)


# --- property key and index ------------------------------------------------------------------------------


def _save_with_fnr(client, extern_ref, fnr, fbet_nr="1:23"):
    arende = _arende(client, extern_ref=extern_ref, fbet_nr=fbet_nr)
    arende["objektLista"]["abstractArendeObjekt"][0].fastighet.fnr = fnr
    return client.service.SaveNewArende(message={"Arende": arende, "AnkomststamplaHandlingar": False})


def _related(client, fnr=xsd.Nil, trakt=None, fbet_nr=None):
    return client.service.GetRelateradeArendenByFastighet(
        fnr=fnr, trakt=trakt, fBetNr=fbet_nr, arHuvudObjekt=xsd.Nil, statusFilter="None"
    )


def test_fnr_is_stored_and_searched_by(client, byggr):
    dnr = _save_with_fnr(client, "a", 22044332)
    _save_with_fnr(client, "b", 22044333, fbet_nr="1:24")

    assert [a.dnr for a in _related(client, fnr=22044332)] == [dnr]
    assert not _related(client, fnr=1)
    ((_, fastighet),) = byggr.app.cases[dnr].fastigheter()
    assert fastighet.get("fnr") == "22044332"


def test_a_property_lookup_looks_at_the_cases_on_that_property_only(client, byggr, monkeypatch):
    from brygga_simulators.byggr.records import CaseRecord

    for number in range(60):
        _save(client, extern_ref=f"r{number}", fbet_nr=f"1:{number}")
    looked_at: list[str] = []
    original = CaseRecord.fastigheter

    def counting(self):
        looked_at.append(self.dnr)
        return original(self)

    monkeypatch.setattr(CaseRecord, "fastigheter", counting)
    (found,) = _related(client, trakt="STENEN", fbet_nr="1:7")

    assert looked_at == [found.dnr]


# --- GetDocument -----------------------------------------------------------------------------------------


def test_get_document_returns_the_stored_file(client, byggr):
    dnr = _save(client)
    _handelse(client, dnr, content=b"%PDF-1.4 beslut")
    ((document,),) = [h.documents for h in byggr.app.cases[dnr].handelser]

    (with_file,) = client.service.GetDocument(documentId=document.dok_id, inkluderaFil=True)
    (metadata,) = client.service.GetDocument(documentId=document.dok_id, inkluderaFil=False)

    assert (with_file.namn, with_file.fil.filBuffer) == ("a.pdf", b"%PDF-1.4 beslut")
    assert metadata.fil is None
    with pytest.raises(zeep.exceptions.Fault, match="no document with that documentId"):
        client.service.GetDocument(documentId="404", inkluderaFil=True)


# --- a client that declares namespaces as defaults -------------------------------------------------------

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
SC = "www.tekis.se/ServiceContract"
AR = "www.tekis.se/arende"
DEFAULT_NAMESPACE_ARENDE = (
    f'<SaveNewArende xmlns="{SC}"><message><Arende arendegrupp="LOV" arendetyp="BL"'
    ' xmlns:x="http://www.w3.org/2001/XMLSchema-instance">'
    f'<ankomstDatum xmlns="{AR}">2026-01-01</ankomstDatum>'
    f'<intressentLista xmlns="{AR}"><intressent><rollLista><roll>SOK</roll></rollLista></intressent>'
    f'</intressentLista><objektLista xmlns="{AR}"><abstractArendeObjekt x:type="arendeFastighet"'
    ' arHuvudObjekt="true"><fastighet><trakt>A</trakt><fbetNr>1:1</fbetNr></fastighet></abstractArendeObjekt>'
    "</objektLista></Arende><AnkomststamplaHandlingar>false</AnkomststamplaHandlingar></message></SaveNewArende>"
)


@pytest.mark.parametrize("contract", ["v8", "v4"])
def test_replies_keep_their_namespaces_whatever_the_client_declared(post_soap, contract):
    with start_simulator(ByggrSimulator(contract=contract)) as running:  # replies are schema-checked
        saved = post_soap(running, DEFAULT_NAMESPACE_ARENDE)
        dnr = etree.fromstring(saved.content).findtext(f".//{{{SC}}}Dnr")
        reply = post_soap(running, f'<GetArende xmlns="{SC}"><dnr>{dnr}</dnr></GetArende>')

    assert reply.status_code == 200
    result = etree.fromstring(reply.content).find(f".//{{{SC}}}GetArendeResult")
    assert result.get("dnr") == dnr and result.findtext(f"{{{AR}}}status") == "Pågående"


# --- modes -----------------------------------------------------------------------------------------------


def test_unknown_modes_are_refused():
    with pytest.raises(ValueError, match="reply_style"):
        ByggrSimulator(reply_style="fancy")
    with pytest.raises(ValueError, match="contract"):
        ByggrSimulator(contract="v9")


@pytest.fixture
def real():
    with start_simulator(ByggrSimulator(reply_style="real")) as running:
        yield running


def test_real_replies_are_what_zeep_strict_parsing_refuses(real):
    client = zeep.Client(real.wsdl_url, settings=zeep.Settings(strict=True))
    dnr = _save(client)

    with pytest.raises(zeep.exceptions.XMLParseError):
        client.service.GetArende(dnr=dnr)
    with pytest.raises(zeep.exceptions.XMLParseError):
        _related(client, trakt="STENEN", fbet_nr="1:23")


def test_real_replies_carry_the_real_quirks(real, post_soap):
    client = zeep.Client(real.wsdl_url)
    dnr = _save(client)
    _handelse(client, dnr)
    reply = post_soap(
        real,
        f'<GetRelateradeArendenByFastighet xmlns="{SC}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        '<fnr i:nil="true"/><trakt>STENEN</trakt><fBetNr>1:23</fBetNr><arHuvudObjekt i:nil="true"/>'
        "<statusFilter>None</statusFilter></GetRelateradeArendenByFastighet>",
    )
    (arende,) = etree.fromstring(reply.content).iter(f"{{{SC}}}Arende")  # capital A

    assert arende.get("dnr") == dnr and arende.get("checksum") == "0" and arende.get("enhetkod") == "SBK"
    assert [e.text for e in arende.iterfind(f"{{{AR}}}handlaggare/{{{AR}}}fornamn")] == ["Systemanvändare", "System"]
    assert arende.find(f"{{{AR}}}bevakningLista") is not None
    intressent = arende.find(f"{{{AR}}}intressentLista/{{{AR}}}intressent")
    assert {"attentionId", "arInternKund", "checksum"} <= set(intressent.attrib)
    handling = arende.find(f".//{{{AR}}}handling")
    assert handling.findtext(f"{{{AR}}}arkivStatus") == "Arkiveras" and handling.findtext(f"{{{AR}}}uuid")
    fastighet = arende.find(f".//{{{AR}}}fastighet")
    assert fastighet.get("fnr") == "22040001"  # assigned, as ByggR resolves the designation


def test_real_style_assigns_one_fnr_per_designation_and_finds_by_it(real):
    client = zeep.Client(real.wsdl_url)
    first, second = _save(client, extern_ref="a"), _save(client, extern_ref="b")
    other = _save(client, extern_ref="c", fbet_nr="9:99")

    fnrs = {dnr: real.app.cases[dnr].resolved_fnr[0] for dnr in (first, second, other)}
    assert fnrs[first] == fnrs[second] != fnrs[other]
    assert real.app.cases[first].fastigheter()[0][1].get("fnr") is None  # what the client sent stays as sent
    assert real.app.cases_on_property(fnr=fnrs[first]) == [first, second]


def test_real_batches_and_documents_look_like_byggr(real, post_soap):
    client = zeep.Client(real.wsdl_url)
    dnr = _save(client)
    _handelse(client, dnr, content=b"x" * 200)
    batch = post_soap(
        real,
        f'<GetUpdatedArenden xmlns="{SC}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><filter>'
        "<LowerExclusiveBound>2000-01-01T00:00:00</LowerExclusiveBound><UpperInclusiveBound i:nil=\"true\"/>"
        "</filter></GetUpdatedArenden>",
    )
    root = etree.fromstring(batch.content)
    assert datetime.fromisoformat(root.findtext(f".//{{{SC}}}BatchEnd")).tzinfo is None
    (arende,) = root.iter(f"{{{SC}}}arende")
    assert (arende.get("kommun"), arende.get("enhet")) == ("Kumla", "SBK")

    (document,) = real.app.cases[dnr].handelser[0].documents
    reply = post_soap(
        real, f'<GetDocument xmlns="{SC}"><documentId>{document.dok_id}</documentId><inkluderaFil>true</inkluderaFil>'
        "</GetDocument>"
    )
    buffer = etree.fromstring(reply.content).findtext(f".//{{{AR}}}filBuffer")
    assert "\n" in buffer.strip() and buffer != buffer.strip()


def test_seeded_case_is_someone_elses(real):
    dnr = real.app.seed_case("KUMLA STENEN", "1:23", fnr=22044332, prefix="BYGG")

    case = real.app.cases[dnr]
    assert dnr.startswith("BYGG ") and case.extern_ref is None
    (grannhorande,) = case.handelser
    assert grannhorande.element.findtext(f"{{{AR}}}startDatum") == "{{now}}"
    assert real.app.cases_on_property(fnr=22044332) == [dnr]


@pytest.fixture
def v4():
    with start_simulator(ByggrSimulator(contract="v4")) as running:
        yield running


def test_v4_serves_the_v4_contract(v4):
    client = zeep.Client(v4.wsdl_url)
    actions = {op.soapaction for op in client.service._binding._operations.values()}
    assert actions and all("/V4/IExportArenden/" in action for action in actions)


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        (lambda arende: arende.update(externRef="ref-1"), "externRef"),
        (lambda arende: arende.update(komkod="1881"), "komkod"),
    ],
)
def test_v4_refuses_what_v4_does_not_know(v4, post_soap, change, refused):
    client = zeep.Client(v4.wsdl_url)
    arende = _arende(client)
    del arende["externRef"]
    change(arende)
    message = {"Arende": arende, "AnkomststamplaHandlingar": False}
    # Built with a v8 client, which knows both fields, and posted to the v4 simulator.
    v8 = zeep.Client(str(ByggrSimulator.wsdl_file))
    envelope = v8.create_message(v8.service, "SaveNewArende", message=message)

    reply = post_soap(v4, etree.tostring(envelope))

    assert reply.status_code == 500 and refused in reply.text
    assert v4.app.cases == {}


def test_v4_answers_related_cases_as_arende_with_capital_a(v4, post_soap):
    client = zeep.Client(v4.wsdl_url)
    arende = _arende(client)
    del arende["externRef"]
    dnr = client.service.SaveNewArende(message={"Arende": arende, "AnkomststamplaHandlingar": False})

    found = _related(client, trakt="STENEN", fbet_nr="1:23")  # zeep reads it: the v4 contract says Arende

    assert [a.dnr for a in found] == [dnr]
    assert v4.app.cases[dnr].extern_ref is None
    reply = post_soap(
        v4,
        f'<GetRelateradeArendenByFastighet xmlns="{SC}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        '<fnr i:nil="true"/><trakt>STENEN</trakt><fBetNr>1:23</fBetNr><arHuvudObjekt i:nil="true"/>'
        "<statusFilter>None</statusFilter></GetRelateradeArendenByFastighet>",
    )
    assert len(list(etree.fromstring(reply.content).iter(f"{{{SC}}}Arende"))) == 1
