"""The MinutMiljoService operations Brygga uses: requests built strictly by zeep, replies read tolerantly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from zeep import xsd

from brygga.errors import ConfigError
from brygga_adapters.ecos.replies import (
    CaseRef,
    CaseView,
    PartyRole,
    read_case_party_roles,
    read_created_guid,
    read_get_case,
    read_register_document,
    read_search_case,
    read_search_party,
)
from brygga_adapters.soap import SoapService
from brygga_adapters.soap.raw import call_raw

DATA_CONTRACTS = "urn:Ecos.API.MinutMiljo.DataContracts.V1"


@dataclass(frozen=True)
class OutgoingDocument:
    """One DocumentSvcDto; ``data`` is the streaming placeholder from ``SoapService.file_value``."""

    filename: str
    content_type: str | None
    data: bytes
    note: str
    document_type_id: str | None


@dataclass(frozen=True)
class Registration:
    """What RegisterDocument carries besides the documents; ids are GUIDs already resolved."""

    process_type_id: str
    occurrence_type_id: str
    case_subtitle_free: str
    external_case_number: str
    occurrence_note: str | None
    start_date: datetime | None
    party_roles: tuple[PartyRole, ...]  # (PartyId, CaseRoleId): the parties registered with the case itself
    diary_plan_id: str | None = None
    handling_officer_group_id: str | None = None


class EcosCalls:
    def __init__(self, service: SoapService) -> None:
        self.service = service

    def has_operation(self, operation: str) -> bool:
        operations = getattr(getattr(self.service.proxy, "_binding", None), "_operations", {}) or {}
        return operation in operations

    def list_reply(self, operation: str) -> etree._Element:
        """A parameterless Get* operation (GetProcessTypes, GetDocumentClassifications...), for ``lookups``."""
        if not self.has_operation(operation):
            raise ConfigError(
                f"connection {self.service.name!r}: the service's WSDL has no operation {operation} to look names "
                "up by; give the GUID in config instead"
            )
        return call_raw(self.service, operation)

    # --- cases -------------------------------------------------------------------------------------------

    def register_document(self, registration: Registration, documents: Sequence[OutgoingDocument]) -> CaseRef:
        dto: dict[str, Any] = {
            "CaseSubtitleFree": registration.case_subtitle_free,
            "Documents": self._documents(documents),
            "ExternalCaseNumber": registration.external_case_number,
            "OccurrenceNote": registration.occurrence_note,
            "OccurrenceTypeId": registration.occurrence_type_id,
            "PartyRoles": {
                "RegisterDocumentPartyRoleDto": [
                    {"CaseRoleId": role.role_id, "PartyId": role.party_id} for role in registration.party_roles
                ]
            } if registration.party_roles else None,
            "ProcessTypeId": registration.process_type_id,
            "StartDate": registration.start_date,
        }
        # Sent only when configured: an installation's WSDL may leave them out (Brygga's simulator does).
        if registration.diary_plan_id:
            dto["DiaryPlanId"] = registration.diary_plan_id
        if registration.handling_officer_group_id:
            dto["HandlingOfficerGroupId"] = registration.handling_officer_group_id
        dto = {key: value for key, value in dto.items() if value is not None or key == "Documents"}
        reply = call_raw(self.service, "RegisterDocument", registerDocumentCaseSvcDto=dto)
        return read_register_document(reply)

    def search_cases(self, case_filter: Any) -> tuple[CaseRef, ...]:
        """SearchCase with one filter (see ``filter``; ``all_of`` combines several).

        One filter only: the contract has AndFilterSvcDto/OrFilterSvcDto and does not say what several filters
        side by side in ``Filters`` mean, so Brygga never relies on it.
        """
        reply = call_raw(self.service, "SearchCase", model={"Filters": {"FilterSvcDto": [case_filter]}})
        return read_search_case(reply)

    def filter(self, type_name: str, **fields: Any) -> Any:
        """A SearchCase filter of a derived type, which zeep sends as ``<FilterSvcDto xsi:type="...">``."""
        return self.service.get_type(f"{{{DATA_CONTRACTS}}}{type_name}")(**fields)

    def all_of(self, *filters: Any) -> Any:
        """The cases every one of ``filters`` matches: an AndFilterSvcDto holding them."""
        return self.filter("AndFilterSvcDto", Filters={"FilterSvcDto": list(filters)})

    def get_case(self, case_id: str) -> CaseView:
        return read_get_case(call_raw(self.service, "GetCase", caseId=case_id))

    def add_documents(self, case_id: str, occurrence_type_id: str, documents: Sequence[OutgoingDocument],
                      document_status_id: str | None) -> None:
        dto: dict[str, Any] = {
            "CaseId": case_id,
            "DocumentStatusId": document_status_id,
            "Documents": self._documents(documents),
            "OccurrenceTypeId": occurrence_type_id,
        }
        call_raw(self.service, "AddDocumentsToCase",
                 addDocumentToCaseSvcDto={key: value for key, value in dto.items() if value is not None})

    # --- parties and estates -----------------------------------------------------------------------------

    def search_party(self, *, personal: str | None = None, organisation: str | None = None) -> tuple[str, ...]:
        model = {"OrganizationIdentificationNumber": organisation} if organisation else {
            "PersonalIdentificationNumber": personal}
        return read_search_party(call_raw(self.service, "SearchParty", model=model))

    def create_person(self, person: dict[str, Any]) -> str:
        reply = call_raw(self.service, "CreatePersonParty", personParty=_with_addresses(person))
        return read_created_guid(reply, "CreatePersonParty")

    def create_organisation(self, organisation: dict[str, Any]) -> str:
        reply = call_raw(self.service, "CreateOrganizationParty", organizationParty=_with_addresses(organisation))
        return read_created_guid(reply, "CreateOrganizationParty")

    def case_party_roles(self, case_id: str) -> frozenset[PartyRole]:
        return read_case_party_roles(call_raw(self.service, "GetCasePartyRoles", caseId=case_id))

    def add_party(self, case_id: str, party_id: str, role_ids: Sequence[str]) -> None:
        model = {"CaseId": case_id, "PartyId": party_id, "Roles": {"guid": list(role_ids)}}
        call_raw(self.service, "AddPartyToCase", model=model)

    def add_estate(self, case_id: str, fnr: int) -> None:
        call_raw(self.service, "AddEstateToCase", addEstateToCaseSvcDto={"CaseId": case_id, "Fnr": fnr})

    # --- helpers -----------------------------------------------------------------------------------------

    @staticmethod
    def _documents(documents: Sequence[OutgoingDocument]) -> dict[str, Any] | Any:
        if not documents:
            return xsd.Nil
        return {
            "DocumentSvcDto": [
                {
                    key: value
                    for key, value in {
                        "ContentType": document.content_type,
                        "Data": document.data,
                        "DocumentTypeId": document.document_type_id,
                        "Filename": document.filename,
                        "Note": document.note,
                    }.items()
                    if value is not None
                }
                for document in documents
            ]
        }


def _with_addresses(party: dict[str, Any]) -> dict[str, Any]:
    # Addresses is required by the contract, nillable: a party without an address sends it as nil.
    return {**party, "Addresses": party.get("Addresses") or xsd.Nil}
