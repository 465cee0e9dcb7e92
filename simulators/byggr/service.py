"""A ByggR-like building-permit case system behind ArendeExportWS (SOAP 1.1), state in memory.

Implemented: SaveNewArende, SaveNewHandelse, GetArende, GetUpdatedArenden, GetRelateradeArendenByFastighet,
GetDocument. Beyond the schema it enforces the business rules a real ByggR would: an arende needs an
applicant (an intressent with roll SOK) and arendegrupp/arendetyp; a handelse needs a known dnr; a handling
needs a named document with file content. Diarienummer are sequential per prefix and year: ``BN 2026-000001``.

Two independent choices, e.g. ``start_simulator(ByggrSimulator(reply_style="real", contract="v4"))``:

- ``contract``: ``"v8"`` (default) or ``"v4"``, the WSDL served and enforced. v4 refuses ``externRef`` and
  ``komkod`` in SaveNewArende, as ByggR v4 does.
- ``reply_style``: ``"contract"`` (default; replies are checked against the WSDL) or ``"real"`` (replies
  shaped like real ByggR's, off-contract; see render.py).

``flaws`` (none by default) makes it a non-conforming variant for the conformance kit: flaws.py names them.

For tests of at-least-once delivery: a fault plan (in the base, ``brygga_simulators.faults``) loses a reply after
the work is done (``lose_reply``), and ``seed_case`` registers a case the way a case officer would, on a property
Brygga's submissions also concern.

For the status loop, a case officer's actions move a case on (``assign_handler``, ``add_handelse``,
``request_supplement``, ``decide``, ``send_out``, ``close``, ``withdraw``; also ``POST /_sim/officer`` with JSON for
demos and out-of-process tests). Each marks the case updated (``uppdateradDatum``, and GetUpdatedArenden reports it)
and returns the ids it made. Real ByggR writes times without an offset in Swedish time; so does the real style here.
They write what Sundsvall's recorded GetUpdatedArenden reply shows: a decision links the case's incoming documents
(handling status Inkommen) besides its own (Expedierad, or Arbetsmtrl in a draft), and Atom marks its messages
arbetsmaterial.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections import Counter
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from lxml import etree
from werkzeug.wrappers import Request, Response

from brygga.xmlsafe import parse_xml
from brygga_simulators.byggr.flaws import (
    ERROR_PAGE,
    OFF_CONTRACT,
    ErrorPage,
    parse_flaws,
    without_operation,
    without_padded_group,
)
from brygga_simulators.byggr.records import (
    ARENDE_NS,
    ARENDE_ORDER,
    CONTRACT_NS,
    HANDELSE_ORDER,
    STOCKHOLM,
    CaseIndex,
    CaseRecord,
    DocumentRecord,
    HandelseRecord,
    a,
    c,
    local_date,
    norm,
    set_child,
)
from brygga_simulators.byggr.render import REPLY_STYLES, decision_pdf, related_item_tag, render_case
from brygga_simulators.soap_server import XSI, SoapFault, SoapSimulator, append_child, copy_element

DEFAULT_PREFIX = "BN"
SENT_STATUS = "Expedierad"  # a handling's status once it went out
DRAFT_STATUS = "Arbetsmtrl"  # a draft document, as ByggR writes it
INCOMING_STATUS = "Inkommen"
APPLICANT_ROLE = "SOK"
WSDL_FILES: dict[str, Path] = {
    "v8": Path(__file__).with_name("ArendeExportWS.wsdl"),
    "v4": Path(__file__).with_name("ArendeExportWS.v4.wsdl"),
}
FIRST_ASSIGNED_FNR = 22040001
# Reply roots declare the contract namespace with a prefix, not as the default: when a stored element that
# declares its own default namespace (as many clients send it) is renamed and moved under a default-namespace
# parent, lxml points its tag at the parent's declaration, which the element's own default then shadows.
REPLY_NSMAP = {"sc": CONTRACT_NS}
FILE_LINE = 76  # real GetDocument replies wrap base64 in indented lines
MARKER_PREFIX = "brygga-ref:"  # how Brygga marks the handelse it adds (brygga_adapters.byggr.markers)


def _now() -> datetime:
    return datetime.now().astimezone()


def _parse_datetime(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=STOCKHOLM)  # ByggR's local time


class UnknownCase(KeyError):
    """An officer action named a dnr the simulator does not hold (404 over HTTP)."""


def _is_nil(element: etree._Element | None) -> bool:
    return element is None or element.get(f"{{{XSI}}}nil") in ("true", "1")


class ByggrSimulator(SoapSimulator):
    """In-memory ByggR. ``start_simulator(ByggrSimulator(reply_style="real", contract="v4"))`` serves one."""

    name: ClassVar[str] = "byggr"
    wsdl_file: ClassVar[Path] = WSDL_FILES["v8"]
    path: ClassVar[str] = "/TekisArende/ArendeExportWS.svc"
    target_namespace: ClassVar[str] = CONTRACT_NS

    def __init__(
        self, clock: Callable[[], datetime] = _now, reply_style: str = "contract", contract: str = "v8",
        flaws: Collection[str] | str = (),
    ) -> None:
        if reply_style not in REPLY_STYLES:
            raise ValueError(f"reply_style must be one of {', '.join(REPLY_STYLES)}")
        if contract not in WSDL_FILES:
            raise ValueError(f"contract must be one of {', '.join(WSDL_FILES)}")
        super().__init__(wsdl_file=WSDL_FILES[contract])
        self.clock = clock
        self.reply_style = reply_style
        self.contract = contract
        self.flaws = parse_flaws(flaws)
        # Real-style replies are off-contract on purpose; checking them against the WSDL would refuse them all.
        self.validate_responses = reply_style == "contract" and not self.flaws & OFF_CONTRACT
        self._cases: dict[str, CaseRecord] = {}
        self._index = CaseIndex()
        self._documents: dict[str, DocumentRecord] = {}
        self._assigned_fnr: dict[tuple[str, str], str] = {}
        self._sequences: dict[tuple[str, int], itertools.count[int]] = {}
        self._fnr_sequence = itertools.count(FIRST_ASSIGNED_FNR)
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
        if what == "counts":
            return self.counts()
        raise KeyError(what)

    def counts(self) -> dict[str, Any]:
        """What a fault harness counts (``/_sim/counts``): cases per externRef and per marker, documents per case.

        A marker is a handelse's ``anteckning`` that starts with ``brygga-ref:`` (how Brygga finds its handelse
        again; on the v4 contract also its case). ``duplicate_documents`` counts, per case, the documents whose
        content (sha256) the case already held.
        """
        per_marker: Counter[str] = Counter()
        documents: dict[str, int] = {}
        duplicates: dict[str, int] = {}
        with self.lock:
            for case in self._cases.values():
                seen: Counter[str] = Counter()
                for handelse in case.handelser:
                    note = (handelse.anteckning or "").strip()
                    if note.startswith(MARKER_PREFIX):
                        per_marker[note.split()[0]] += 1
                    seen.update(document.sha256 for document in handelse.documents)
                documents[case.dnr] = sum(seen.values())
                duplicates[case.dnr] = sum(n - 1 for n in seen.values())
            return {"cases": len(self._cases), "cases_per_extern_ref": self._index.per_extern_ref(),
                    "cases_per_marker": dict(per_marker), "documents_per_case": documents,
                    "duplicate_documents": duplicates}

    def cases_on_property(
        self, fnr: int | str | None = None, trakt: str | None = None, fbet_nr: str | None = None
    ) -> list[str]:
        """The dnr of the cases on a property (by FNR, or trakt + fbetNr), in registration order."""
        with self.lock:
            return self._index.find(str(fnr) if fnr is not None else None, trakt, fbet_nr)

    def cases_with_extern_ref(self, extern_ref: str) -> list[str]:
        """The dnr of the cases that carry ``extern_ref``, in registration order (more than one is a duplicate)."""
        with self.lock:
            return self._index.with_extern_ref(extern_ref)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self._cases.clear()
            self._index.clear()
            self._documents.clear()
            self._assigned_fnr.clear()
            self._sequences.clear()

    def seed_case(
        self, trakt: str, fbet_nr: str, fnr: int | None = None, prefix: str = DEFAULT_PREFIX,
        officer_start: str | None = None,
    ) -> str:
        """Register a case the way a case officer would, not through Brygga: no externRef, an incoming
        application and an outgoing grannhörande. Returns its dnr.

        ``officer_start`` is the grannhörande's startDatum as written in replies; by default a date, or in the
        real style ``{{now}}`` as in ByggR's recorded replies, which a reader must survive.
        """
        arende = etree.fromstring(
            f'<a:arende xmlns:a="{ARENDE_NS}" xmlns:xsi="{XSI}" arendegrupp="LOV" arendetyp="BL" arendeslag="D">'
            "<a:beskrivning>Bygglov för tillbyggnad</a:beskrivning><a:ankomstDatum>2023-09-06</a:ankomstDatum>"
            '<a:intressentLista><a:intressent arForetag="false"><a:namn>Sökande Exempel</a:namn>'
            "<a:rollLista><a:roll>SOK</a:roll></a:rollLista></a:intressent></a:intressentLista>"
            '<a:objektLista><a:abstractArendeObjekt xsi:type="a:arendeFastighet" arHuvudObjekt="true">'
            "<a:fastighet><a:trakt/><a:fbetNr/></a:fastighet></a:abstractArendeObjekt></a:objektLista></a:arende>"
        )
        fastighet = arende.find(f".//{a('fastighet')}")
        fastighet.find(a("trakt")).text = trakt
        fastighet.find(a("fbetNr")).text = fbet_nr
        if fnr is not None:
            fastighet.set("fnr", str(fnr))
        if officer_start is None:
            officer_start = "{{now}}" if self.reply_style == "real" else self.clock().isoformat()
        with self.lock:
            record = self._register(arende, prefix)
            record.handelser.append(self._new_handelse(_officer_handelse(officer_start), None, "seed"))
        return record.dnr

    # --- operations -------------------------------------------------------------------------------

    def on_SaveNewArende(self, request: etree._Element) -> etree._Element:
        message = request.find(c("message"))
        arende = message.find(c("Arende")) if message is not None else None
        if arende is None:
            raise SoapFault("SaveNewArende: message/Arende is required")
        if "accepts-invalid" not in self.flaws:
            self._check_new_arende(arende)
        with self.lock:
            record = self._register(arende, arende.get("diarieprefix") or DEFAULT_PREFIX)
            handelse = message.find(c("Handelse"))
            if handelse is not None:
                record.handelser.append(
                    self._new_handelse(handelse, message.find(c("Handlingar")), "SaveNewArende")
                )
        response = etree.Element(c("SaveNewArendeResponse"), nsmap=REPLY_NSMAP)
        result = etree.SubElement(response, c("SaveNewArendeResult"))
        if "omits-dnr" not in self.flaws:
            etree.SubElement(result, c("DNr" if "renames-reply-element" in self.flaws else "Dnr")).text = record.dnr
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
            case.touch(self.clock())
        response = etree.Element(c("SaveNewHandelseResponse"), nsmap=REPLY_NSMAP)
        result = etree.SubElement(response, c("SaveNewHandelseResult"))
        etree.SubElement(result, c("HandelseId")).text = str(record.handelse_id)
        return response

    def on_GetArende(self, request: etree._Element) -> etree._Element:
        dnr = (request.findtext(c("dnr")) or "").strip()
        if not dnr:
            raise SoapFault("GetArende: dnr is required")
        response = etree.Element(c("GetArendeResponse"), nsmap=REPLY_NSMAP)
        with self.lock:
            case = self._case_or_fault(dnr, "GetArende")
            append_child(response, render_case(case, c("GetArendeResult"), self.reply_style, "GetArende"))
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
        response = etree.Element(c("GetUpdatedArendenResponse"), nsmap=REPLY_NSMAP)
        result = etree.SubElement(response, c("GetUpdatedArendenResult"))
        etree.SubElement(result, c("BatchStart")).text = self._batch_time(lower)
        etree.SubElement(result, c("BatchEnd")).text = self._batch_time(upper)
        arenden = etree.SubElement(result, c("Arenden"))
        with self.lock:
            for case in self._cases.values():
                if lower < case.updated <= upper:
                    append_child(arenden, render_case(case, c("arende"), self.reply_style, "GetUpdatedArenden"))
        return response

    def on_GetRelateradeArendenByFastighet(self, request: etree._Element) -> etree._Element:
        fnr_element = request.find(c("fnr"))
        fnr = None if _is_nil(fnr_element) else (fnr_element.text or "").strip()
        trakt, fbet_nr = norm(request.findtext(c("trakt"))), norm(request.findtext(c("fBetNr")))
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
            for position, (objekt, fastighet) in enumerate(case.fastigheter()):
                if huvud is not None and (objekt.get("arHuvudObjekt") in ("true", "1")) != huvud:
                    continue
                if fnr and case.fnr(position, fastighet) == fnr:
                    return True
                if trakt and (norm(fastighet.findtext(a("trakt"))), norm(fastighet.findtext(a("fbetNr")))) == (
                    trakt,
                    fbet_nr,
                ):
                    return True
            return False

        response = etree.Element(c("GetRelateradeArendenByFastighetResponse"), nsmap=REPLY_NSMAP)
        result = etree.SubElement(response, c("GetRelateradeArendenByFastighetResult"))
        tag = related_item_tag(self.reply_style, self.contract)
        with self.lock:
            # The index narrows the search to cases on this property; the filters then look at those only.
            for dnr in self._index.find(fnr, trakt, fbet_nr):
                case = self._cases[dnr]
                if matches(case):
                    append_child(result, render_case(case, tag, self.reply_style, "GetRelateradeArendenByFastighet"))
        return response

    def on_GetDocument(self, request: etree._Element) -> etree._Element:
        dok_id = (request.findtext(c("documentId")) or "").strip()
        if not dok_id:
            raise SoapFault("GetDocument: documentId is required")
        include = request.find(c("inkluderaFil"))
        with_file = _is_nil(include) or (include.text or "").strip() in ("true", "1")
        with self.lock:
            document = self._documents.get(dok_id)
        if document is None:
            raise SoapFault("GetDocument: no document with that documentId")
        response = etree.Element(c("GetDocumentResponse"), nsmap=REPLY_NSMAP)
        response.append(self._document_result(document, with_file))
        return response

    # --- a case officer's actions (tests, demos; POST /_sim/officer) ---------------------------------

    def assign_handler(
        self, dnr: str, handlaggare_id: int = 1602, signatur: str = "hand01",
        fornamn: str = "Hedda", efternamn: str = "Handläggarsson",
    ) -> dict[str, Any]:
        """Assign a case officer (the arende's ``handlaggare``). The name is fictional, and a reader must keep it out
        of everything it logs or reports."""
        if isinstance(handlaggare_id, bool) or not isinstance(handlaggare_id, int) or handlaggare_id < 1:
            raise ValueError("handlaggare_id must be a positive integer")
        if not signatur.strip():
            raise ValueError("signatur must not be empty")
        with self.lock:
            case = self._officer_case(dnr)
            handlaggare = set_child(case.element, "handlaggare", ARENDE_ORDER)
            handlaggare.set("handlaggareId", str(handlaggare_id))
            handlaggare.set("signatur", signatur)
            etree.SubElement(handlaggare, a("fornamn")).text = fornamn
            etree.SubElement(handlaggare, a("efternamn")).text = efternamn
            case.touch(self.clock())
        return {"dnr": dnr, "handlaggareId": handlaggare_id}

    def add_handelse(
        self, dnr: str, *, handelsetyp: str, handelseslag: str | None = None, rubrik: str, riktning: str = "Ut",
        handelseutfall: str | None = None, document: tuple[str, bytes] | None = None,
    ) -> dict[str, Any]:
        """Add a handelse as a case officer does, with one document if given (GetDocument serves it by dokId)."""
        return self._officer_adds(
            dnr, handelsetyp=handelsetyp, handelseslag=handelseslag, rubrik=rubrik, riktning=riktning,
            handelseutfall=handelseutfall, document=document,
            handling_status=SENT_STATUS if riktning == "Ut" else INCOMING_STATUS)

    def request_supplement(self, dnr: str) -> dict[str, Any]:
        """A kompletteringsföreläggande sent, as ByggR's Atom records it (handelseutfall Kv11): riktning Okänd and
        arbetsmaterial, as in the recorded reply, although the letter went out."""
        return self._officer_adds(dnr, handelsetyp="Atom", handelseslag="Kv", handelseutfall="Kv11",
                                  rubrik="Kompletteringsföreläggande - skickat", riktning="Okänd", arbetsmaterial=True)

    def decide(
        self, dnr: str, rubrik: str = "Beslut om bygglov", handelseslag: str = "GAAC",
        document: tuple[str, bytes] | None = None, *, draft: bool = False, secret: bool = False,
    ) -> dict[str, Any]:
        """A decision (handelsetyp BESLUT) with its document; by default a small generated PDF, Beslut.pdf.

        As in ByggR, the decision also links the case's incoming documents (status Inkommen), and its own document
        is Expedierad. ``draft``: the handelse is arbetsmaterial and its document Arbetsmtrl, until ``send_out``.
        ``secret``: the handelse is sekretess. The answer's dokId is the decision document's."""
        if document is None:
            document = ("Beslut.pdf", decision_pdf(dnr, rubrik, local_date(self.clock())))
        return self._officer_adds(dnr, handelsetyp="BESLUT", handelseslag=handelseslag, rubrik=rubrik,
                                  riktning="Ut", document=document, arbetsmaterial=draft, sekretess=secret,
                                  handling_status=DRAFT_STATUS if draft else SENT_STATUS, link_incoming=True)

    def send_out(self, dnr: str, handelse_id: int) -> dict[str, Any]:
        """Make a draft final (expediera): the handelse is no longer arbetsmaterial, its Arbetsmtrl documents
        Expedierad. ByggR reports the same handelseId again."""
        with self.lock:
            case = self._officer_case(dnr)
            record = next((h for h in case.handelser if h.handelse_id == handelse_id), None)
            if record is None:
                raise ValueError(f"arende {dnr!r} has no handelse {handelse_id}")
            flag = record.element.find(a("arbetsmaterial"))
            if flag is None or (flag.text or "").strip() not in ("true", "1"):
                raise ValueError(f"handelse {handelse_id} is no draft (arbetsmaterial)")
            flag.text = "false"
            for status in record.element.iterfind(f"{a('handlingLista')}/{a('handling')}/{a('status')}"):
                if status.text == DRAFT_STATUS:
                    status.text = SENT_STATUS
            case.touch(self.clock())
        return {"dnr": dnr, "handelseId": handelse_id}

    def _officer_adds(
        self, dnr: str, *, handelsetyp: str, handelseslag: str | None, rubrik: str, riktning: str,
        handelseutfall: str | None = None, document: tuple[str, bytes] | None = None, handling_status: str = "",
        arbetsmaterial: bool = False, sekretess: bool = False, link_incoming: bool = False,
    ) -> dict[str, Any]:
        if riktning not in ("In", "Ut", "Okänd"):
            raise ValueError("riktning must be In, Ut or Okänd")
        if not handelsetyp.strip() or not rubrik.strip():
            raise ValueError("handelsetyp and rubrik must not be empty")
        if document is not None:
            name, content = document
            if not name.strip() or "/" in name or "\\" in name:
                raise ValueError("the document needs a file name (no folders)")
            if not content:
                raise ValueError("the document has no content")
        with self.lock:
            case = self._officer_case(dnr)
            now = self.clock()
            signatur = case.element.find(a("handlaggare"))
            element = _officer_event(
                now, riktning=riktning, rubrik=rubrik, handelsetyp=handelsetyp, handelseslag=handelseslag,
                handelseutfall=handelseutfall, arbetsmaterial=arbetsmaterial, sekretess=sekretess,
                signatur=signatur.get("signatur", "SYSTEM") if signatur is not None else "SYSTEM",
            )
            handlingar = None if document is None else _officer_handlingar(
                now, rubrik, document, typ="BESLUT" if handelsetyp == "BESLUT" else "BIL", status=handling_status)
            linked = _incoming_handlingar(case) if link_incoming else []
            record = self._new_handelse(element, handlingar, "officer")
            if linked:
                # Linked, not added: the same handlingId and dokId as where they came in; no new document record.
                lista = record.element.find(a("handlingLista"))
                if lista is None:
                    lista = set_child(record.element, "handlingLista", HANDELSE_ORDER)
                for position, handling in enumerate(linked):
                    lista.insert(position, handling)
            case.handelser.append(record)
            case.touch(now)
        return {"dnr": dnr, "handelseId": record.handelse_id,
                "dokId": record.documents[0].dok_id if record.documents else None}

    def close(self, dnr: str) -> dict[str, Any]:
        """Close the case: status Avslutat, slutDatum today."""
        return self._end(dnr, "Avslutat")

    def withdraw(self, dnr: str) -> dict[str, Any]:
        """Cancel the case: status Makulerat, slutDatum today (and makulerDatum where the contract has it)."""
        return self._end(dnr, "Makulerat")

    def _end(self, dnr: str, status: str) -> dict[str, Any]:
        with self.lock:
            case = self._officer_case(dnr)
            if case.status != "Pågående":
                raise ValueError(f"arende {dnr!r} is {case.status}, not Pågående")
            now = self.clock()
            set_child(case.element, "status", ARENDE_ORDER).text = status
            set_child(case.element, "slutDatum", ARENDE_ORDER).text = local_date(now)
            if status == "Makulerat" and self.contract != "v4":  # v4 has no makulerDatum
                set_child(case.element, "makulerDatum", ARENDE_ORDER).text = local_date(now)
            case.touch(now)
        return {"dnr": dnr, "status": status}

    def _officer_case(self, dnr: str) -> CaseRecord:
        case = self._cases.get((dnr or "").strip())
        if case is None:
            raise UnknownCase(f"no arende with dnr {dnr!r}")
        return case

    def officer_action(self, body: Any) -> dict[str, Any]:
        """One action from ``POST /_sim/officer``'s JSON; ValueError (400) or UnknownCase (404) when it cannot be."""
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object with 'action' and 'dnr'")
        action, dnr = body.get("action"), body.get("dnr")
        if action not in OFFICER_ARGS:
            raise ValueError(f"'action' must be one of {', '.join(OFFICER_ARGS)}")
        if not isinstance(dnr, str) or not dnr.strip():
            raise ValueError("'dnr' must be the case's diarienummer")
        args = {key: value for key, value in body.items() if key not in ("action", "dnr")}
        unknown = sorted(set(args) - OFFICER_ARGS[action])
        if unknown:
            raise ValueError(f"{action} takes no {', '.join(unknown)}")
        for key, value in args.items():
            if key in ("handlaggare_id", "handelse_id"):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"{key!r} must be an integer")
            elif key in ("draft", "secret"):
                if not isinstance(value, bool):
                    raise ValueError(f"{key!r} must be true or false")
            elif key == "document":
                args[key] = _json_document(value)
            elif not isinstance(value, str) and not (value is None and key in ("handelseslag", "handelseutfall")):
                raise ValueError(f"{key!r} must be a string")
        if action == "add_handelse" and not {"handelsetyp", "rubrik"} <= set(args):
            raise ValueError("add_handelse needs 'handelsetyp' and 'rubrik'")
        if action == "send_out" and "handelse_id" not in args:
            raise ValueError("send_out needs 'handelse_id'")
        return getattr(self, action)(dnr, **args)

    def _respond(self, request: Request) -> Response:
        if request.path.rstrip("/") == "/_sim/officer":
            return self._officer_endpoint(request)
        try:
            return super()._respond(request)
        except ErrorPage:
            return Response(ERROR_PAGE, status=500, mimetype="text/html")

    # --- flaws (flaws.py); without any, each of these is the base's behaviour ---------------------

    def perform(self, payload: etree._Element, operation: str) -> etree._Element:
        try:
            return super().perform(payload, operation)
        except SoapFault as fault:
            if fault.faultcode != "Client":
                raise
            if "no-fault-500" in self.flaws:
                raise ErrorPage() from None
            if "server-fault" in self.flaws:
                raise SoapFault(fault.faultstring, faultcode="Server") from None
            raise

    def check_schema(self, payload: etree._Element, operation: str) -> None:
        if operation == "SaveNewArende" and "accepts-invalid" in self.flaws:
            return
        super().check_schema(payload, operation)

    def served_wsdl(self, url: str) -> bytes:
        served = super().served_wsdl(url)
        if "wsdl-without-get-document" not in self.flaws:
            return served
        definitions = parse_xml(served, source="simulator WSDL")
        without_operation(definitions, "GetDocument")
        return etree.tostring(definitions, xml_declaration=True, encoding="utf-8")

    def _officer_endpoint(self, request: Request) -> Response:
        if request.method != "POST":
            return Response("POST a JSON officer action", status=405, mimetype="text/plain", headers={"Allow": "POST"})
        try:
            body = json.loads(request.get_data(cache=False) or b"null")
            result = self.officer_action(body)
        except UnknownCase as exc:
            return Response(str(exc.args[0]), status=404, mimetype="text/plain")
        except ValueError as exc:  # json.JSONDecodeError is one
            message = f"the body is not JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            return Response(message, status=400, mimetype="text/plain")
        return Response(json.dumps(result, ensure_ascii=False), mimetype="application/json")

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

    def _register(self, arende: etree._Element, prefix: str) -> CaseRecord:
        """Store a new case (the caller holds the lock): dnr, ids, status and dates set, property indexed."""
        now = self.clock()
        dnr = self._next_dnr(prefix, now.year)
        element = copy_element(arende)
        element.tag = a("arende")
        if "ignores-extern-ref" in self.flaws:
            for extern_ref in element.findall(a("externRef")):
                element.remove(extern_ref)
        record = CaseRecord(dnr=dnr, arende_id=next(self._arende_ids), element=element, updated=now)
        element.set("dnr", dnr)
        element.set("arendeId", str(record.arende_id))
        set_child(element, "status", ARENDE_ORDER).text = "Pågående"
        set_child(element, "uppdateradDatum", ARENDE_ORDER).text = local_date(now)
        set_child(element, "registreradDatum", ARENDE_ORDER).text = local_date(now)
        if self.reply_style == "real":
            self._assign_fnr(record)
        self._cases[dnr] = record
        self._index.add(record)
        return record

    def _assign_fnr(self, record: CaseRecord) -> None:
        # ByggR resolves a designation against its property register; the same designation, the same FNR.
        for position, (_, fastighet) in enumerate(record.fastigheter()):
            designation = (norm(fastighet.findtext(a("trakt"))), norm(fastighet.findtext(a("fbetNr"))))
            if fastighet.get("fnr") or not all(designation):
                continue
            if designation not in self._assigned_fnr:
                self._assigned_fnr[designation] = str(next(self._fnr_sequence))
            record.resolved_fnr[position] = self._assigned_fnr[designation]

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
        if "drops-anteckning" in self.flaws and operation in ("SaveNewArende", "SaveNewHandelse"):
            for anteckning in element.findall(a("anteckning")):
                element.remove(anteckning)
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
        fil = dokument.find(a("fil")) if dokument is not None else None
        buffer = fil.findtext(a("filBuffer")) if fil is not None else None
        if not name:
            raise SoapFault(f"{where}/dokument/namn is required")
        if not buffer or not buffer.strip():
            raise SoapFault(f"{where}/dokument/fil/filBuffer is required")
        try:
            content = base64.b64decode("".join(buffer.split()), validate=True)
        except (binascii.Error, ValueError):
            raise SoapFault(f"{where}/dokument/fil/filBuffer is not valid base64") from None
        if "truncates-documents" in self.flaws:
            content = without_padded_group(buffer)
        record = DocumentRecord(
            handling_id=next(self._handling_ids),
            dok_id=str(next(self._dok_ids)),
            name=name,
            content=content,
            extension=fil.get("filAndelse") if fil is not None else None,
            description=dokument.findtext(a("beskrivning")),
            created=self.clock(),
        )
        # Like ByggR's GetArende, answers carry document metadata only; the bytes stay in the record.
        dokument.remove(fil)
        stored = copy_element(handling)
        dokument.append(fil)  # the request is left as it came (captured_requests keeps the raw bytes anyway)
        stored.tag = a("handling")
        stored.set("handlingId", str(record.handling_id))
        stored.find(a("dokument")).set("dokId", record.dok_id)
        append_child(lista, stored)
        self._documents[record.dok_id] = record
        return record

    def _batch_time(self, moment: datetime) -> str:
        # Real ByggR writes batch bounds in its local (Swedish) time without an offset.
        if self.reply_style == "real":
            return moment.astimezone(STOCKHOLM).replace(tzinfo=None).isoformat(timespec="seconds")
        return moment.isoformat()

    def _document_result(self, document: DocumentRecord, with_file: bool) -> etree._Element:
        result = etree.Element(c("GetDocumentResult"), nsmap={"a": ARENDE_NS})
        result.set("dokId", document.dok_id)
        etree.SubElement(result, a("namn")).text = document.name
        if document.description:
            etree.SubElement(result, a("beskrivning")).text = document.description
        if document.created is not None:
            etree.SubElement(result, a("skapadDatum")).text = document.created.isoformat(timespec="seconds")
        if self.reply_style == "real":
            result.set("checksum", "-1465822860")
            etree.SubElement(result, a("handlaggare"), handlaggareId="60", signatur="SYSTEM")
        if with_file:
            fil = etree.SubElement(result, a("fil"))
            if document.extension:
                fil.set("filAndelse", document.extension)
            etree.SubElement(fil, a("filBuffer")).text = self._file_text(document.content)
        return result

    def _file_text(self, content: bytes) -> str:
        encoded = base64.b64encode(content).decode("ascii")
        if self.reply_style != "real":
            return encoded
        lines = (encoded[start : start + FILE_LINE] for start in range(0, len(encoded), FILE_LINE))
        return "\n\t\t\t\t\t\t" + "\n\t\t\t\t\t\t".join(lines) + "\n\t\t\t\t\t"


