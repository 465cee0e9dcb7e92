"""ByggR as a status feed: what happened to its cases (GetUpdatedArenden), and their documents (GetDocument).

Each arende the batch reports gives its changes, each with an id that is stable in ByggR, so the core records each
change once however often ByggR reports the case again:

- ``handelse:<handelseId>`` for each handelse that is not makulerad, at its ``startDatum``, with its codes
  (handelsetyp, handelseslag, handelseutfall, riktning), rubrik, and ``sekretess``/``arbetsmaterial`` ("true" or
  "false", where ByggR writes them) as facts. While the handelse is arbetsmaterial (a draft) its id is
  ``handelse:<handelseId>:arbetsmaterial``: the same handelse made final is a change of its own, not one already
  recorded (and perhaps ignored as a draft);
- ``handlaggare:<handlaggareId>`` once a case officer is assigned, at the day of ``uppdateradDatum``;
- ``status:<status>`` once the case is no longer Pågående (Avslutat, Makulerat...), at the day it ended.

A handelse's documents are its handlingar that went out (status Expedierad), not makulerad and not secret; none
for a secret handelse or a draft. Not the others a ByggR decision links: the case's incoming documents (Inkommen),
which the resident sent, and a draft of the decision document (Arbetsmtrl). This holds for every handelse: which
one is a decision is the vocabulary's choice, and only a decision's documents are fetched.

An arende without dnr, or a handelse without a numeric handelseId, is skipped: logged by its place in the reply
(never a value) and counted in ``facts_seen["unreadable"]``, so one such item does not hold back every other case.

Facts never carry personal data: no intressent, no officer's name or signatur, no anteckning (officers write
names and e-mail addresses there). ByggR writes times in Swedish local time, often without an offset; such a time
is read as Europe/Stockholm. A date alone (uppdateradDatum, slutDatum) is that day's 00:00 there.

A document is fetched whole with its file (GetDocument, inkluderaFil) and refused over ``MAX_DOCUMENT_BYTES``. Its
reply is read with ``brygga.xmlread``, which decodes the base64 as it streams by, so a document over libxml2's 10 MB
text limit reads as well as a small one. The fetch uses a SOAP client of its own whose reply limit fits a document
of that size; every other call keeps the shared client and its limit.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from zeep import xsd

from brygga.blobs import BLOB_ERROR, BLOB_SHA256, BLOB_SIZE
from brygga.connections import Connection
from brygga.errors import BryggaError, ConfigError, TargetRejected
from brygga.status.changes import CaseChange, ChangeBatch, DocumentRef, FetchedDocument
from brygga.xmlread import read_xml
from brygga.xmlsafe import UnsafeOrMalformedXml
from brygga_adapters.byggr.contracts import DEFAULT_CONTRACT
from brygga_adapters.byggr.replies import UnreadableReply, attr, is_nil
from brygga_adapters.soap import SoapService, map_soap_error, soap_service
from brygga_adapters.soap.elements import check_root, child, child_text, children, local_name, operation_result
from brygga_adapters.soap.errors import ReplyTooLarge
from brygga_adapters.soap.raw import call_raw, reply_payload

log = logging.getLogger("brygga.adapters.byggr.status")

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UPDATED = "GetUpdatedArenden"
GET_DOCUMENT = "GetDocument"
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
# The reply that carries such a document: its base64 (4/3 of it) and the envelope around it.
_MAX_DOCUMENT_REPLY_BYTES = MAX_DOCUMENT_BYTES * 4 // 3 + 2 * 1024 * 1024
ONGOING = "Pågående"
HANDELSE_FACTS = ("handelsetyp", "handelseslag", "handelseutfall", "riktning", "rubrik")
FLAG_FACTS = ("sekretess", "arbetsmaterial")  # xs:boolean in ByggR; facts "true" or "false"
DRAFT = "arbetsmaterial"
SENT_OUT = "expedierad"  # a handling's status once it went out: the only documents a change lists
UNREADABLE = "unreadable"  # facts_seen: items of the reply skipped as unreadable
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "odt": "application/vnd.oasis.opendocument.text",
    "txt": "text/plain",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "tif": "image/tiff",
    "tiff": "image/tiff",
}
OCTET_STREAM = "application/octet-stream"
# A handling's anteckning is a file name when an e-service uploaded it ("8902.pdf"); an officer's note otherwise.
_FILE_NAME = re.compile(
    r"[^\r\n/\\]{0,200}\.(?:pdf|docx?|odt|ods|txt|rtf|jpe?g|png|tiff?|gif|heic|xlsx?|dwg|eml|msg|zip)",
    re.IGNORECASE,
)


class ByggrStatusFeed:
    """``StatusFeed`` over ArendeExportWS. ``service`` gives the SOAP client for GetUpdatedArenden (ByggrTarget
    passes its own, which checks the contract version); by default the connection's shared client."""

    def __init__(
        self, connection: Connection, contract: str = DEFAULT_CONTRACT,
        service: Callable[[], SoapService] | None = None,
    ) -> None:
        self.connection = connection
        self.contract = contract
        self._service = service or (lambda: soap_service(connection))
        self._document_service: SoapService | None = None
        self._lock = threading.Lock()

    def changes(self, since: datetime) -> ChangeBatch:
        service = self._service()
        self._require(service, UPDATED)
        lower = _aware(since).astimezone(STOCKHOLM)  # ByggR's own time zone, with its offset
        payload = call_raw(service, UPDATED, filter={"LowerExclusiveBound": lower, "UpperInclusiveBound": xsd.Nil})
        batch = changes_from_reply(payload)
        log.info("byggr status feed: connection=%s cases=%d changes=%d unreadable=%d until=%s",
                 self.connection.conn_id, len({change.case_ref for change in batch.changes}), len(batch.changes),
                 batch.facts_seen.get(UNREADABLE, 0), batch.until.isoformat())
        return batch

    def fetch_document(self, document: DocumentRef) -> FetchedDocument:
        dok_id = document.id
        service = self._documents()
        self._require(service, GET_DOCUMENT)
        where = f"{service.name}.{GET_DOCUMENT}"
        try:
            with service.client.settings(raw_response=True):
                response = service.proxy.GetDocument(documentId=dok_id, inkluderaFil=True)
            if response.status_code != 200:
                reply_payload(response.status_code, response.content, where)  # raises: a fault or an HTTP error
        except BryggaError:
            raise
        except ReplyTooLarge:
            raise _too_large(dok_id) from None
        except Exception as exc:
            log.info("soap call failed: service=%s operation=%s error=%s", service.name, GET_DOCUMENT,
                     type(exc).__name__)
            raise map_soap_error(service.name, GET_DOCUMENT, exc) from None
        return document_from_reply(response.content, dok_id)

    # --- helpers ----------------------------------------------------------------------------------------

    def _documents(self) -> SoapService:
        # A client of its own: the shared one stops reading a reply at 50 MB of XML, less than such a document.
        with self._lock:
            if self._document_service is None:
                service = SoapService(self.connection)
                service.transport.max_reply_bytes = _MAX_DOCUMENT_REPLY_BYTES
                self._document_service = service
            return self._document_service

    def _require(self, service: SoapService, operation: str) -> None:
        operations = getattr(getattr(service.proxy, "_binding", None), "_operations", None) or {}
        if operation not in operations:
            raise ConfigError(
                f"connection {self.connection.conn_id!r}: the ByggR contract {self.contract} it serves has no "
                f"{operation}, which the status feed needs (config 'contract', or the installation's WSDL)"
            )


