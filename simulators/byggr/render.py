"""How the ByggR simulator writes a case into a reply: as the contract says, or as a real ByggR does.

``contract`` replies are valid against the simulator's WSDL (and checked against it). ``real`` replies copy
the shapes of real ByggR replies (Sundsvall's recorded samples), which zeep's strict parsing refuses:

- extra attributes: ``checksum`` everywhere, ``komkod``/``enhetkod`` on a v4 arende and ``kommun``/``enhet``
  on a v8 one (GetUpdatedArenden), ``attentionId``/``arInternKund``/``arAktiv`` on an intressent;
- elements the contract lacks or orders otherwise: ``bevakningLista``, an ``attention`` before the
  intressent's kommunikation (the contract has it after), a handlaggare with ``fornamn`` twice;
- ``<Arende>`` (capital A) for the items of GetRelateradeArendenBy*;
- ``fnr`` on every fastighet (the simulator assigns one when the client sent only trakt + fbetNr, as ByggR
  resolves the property against its register); ids such as ``arendeObjektId``, ``uuid`` on handlingar.

Nothing here removes or renames what a client needs: dnr, externRef (v8), handelser with their anteckning, the
assigned handlaggare's id, status and dates.

``decision_pdf`` writes the small, valid PDF a simulated case officer's decision carries by default.
"""

from __future__ import annotations

import uuid

from lxml import etree

from brygga_simulators.byggr.records import ARENDE_ORDER, HANDELSE_ORDER, CaseRecord, a, c, set_child
from brygga_simulators.soap_server import append_child, copy_element

REPLY_STYLES = ("contract", "real")
MUNICIPALITY = "Kumla"  # the municipality this simulated installation serves, for the real-style attributes
ENHET = "SBK"


def related_item_tag(style: str, contract: str) -> str:
    """The element name of GetRelateradeArendenByFastighet's items: v4 and real ByggR write ``Arende``."""
    return c("Arende") if style == "real" or contract == "v4" else c("arende")


def render_case(case: CaseRecord, tag: str, style: str, operation: str) -> etree._Element:
    rendered = copy_element(case.element)
    rendered.tag = tag
    if case.handelser:
        lista = set_child(rendered, "handelseLista", ARENDE_ORDER)
        for handelse in case.handelser:
            append_child(lista, copy_element(handelse.element))
    if style == "real":
        _roughen(rendered, case, operation)
    return rendered


def _roughen(arende: etree._Element, case: CaseRecord, operation: str) -> None:
    # The municipality the way each recorded reply writes it: v4's names in GetUpdatedArenden, v8's elsewhere.
    if operation == "GetUpdatedArenden":
        arende.set("kommun", MUNICIPALITY)
        arende.set("enhet", ENHET)
    else:
        arende.set("komkod", arende.get("komkod") or "")
    arende.set("enhetkod", ENHET if operation != "GetUpdatedArenden" else "")
    for name, value in (("arendeklass", ""), ("namndkod", "SBN"), ("kalla", "3"), ("checksum", "0")):
        arende.set(name, value)
    _roughen_handlaggare(arende, case)
    _insert_before(arende, etree.Element(a("bevakningLista")), "objektLista")
    for position, intressent in enumerate(arende.iterfind(f"{a('intressentLista')}/{a('intressent')}"), start=1):
        _roughen_intressent(intressent, case.arende_id * 100 + position)
    for handelse in arende.iterfind(f"{a('handelseLista')}/{a('handelse')}"):
        _roughen_handelse(handelse)
    objekter = arende.iterfind(f"{a('objektLista')}/{a('abstractArendeObjekt')}")
    for position, objekt in enumerate(objekter, start=1):
        objekt.set("arendeObjektId", str(case.arende_id * 10 + position))
        objekt.set("checksum", "1|")
    # The same order as CaseRecord.fastigheter(), whose positions key resolved_fnr.
    fastigheter = (o.find(a("fastighet")) for o in arende.iterfind(f"{a('objektLista')}/{a('abstractArendeObjekt')}"))
    for position, fastighet in enumerate(f for f in fastigheter if f is not None):
        fastighet.set("checksum", f"{case.arende_id}|")
        fnr = case.fnr(position, fastighet)
        if fnr:
            fastighet.set("fnr", fnr)


