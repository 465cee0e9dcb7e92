"""Tolerant readers for ByggR's replies: find what Brygga needs, ignore everything else.

Real ByggR replies are not what the published contract says: extra attributes (``kommun``, ``enhet``,
``checksum``, ``attentionId``...), elements in another order or repeated, elements the contract lacks,
``<Arende>`` where the contract says ``<arende>``, and dates that are no dates at all (``{{now}}``).
So elements are found by local name, case-insensitively, in any namespace and any order; unknown content is
skipped; a date that cannot be parsed reads as None.

What Brygga cannot do without (a dnr, a HandelseId, a batch end) raises ``UnreadableReply`` naming the
operation and the field, never a value.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from lxml import etree

from brygga.errors import TargetRejected
from brygga_adapters.soap.elements import (
    check_root,
    child,
    child_text,
    children,
    operation_result,
    result_or_self,
)


class UnreadableReply(TargetRejected):
    """A well-formed reply lacks something Brygga needs (or holds it in a form that cannot be read)."""


_check_root = partial(check_root, unreadable=UnreadableReply)
_result = partial(operation_result, unreadable=UnreadableReply)
_result_or_self = partial(result_or_self, unreadable=UnreadableReply)


@dataclass(frozen=True)
class DocumentRef:
    dok_id: str | None
    namn: str | None = field(default=None, repr=False)  # file names of uploads may be personal


@dataclass(frozen=True)
class Handelse:
    handelse_id: int | None
    riktning: str | None
    rubrik: str | None = field(repr=False)
    start: datetime | None  # None when the reply's startDatum is missing or not a date
    anteckning: str | None = field(repr=False)
    handelseslag: str | None
    handelsetyp: str | None
    documents: tuple[DocumentRef, ...] = ()


@dataclass(frozen=True)
class Fastighet:
    fnr: int | None
    trakt: str | None
    fbet_nr: str | None


@dataclass(frozen=True)
class ArendeSummary:
    dnr: str
    arende_id: int | None
    status: str | None
    extern_ref: str | None
    fastigheter: tuple[Fastighet, ...] = ()
    handelser: tuple[Handelse, ...] = ()


@dataclass(frozen=True)
class ArendeBatch:
    batch_start: datetime | None
    batch_end: datetime  # the next poll's lower bound
    arenden: tuple[ArendeSummary, ...] = ()


@dataclass(frozen=True)
class Document:
    dok_id: str | None
    name: str | None = field(repr=False)
    description: str | None = field(repr=False)
    extension: str | None
    content: bytes | None = field(repr=False)  # None when the reply carries no file (inkluderaFil false)


# --- operations ------------------------------------------------------------------------------------------


def read_related_arenden(payload: etree._Element, operation: str) -> tuple[ArendeSummary, ...]:
    """``GetRelateradeArendenBy*Response``: every arende (or Arende) in the result; no result is none."""
    result = _result(payload, operation)
    if result is None:
        return ()
    return tuple(read_arende(item, operation) for item in children(result, "arende") if not is_nil(item))


def read_get_arende(payload: etree._Element) -> ArendeSummary:
    result = _result(payload, "GetArende")
    if result is None or is_nil(result):
        raise UnreadableReply("GetArende reply has no GetArendeResult")
    return read_arende(result, "GetArende")


def read_save_new_arende(payload: etree._Element) -> str:
    """The diarienummer SaveNewArende created."""
    dnr = child_text(_result_or_self(payload, "SaveNewArende"), "Dnr")
    if not dnr:
        raise UnreadableReply("SaveNewArende reply has no Dnr")
    return dnr


def read_save_new_handelse(payload: etree._Element) -> int:
    text = child_text(_result_or_self(payload, "SaveNewHandelse"), "HandelseId")
    handelse_id = _int(text)
    if handelse_id is None:
        raise UnreadableReply(f"SaveNewHandelse reply has {'no' if text is None else 'a non-integer'} HandelseId")
    return handelse_id


def read_updated_arenden(payload: etree._Element) -> ArendeBatch:
    result = _result(payload, "GetUpdatedArenden")
    if result is None:
        raise UnreadableReply("GetUpdatedArenden reply has no GetUpdatedArendenResult")
    batch_end = _datetime(child_text(result, "BatchEnd"))
    if batch_end is None:
        raise UnreadableReply("GetUpdatedArenden reply has no readable BatchEnd")
    arenden = child(result, "Arenden")
    items = children(arenden, "arende") if arenden is not None else []
    return ArendeBatch(
        batch_start=_datetime(child_text(result, "BatchStart")),
        batch_end=batch_end,
        arenden=tuple(read_arende(item, "GetUpdatedArenden") for item in items if not is_nil(item)),
    )


def read_get_document(payload: etree._Element) -> tuple[Document, ...]:
    """``GetDocumentResponse``: each GetDocumentResult, its file decoded from base64 (whitespace allowed)."""
    _check_root(payload, "GetDocument")
    return tuple(_document(item) for item in children(payload, "GetDocumentResult") if not is_nil(item))


# --- parts -----------------------------------------------------------------------------------------------


def read_arende(element: etree._Element, operation: str) -> ArendeSummary:
    dnr = attr(element, "dnr") or child_text(element, "dnr")
    if not dnr:
        raise UnreadableReply(f"{operation} reply has an arende without dnr")
    handelse_lista = child(element, "handelseLista")
    objekt_lista = child(element, "objektLista")
    return ArendeSummary(
        dnr=dnr,
        arende_id=_int(attr(element, "arendeId")),
        status=child_text(element, "status"),
        extern_ref=child_text(element, "externRef"),
        fastigheter=tuple(_fastigheter(objekt_lista)) if objekt_lista is not None else (),
        handelser=tuple(
            _handelse(item) for item in children(handelse_lista, "handelse")
        ) if handelse_lista is not None else (),
    )


def _fastigheter(objekt_lista: etree._Element) -> Iterator[Fastighet]:
    # xsi:type is not needed: whatever objekt holds a fastighet is a property of the case.
    for objekt in children(objekt_lista, "abstractArendeObjekt"):
        for fastighet in children(objekt, "fastighet"):
            yield Fastighet(
                fnr=_int(attr(fastighet, "fnr") or child_text(fastighet, "fnr")),
                trakt=child_text(fastighet, "trakt"),
                fbet_nr=child_text(fastighet, "fbetNr"),
            )


def _handelse(element: etree._Element) -> Handelse:
    handling_lista = child(element, "handlingLista")
    documents = []
    for handling in children(handling_lista, "handling") if handling_lista is not None else []:
        for dokument in children(handling, "dokument"):
            documents.append(DocumentRef(dok_id=attr(dokument, "dokId"), namn=child_text(dokument, "namn")))
    return Handelse(
        handelse_id=_int(attr(element, "handelseId")),
        riktning=child_text(element, "riktning"),
        rubrik=child_text(element, "rubrik"),
        start=_datetime(child_text(element, "startDatum")),
        anteckning=child_text(element, "anteckning"),
        handelseslag=child_text(element, "handelseslag"),
        handelsetyp=child_text(element, "handelsetyp"),
        documents=tuple(documents),
    )


def _document(element: etree._Element) -> Document:
    fil = child(element, "fil")
    content = None
    if fil is not None:
        buffer = child(fil, "filBuffer")
        if buffer is not None and not is_nil(buffer):
            try:
                content = base64.b64decode("".join((buffer.text or "").split()), validate=True)
            except (binascii.Error, ValueError):
                raise UnreadableReply("GetDocument reply: filBuffer is not valid base64") from None
    return Document(
        dok_id=attr(element, "dokId"),
        name=child_text(element, "namn"),
        description=child_text(element, "beskrivning"),
        extension=(attr(fil, "filAndelse") or child_text(fil, "filAndelse")) if fil is not None else None,
        content=content,
    )


def attr(element: etree._Element, name: str) -> str | None:
    """An attribute by local name, case-insensitively, in any namespace; blank reads as None. Shared with
    status_feed.py."""
    wanted = name.casefold()
    for key, value in element.attrib.items():
        if etree.QName(key).localname.casefold() == wanted:
            return value.strip() or None
    return None


def is_nil(element: etree._Element) -> bool:
    """``xsi:nil="true"`` (or any prefix for it)."""
    return (attr(element, "nil") or "").lower() in ("true", "1")


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _datetime(text: str | None) -> datetime | None:
    """ISO 8601 as .NET writes it (with or without offset, up to 7 fraction digits); anything else is None."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