# --- GetUpdatedArenden -----------------------------------------------------------------------------------


def changes_from_reply(payload: etree._Element) -> ChangeBatch:
    """The changes in a ``GetUpdatedArendenResponse`` payload, oldest first; ``until`` is its BatchEnd."""
    result = operation_result(payload, UPDATED, unreadable=UnreadableReply)
    if result is None:
        raise UnreadableReply(f"{UPDATED} reply has no {UPDATED}Result")
    until = _moment(child_text(result, "BatchEnd"))
    if until is None:
        raise UnreadableReply(f"{UPDATED} reply has no readable BatchEnd")
    arenden = child(result, "Arenden")
    changes: list[CaseChange] = []
    unreadable = Counter[str]()
    for index, arende in enumerate(children(arenden, "arende") if arenden is not None else []):
        if not is_nil(arende):
            changes += sorted(_arende_changes(arende, index, until, unreadable), key=_order)
    changes.sort(key=lambda change: change.occurred_at)  # stable: a case's own order is kept within a moment
    seen = Counter(_fact_key(change.facts) for change in changes)
    if unreadable:
        seen[UNREADABLE] = unreadable.total()
    return ChangeBatch(changes=changes, until=until, facts_seen=dict(sorted(seen.items())))


def _order(change: CaseChange) -> tuple[datetime, str, int, int, str]:
    """By time, then by id: ``handelse:99999`` before ``handelse:100000`` (numerically, not as text)."""
    kind, _, rest = change.change_id.partition(":")
    number, _, suffix = rest.partition(":")
    if number.isdigit():
        return change.occurred_at, kind, 0, int(number), suffix
    return change.occurred_at, kind, 1, 0, rest