def _officer_handelse(start: str) -> etree._Element:
    handelse = etree.fromstring(
        f'<a:handelse xmlns:a="{ARENDE_NS}"><a:riktning>Ut</a:riktning><a:rubrik>Grannhörande</a:rubrik>'
        "<a:startDatum/><a:anteckning>Underrättelse om ansökan. Svar kan lämnas via e-tjänst.</a:anteckning>"
        "<a:handelseslag>GRAUTS</a:handelseslag><a:handelsetyp>GRANHO</a:handelsetyp>"
        "<a:sekretess>false</a:sekretess><a:makulerad>false</a:makulerad>"
        "<a:arbetsmaterial>false</a:arbetsmaterial></a:handelse>"
    )
    handelse.find(a("startDatum")).text = start
    return handelse


# Arguments each officer action takes over HTTP besides action and dnr.
OFFICER_ARGS: dict[str, set[str]] = {
    "assign_handler": {"handlaggare_id", "signatur", "fornamn", "efternamn"},
    "add_handelse": {"handelsetyp", "handelseslag", "rubrik", "riktning", "handelseutfall", "document"},
    "request_supplement": set(),
    "decide": {"rubrik", "handelseslag", "document", "draft", "secret"},
    "send_out": {"handelse_id"},
    "close": set(),
    "withdraw": set(),
}


