"""Reading a delivered case back through the contract: its documents (GetArende, then GetDocument by dokId, its file
read as a stream whatever its size: soap_documents.py), and the cases a search finds for a submission
(GetRelateradeArendenByFastighet, as Brygga's check-before-create searches).

Findings name documents by their place in the sample, media type, size and sha256, never by file name (an upload's
name may name a person).
"""

from __future__ import annotations

from brygga_adapters.byggr.calls import ByggrCalls
from brygga_adapters.byggr.markers import marked_handelse_exists
from brygga_adapters.byggr.payload import FastighetKey
from brygga_adapters.byggr.replies import ArendeSummary, DocumentRef, UnreadableReply, is_nil
from brygga_adapters.soap.elements import check_root, child, children
from brygga_conformance.profiles.byggr_contract import binding_operations
from brygga_conformance.recorder import CaseLog
from brygga_conformance.samples import Sample
from brygga_conformance.soap_documents import FileDigest, UnreadableFile, call_streamed, file_digest

GET_DOCUMENT = "GetDocument"


def short(sha256: str) -> str:
    return f"{sha256[:16]}…"


def documents_in(arende: ArendeSummary) -> list[DocumentRef]:
    """The documents of the case's handelser, each dokId once (a handelse may link another's)."""
    seen: dict[str | None, DocumentRef] = {}
    for handelse in arende.handelser:
        for document in handelse.documents:
            seen.setdefault(document.dok_id or f"no-id-{len(seen)}", document)
    return list(seen.values())


def check_documents(log: CaseLog, calls: ByggrCalls, dnr: str, sample: Sample, version: str) -> None:
    """Each of the sample's documents is in case ``dnr`` with its sha256 and size."""
    if GET_DOCUMENT not in binding_operations(calls.service.client.wsdl):
        log.fail(f"the documents of {dnr} cannot be read back: the endpoint's WSDL has no {GET_DOCUMENT} operation; "
                 f"contract {version} has it")
        return
    arende = calls.get_arende(dnr)
    listed = documents_in(arende)
    log.note(f"GetArende {dnr}: {len(arende.handelser)} handelse(r), {len(listed)} document(s)")
    expected = len(sample.documents)
    if len(listed) != expected:
        log.fail(f"GetArende of {dnr} lists {len(listed)} documents; the sample {sample.name} has {expected}")
    came: dict[str, tuple[str, int, str]] = {}  # dokId -> (sha256, size, name)
    for document in listed:
        if document.dok_id is None:
            log.fail(f"GetArende of {dnr} lists a document without dokId, which GetDocument cannot fetch")
            continue
        try:
            digest = _fetch(calls, document.dok_id)
        except UnreadableFile as exc:
            log.fail(f"GetDocument of dokId {document.dok_id} (case {dnr}) gave no usable file: {exc}")
            continue
        if digest is None:
            log.fail(f"GetDocument of dokId {document.dok_id} (case {dnr}) gave no file (fil/filBuffer)")
            continue
        came[document.dok_id] = (digest.sha256, digest.size, document.namn or "")
    intact = {(sha256, size) for sha256, size, _ in came.values()}
    for position, stored in enumerate(sample.documents, start=1):
        label = f"document {position} of {expected} of {sample.name} ({stored.media_type}, {stored.size} bytes"
        if (stored.sha256, stored.size) in intact:
            log.note(f"{label}, sha256 {stored.sha256}): intact")
            continue
        label += f", sha256 {short(stored.sha256)})"
        same_name = next((dok for dok, (_, _, name) in came.items() if name == stored.name), None)
        if same_name is None:
            log.fail(f"{label} is not among the documents of {dnr}")
        else:
            sha256, size, _ = came[same_name]
            log.fail(f"{label} came back changed: GetDocument of dokId {same_name} gave {size} bytes, "
                     f"sha256 {short(sha256)}")


def cases_for(calls: ByggrCalls, keys: list[FastighetKey], *, extern_ref: str | None, marker: str) -> list[str]:
    """The dnr of every case on the sample's properties that holds the submission: by ``extern_ref`` (v8) or, when it
    is None (v4), by the marker in a handelse's anteckning (fetching a case listed without handelser)."""
    found: dict[str, None] = {}
    for key in keys:
        for arende in calls.related(key):
            if extern_ref is not None:
                holds = arende.extern_ref == extern_ref
            else:
                holds = marked_handelse_exists(arende if arende.handelser else calls.get_arende(arende.dnr), marker)
            if holds:
                found[arende.dnr] = None
    return list(found)


def _fetch(calls: ByggrCalls, dok_id: str) -> FileDigest | None:
    """The digest of the first file GetDocument gives for ``dok_id`` (None when it gives none)."""
    payload = call_streamed(calls.service, GET_DOCUMENT, "filBuffer", documentId=dok_id, inkluderaFil=True)
    check_root(payload, GET_DOCUMENT, unreadable=UnreadableReply)
    for result in children(payload, "GetDocumentResult"):
        fil = child(result, "fil") if not is_nil(result) else None
        buffer = child(fil, "filBuffer") if fil is not None else None
        if buffer is not None and not is_nil(buffer):
            return file_digest(buffer)
    return None