def _arende_changes(arende: etree._Element, index: int, batch_end: datetime,
                    unreadable: Counter[str]) -> Iterator[CaseChange]:
    dnr = attr(arende, "dnr") or child_text(arende, "dnr")
    if not dnr:
        unreadable["arende"] += 1
        log.warning("byggr status feed: arende %d of the %s reply has no dnr (arende/@dnr); it is skipped",
                    index, UPDATED)
        return
    extern_ref = child_text(arende, "externRef")
    updated_day = _day(child_text(arende, "uppdateradDatum"))

    def change(change_id: str, occurred_at: datetime, facts: dict[str, str],
               documents: tuple[DocumentRef, ...] = ()) -> CaseChange:
        return CaseChange(case_ref=dnr, change_id=change_id, occurred_at=occurred_at, facts=facts,
                          extern_ref=extern_ref, documents=documents)

    lista = child(arende, "handelseLista")
    for place, handelse in enumerate(children(lista, "handelse") if lista is not None else []):
        handelse_id = attr(handelse, "handelseId")
        if _flag(child_text(handelse, "makulerad")):
            continue
        if not handelse_id or not handelse_id.isdigit():
            unreadable["handelse"] += 1
            log.warning("byggr status feed: dnr=%s handelse %d has no numeric handelseId (handelse/@handelseId); "
                        "it is skipped", dnr, place)
            continue
        facts = {"change": "handelse"}
        for name in HANDELSE_FACTS:
            value = " ".join((child_text(handelse, name) or "").split())
            if value:
                facts[name] = value
        for name in FLAG_FACTS:
            flag = _boolean(child_text(handelse, name))
            if flag is not None:
                facts[name] = flag
        draft = facts.get(DRAFT) == "true"
        withheld = draft or facts.get("sekretess") == "true"  # a secret handelse's documents are never listed
        # A handelse whose startDatum is no date (ByggR has written "{{now}}") counts from the case's last update.
        occurred_at = _moment(child_text(handelse, "startDatum")) or updated_day or batch_end
        change_id = f"handelse:{handelse_id}:{DRAFT}" if draft else f"handelse:{handelse_id}"
        yield change(change_id, occurred_at, facts, () if withheld else tuple(_documents(handelse)))

    handlaggare = child(arende, "handlaggare")
    handlaggare_id = (attr(handlaggare, "handlaggareId") or "") if handlaggare is not None else ""
    if handlaggare_id not in ("", "-1"):
        yield change(f"handlaggare:{handlaggare_id}", updated_day or batch_end, {"change": "handlaggare"})

    status = " ".join((child_text(arende, "status") or "").split())
    if status and status != ONGOING:
        ended = next((d for d in map(_day, (child_text(arende, n) for n in ("slutDatum", "makulerDatum"))) if d), None)
        yield change(f"status:{status}", ended or updated_day or batch_end, {"change": "status", "status": status})


def _documents(handelse: etree._Element) -> Iterator[DocumentRef]:
    """The documents that went out with the handelse: handlingar with status Expedierad, neither makulerad nor
    secret (``sekretess`` is no part of the contract's handling; some installations write it)."""
    lista = child(handelse, "handlingLista")
    seen: set[str] = set()
    for handling in children(lista, "handling") if lista is not None else []:
        status = " ".join((child_text(handling, "status") or "").split()).casefold()
        if status != SENT_OUT or _flag(child_text(handling, "makulerad")) or _flag(child_text(handling, "sekretess")):
            continue
        note = child_text(handling, "anteckning")
        name = note if note and _FILE_NAME.fullmatch(note) else None
        for dokument in children(handling, "dokument"):
            dok_id = attr(dokument, "dokId")
            if dok_id and dok_id not in seen:
                seen.add(dok_id)
                yield DocumentRef(id=dok_id, name=name)


def _fact_key(facts: Any) -> str:
    # Codes only (no rubrik): what an admin needs to write a vocabulary, counted for the run's log.
    return " ".join(f"{k}={facts[k]}" for k in ("change", "handelsetyp", "handelseslag", "handelseutfall", "status")
                    if k in facts)


