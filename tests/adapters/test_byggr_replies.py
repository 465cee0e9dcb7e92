"""The tolerant reply readers, markers and contract rules of the ByggR adapter, without a server.

The XML here is written for these tests in the shapes real ByggR replies have (see render.py in the
simulator); the recorded real replies themselves are read in tests/interop/test_byggr_real_replies.py.
"""

from __future__ import annotations

import base64
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from lxml import etree

from brygga.errors import TargetRejected, TargetUnavailable
from brygga_adapters.byggr.contracts import V4, V8, arende_for, unsupported_fields, version_in_actions
from brygga_adapters.byggr.replies import (
    UnreadableReply,
    read_get_arende,
    read_get_document,
    read_related_arenden,
    read_save_new_arende,
    read_save_new_handelse,
    read_updated_arenden,
)
from brygga_adapters.documents import amendment_note
from brygga_adapters.markers import amendment_marker, carries_marker, creation_marker
from brygga_adapters.soap.raw import call_raw, reply_payload

SC = "www.tekis.se/ServiceContract"
AR = "www.tekis.se/arende"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ENVELOPE = f'<s:Envelope xmlns:s="{SOAP_NS}"><s:Body>{{}}</s:Body></s:Envelope>'

# An Arende (capital A) with extra attributes, an extra element, a handlaggare with fornamn twice, an
# intressent in another order, and handelser with a good, a template and a missing date.
RELATED = f"""
<GetRelateradeArendenByFastighetResponse xmlns="{SC}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <GetRelateradeArendenByFastighetResult>
  <Arende arendeId="233648" dnr="BYGG 2023-000255" komkod="2281" kommun="Sundsvall" checksum="0">
   <status xmlns="{AR}">Pågående</status>
   <handlaggare xmlns="{AR}" signatur="SYSTEM"><fornamn>A</fornamn><fornamn>B</fornamn></handlaggare>
   <intressentLista xmlns="{AR}">
    <intressent attentionId="0" checksum="1|2"><attention>x</attention><namn>N</namn><rollLista><roll>SOK</roll>
    </rollLista></intressent>
   </intressentLista>
   <handelseLista xmlns="{AR}">
    <handelse handelseId="1465800" checksum="62">
     <rubrik>Komplettering</rubrik><riktning>In</riktning><startDatum>2023-10-18T15:34:00+02:00</startDatum>
     <anteckning>Inkomna kompletteringar brygga-ref:1881:oep:7</anteckning>
     <handelseslag>KOMPADM</handelseslag><handelsetyp>HANDLING</handelsetyp>
     <handlingLista><handling handlingId="1" checksum="0"><uuid>b13a0412-0c8b-4484-af30-e1460161878c</uuid>
      <dokument dokId="250324633" checksum="9"><namn>ritning.pdf</namn></dokument><refTyp>Bifogad</refTyp>
     </handling></handlingLista>
    </handelse>
    <handelse checksum="45" handelseId="1465809"><riktning>Ut</riktning><startDatum>{{{{now}}}}</startDatum>
    </handelse>
    <handelse handelseId="1465810"><riktning>Ut</riktning></handelse>
   </handelseLista>
   <bevakningLista xmlns="{AR}"/>
   <objektLista xmlns="{AR}">
    <abstractArendeObjekt xsi:type="arendeFastighet" arendeObjektId="246140" arHuvudObjekt="true">
     <fastighet checksum="1|" fnr="22044332"><trakt>BAGGER</trakt><fbetNr>2</fbetNr></fastighet>
    </abstractArendeObjekt>
   </objektLista>
  </Arende>
  <arende dnr="BN 2026-000001"><externRef xmlns="{AR}">1881:oep:1</externRef></arende>
  <arende xsi:nil="true"/>
 </GetRelateradeArendenByFastighetResult>
</GetRelateradeArendenByFastighetResponse>
"""


def _xml(text: str) -> etree._Element:
    return etree.fromstring(text.strip().encode())


def test_related_arenden_are_read_whatever_the_quirks():
    first, second = read_related_arenden(_xml(RELATED), "GetRelateradeArendenByFastighet")

    assert (first.dnr, first.arende_id, first.status) == ("BYGG 2023-000255", 233648, "Pågående")
    assert first.extern_ref is None
    (fastighet,) = first.fastigheter
    assert (fastighet.fnr, fastighet.trakt, fastighet.fbet_nr) == (22044332, "BAGGER", "2")
    komplettering, template_date, no_date = first.handelser
    assert komplettering.handelse_id == 1465800
    assert (komplettering.riktning, komplettering.handelseslag) == ("In", "KOMPADM")
    assert komplettering.handelsetyp == "HANDLING"
    assert komplettering.start == datetime(2023, 10, 18, 15, 34, tzinfo=timezone(timedelta(hours=2)))
    assert [(d.dok_id, d.namn) for d in komplettering.documents] == [("250324633", "ritning.pdf")]
    assert template_date.start is None and template_date.handelse_id == 1465809
    assert no_date.start is None
    assert (second.dnr, second.extern_ref, second.handelser) == ("BN 2026-000001", "1881:oep:1", ())