def _json_document(value: Any) -> tuple[str, bytes]:
    if not isinstance(value, dict) or set(value) != {"name", "content_base64"}:
        raise ValueError("'document' must be {\"name\": ..., \"content_base64\": ...}")
    name, encoded = value["name"], value["content_base64"]
    if not isinstance(name, str) or not isinstance(encoded, str):
        raise ValueError("'document.name' and 'document.content_base64' must be strings")
    try:
        return name, base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("'document.content_base64' is not valid base64") from None


def _officer_event(
    now: datetime, *, riktning: str, rubrik: str, handelsetyp: str, handelseslag: str | None,
    handelseutfall: str | None, signatur: str, arbetsmaterial: bool = False, sekretess: bool = False,
) -> etree._Element:
    """A handelse as an officer's ByggR client writes it, children in schema order."""
    handelse = etree.Element(a("handelse"), nsmap={"a": ARENDE_NS})
    values = {
        "riktning": riktning, "rubrik": rubrik,
        "startDatum": now.astimezone(STOCKHOLM).isoformat(timespec="seconds"),
        "handelseslag": handelseslag, "handelsetyp": handelsetyp, "handelseutfall": handelseutfall,
        "sekretess": str(sekretess).lower(), "makulerad": "false", "arbetsmaterial": str(arbetsmaterial).lower(),
    }
    for name in HANDELSE_ORDER:
        if values.get(name) is not None:
            etree.SubElement(handelse, a(name)).text = values[name]
    etree.SubElement(handelse, a("handlaggare"), signatur=signatur)
    return handelse