# --- GetDocument -----------------------------------------------------------------------------------------


class _MemorySink:
    """Decoded files by sha256 (``brygga.blobs.BlobSink``): a fetched document is handed on as bytes."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def writer(self) -> _MemoryWriter:
        return _MemoryWriter(self.blobs)


class _MemoryWriter:
    def __init__(self, blobs: dict[str, bytes]) -> None:
        self._blobs = blobs
        self._chunks: list[bytes] = []

    def write(self, chunk: bytes) -> None:
        self._chunks.append(chunk)

    def commit(self) -> tuple[str, object]:
        content = b"".join(self._chunks)
        sha256 = hashlib.sha256(content).hexdigest()
        self._blobs[sha256] = content
        return sha256, None

    def abort(self) -> None:
        self._chunks.clear()


def document_from_reply(content: bytes, dok_id: str) -> FetchedDocument:
    """The first document of a raw GetDocument reply (the whole SOAP envelope), its file decoded."""
    sink = _MemorySink()
    where = f"{GET_DOCUMENT} reply for document {dok_id}"
    try:
        envelope = read_xml(content, sink=sink, binary_names={"filBuffer"},
                            max_attachment_bytes=_MAX_DOCUMENT_REPLY_BYTES, source_name=where)
    except UnsafeOrMalformedXml as exc:
        raise UnreadableReply(str(exc)) from None
    body = next((e for e in envelope if local_name(e) == "body"), None)
    payload = next((e for e in body if isinstance(e.tag, str)), None) if body is not None else None
    if payload is None:
        raise UnreadableReply(f"{where}: the SOAP Body is empty")
    check_root(payload, GET_DOCUMENT, unreadable=UnreadableReply)
    result = next((r for r in children(payload, "GetDocumentResult") if not is_nil(r)), None)
    fil = child(result, "fil") if result is not None else None
    buffer = child(fil, "filBuffer") if fil is not None else None
    if buffer is None:
        raise UnreadableReply(f"{where}: no GetDocumentResult with a file (fil/filBuffer)")
    error = buffer.get(BLOB_ERROR)
    if error is not None:
        raise _blob_problem(error, dok_id, where)
    if int(buffer.get(BLOB_SIZE) or 0) > MAX_DOCUMENT_BYTES:
        raise _too_large(dok_id)
    data = sink.blobs[buffer.get(BLOB_SHA256, "")]
    extension = (attr(fil, "filAndelse") or "").lstrip(".").lower()
    name = " ".join((child_text(result, "namn") or "").split()).replace("\\", "/").rpartition("/")[2]
    if not name:
        name = f"{dok_id}.{extension}" if extension else dok_id
    if not extension and "." in name:
        extension = name.rpartition(".")[2].lower()
    return FetchedDocument(name=name, media_type=MEDIA_TYPES.get(extension, OCTET_STREAM), content=data)


def _blob_problem(error: str, dok_id: str, where: str) -> TargetRejected:
    # brygga.blobs.Base64Decoder's reasons: over the size limit, no content, or not base64.
    if "over" in error and "limit" in error:
        return _too_large(dok_id)
    if error.startswith("File has no"):
        return UnreadableReply(f"{where}: the file (filBuffer) is empty")
    return UnreadableReply(f"{where}: filBuffer is not valid base64")


def _too_large(dok_id: str) -> TargetRejected:
    return TargetRejected(f"byggr document {dok_id} is over the limit of {MAX_DOCUMENT_BYTES} bytes; not fetched")


# --- values ----------------------------------------------------------------------------------------------


def _flag(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1")


def _boolean(text: str | None) -> str | None:
    """An xs:boolean as the fact "true" or "false"; None when absent or no boolean."""
    value = (text or "").strip().lower()
    return "true" if value in ("true", "1") else "false" if value in ("false", "0") else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=STOCKHOLM)


def _moment(text: str | None) -> datetime | None:
    """An xs:dateTime as .NET writes it (up to 7 fraction digits, offset or none); None when it is no time."""
    if not text:
        return None
    try:
        return _aware(datetime.fromisoformat(text.strip()))
    except ValueError:
        return None


def _day(text: str | None) -> datetime | None:
    """An xs:date (``2021-12-16``, perhaps with an offset) as 00:00 that day in Stockholm; None when no date."""
    try:
        return datetime.combine(date.fromisoformat((text or "").strip()[:10]), time(), STOCKHOLM)
    except ValueError:
        return None
