"""An Ecos-like environment and health protection case system behind MinutMiljoService (SOAP 1.1), in memory.

Implemented: RegisterDocument, AddDocumentsToCase, AddEstateToCase, SearchParty, CreatePersonParty,
CreateOrganizationParty, AddPartyToCase, GetCasePartyRoles, SearchCase, GetCase, GetDocument, GetProcessTypes,
GetDocumentClassifications. Beyond the schema it enforces the rules a real Ecos would: process types,
occurrence types, document types, document statuses and party roles must be GUIDs of this installation
(reference.py); a case, and each AddDocumentsToCase, needs at least one document with a file name and content
(AddDocumentsToCase adds them in a new occurrence of the given type); parties, estates and documents go on
existing cases only; a
person needs a valid personnummer and an organisation a valid organisationsnummer (the faults never quote
them); an estate is known by its FNR in the property register (the property-register simulator's units).
Like a real register it stores what it is told: the same role of a party, or the same estate, added twice is
two connections (``/_sim/counts`` counts them), so a client must check before it adds. SearchCase takes one
filter at the top (AndFilterSvcDto combines several); several side by side are refused, since the contract does
not say whether Ecos ANDs or ORs them.

Case numbers run per year: ``MBN-2026-000001``; CaseId, PartyId and the other ids are GUIDs.
``flaws`` (flaws.py) switches on non-conforming behaviour, for the conformance kit's tests; none by default.
``/_sim/cases``, ``/_sim/parties``, ``/_sim/calls``, ``/_sim/counts`` and ``/_sim/reference`` show the state
without personal data. Fault plans (``lose_reply`` and the rest) come with the base class.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from lxml import etree
from werkzeug.wrappers import Request, Response

from brygga_simulators.ecos.flaws import HTML_ERROR_PAGE, SUBTITLE_COLUMN, flawed_wsdl, parse_flaws, text_mode
from brygga_simulators.ecos.identifiers import normalised_organisationsnummer, normalised_personnummer
from brygga_simulators.ecos.records import (
    CaseRecord,
    DocumentRecord,
    EstateRecord,
    OccurrenceRecord,
    PartyRecord,
    RoleConnection,
)
from brygga_simulators.ecos.reference import (
    DOCUMENT_CLASSIFICATIONS,
    DOCUMENT_STATUSES,
    DOCUMENT_TYPES,
    INCOMING_STATUS,
    OCCURRENCE_TYPES,
    PARTY_ROLES,
    PROCESS_TYPES,
    by_id,
    reference_view,
)
from brygga_simulators.ecos.xml import (
    ARRAYS_NS,
    CONTRACTS_NS,
    REPLY_NSMAP,
    SERVICE_NS,
    TEKIS_NS,
    add,
    child,
    dc,
    guid,
    svc,
    text,
    xsi_type,
)
from brygga_simulators.property_register.records import CURRENT, SEEDED_UNITS
from brygga_simulators.soap_server import SoapFault, SoapSimulator

CASE_NUMBER_PREFIX = "MBN"
CALLS_KEPT = 2000
ADDRESS_FIELDS = ("CareOfName", "Country", "PostCode", "PostalArea", "StreetName", "StreetNumber")
FILTER_TYPES = ("AndFilterSvcDto", "CaseNumberFilterSvcDto", "FnrFilterSvcDto", "SinglePartyRoleFilterSvcDto",
                "OccurrenceFilterSvcDto")


def _now() -> datetime:
    return datetime.now().astimezone()


def _new_id() -> str:
    return str(uuid.uuid4())


def _parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.astimezone()


def _estates_in_register() -> dict[int, str]:
    """FNR -> designation of the current units the property-register simulator holds."""
    return {unit.fnr: unit.beteckning for unit in SEEDED_UNITS if unit.status == CURRENT}


class EcosSimulator(SoapSimulator):
    """In-memory Ecos. ``start_simulator(EcosSimulator)`` serves one on a free port."""

    name: ClassVar[str] = "ecos"
    wsdl_file: ClassVar[Path] = Path(__file__).with_name("MinutMiljoService.wsdl")
    path: ClassVar[str] = "/Ecos2PublicServices/MinutMiljoService.svc"
    target_namespace: ClassVar[str] = SERVICE_NS

    def __init__(self, clock: Callable[[], datetime] = _now, estates: dict[int, str] | None = None,
                 flaws: Collection[str] | str = ()) -> None:
        super().__init__()
        self.clock = clock
        self.flaws = parse_flaws(flaws)
        # A flawed reply is the point of that variant: the base class would refuse to send it.
        self.validate_responses = "renames-reply-element" not in self.flaws
        # FNR -> fastighetsbeteckning: the property register this Ecos reads.
        self.estates_in_register = dict(estates) if estates is not None else _estates_in_register()
        self._process_types = by_id(PROCESS_TYPES)
        self._occurrence_types = by_id(OCCURRENCE_TYPES)
        self._roles = by_id(PARTY_ROLES)
        self._document_types = by_id(DOCUMENT_TYPES)
        self._document_statuses = by_id(DOCUMENT_STATUSES)
        self._cases: dict[str, CaseRecord] = {}
        self._parties: dict[str, PartyRecord] = {}
        self._documents: dict[str, DocumentRecord] = {}
        self._sequences: dict[int, itertools.count[int]] = {}
        self._calls: list[dict[str, Any]] = []

    # --- inspection -------------------------------------------------------------------------------

    @property
    def cases(self) -> dict[str, CaseRecord]:
        """Snapshot of the cases by CaseId (the records themselves are live)."""
        with self.lock:
            return dict(self._cases)

    @property
    def parties(self) -> dict[str, PartyRecord]:
        with self.lock:
            return dict(self._parties)

    def case_by_number(self, case_number: str) -> CaseRecord:
        with self.lock:
            return next(case for case in self._cases.values() if case.case_number == case_number)

    def inspect(self, what: str) -> Any:
        with self.lock:
            if what == "cases":
                return [case.summary() for case in self._cases.values()]
            if what == "parties":
                return [party.summary() for party in self._parties.values()]
            if what == "calls":
                return list(self._calls)
        if what == "counts":
            return self.counts()
        if what == "reference":
            return reference_view()
        raise KeyError(what)

    def counts(self) -> dict[str, Any]:
        """What a fault harness counts (``/_sim/counts``), values never shown, only how often they recur.

        ``cases_per_external_case_number`` counts cases per ExternalCaseNumber (Brygga's reference, no personal
        data); ``duplicate_parties`` counts parties whose identity number an earlier party already had;
        ``duplicate_documents`` counts, per case, documents whose content (sha256) the case already held;
        ``duplicate_role_connections`` and ``duplicate_estates`` count, per case, a party's role or an estate
        connected again.
        """
        with self.lock:
            per_reference = Counter(c.external_case_number for c in self._cases.values() if c.external_case_number)
            identities = Counter((p.kind, p.identity_number) for p in self._parties.values())
            documents: dict[str, int] = {}
            duplicates: dict[str, int] = {}
            duplicate_roles: dict[str, int] = {}
            duplicate_estates: dict[str, int] = {}
            for case in self._cases.values():
                seen = Counter(document.sha256 for document in case.documents)
                documents[case.case_number] = sum(seen.values())
                duplicates[case.case_number] = sum(n - 1 for n in seen.values())
                duplicate_roles[case.case_number] = _repeats((c.party_id, c.role_id) for c in case.roles)
                duplicate_estates[case.case_number] = _repeats(estate.fnr for estate in case.estates)
            return {
                "cases": len(self._cases),
                "parties": len(self._parties),
                "cases_per_external_case_number": dict(per_reference),
                "duplicate_parties": sum(n - 1 for n in identities.values()),
                "documents_per_case": documents,
                "duplicate_documents": duplicates,
                "duplicate_role_connections": duplicate_roles,
                "duplicate_estates": duplicate_estates,
            }

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self._cases.clear()
            self._parties.clear()
            self._documents.clear()
            self._sequences.clear()
            self._calls.clear()

    def perform(self, payload: etree._Element, operation: str) -> etree._Element:
        # Every call is kept for /_sim/calls with its outcome; faultstrings never hold request values.
        try:
            answer = super().perform(payload, operation)
        except SoapFault as fault:
            self._record_call(operation, fault.faultstring)
            if "server-fault-on-invalid" in self.flaws:
                fault.faultcode = "Server"
            raise
        self._record_call(operation, None)
        return answer

    def check_schema(self, payload: etree._Element, operation: str) -> None:
        if "accepts-invalid" not in self.flaws:
            super().check_schema(payload, operation)

    def served_wsdl(self, url: str) -> bytes:
        return flawed_wsdl(super().served_wsdl(url), self.flaws)

    def _respond(self, request: Request) -> Response:
        response = super()._respond(request)
        if "no-fault-500" in self.flaws and response.status_code == 500:
            return Response(HTML_ERROR_PAGE, status=500, mimetype="text/html")
        return response

    def _record_call(self, operation: str, fault: str | None) -> None:
        with self.lock:
            self._calls.append({"operation": operation, "at": self.clock().isoformat(), "fault": fault})
            del self._calls[:-CALLS_KEPT]

    # --- cases ------------------------------------------------------------------------------------

    def on_RegisterDocument(self, request: etree._Element) -> etree._Element:
        dto = child(request, svc("registerDocumentCaseSvcDto"))
        if dto is None:
            raise SoapFault("RegisterDocument: registerDocumentCaseSvcDto is required")
        lenient = "accepts-invalid" in self.flaws
        process_type = self._process_types.get(guid(dto, dc("ProcessTypeId")) or "")
        if process_type is None and lenient:
            process_type = PROCESS_TYPES[0]
        if process_type is None:
            raise SoapFault("RegisterDocument: ProcessTypeId is not a process type of this Ecos (see GetProcessTypes)")
        occurrence_type_id = guid(dto, dc("OccurrenceTypeId")) or ""
        if occurrence_type_id not in self._occurrence_types and lenient:
            occurrence_type_id = OCCURRENCE_TYPES[0].id
        if occurrence_type_id not in self._occurrence_types:
            raise SoapFault("RegisterDocument: OccurrenceTypeId is not an occurrence type of this Ecos")
        documents = self._read_documents("RegisterDocument", child(dto, dc("Documents")))
        start = text(dto, dc("StartDate"))
        subtitle = text(dto, dc("CaseSubtitleFree"))
        if subtitle and "truncates-subtitle" in self.flaws:
            subtitle = subtitle[:SUBTITLE_COLUMN]
        with self.lock:
            roles = self._read_party_roles(child(dto, dc("PartyRoles")))
            now = self.clock()
            case = CaseRecord(
                case_id=_new_id(),
                case_number=self._next_case_number(now.year),
                process_type_id=process_type.id,
                process_type_name=process_type.name,
                registered=_parse_datetime(start) if start else now,
                subtitle_free=subtitle,
                external_case_number=text(dto, dc("ExternalCaseNumber")),
                roles=roles,
            )
            case.occurrences.append(
                OccurrenceRecord(_new_id(), occurrence_type_id, now, text(dto, dc("OccurrenceNote")), documents)
            )
            self._cases[case.case_id] = case
            self._documents.update((document.document_id, document) for document in documents)
        response = etree.Element(svc("RegisterDocumentResponse"), nsmap=REPLY_NSMAP)
        result = add(response, svc("RegisterDocumentResult"))
        add(result, dc("CaseId"), case.case_id)
        if "no-case-number" not in self.flaws:
            add(result, dc("CaseNumber"), case.case_number)
        return response

    def on_AddDocumentsToCase(self, request: etree._Element) -> etree._Element:
        dto = child(request, svc("addDocumentToCaseSvcDto"))
        if dto is None:
            raise SoapFault("AddDocumentsToCase: addDocumentToCaseSvcDto is required")
        # The contract makes OccurrenceTypeId optional; an occurrence without a type has no place in a case.
        occurrence_type_id = guid(dto, dc("OccurrenceTypeId")) or ""
        if occurrence_type_id not in self._occurrence_types:
            raise SoapFault("AddDocumentsToCase: OccurrenceTypeId is required and must be an occurrence type of "
                            "this Ecos")
        status_id = guid(dto, dc("DocumentStatusId"))
        if status_id is not None and status_id not in self._document_statuses:
            raise SoapFault("AddDocumentsToCase: DocumentStatusId is not a document status of this Ecos")
        documents = self._read_documents("AddDocumentsToCase", child(dto, dc("Documents")), status_id)
        with self.lock:
            case = self._case_or_fault("AddDocumentsToCase", guid(dto, dc("CaseId")))
            case.occurrences.append(OccurrenceRecord(_new_id(), occurrence_type_id, self.clock(), None, documents))
            self._documents.update((document.document_id, document) for document in documents)
        return etree.Element(svc("AddDocumentsToCaseResponse"), nsmap=REPLY_NSMAP)

    def on_AddEstateToCase(self, request: etree._Element) -> etree._Element:
        dto = child(request, svc("addEstateToCaseSvcDto"))
        if dto is None:
            raise SoapFault("AddEstateToCase: addEstateToCaseSvcDto is required")
        fnr = int(text(dto, dc("Fnr")) or "0")
        designation = self.estates_in_register.get(fnr)
        if designation is None:
            raise SoapFault("AddEstateToCase: Fnr is not an estate in the property register")
        with self.lock:
            case = self._case_or_fault("AddEstateToCase", guid(dto, dc("CaseId")))
            # Stored as told, like a register: the same estate again is a second connection (counted in counts).
            estate = EstateRecord(_new_id(), fnr, designation)
            case.estates.append(estate)
        response = etree.Element(svc("AddEstateToCaseResponse"), nsmap=REPLY_NSMAP)
        add(response, svc("AddEstateToCaseResult"), estate.connection_id)
        return response

    def on_SearchCase(self, request: etree._Element) -> etree._Element:
        conditions = self._filters(child(child(request, svc("model")), dc("Filters")))
        if not conditions:
            raise SoapFault(f"SearchCase: model/Filters needs at least one filter: {', '.join(FILTER_TYPES)}")
        if len(conditions) > 1:
            # The contract has AndFilterSvcDto and OrFilterSvcDto and says nothing of filters side by side: a
            # client must not guess whether Ecos ANDs or ORs them.
            raise SoapFault("SearchCase: model/Filters holds several filters side by side; how Ecos combines them "
                            "is not defined: put them in one AndFilterSvcDto")
        (condition,) = conditions
        response = etree.Element(svc("SearchCaseResponse"), nsmap=REPLY_NSMAP)
        result = add(response, svc("SearchCaseResult"))
        with self.lock:
            for case in self._cases.values():
                if condition(case):
                    item = add(result, dc("SearchCaseResultSvcDto"))
                    add(item, dc("CaseId"), case.case_id)
                    add(item, dc("CaseNumber"), case.case_number)
                    if case.subtitle_free:
                        add(item, dc("CaseSubtitleFree"), case.subtitle_free)
                    if case.estates:
                        add(item, dc("EstateDesignation"), case.estates[0].designation)
                    add(item, dc("ProcessTypeName"), case.process_type_name)
        return response

    def on_GetCase(self, request: etree._Element) -> etree._Element:
        response = etree.Element(svc("GetCaseResponse"), nsmap=REPLY_NSMAP)
        with self.lock:
            case = self._case_or_fault("GetCase", guid(request, svc("caseId")))
            result = add(response, svc("GetCaseResult"))
            add(result, dc("CaseId"), case.case_id)
            add(result, dc("CaseNumber"), case.case_number)
            if case.subtitle_free:
                add(result, dc("CaseSubtitleFree"), case.subtitle_free)
            self._document_list(add(result, dc("Documents")), case.documents)
            if case.estates:
                add(result, dc("EstateDesignation"), case.estates[0].designation)
            occurrences = add(result, dc("Occurrences"))
            for occurrence in case.occurrences:
                item = add(occurrences, dc("OccurrenceListItemSvcDto"))
                self._document_list(add(item, dc("Documents")), occurrence.documents)
                add(item, dc("OccurrenceDate"), occurrence.date.isoformat())
                if occurrence.note:
                    add(item, dc("OccurrenceDescription"), occurrence.note)
                add(item, dc("OccurrenceId"), occurrence.occurrence_id)
                add(item, dc("OccurrenceTypeId"), occurrence.occurrence_type_id)
            add(result, dc("ProcessTypeName"), case.process_type_name)
        return response

    def on_GetDocument(self, request: etree._Element) -> etree._Element:
        document_id = guid(request, svc("documentId"))
        if document_id is None:
            raise SoapFault("GetDocument: documentId is required")
        with self.lock:
            document = self._documents.get(document_id)
        if document is None:
            raise SoapFault("GetDocument: no document with that documentId")
        response = etree.Element(svc("GetDocumentResponse"), nsmap=REPLY_NSMAP)
        result = add(response, svc("GetDocumentResult"))
        add(result, dc("Data"), base64.b64encode(document.content).decode("ascii"))
        add(result, dc("Extension"), document.extension or None)
        return response

    # --- parties ----------------------------------------------------------------------------------

    def on_CreatePersonParty(self, request: etree._Element) -> etree._Element:
        dto = child(request, svc("personParty"))
        if dto is None:
            raise SoapFault("CreatePersonParty: personParty is required")
        number = normalised_personnummer(text(dto, dc("NationalIdentificationNumber")))
        if number is None:
            raise SoapFault(
                "CreatePersonParty: personParty/NationalIdentificationNumber must be a valid personnummer"
            )
        if not text(dto, dc("FirstName")) and not text(dto, dc("LastName")):
            raise SoapFault("CreatePersonParty: personParty needs FirstName or LastName")
        party = PartyRecord(_new_id(), "person", number, text(dto, dc("FirstName")), text(dto, dc("LastName")),
                            addresses=self._read_addresses(dto))
        return self._store_party(party, "CreatePersonParty")

    def on_CreateOrganizationParty(self, request: etree._Element) -> etree._Element:
        dto = child(request, svc("organizationParty"))
        if dto is None:
            raise SoapFault("CreateOrganizationParty: organizationParty is required")
        number = normalised_organisationsnummer(text(dto, dc("NationalIdentificationNumber")))
        if number is None:
            raise SoapFault(
                "CreateOrganizationParty: organizationParty/NationalIdentificationNumber must be a valid "
                "organisationsnummer"
            )
        if not text(dto, dc("OrganizationName")):
            raise SoapFault("CreateOrganizationParty: organizationParty/OrganizationName is required")
        party = PartyRecord(_new_id(), "organization", number, organization_name=text(dto, dc("OrganizationName")),
                            addresses=self._read_addresses(dto))
        return self._store_party(party, "CreateOrganizationParty")

    def on_SearchParty(self, request: etree._Element) -> etree._Element:
        model = child(request, svc("model"))
        person_text = text(model, dc("PersonalIdentificationNumber"))
        organisation_text = text(model, dc("OrganizationIdentificationNumber"))
        if not person_text and not organisation_text:
            raise SoapFault("SearchParty: give model/PersonalIdentificationNumber or OrganizationIdentificationNumber")
        wanted: set[tuple[str, str | None]] = set()
        if person_text:
            wanted.add(("person", normalised_personnummer(person_text)))
        if organisation_text:
            wanted.add(("organization", normalised_organisationsnummer(organisation_text)))
        response = etree.Element(svc("SearchPartyResponse"), nsmap=REPLY_NSMAP)
        result = add(response, svc("SearchPartyResult"))
        with self.lock:
            for party in self._parties.values():
                if (party.kind, party.identity_number) in wanted:
                    item = add(result, dc("PartySvcDto"))
                    self._address_list(add(item, dc("Addresses")), party.addresses)
                    add(item, dc("Id"), party.party_id)
                    add(item, dc("NationalIdentificationNumber"), party.identity_number)
        return response

    def on_AddPartyToCase(self, request: etree._Element) -> etree._Element:
        model = child(request, svc("model"))
        if model is None:
            raise SoapFault("AddPartyToCase: model is required")
        role_ids = [(r.text or "").strip().lower() for r in model.iterfind(f"{dc('Roles')}/{{{ARRAYS_NS}}}guid")]
        if not role_ids:
            raise SoapFault("AddPartyToCase: model/Roles needs at least one role GUID")
        with self.lock:
            case = self._case_or_fault("AddPartyToCase", guid(model, dc("CaseId")))
            party_id = self._party_or_fault("AddPartyToCase", guid(model, dc("PartyId")))
            for role_id in role_ids:
                self._role_or_fault("AddPartyToCase", role_id)
            # Stored as told: a role the party already has is a second connection (counted in counts).
            case.roles.extend(RoleConnection(_new_id(), party_id, role_id) for role_id in role_ids)
        return etree.Element(svc("AddPartyToCaseResponse"), nsmap=REPLY_NSMAP)

    def on_GetCasePartyRoles(self, request: etree._Element) -> etree._Element:
        response = etree.Element(svc("GetCasePartyRolesResponse"), nsmap=REPLY_NSMAP)
        result = add(response, svc("GetCasePartyRolesResult"))
        with self.lock:
            case = self._case_or_fault("GetCasePartyRoles", guid(request, svc("caseId")))
            for connection in case.roles:
                item = add(result, dc("ConnectedRoleSvcDto"))
                add(item, dc("ConnectionId"), connection.connection_id)
                add(item, dc("PartyId"), connection.party_id)
                add(item, dc("RoleId"), connection.role_id)
        return response

    # --- reference data ---------------------------------------------------------------------------

    def on_GetProcessTypes(self, request: etree._Element) -> etree._Element:
        response = etree.Element(svc("GetProcessTypesResponse"), nsmap=REPLY_NSMAP)
        result = add(response, svc("GetProcessTypesResult"))
        for process_type in PROCESS_TYPES:
            item = add(result, dc("GuidNamePairSvcDto"))
            add(item, dc("Id"), process_type.id)
            add(item, dc("Name"), process_type.name)
        return response

    def on_GetDocumentClassifications(self, request: etree._Element) -> etree._Element:
        def classification(parent: etree._Element, tag: str, id_: str, name: str) -> etree._Element:
            item = add(parent, tag)
            for field, value in (("Active", True), ("Id", id_), ("IsIncoming", True), ("IsOutgoing", False),
                                 ("Name", name), ("ValidOnCase", True), ("ValidOnFacility", False)):
                add(item, f"{{{TEKIS_NS}}}{field}", value)
            return item

        response = etree.Element(svc("GetDocumentClassificationsResponse"), nsmap=REPLY_NSMAP)
        result = add(response, svc("GetDocumentClassificationsResult"))
        for category in DOCUMENT_CLASSIFICATIONS:
            item = classification(result, dc("DocumentClassificationCategorySvcDto"), category.id, category.name)
            types = add(item, dc("Types"))
            for document_type in category.types:
                classification(types, f"{{{TEKIS_NS}}}DocumentClassificationTypeSvcDto", document_type.id,
                               document_type.name)
        return response

    # --- helpers ----------------------------------------------------------------------------------

    def _next_case_number(self, year: int) -> str:
        sequence = self._sequences.setdefault(year, itertools.count(1))
        return f"{CASE_NUMBER_PREFIX}-{year}-{next(sequence):06d}"

    def _case_or_fault(self, operation: str, case_id: str | None) -> CaseRecord:
        case = self._cases.get(case_id or "")
        if case is None:
            raise SoapFault(f"{operation}: no case with that CaseId")
        return case

    def _party_or_fault(self, operation: str, party_id: str | None) -> str:
        if (party_id or "") not in self._parties:
            raise SoapFault(f"{operation}: no party with that PartyId")
        return party_id or ""

    def _role_or_fault(self, operation: str, role_id: str | None) -> str:
        if (role_id or "") not in self._roles:
            raise SoapFault(f"{operation}: a role GUID is not a party role of this Ecos")
        return role_id or ""

    def _store_party(self, party: PartyRecord, operation: str) -> etree._Element:
        with self.lock:
            self._parties[party.party_id] = party
        response = etree.Element(svc(f"{operation}Response"), nsmap=REPLY_NSMAP)
        add(response, svc(f"{operation}Result"), party.party_id)
        return response

    def _read_documents(self, operation: str, documents: etree._Element | None,
                        status_id: str | None = None) -> list[DocumentRecord]:
        items = [] if documents is None else documents.findall(dc("DocumentSvcDto"))
        if not items:
            raise SoapFault(f"{operation}: Documents needs at least one DocumentSvcDto (Ecos registers a document)")
        records = []
        for position, item in enumerate(items, start=1):
            where = f"{operation}: Documents/DocumentSvcDto[{position}]"
            filename = text(item, dc("Filename"))
            if filename is None:
                raise SoapFault(f"{where}/Filename is required")
            data = text(item, dc("Data"))
            content = _decode_base64(data, where) if data else b""
            if not content:
                raise SoapFault(f"{where}/Data must hold the file content")
            if "text-mode-documents" in self.flaws:
                content = text_mode(content)
            document_type_id = guid(item, dc("DocumentTypeId"))
            if document_type_id is not None and document_type_id not in self._document_types:
                raise SoapFault(f"{where}/DocumentTypeId is not a document type of this Ecos "
                                "(see GetDocumentClassifications)")
            records.append(DocumentRecord(_new_id(), filename, content, text(item, dc("ContentType")),
                                          document_type_id, text(item, dc("Note")), status_id))
        return records

    def _read_party_roles(self, party_roles: etree._Element | None) -> list[RoleConnection]:
        connections: list[RoleConnection] = []
        items = [] if party_roles is None else party_roles.findall(dc("RegisterDocumentPartyRoleDto"))
        for position, item in enumerate(items, start=1):
            where = f"RegisterDocument: PartyRoles/RegisterDocumentPartyRoleDto[{position}]"
            party_id, role_id = guid(item, dc("PartyId")), guid(item, dc("CaseRoleId"))
            if party_id is None or role_id is None:
                raise SoapFault(f"{where} needs PartyId and CaseRoleId")
            self._party_or_fault(where, party_id)
            self._role_or_fault(where, role_id)
            if not any(c.party_id == party_id and c.role_id == role_id for c in connections):
                connections.append(RoleConnection(_new_id(), party_id, role_id))
        return connections

    def _filters(self, filters: etree._Element | None) -> list[Callable[[CaseRecord], bool]]:
        return [self._filter(f) for f in (filters if filters is not None else []) if isinstance(f.tag, str)]

    def _filter(self, element: etree._Element) -> Callable[[CaseRecord], bool]:
        namespace, kind = xsi_type(element)
        if namespace != CONTRACTS_NS or kind not in FILTER_TYPES:
            raise SoapFault(f"SearchCase: each FilterSvcDto needs an xsi:type of {', '.join(FILTER_TYPES)}")
        if kind == "AndFilterSvcDto":
            parts = self._filters(child(element, dc("Filters")))
            if not parts:
                raise SoapFault("SearchCase: AndFilterSvcDto needs at least one filter in Filters")
            return lambda case: all(part(case) for part in parts)
        if kind == "CaseNumberFilterSvcDto":
            number = (text(element, dc("CaseNumber")) or "").upper()
            return lambda case: case.case_number.upper() == number
        if kind == "FnrFilterSvcDto":
            fnr = int(text(element, dc("Fnr")) or "0")
            return lambda case: any(estate.fnr == fnr for estate in case.estates)
        if kind == "SinglePartyRoleFilterSvcDto":
            party_id, role_id = guid(element, dc("PartyId")), guid(element, dc("RoleId"))
            if party_id is None:
                raise SoapFault("SearchCase: SinglePartyRoleFilterSvcDto needs PartyId")
            return lambda case: case.has_role(party_id, role_id)
        occurrence_type_id = guid(element, dc("OccurrenceTypeId"))
        on = text(element, dc("OccurrenceDate"))
        day = _parse_datetime(on).date() if on else None
        if occurrence_type_id is None and day is None:
            raise SoapFault("SearchCase: OccurrenceFilterSvcDto needs OccurrenceTypeId or OccurrenceDate")
        return lambda case: any(
            (occurrence_type_id is None or o.occurrence_type_id == occurrence_type_id)
            and (day is None or o.date.date() == day)
            for o in case.occurrences
        )

    def _document_list(self, parent: etree._Element, documents: list[DocumentRecord]) -> None:
        for document in documents:
            item = add(parent, dc("DocumentListItemSvcDto"))
            document_type = self._document_types.get(document.document_type_id or "")
            if document_type is not None:
                add(item, dc("DocumentClassificationTypeDescription"), document_type.name)
            add(item, dc("DocumentId"), document.document_id)
            status = self._document_statuses.get(document.status_id or "", INCOMING_STATUS)
            add(item, dc("DocumentStatus"), status.name)
            if document.document_type_id:
                add(item, dc("DocumentTypeId"), document.document_type_id)
            add(item, dc("FileName" if "renames-reply-element" in self.flaws else "Filename"), document.filename)
            if document.note:
                add(item, dc("Note"), document.note)

    @staticmethod
    def _read_addresses(dto: etree._Element) -> list[dict[str, str]]:
        addresses = child(dto, dc("Addresses"))
        found = [] if addresses is None else addresses.findall(dc("PartyAddressSvcDto"))
        return [{name: value for name in ADDRESS_FIELDS if (value := text(item, dc(name)))} for item in found]

    @staticmethod
    def _address_list(parent: etree._Element, addresses: list[dict[str, str]]) -> None:
        for address in addresses:
            item = add(parent, dc("PartyAddressSvcDto"))
            for name in ADDRESS_FIELDS:
                if name in address:
                    add(item, dc(name), address[name])


def _repeats(items: Iterable[object]) -> int:
    """How many of ``items`` an earlier one already was."""
    return sum(n - 1 for n in Counter(items).values())


def _decode_base64(data: str, where: str) -> bytes:
    try:
        return base64.b64decode(data)
    except (binascii.Error, ValueError):
        raise SoapFault(f"{where}/Data is not valid base64") from None