def test_personal_fields_stay_out_of_reprs():
    (first, _) = read_related_arenden(_xml(RELATED), "GetRelateradeArendenByFastighet")
    assert "ritning" not in repr(first) and "kompletteringar" not in repr(first)


def test_no_result_is_no_arenden_and_a_wrong_reply_is_named():
    empty = _xml(f'<GetRelateradeArendenByFastighetResponse xmlns="{SC}"/>')
    assert read_related_arenden(empty, "GetRelateradeArendenByFastighet") == ()
    with pytest.raises(UnreadableReply, match="is not a GetRelateradeArendenByFastighetResponse"):
        read_related_arenden(_xml(f'<GetArendeResponse xmlns="{SC}"/>'), "GetRelateradeArendenByFastighet")


def test_an_arende_without_dnr_is_unreadable_and_the_message_has_no_values():
    reply = _xml(
        f'<GetArendeResponse xmlns="{SC}"><GetArendeResult arendeId="5">'
        f'<externRef xmlns="{AR}">19800512-2380</externRef></GetArendeResult></GetArendeResponse>'
    )
    with pytest.raises(UnreadableReply, match="GetArende reply has an arende without dnr") as raised:
        read_get_arende(reply)
    assert "19800512" not in str(raised.value)
    assert isinstance(raised.value, TargetRejected)


def test_get_arende_needs_its_result():
    with pytest.raises(UnreadableReply, match="no GetArendeResult"):
        read_get_arende(_xml(f'<GetArendeResponse xmlns="{SC}"/>'))


def test_save_replies_give_dnr_and_handelse_id():
    assert read_save_new_arende(
        _xml(f'<SaveNewArendeResponse xmlns="{SC}"><SaveNewArendeResult x="1"><Dnr> BN 2026-000007 </Dnr>'
             "</SaveNewArendeResult></SaveNewArendeResponse>")
    ) == "BN 2026-000007"
    # Without the Result wrapper, as some servers answer.
    assert read_save_new_handelse(
        _xml(f'<SaveNewHandelseResponse xmlns="{SC}"><HandelseId>360001</HandelseId></SaveNewHandelseResponse>')
    ) == 360001


def test_save_replies_without_what_brygga_needs_name_the_field():
    with pytest.raises(UnreadableReply, match="SaveNewArende reply has no Dnr"):
        read_save_new_arende(
            _xml(f'<SaveNewArendeResponse xmlns="{SC}"><SaveNewArendeResult/></SaveNewArendeResponse>')
        )
    with pytest.raises(UnreadableReply, match="non-integer HandelseId") as raised:
        read_save_new_handelse(
            _xml(f'<SaveNewHandelseResponse xmlns="{SC}"><SaveNewHandelseResult><HandelseId>abc-secret</HandelseId>'
                 "</SaveNewHandelseResult></SaveNewHandelseResponse>")
        )
    assert "abc-secret" not in str(raised.value)


def test_updated_arenden_batch_bounds_without_offset():
    batch = read_updated_arenden(
        _xml(f'<GetUpdatedArendenResponse xmlns="{SC}"><GetUpdatedArendenResult>'
             "<BatchStart>2021-12-16T07:16:56</BatchStart><BatchEnd>2021-12-17T14:14:35.1234567</BatchEnd>"
             '<Arenden><arende dnr="BYGG 2021-000771" kommun="Sundsvall"/></Arenden>'
             "</GetUpdatedArendenResult></GetUpdatedArendenResponse>")
    )
    assert batch.batch_start == datetime(2021, 12, 16, 7, 16, 56)
    assert batch.batch_end == datetime(2021, 12, 17, 14, 14, 35, 123456)
    assert [a.dnr for a in batch.arenden] == ["BYGG 2021-000771"]


def test_updated_arenden_without_batch_end_is_unreadable():
    with pytest.raises(UnreadableReply, match="no readable BatchEnd"):
        read_updated_arenden(
            _xml(f'<GetUpdatedArendenResponse xmlns="{SC}"><GetUpdatedArendenResult><BatchEnd>{{{{now}}}}</BatchEnd>'
                 "</GetUpdatedArendenResult></GetUpdatedArendenResponse>")
        )


