"""Ecos (MinutMiljoService) as a case target: one submission becomes one case with its documents, parties and
estates.

Delivery is at-least-once, so every step is safe to repeat (README.md, "Idempotency"):

1. The applicant's party is found by its identity number (SearchParty) or created (CreatePersonParty /
   CreateOrganizationParty).
2. Check-before-create: SearchCase for the cases where that party has the applicant role
   (SinglePartyRoleFilter), and among them the one whose free-text subtitle ends with the marker
   ``brygga-ref:<extern_ref>``.
3. If none, RegisterDocument creates the case with the documents, the marker in CaseSubtitleFree, the extern ref
   as ExternalCaseNumber and the applicant in PartyRoles, all in one call: the case never exists without what
   finds it again. A lost reply is TargetInDoubt; the next attempt finds the case in step 2.
4. The other parties: found or created as in step 1, then AddPartyToCase with the roles GetCasePartyRoles does
   not already show for them.
5. Each estate: AddEstateToCase by FNR, unless SearchCase (AndFilter of CaseNumberFilter and FnrFilter) already
   finds the case.

An amendment adds its documents to the existing case with AddDocumentsToCase, each noted with
``brygga-ref:<extern_ref>#<revision>``; GetCase first, so a retry adds them once.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected
from brygga.plugins import Amendment, DeliveryReceipt, DeliveryRequest, StoredDocument, configure
from brygga_adapters.documents import VerifiedDocument, amendment_note, verify_all
from brygga_adapters.ecos import preflight as preflight_rules
from brygga_adapters.ecos.calls import EcosCalls, OutgoingDocument, Registration
from brygga_adapters.ecos.config import CONFIG_SPEC, check_config
from brygga_adapters.ecos.lookups import Resolver
from brygga_adapters.ecos.markers import marked_subtitle
from brygga_adapters.ecos.payload import EcosPayload, Party, read_payload
from brygga_adapters.ecos.replies import CaseRef, PartyRole
from brygga_adapters.http.fields import soap_connection_fields
from brygga_adapters.markers import amendment_marker, carries_marker, creation_marker
from brygga_adapters.soap import soap_service

log = logging.getLogger("brygga.adapters.ecos")

ADD_DOCUMENTS = "AddDocumentsToCase"


class EcosTarget:
    """``CaseTarget`` for Ecos's MinutMiljoService. Endpoint and credentials come from the connection."""

    config_spec: ClassVar[dict[str, Any]] = CONFIG_SPEC
    # What the connection holds (README.md, "Connection"; docs/connections.md): `brygga adapters list` shows it.
    connection_fields: ClassVar[dict[str, str]] = soap_connection_fields(
        system="MinutMiljoService", path="/Ecos2PublicServices/MinutMiljoService.svc",
        account="the Ecos integration account")

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        if connection is None:
            raise ConfigError("ecos target needs a connection (the MinutMiljoService endpoint)")
        self.config = configure("ecos", CONFIG_SPEC, config)
        check_config(self.config)
        self.connection = connection

    @classmethod
    def preflight(cls, config: dict[str, Any], case: dict[str, Any], payload: dict[str, Any] | None) -> list[str]:
        """What Ecos would refuse in this case and payload, without calling it (see preflight.py)."""
        return preflight_rules.problems(config, case, payload)

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        # Everything that can be refused locally is checked before the first remote call.
        documents = verify_all(request.documents)
        if request.amendment is not None:
            return self.amend(request, request.amendment, documents)
        if not documents:
            raise TargetRejected("ecos: RegisterDocument needs at least one document; the submission has none")
        payload = read_payload(request.payload)
        self.check_roles(payload)
        calls, resolver = self.session()
        registration_ids = self.registration_ids(resolver, payload)
        document_type_id = self.optional_id(resolver, "document_type")
        marker = creation_marker(request.extern_ref)

        applicant = payload.applicant
        applicant_ids = self.party_ids(calls, applicant)
        applicant_role = self.role_id("applicant")
        case = self.find_case(calls, applicant_ids, applicant_role, marker)
        created = case is None
        if case is None:
            registration = Registration(
                **registration_ids,
                case_subtitle_free=marked_subtitle(payload.case_subtitle, marker),
                external_case_number=request.extern_ref,
                occurrence_note=payload.occurrence_note,
                start_date=payload.start_date,
                party_roles=tuple(PartyRole(applicant_ids[0], self.role_id(r)) for r in applicant.roles),
            )
            # Built right before the call: each document streams from disk into this one request.
            case = calls.register_document(
                registration, self.outgoing(calls, request.documents, documents, document_type_id, None)
            )
        added_parties = self.add_parties(calls, case, payload, applicant_ids[0])
        added_estates = self.add_estates(calls, case, payload)
        log.info(
            "ecos delivery: submission=%s case=%s created=%s documents=%d parties_added=%d estates_added=%d",
            request.submission_id, case.case_number, created, len(documents), added_parties, added_estates,
        )
        if not case.case_number:
            raise TargetRejected("ecos: the case was found but Ecos gave no CaseNumber for it")
        return DeliveryReceipt(external_ref=case.case_number, created=created)

    def amend(
        self, request: DeliveryRequest, amendment: Amendment, documents: list[VerifiedDocument]
    ) -> DeliveryReceipt:
        if amendment.revision < 2 or not amendment.external_ref:
            raise TargetRejected("ecos amendment needs the existing CaseNumber and a revision of 2 or more")
        if not documents:
            # MinutMiljoService adds to a case by AddDocumentsToCase only; a change without new documents has no
            # place there, and a case officer must hear of it.
            raise TargetRejected("ecos amendment without new documents: Ecos can only add documents to a case")
        calls, resolver = self.session()
        if not calls.has_operation(ADD_DOCUMENTS):
            raise TargetRejected(
                f"ecos amendment: the service's WSDL has no {ADD_DOCUMENTS}, so documents cannot be added to the "
                "existing case"
            )
        occurrence_type_id = resolver.resolve(
            "amendment_occurrence_type", self.config.get("amendment_occurrence_type") or self.config["occurrence_type"]
        )
        document_type_id = self.optional_id(resolver, "document_type")
        document_status_id = self.optional_id(resolver, "document_status")
        case_number = amendment.external_ref
        case = next(
            (c for c in calls.search_cases(calls.filter("CaseNumberFilterSvcDto", CaseNumber=case_number))
             if c.case_number == case_number),
            None,
        )
        if case is None:
            raise TargetRejected("ecos amendment: Ecos has no case with the amendment's CaseNumber")
        marker = amendment_marker(request.extern_ref, amendment.revision)
        added = not any(carries_marker(d.note, marker) for d in calls.get_case(case.case_id).documents)
        if added:
            note = amendment_note(marker, amendment.revision, amendment.changed_fields)
            calls.add_documents(
                case.case_id, occurrence_type_id,
                self.outgoing(calls, request.documents, documents, document_type_id, note), document_status_id,
            )
        log.info(
            "ecos amendment: submission=%s case=%s revision=%d added=%s documents=%d",
            request.submission_id, case_number, amendment.revision, added, len(documents),
        )
        return DeliveryReceipt(external_ref=case_number, created=False)

    # --- steps -------------------------------------------------------------------------------------------

    @staticmethod
    def find_case(calls: EcosCalls, applicant_ids: list[str], role_id: str, marker: str) -> CaseRef | None:
        unlisted: dict[str, None] = {}  # found without a subtitle in the search result: GetCase tells
        for party_id in applicant_ids:
            applicant_filter = calls.filter("SinglePartyRoleFilterSvcDto", PartyId=party_id, RoleId=role_id)
            for case in calls.search_cases(applicant_filter):
                if carries_marker(case.subtitle, marker):
                    return case
                if case.subtitle is None:
                    unlisted[case.case_id] = None
        for case_id in unlisted:
            view = calls.get_case(case_id)
            if carries_marker(view.subtitle, marker):
                return CaseRef(case_id, view.case_number, view.subtitle)
        return None

    def party_ids(self, calls: EcosCalls, party: Party) -> list[str]:
        """The party's ids in Ecos's party register, found by identity number, or the one just created.

        Every party has its identity number (payload.py refuses one without), so a retry after a lost
        CreatePersonParty/CreateOrganizationParty reply finds the party instead of creating it again.
        """
        found = (calls.search_party(personal=party.national_id) if party.kind == "person"
                 else calls.search_party(organisation=party.national_id))
        if found:
            return list(found)
        created = calls.create_person(party.dto) if party.kind == "person" else calls.create_organisation(party.dto)
        return [created]

    def add_parties(self, calls: EcosCalls, case: CaseRef, payload: EcosPayload, applicant_id: str) -> int:
        connected = calls.case_party_roles(case.case_id)
        added = 0
        for party in payload.parties:
            party_id = applicant_id if party is payload.applicant else self.party_ids(calls, party)[0]
            wanted = [self.role_id(role) for role in party.roles]
            missing = [r for r in dict.fromkeys(wanted) if PartyRole(party_id, r) not in connected]
            if missing:
                calls.add_party(case.case_id, party_id, missing)
                added += 1
        return added

    @staticmethod
    def add_estates(calls: EcosCalls, case: CaseRef, payload: EcosPayload) -> int:
        added = 0
        for fnr in dict.fromkeys(estate.fnr for estate in payload.estates):
            found = calls.search_cases(calls.all_of(
                calls.filter("CaseNumberFilterSvcDto", CaseNumber=case.case_number),
                calls.filter("FnrFilterSvcDto", Fnr=fnr),
            ))
            if not any(hit.case_id == case.case_id for hit in found):
                calls.add_estate(case.case_id, fnr)
                added += 1
        return added

    # --- helpers -----------------------------------------------------------------------------------------

    def session(self) -> tuple[EcosCalls, Resolver]:
        # Looked up per delivery: the caches make it cheap, and a target that was down at start-up recovers.
        calls = EcosCalls(soap_service(self.connection))
        return calls, Resolver(self.connection.cache_key(), calls.list_reply, float(self.config["lookup_ttl_seconds"]))

    def registration_ids(self, resolver: Resolver, payload: EcosPayload) -> dict[str, Any]:
        configured = self.config.get("process_type")
        if configured:
            process_type_id = resolver.resolve("process_type", configured)
        elif payload.process_type:
            try:
                process_type_id = resolver.resolve("process_type", payload.process_type)
            except ConfigError as exc:
                # The mapping's name, not the config's: quarantined until the mapping or config 'process_type' is fixed.
                raise TargetRejected(f"ecos payload processType: {exc} (or set config 'process_type')") from None
        else:
            raise TargetRejected("ecos: no process type: set config 'process_type' or the payload's processType")
        return {
            "process_type_id": process_type_id,
            "occurrence_type_id": resolver.resolve("occurrence_type", self.config["occurrence_type"]),
            "diary_plan_id": self.optional_id(resolver, "diary_plan"),
            "handling_officer_group_id": self.optional_id(resolver, "handling_officer_group"),
        }

    def optional_id(self, resolver: Resolver, key: str) -> str | None:
        value = self.config.get(key)
        return resolver.resolve(key, value) if value else None

    def role_id(self, role: str) -> str:
        return self.config["party_roles"][role].lower()

    def check_roles(self, payload: EcosPayload) -> None:
        for party in payload.parties:
            for role in party.roles:
                if role not in self.config["party_roles"]:
                    raise TargetRejected(
                        f"ecos: {party.where}.roles: role {role!r} has no GUID in config 'party_roles'"
                    )

    def outgoing(self, calls: EcosCalls, stored: list[StoredDocument], documents: list[VerifiedDocument],
                 document_type_id: str | None, note: str | None) -> list[OutgoingDocument]:
        return [
            OutgoingDocument(
                filename=document.name,
                content_type=source.media_type or None,
                data=calls.service.file_value(document.path, document.size, document.sha256),
                note=note or document.name,
                document_type_id=document_type_id,
            )
            for source, document in zip(stored, documents, strict=True)
        ]
