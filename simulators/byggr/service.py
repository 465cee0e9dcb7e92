"""A ByggR-like building-permit case system behind ArendeExportWS (SOAP 1.1), state in memory.

Implemented: SaveNewArende, SaveNewHandelse, GetArende, GetUpdatedArenden, GetRelateradeArendenByFastighet.
Beyond the schema it enforces the business rules a real ByggR would: an arende needs an applicant (an
intressent with roll SOK) and arendegrupp/arendetyp; a handelse needs a known dnr; a handling needs a named
document with file content. Diarienummer are sequential per prefix and year: ``BN 2026-000001``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from lxml import etree

from brygga_simulators.byggr.records import (
    ARENDE_ORDER,
    CONTRACT_NS,
    HANDELSE_ORDER,
    CaseRecord,
    DocumentRecord,
    HandelseRecord,
    a,
    c,
    child_text,
    set_child,
)
from brygga_simulators.soap_server import XSI, SoapFault, SoapSimulator, append_child, copy_element

DEFAULT_PREFIX = "BN"
APPLICANT_ROLE = "SOK"


def _now() -> datetime:
    return datetime.now().astimezone()


def _parse_datetime(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.strip())
    return parsed if parsed.tzinfo else parsed.astimezone()


def _is_nil(element: etree._Element | None) -> bool:
    return element is None or element.get(f"{{{XSI}}}nil") in ("true", "1")


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


class ByggrSimulator(SoapSimulator):
    name: ClassVar[str] = "byggr"
    wsdl_file: ClassVar[Path] = Path(__file__).with_name("ArendeExportWS.wsdl")
    path: ClassVar[str] = "/TekisArende/ArendeExportWS.svc"
    target_namespace: ClassVar[str] = CONTRACT_NS

    def __init__(self, clock: Callable[[], datetime] = _now) -> None:
        super().__init__()
        self.clock = clock
        self._cases: dict[str, CaseRecord] = {}
        self._sequences: dict[tuple[str, int], itertools.count[int]] = {}
        self._arende_ids = itertools.count(50001)
        self._handelse_ids = itertools.count(360001)
        self._handling_ids = itertools.count(430001)
        self._dok_ids = itertools.count(580001)

    # --- inspection -------------------------------------------------------------------------------

    @property
    def cases(self) -> dict[str, CaseRecord]:
        """Snapshot of the cases by dnr (the records themselves are live)."""
        with self.lock:
            return dict(self._cases)

    def inspect(self, what: str) -> Any:
        if what == "cases":
            with self.lock:
                return [case.summary() for case in self._cases.values()]
        raise KeyError(what)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self._cases.clear()
            self._sequences.clear()

    # --- operations -------------------------------------------------------------------------------

    def on_SaveNewArende(self, request: etree._Element) -> etree._Element:
        message = request.find(c("message"))
        arende = message.find(c("Arende")) if message is not None else None
        if arende is None:
            raise SoapFault("SaveNewArende: message/Arende is required")
        self._check_new_arende(arende)
        with self.lock:
            now = self.clock()
            dnr = self._next_dnr(arende.get("diarieprefix") or DEFAULT_PREFIX, now.year)
            record = CaseRecord(
                dnr=dnr, arende_id=next(self._arende_ids), element=self._stored_arende(arende), updated=now
            )
            record.element.set("dnr", dnr)
            record.element.set("arendeId", str(record.arende_id))
            set_child(record.element, "status", ARENDE_ORDER).text = "Pågående"
            set_child(record.element, "uppdateradDatum", ARENDE_ORDER).text = now.date().isoformat()
            set_child(record.element, "registreradDatum", ARENDE_ORDER).text = now.date().isoformat()
            handelse = message.find(c("Handelse"))
            if handelse is not None:
                record.handelser.append(
                    self._new_handelse(handelse, message.find(c("Handlingar")), "SaveNewArende")
                )
            self._cases[dnr] = record
        response = etree.Element(c("SaveNewArendeResponse"), nsmap={None: CONTRACT_NS})
        result = etree.SubElement(response, c("SaveNewArendeResult"))
        etree.SubElement(result, c("Dnr")).text = dnr
        return response

    def on_SaveNewHandelse(self, request: etree._Element) -> etree._Element:
        message = request.find(c("message"))
        if message is None:
            raise SoapFault("SaveNewHandelse: message is required")
        dnr = (message.findtext(c("Dnr")) or "").strip()
        handelse = message.find(c("Handelse"))
        if not dnr:
            raise SoapFault("SaveNewHandelse: message/Dnr is required")
        if handelse is None:
            raise SoapFault("SaveNewHandelse: message/Handelse is required")
        with self.lock:
            case = self._case_or_fault(dnr, "SaveNewHandelse")
            record = self._new_handelse(handelse, message.find(c("Handlingar")), "SaveNewHandelse")
            case.handelser.append(record)
            case.updated = self.clock()
            set_child(case.element, "uppdateradDatum", ARENDE_ORDER).text = case.updated.date().isoformat()
        response = etree.Element(c("SaveNewHandelseResponse"), nsmap={None: CONTRACT_NS})
        result = etree.SubElement(response, c("SaveNewHandelseResult"))
        etree.SubElement(result, c("HandelseId")).text = str(record.handelse_id)
        return response

    def on_GetArende(self, request: etree._Element) -> etree._Element:
        dnr = (request.findtext(c("dnr")) or "").strip()
        if not dnr:
            raise SoapFault("GetArende: dnr is required")
        response = etree.Element(c("GetArendeResponse"), nsmap={None: CONTRACT_NS})
        with self.lock:
            append_child(response, self._render(self._case_or_fault(dnr, "GetArende"), c("GetArendeResult")))
        return response

    def on_GetUpdatedArenden(self, request: etree._Element) -> etree._Element:
        batch_filter = request.find(c("filter"))
        if batch_filter is None:
            raise SoapFault("GetUpdatedArenden: filter is required")
        lower = _parse_datetime(batch_filter.findtext(c("LowerExclusiveBound")) or "")
        upper_element = batch_filter.find(c("UpperInclusiveBound"))
        upper = self.clock() if _is_nil(upper_element) else _parse_datetime(upper_element.text or "")
        if upper < lower:
            raise SoapFault("GetUpdatedArenden: UpperInclusiveBound is before LowerExclusiveBound")
        response = etree.Element(c("GetUpdatedArendenResponse"), nsmap={None: CONTRACT_NS})
        result = etree.SubElement(response, c("GetUpdatedArendenResult"))
        etree.SubElement(result, c("BatchStart")).text = lower.isoformat()
        etree.SubElement(result, c("BatchEnd")).text = upper.isoformat()
        arenden = etree.SubElement(result, c("Arenden"))
        with self.lock:
            for case in self._cases.values():
                if lower < case.updated <= upper:
                    append_child(arenden, self._render(case, c("arende")))
        return response

    def on_GetRelateradeArendenByFastighet(self, request: etree._Element) -> etree._Element:
        fnr_element = request.find(c("fnr"))
        fnr = None if _is_nil(fnr_element) else (fnr_element.text or "").strip()
        trakt, fbet_nr = _norm(request.findtext(c("trakt"))), _norm(request.findtext(c("fBetNr")))
        if not fnr and not (trakt and fbet_nr):
            raise SoapFault("GetRelateradeArendenByFastighet: give fnr, or both trakt and fBetNr")
        huvud_element = request.find(c("arHuvudObjekt"))
        huvud = None if _is_nil(huvud_element) else (huvud_element.text or "").strip() in ("true", "1")
        status_filter = request.findtext(c("statusFilter")) or "None"

        def matches(case: CaseRecord) -> bool:
            if status_filter == "Aktiv" and case.status != "Pågående":
                return False
            if status_filter == "Inaktiv" and case.status == "Pågående":
                return False
            for objekt, fastighet in case.fastigheter():
                if huvud is not None and (objekt.get("arHuvudObjekt") in ("true", "1")) != huvud:
                    continue
                if fnr and fastighet.get("fnr") == fnr:
                    return True
                if (
                    trakt
                    and _norm(child_text(fastighet, "trakt")) == trakt
                    and _norm(child_text(fastighet, "fbetNr")) == fbet_nr
                ):
                    return True
            return False

        response = etree.Element(c("GetRelateradeArendenByFastighetResponse"), nsmap={None: CONTRACT_NS})
        result = etree.SubElement(response, c("GetRelateradeArendenByFastighetResult"))
        with self.lock:
            for case in self._cases.values():
                if matches(case):
                    append_child(result, self._render(case, c("arende")))
        return response

    # --- helpers ----------------------------------------------------------------------------------

    def _check_new_arende(self, arende: etree._Element) -> None:
        for attribute in ("arendegrupp", "arendetyp"):
            if not (arende.get(attribute) or "").strip():
                raise SoapFault(f"SaveNewArende: Arende/@{attribute} is required")
        roles = {
            (role.text or "").strip()
            for role in arende.iterfind(
                f"{a('intressentLista')}/{a('intressent')}/{a('rollLista')}/{a('roll')}"
            )
        }
        if APPLICANT_ROLE not in roles:
            raise SoapFault(
                f"SaveNewArende: Arende/intressentLista needs an intressent with roll {APPLICANT_ROLE}"
            )
        if arende.find(a("handelseLista")) is not None:
            raise SoapFault("SaveNewArende: send handelser as message/Handelse, not Arende/handelseLista")

    def _stored_arende(self, arende: etree._Element) -> etree._Element:
        stored = copy_element(arende)
        stored.tag = a("arende")
        return stored

    def _next_dnr(self, prefix: str, year: int) -> str:
        sequence = self._sequences.setdefault((prefix, year), itertools.count(1))
        return f"{prefix} {year}-{next(sequence):06d}"

    def _case_or_fault(self, dnr: str, operation: str) -> CaseRecord:
        case = self._cases.get(dnr)
        if case is None:
            raise SoapFault(f"{operation}: no arende with dnr {dnr!r}")
        return case

    def _new_handelse(
        self, handelse: etree._Element, handlingar: etree._Element | None, operation: str
    ) -> HandelseRecord:
        element = copy_element(handelse)
        element.tag = a("handelse")
        record = HandelseRecord(handelse_id=next(self._handelse_ids), element=element)
        element.set("handelseId", str(record.handelse_id))
        lista = set_child(element, "handlingLista", HANDELSE_ORDER)
        incoming = list(handlingar.iterfind(c("handling"))) if handlingar is not None else []
        for position, handling in enumerate(incoming, start=1):
            record.documents.append(
                self._store_handling(handling, lista, f"{operation}: Handlingar/handling[{position}]")
            )
        if not incoming:
            element.remove(lista)
        return record

    def _store_handling(self, handling: etree._Element, lista: etree._Element, where: str) -> DocumentRecord:
        dokument = handling.find(a("dokument"))
        name = (dokument.findtext(a("namn")) or "").strip() if dokument is not None else ""
        buffer = dokument.findtext(f"{a('fil')}/{a('filBuffer')}") if dokument is not None else None
        if not name:
            raise SoapFault(f"{where}/dokument/namn is required")
        if not buffer or not buffer.strip():
            raise SoapFault(f"{where}/dokument/fil/filBuffer is required")
        try:
            content = base64.b64decode("".join(buffer.split()), validate=True)
        except (binascii.Error, ValueError):
            raise SoapFault(f"{where}/dokument/fil/filBuffer is not valid base64") from None
        stored = copy_element(handling)
        stored.tag = a("handling")
        record = DocumentRecord(
            handling_id=next(self._handling_ids), dok_id=str(next(self._dok_ids)), name=name, content=content
        )
        stored.set("handlingId", str(record.handling_id))
        stored_dokument = stored.find(a("dokument"))
        stored_dokument.set("dokId", record.dok_id)
        # Like ByggR's GetArende, answers carry document metadata only; the bytes stay in the record.
        for fil in stored_dokument.findall(a("fil")):
            stored_dokument.remove(fil)
        append_child(lista, stored)
        return record

    def _render(self, case: CaseRecord, tag: str) -> etree._Element:
        rendered = copy_element(case.element)
        rendered.tag = tag
        if case.handelser:
            lista = set_child(rendered, "handelseLista", ARENDE_ORDER)
            for handelse in case.handelser:
                append_child(lista, copy_element(handelse.element))
        return rendered
