"""Reading a case back through MinutMiljoService, to see what a delivery left there: the case by its CaseNumber
(SearchCase), its subtitle and documents (GetCase), a document's sha256 and size (GetDocument, its file read as a
stream whatever its size: soap_documents.py), its party roles (GetCasePartyRoles), and the applicant's cases that
carry Brygga's marker (SearchParty, SearchCase).

Replies are read as Brygga's adapter reads them: by local name, case-insensitively (the reply-shape check is where
a misnamed element is reported, not here).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from brygga_adapters.ecos.calls import EcosCalls
from brygga_adapters.ecos.payload import Party
from brygga_adapters.ecos.replies import normalise_guid
from brygga_adapters.markers import carries_marker
from brygga_adapters.soap.elements import child_text, children, local_name, result_or_self
from brygga_adapters.soap.raw import call_raw
from brygga_conformance.soap_documents import FileDigest, call_streamed, file_digest


class UnreadableCase(Exception):
    """A reply the read-back cannot use; the message names the operation and field, never a value."""


@dataclass(frozen=True)
class ListedDocument:
    document_id: str | None
    filename: str | None = field(repr=False)


@dataclass(frozen=True)
class CaseView:
    case_id: str
    subtitle: str | None = field(repr=False)
    documents: tuple[ListedDocument, ...]  # each DocumentId once (GetCase lists them per case and per occurrence)


def case_id(calls: EcosCalls, case_number: str) -> str | None:
    found = calls.search_cases(calls.filter("CaseNumberFilterSvcDto", CaseNumber=case_number))
    return next((case.case_id for case in found if case.case_number == case_number), None)


def read_case(calls: EcosCalls, case_id: str) -> CaseView:
    result = result_or_self(call_raw(calls.service, "GetCase", caseId=case_id), "GetCase", unreadable=UnreadableCase)
    documents: dict[str | None, ListedDocument] = {}
    unnamed = []
    for item in result.iter():
        if isinstance(item.tag, str) and local_name(item) == "documentlistitemsvcdto":
            document = ListedDocument(normalise_guid(child_text(item, "DocumentId")), child_text(item, "Filename"))
            if document.document_id is None:
                unnamed.append(document)
            else:
                documents.setdefault(document.document_id, document)
    return CaseView(case_id, child_text(result, "CaseSubtitleFree"), (*documents.values(), *unnamed))


def read_document(calls: EcosCalls, document_id: str) -> FileDigest:
    """The sha256 and size of the document's file (UnreadableCase, or soap_documents.UnreadableFile, when there
    is none)."""
    payload = call_streamed(calls.service, "GetDocument", "Data", documentId=document_id)
    data = next(iter(children(result_or_self(payload, "GetDocument", unreadable=UnreadableCase), "Data")), None)
    if data is None:
        raise UnreadableCase("GetDocument reply has no Data")
    return file_digest(data)


def repeated_party_roles(calls: EcosCalls, case_id: str) -> int:
    """How many of the case's (party, role) connections an earlier one already was."""
    result = result_or_self(call_raw(calls.service, "GetCasePartyRoles", caseId=case_id), "GetCasePartyRoles",
                            unreadable=UnreadableCase)
    pairs = Counter((normalise_guid(child_text(item, "PartyId")), normalise_guid(child_text(item, "RoleId")))
                    for item in children(result, "ConnectedRoleSvcDto"))
    return sum(count - 1 for count in pairs.values())


def cases_with_marker(calls: EcosCalls, applicant: Party, role_id: str, marker: str) -> list[str]:
    """The CaseIds of the applicant's cases (as applicant) whose CaseSubtitleFree carries ``marker``: how Brygga
    finds a case again, since MinutMiljoService cannot search by ExternalCaseNumber."""
    party_ids = (calls.search_party(personal=applicant.national_id) if applicant.kind == "person"
                 else calls.search_party(organisation=applicant.national_id))
    found: dict[str, None] = {}
    for party_id in party_ids:
        for case in calls.search_cases(calls.filter("SinglePartyRoleFilterSvcDto", PartyId=party_id,
                                                    RoleId=role_id)):
            subtitle = case.subtitle if case.subtitle is not None else read_case(calls, case.case_id).subtitle
            if carries_marker(subtitle, marker):
                found[case.case_id] = None
    return list(found)