def test_document_content_is_decoded_through_whitespace():
    content = bytes(range(256)) * 3
    encoded = base64.b64encode(content).decode()
    wrapped = "\n\t\t".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    (document,) = read_get_document(
        _xml(f'<GetDocumentResponse xmlns="{SC}"><GetDocumentResult dokId="9" checksum="1">'
             f'<namn xmlns="{AR}">Beslut.docx</namn><beskrivning xmlns="{AR}">Beslut</beskrivning>'
             f'<fil xmlns="{AR}" filAndelse="docx"><filBuffer>\n\t\t{wrapped}\n\t</filBuffer></fil>'
             "</GetDocumentResult></GetDocumentResponse>")
    )
    assert (document.dok_id, document.name, document.description, document.extension) == (
        "9", "Beslut.docx", "Beslut", "docx"
    )
    assert document.content == content


def test_document_without_file_and_with_broken_base64():
    (metadata_only,) = read_get_document(
        _xml(f'<GetDocumentResponse xmlns="{SC}"><GetDocumentResult dokId="9"><namn xmlns="{AR}">a</namn>'
             "</GetDocumentResult></GetDocumentResponse>")
    )
    assert metadata_only.content is None
    with pytest.raises(UnreadableReply, match="filBuffer is not valid base64"):
        read_get_document(
            _xml(f'<GetDocumentResponse xmlns="{SC}"><GetDocumentResult><fil xmlns="{AR}"><filBuffer>ab$c'
                 "</filBuffer></fil></GetDocumentResult></GetDocumentResponse>")
        )


# --- markers ---------------------------------------------------------------------------------------------


def test_markers_match_whole_tokens_only():
    creation, second, third = creation_marker("1881:oep:7"), amendment_marker("1881:oep:7", 2), amendment_marker(
        "1881:oep:7", 3
    )
    assert (creation, second) == ("brygga-ref:1881:oep:7", "brygga-ref:1881:oep:7#2")
    note = amendment_note(second, 2, ["parties"])
    assert carries_marker(note, second)
    assert not carries_marker(note, creation)  # a prefix of the amendment's marker, not the marker
    assert not carries_marker(note, third)
    assert not carries_marker("brygga-ref:1881:oep:77", creation)
    assert carries_marker("Handlingar\r\nbrygga-ref:1881:oep:7", creation)
    assert not carries_marker(None, creation)


def test_a_marker_stays_one_token_whatever_the_reference():
    marker = creation_marker("1881:oep:ref with space")
    assert marker.split() == [marker]
    assert carries_marker(f"x {marker} y", marker)


def test_the_amendment_note_names_changed_fields_for_the_case_officer():
    note = amendment_note("brygga-ref:x#3", 3, ["parties", "details.bygglov", "customField"])
    assert note.splitlines()[0] == (
        "Komplettering via e-tjänst, version 3. Ändrade uppgifter: parter (parties), "
        "uppgifter om åtgärden (details.bygglov), customField."
    )
    assert note.splitlines()[-1] == "brygga-ref:x#3"


# --- contracts -------------------------------------------------------------------------------------------


PAYLOAD = {
    "komkod": "1881",
    "arendegrupp": "LOV",
    "objektLista": {"abstractArendeObjekt": [{"_type": "arendeFastighet", "fastighet": {"fnr": 1}}]},
}


def test_v8_sets_extern_ref_and_keeps_komkod():
    arende = arende_for(PAYLOAD, V8, "1881:oep:1")
    assert arende["externRef"] == "1881:oep:1" and arende["komkod"] == "1881"
    assert "externRef" not in PAYLOAD  # a copy


def test_v4_drops_komkod_and_carries_no_extern_ref():
    arende = arende_for(PAYLOAD, V4, "1881:oep:1")
    assert "externRef" not in arende and "komkod" not in arende
    assert arende["arendegrupp"] == "LOV"


def test_v4_refuses_what_it_has_no_place_for():
    payload = {**PAYLOAD, "prioritet": 2, "externRef": "x"}
    payload["objektLista"] = {"abstractArendeObjekt": [{"_type": "arendeFastighet", "lagenhetList": {}}]}
    assert unsupported_fields(payload, V4) == [
        "prioritet",
        "externRef",
        "objektLista.abstractArendeObjekt[0].lagenhetList",
    ]
    with pytest.raises(TargetRejected, match="contract v4 has no place for: prioritet, externRef"):
        arende_for(payload, V4, "ref")
    assert unsupported_fields(payload, V8) == []