def _incoming_handlingar(case: CaseRecord) -> list[etree._Element]:
    """Copies of the case's incoming handlingar (status Inkommen, not makulerad), each once, oldest first: what a
    ByggR decision links besides its own document."""
    seen: set[str] = set()
    found = []
    for handelse in case.handelser:
        for handling in handelse.element.iterfind(f"{a('handlingLista')}/{a('handling')}"):
            handling_id = handling.get("handlingId", "")
            if ((handling.findtext(a("status")) or "").strip() != INCOMING_STATUS or handling_id in seen
                    or (handling.findtext(a("makulerad")) or "").strip() in ("true", "1")):
                continue
            seen.add(handling_id)
            found.append(copy_element(handling))
    return found


def _officer_handlingar(
    now: datetime, rubrik: str, document: tuple[str, bytes], *, typ: str, status: str
) -> etree._Element:
    """The Handlingar part of a SaveNewHandelse carrying one outgoing document, for ``_new_handelse`` to store."""
    name, content = document
    handlingar = etree.Element(c("Handlingar"), nsmap={"sc": CONTRACT_NS, "a": ARENDE_NS})
    handling = etree.SubElement(handlingar, c("handling"), handlingId="0")
    for tag, text in (("typ", typ), ("status", status), ("handlingDatum", local_date(now)),
                      ("anteckning", name), ("makulerad", "false")):
        etree.SubElement(handling, a(tag)).text = text
    dokument = etree.SubElement(handling, a("dokument"))
    etree.SubElement(dokument, a("namn")).text = name
    etree.SubElement(dokument, a("beskrivning")).text = rubrik
    fil = etree.SubElement(dokument, a("fil"))
    extension = Path(name).suffix.lstrip(".").lower()
    if extension:
        fil.set("filAndelse", extension)
    etree.SubElement(fil, a("filBuffer")).text = base64.b64encode(content).decode("ascii")
    return handlingar
