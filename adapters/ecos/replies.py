"""Tolerant readers for Ecos's replies: find what Brygga needs by local name, ignore everything else.

Elements are matched by local name, case-insensitively, in any namespace and order; unknown content is skipped.
What Brygga cannot do without (a CaseId, a CaseNumber, a party's Id) raises ``UnreadableReply`` naming the
operation and the field, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial

from lxml import etree

from brygga.errors import TargetRejected
from brygga_adapters.soap.elements import (
    check_root,
    child_text,
    children,
    local_name,
    operation_result,
    result_or_self,
)

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class UnreadableReply(TargetRejected):
    """A well-formed reply lacks something Brygga needs (or holds it in a form that cannot be read)."""


_check_root = partial(check_root, unreadable=UnreadableReply)
_result = partial(operation_result, unreadable=UnreadableReply)
_result_or_self = partial(result_or_self, unreadable=UnreadableReply)


@dataclass(frozen=True)
class CaseRef:
    case_id: str
    case_number: str | None
    subtitle: str | None = field(default=None, repr=False)  # CaseSubtitleFree, which ends with Brygga's marker


@dataclass(frozen=True)
class CaseDocument:
    document_id: str | None
    note: str | None = field(default=None, repr=False)  # may carry the uploader's text


@dataclass(frozen=True)
class CaseView:
    """What GetCase shows: the case's documents (top level and per occurrence), for the markers in their notes."""

    case_id: str | None
    case_number: str | None
    subtitle: str | None = field(repr=False)
    documents: tuple[CaseDocument, ...]


@dataclass(frozen=True)
class PartyRole:
    party_id: str
    role_id: str


@dataclass(frozen=True)
class NamedId:
    id: str
    names: tuple[str, ...] = field(default=(), repr=False)


def normalise_guid(value: str | None) -> str | None:
    text = (value or "").strip()
    return text.lower() if GUID.match(text) else None


def read_register_document(payload: etree._Element) -> CaseRef:
    result = _result_or_self(payload, "RegisterDocument")
    case_id = normalise_guid(child_text(result, "CaseId"))
    case_number = child_text(result, "CaseNumber")
    if case_id is None:
        raise UnreadableReply("RegisterDocument reply has no CaseId (a GUID)")
    if case_number is None:
        raise UnreadableReply("RegisterDocument reply has no CaseNumber")
    return CaseRef(case_id=case_id, case_number=case_number)


def read_search_case(payload: etree._Element) -> tuple[CaseRef, ...]:
    result = _result_or_self(payload, "SearchCase")
    found = []
    for item in children(result, "SearchCaseResultSvcDto"):
        case_id = normalise_guid(child_text(item, "CaseId"))
        if case_id is not None:
            found.append(CaseRef(case_id, child_text(item, "CaseNumber"), child_text(item, "CaseSubtitleFree")))
    return tuple(found)


def read_get_case(payload: etree._Element) -> CaseView:
    result = _result_or_self(payload, "GetCase")
    return CaseView(
        case_id=normalise_guid(child_text(result, "CaseId")),
        case_number=child_text(result, "CaseNumber"),
        subtitle=child_text(result, "CaseSubtitleFree"),
        documents=tuple(_documents(result)),
    )


def read_search_party(payload: etree._Element) -> tuple[str, ...]:
    """The Ids of the parties found, in the order Ecos lists them (a party of any xsi:type)."""
    result = _result_or_self(payload, "SearchParty")
    ids = (normalise_guid(child_text(item, "Id")) for item in result if isinstance(item.tag, str))
    return tuple(party_id for party_id in ids if party_id is not None)


def read_created_guid(payload: etree._Element, operation: str) -> str:
    """The GUID a Create*/Add* operation answers with (``<Operation>Result``)."""
    result = _result(payload, operation)
    guid = normalise_guid(result.text if result is not None else None)
    if guid is None:
        raise UnreadableReply(f"{operation} reply has no {operation}Result GUID")
    return guid


def read_case_party_roles(payload: etree._Element) -> frozenset[PartyRole]:
    result = _result_or_self(payload, "GetCasePartyRoles")
    roles = set()
    for item in children(result, "ConnectedRoleSvcDto"):
        party_id, role_id = normalise_guid(child_text(item, "PartyId")), normalise_guid(child_text(item, "RoleId"))
        if party_id and role_id:
            roles.add(PartyRole(party_id=party_id, role_id=role_id))
    return frozenset(roles)


def read_named_ids(
    payload: etree._Element, operation: str, id_field: str, name_fields: tuple[str, ...]
) -> list[NamedId]:
    """Every element anywhere in a Get* list reply that has ``id_field`` and one of ``name_fields``.

    Nested lists (GetDocumentClassifications: categories, their types, the types' subtitles) are read at every
    level, so a name may be found more than once; the caller decides what an ambiguous name means.
    """
    _check_root(payload, operation)
    found = []
    for element in payload.iter():
        if not isinstance(element.tag, str):
            continue
        guid = normalise_guid(child_text(element, id_field))
        names = tuple(name for name_field in name_fields if (name := child_text(element, name_field)))
        if guid and names:
            found.append(NamedId(id=guid, names=names))
    return found


def _documents(element: etree._Element) -> Iterator[CaseDocument]:
    # Documents are listed on the case and again under each occurrence: read both, any depth.
    for item in element.iter():
        if local_name(item) == "documentlistitemsvcdto":
            yield CaseDocument(
                document_id=normalise_guid(child_text(item, "DocumentId")), note=child_text(item, "Note")
            )