def _roughen_handlaggare(arende: etree._Element, case: CaseRecord) -> None:
    # Unassigned, ByggR writes id -1 and a system user; either way it repeats fornamn where efternamn belongs.
    assigned = arende.find(a("handlaggare")) if case.handlaggare_id else None
    names = [(e.text or "") for e in assigned] if assigned is not None else ["Systemanvändare", "System"]
    handlaggare = set_child(arende, "handlaggare", ARENDE_ORDER)
    handlaggare.set("handlaggareId", assigned.get("handlaggareId", "-1") if assigned is not None else "-1")
    handlaggare.set("signatur", assigned.get("signatur", "") if assigned is not None else "")
    for text in names:
        etree.SubElement(handlaggare, a("fornamn")).text = text


def _roughen_intressent(intressent: etree._Element, intressent_id: int) -> None:
    for name, value in (
        ("intressentId", str(intressent_id)),
        ("intressentVersionId", str(intressent_id + 7)),
        ("kundnr", f"{intressent_id:06d}"),
        ("arInternKund", "false"),
        ("arAktiv", "true"),
        ("attentionId", "0"),
        ("checksum", f"-{intressent_id}|{intressent_id}"),
    ):
        intressent.set(name, value)
    # attention before the kommunikation, where ByggR's GetUpdatedArenden writes it; the contract has it after.
    _insert_before(intressent, etree.Element(a("attention")), "intressentKommunikationLista", "fakturaAdress",
                   "besokAdress", "rollLista")
    for kommunikation in intressent.iterfind(f"{a('intressentKommunikationLista')}/{a('intressentKommunikation')}"):
        kommunikation.set("checksum", "776758367")


def _roughen_handelse(handelse: etree._Element) -> None:
    handelse.set("checksum", "0")
    for handling in handelse.iterfind(f"{a('handlingLista')}/{a('handling')}"):
        handling.set("checksum", "0")
        handling_uuid = str(uuid.uuid5(uuid.NAMESPACE_OID, handling.get("handlingId", "")))
        _insert_before(handling, _text_element("uuid", handling_uuid), "arkivStatus", "makulerad")
        _insert_before(handling, _text_element("arkivStatus", "Arkiveras"), "makulerad")
        for dokument in handling.iterfind(a("dokument")):
            dokument.set("checksum", f"{dokument.get('dokId', '0')}|638295923100000000")
    if handelse.find(a("intressentLista")) is None:
        set_child(handelse, "intressentLista", HANDELSE_ORDER)
    signatur = set_child(handelse, "handlaggare", HANDELSE_ORDER)
    signatur.set("signatur", "SYSTEM")


def _text_element(name: str, text: str) -> etree._Element:
    element = etree.Element(a(name))
    element.text = text
    return element


def _insert_before(parent: etree._Element, new: etree._Element, *names: str) -> None:
    """Insert ``new`` before the first child named one of ``names`` (local names), else at the end."""
    for index, child in enumerate(parent):
        if isinstance(child.tag, str) and etree.QName(child).localname in names:
            parent.insert(index, new)
            return
    parent.append(new)


def decision_pdf(dnr: str, rubrik: str, day: str) -> bytes:
    """A one-page PDF 1.4 (Helvetica, WinAnsi text, a correct xref table) that any PDF reader opens."""
    lines = [rubrik, f"Diarienummer {dnr}", f"Beslutsdatum {day}", "Simulerat beslut från ByggR-simulatorn."]
    text = " ".join(f"({_pdf_text(line)}) Tj 0 -22 Td" for line in lines)
    content = f"BT /F1 14 Tf 72 770 Td {text} ET".encode("cp1252", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(pdf)


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