def test_contract_version_from_soap_actions():
    assert version_in_actions(["www.tekis.se/ServiceContract/V8/IExportArenden/GetArende"]) == "v8"
    assert version_in_actions(["www.tekis.se/ServiceContract/V4/IExportArenden/GetArende", ""]) == "v4"
    assert version_in_actions(["urn:other"]) is None
    assert version_in_actions(["x/V4/IExportArenden/a", "x/V8/IExportArenden/b"]) is None


# --- call_raw and its reply handling ---------------------------------------------------------------------


class _Settings:
    def __init__(self) -> None:
        self.raw: list[bool] = []

    @contextmanager
    def __call__(self, raw_response: bool):
        self.raw.append(raw_response)
        yield


def _service(status: int, content: bytes) -> SimpleNamespace:
    response = SimpleNamespace(status_code=status, content=content)
    return SimpleNamespace(
        name="byggr-test",
        client=SimpleNamespace(settings=_Settings()),
        proxy=SimpleNamespace(GetArende=lambda **kwargs: response),
    )


def test_call_raw_returns_the_body_payload_and_asks_zeep_for_the_raw_reply():
    service = _service(200, ENVELOPE.format(f'<GetArendeResponse xmlns="{SC}"/>').encode())
    payload = call_raw(service, "GetArende", dnr="BN 1")
    assert etree.QName(payload).localname == "GetArendeResponse"
    assert service.client.settings.raw == [True]


@pytest.mark.parametrize(
    ("status", "content", "error", "message"),
    [
        (500, ENVELOPE.format("<s:Fault><faultcode>s:Client</faultcode><faultstring>no such dnr</faultstring>"
                              "</s:Fault>"), TargetRejected, "byggr-test.GetArende refused: no such dnr"),
        (200, ENVELOPE.format("<s:Fault><faultstring>refused</faultstring></s:Fault>"), TargetRejected, "refused"),
        (503, "<html>busy</html>", TargetUnavailable, "HTTP 503"),
        (500, ENVELOPE.format("<nothing/>"), TargetUnavailable, "HTTP 500 without a SOAP fault"),
        (404, "not found", TargetRejected, "HTTP 404"),
        # SOAP, but broken, unsafe or without what is needed: the target's answer, refused.
        (200, f'<s:Envelope xmlns:s="{SOAP_NS}"><s:Body><x>', TargetRejected, "malformed XML in the answer"),
        (200, f'<!DOCTYPE s:Envelope [<!ENTITY e "e">]><s:Envelope xmlns:s="{SOAP_NS}"><s:Body><x>&e;</x>'
              "</s:Body></s:Envelope>", TargetRejected, "DTD"),
        (200, f'<s:Envelope xmlns:s="{SOAP_NS}"/>', TargetRejected, "HTTP 200"),
        (200, ENVELOPE.format("<a/><b/>"), TargetRejected, "holds 2 elements"),
    ],
)
def test_call_raw_maps_faults_and_http_errors(status, content, error, message):
    with pytest.raises(error, match=message):
        call_raw(_service(status, content.encode()), "GetArende", dnr="BN 1")


@pytest.mark.parametrize(
    "content",
    [
        "",
        "Service Unavailable",
        "<html><head><title>Underhåll</title></head><body>Tjänsten är stängd.<br></body></html>",
        '<!DOCTYPE html><html lang="sv"><body><p>Underhåll pågår</p></body></html>',
        '<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>',
        "<notsoap/>",
        "<s:Envelope",  # not even XML: the prefix is bound to nothing
    ],
    ids=["empty", "text", "html", "xhtml-doctype", "dtd", "other-xml", "unbound-prefix"],
)
def test_an_http_200_that_is_not_soap_is_retried_later(content):
    # A proxy's maintenance page says nothing about the request: TargetUnavailable, not a refusal.
    with pytest.raises(TargetUnavailable) as unavailable:
        call_raw(_service(200, content.encode()), "GetArende", dnr="BN 1")
    assert str(unavailable.value) == (
        "byggr-test.GetArende: the answer is not SOAP (e.g. a maintenance page); retried later"
    )


def test_an_oversized_reply_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr("brygga_adapters.soap.raw.MAX_REPLY_BYTES", 100)
    with pytest.raises(TargetRejected, match="over the limit"):
        reply_payload(200, ENVELOPE.format("<x>" + "a" * 200 + "</x>").encode(), "byggr.GetArende")
