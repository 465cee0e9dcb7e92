"""The Ecos simulator's operations and business rules, driven through zeep against its own ?wsdl."""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterator

import pytest
import requests
import zeep
from zeep import xsd
from zeep.exceptions import Fault

from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.ecos import EcosSimulator
from brygga_simulators.ecos.reference import (
    DOCUMENT_STATUSES,
    DOCUMENT_TYPES,
    OCCURRENCE_TYPES,
    PARTY_ROLES,
    PROCESS_TYPES,
)

DC = "urn:Ecos.API.MinutMiljo.DataContracts.V1"
VARMEPUMP = PROCESS_TYPES[0].id
ANMALAN_VARMEPUMP = OCCURRENCE_TYPES[0].id
SOKANDE, FASTIGHETSAGARE = PARTY_ROLES[0].id, PARTY_ROLES[1].id
SITUATIONSPLAN = next(t.id for t in DOCUMENT_TYPES if t.name == "Situationsplan")
KOMPLETTERING = next(t.id for t in OCCURRENCE_TYPES if t.name == "Komplettering")
UPPRATTAD = next(s.id for s in DOCUMENT_STATUSES if s.name == "Upprättad")
PERSONNUMMER = "198005122380"  # a test personnummer (valid check digit), fictitious person
ORGNR = "5560360793"
KUMLA_STENEN_FNR = 22044332  # KUMLA STENEN 1:23 in the property-register simulator
CASE_NUMBER = re.compile(r"^MBN-\d{4}-\d{6}$")


@pytest.fixture
def ecos() -> Iterator[RunningSimulator]:
    with start_simulator(EcosSimulator) as running:
        yield running


@pytest.fixture
def client(ecos) -> zeep.Client:
    return zeep.Client(ecos.wsdl_url, settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True))


def _person(client, number=PERSONNUMMER) -> str:
    return client.service.CreatePersonParty(personParty={
        "Addresses": {"PartyAddressSvcDto": [
            {"PostCode": "69231", "PostalArea": "Kumla", "StreetName": "Storgatan", "StreetNumber": "12"}]},
        "NationalIdentificationNumber": number,
        "FirstName": "Anna-Karin",
        "LastName": "Ström",
    })


def _organisation(client, number=ORGNR) -> str:
    return client.service.CreateOrganizationParty(organizationParty={
        "Addresses": xsd.Nil, "NationalIdentificationNumber": number, "OrganizationName": "AB Exempel"})


def _register(client, documents=None, party_roles=None, process_type=VARMEPUMP, occurrence_type=ANMALAN_VARMEPUMP,
              reference="brygga:sub-1"):
    if documents is None:
        documents = [{"ContentType": "application/pdf", "Data": b"%PDF-1.4 anmalan", "Filename": "Anmalan.pdf"}]
    return client.service.RegisterDocument(registerDocumentCaseSvcDto={
        "CaseSubtitleFree": reference,
        "Documents": {"DocumentSvcDto": documents},
        "ExternalCaseNumber": reference,
        "OccurrenceNote": "Inkommen via e-tjänst",
        "OccurrenceTypeId": occurrence_type,
        "PartyRoles": {"RegisterDocumentPartyRoleDto": party_roles or []},
        "ProcessTypeId": process_type,
    })


def _add_documents(client, case_id, documents=None, occurrence_type=KOMPLETTERING, status=None):
    if documents is None:
        documents = [{"Data": b"%PDF-1.4 komplettering", "Filename": "Komplettering.pdf", "Note": "Ny ritning"}]
    dto = {"CaseId": case_id, "Documents": {"DocumentSvcDto": documents}, "OccurrenceTypeId": occurrence_type}
    if status is not None:
        dto["DocumentStatusId"] = status
    return client.service.AddDocumentsToCase(addDocumentToCaseSvcDto=dto)


def _filter(client, kind: str, **values):
    return client.get_type(f"{{{DC}}}{kind}")(**values)


def _search(client, case_filter):
    result = client.service.SearchCase(model={"Filters": {"FilterSvcDto": [case_filter]}})
    return result or []  # zeep unwraps an ArrayOf result to a list, or None when empty


def _all_of(client, *filters):
    return _filter(client, "AndFilterSvcDto", Filters={"FilterSvcDto": list(filters)})


def _views(ecos) -> str:
    return "".join(requests.get(f"{ecos.base_url}/_sim/{view}", timeout=10).text
                   for view in ("cases", "parties", "calls", "counts", "reference"))


def test_the_wsdl_is_served_at_the_real_services_path_pointing_back_at_the_simulator(ecos, client):
    assert ecos.url.endswith("/Ecos2PublicServices/MinutMiljoService.svc")
    assert client.service._binding_options["address"] == ecos.url


def test_reference_data_lists_process_types_and_document_types(client):
    process_types = {pair.Name: pair.Id for pair in client.service.GetProcessTypes()}
    assert process_types["Värmepump"] == VARMEPUMP
    categories = client.service.GetDocumentClassifications()
    types = {t.Name: t.Id for c in categories for t in c.Types.DocumentClassificationTypeSvcDto}
    assert types["Situationsplan"] == SITUATIONSPLAN


def test_a_case_is_registered_with_parties_estate_and_documents(ecos, client):
    person, organisation = _person(client), _organisation(client)
    result = _register(client, documents=[
        {"ContentType": "application/pdf", "Data": b"%PDF-1.4 anmalan", "Filename": "Anmalan.pdf"},
        {"Data": b"%PDF-1.4 plan", "DocumentTypeId": SITUATIONSPLAN, "Filename": "Situationsplan.pdf",
         "Note": "Bilaga"},
    ], party_roles=[{"CaseRoleId": SOKANDE, "PartyId": person}])
    assert CASE_NUMBER.match(result.CaseNumber)
    assert str(uuid.UUID(result.CaseId)) == result.CaseId

    client.service.AddPartyToCase(model={"CaseId": result.CaseId, "PartyId": organisation,
                                         "Roles": {"guid": [FASTIGHETSAGARE]}})
    estate_connection = client.service.AddEstateToCase(
        addEstateToCaseSvcDto={"CaseId": result.CaseId, "Fnr": KUMLA_STENEN_FNR})
    assert uuid.UUID(estate_connection)

    case = client.service.GetCase(caseId=result.CaseId)
    assert (case.CaseNumber, case.CaseSubtitleFree, case.ProcessTypeName) == (
        result.CaseNumber, "brygga:sub-1", "Värmepump")
    assert case.EstateDesignation == "KUMLA STENEN 1:23"
    [occurrence] = case.Occurrences.OccurrenceListItemSvcDto
    assert occurrence.OccurrenceTypeId == ANMALAN_VARMEPUMP
    documents = {d.Filename: d for d in case.Documents.DocumentListItemSvcDto}
    assert documents["Situationsplan.pdf"].DocumentClassificationTypeDescription == "Situationsplan"
    file = client.service.GetDocument(documentId=documents["Anmalan.pdf"].DocumentId)
    assert (file.Data, file.Extension) == (b"%PDF-1.4 anmalan", ".pdf")

    roles = {(r.PartyId, r.RoleId) for r in client.service.GetCasePartyRoles(caseId=result.CaseId)}
    assert roles == {(person, SOKANDE), (organisation, FASTIGHETSAGARE)}
    record = ecos.app.cases[result.CaseId]
    assert record.documents[0].sha256 == hashlib.sha256(b"%PDF-1.4 anmalan").hexdigest()


def test_the_same_role_or_estate_added_again_is_kept_twice_and_counted(ecos, client):
    # As a real register would: checking before adding is the client's job, and a harness must see it fail.
    person = _person(client)
    case = _register(client, party_roles=[{"CaseRoleId": SOKANDE, "PartyId": person}])
    counts = requests.get(f"{ecos.base_url}/_sim/counts", timeout=10).json()
    assert (counts["duplicate_role_connections"], counts["duplicate_estates"]) == (
        {case.CaseNumber: 0}, {case.CaseNumber: 0})

    client.service.AddPartyToCase(model={"CaseId": case.CaseId, "PartyId": person,
                                         "Roles": {"guid": [SOKANDE, FASTIGHETSAGARE]}})
    first = client.service.AddEstateToCase(addEstateToCaseSvcDto={"CaseId": case.CaseId, "Fnr": KUMLA_STENEN_FNR})
    again = client.service.AddEstateToCase(addEstateToCaseSvcDto={"CaseId": case.CaseId, "Fnr": KUMLA_STENEN_FNR})

    assert first != again
    roles = [(r.PartyId, r.RoleId) for r in client.service.GetCasePartyRoles(caseId=case.CaseId)]
    assert sorted(roles) == sorted([(person, SOKANDE), (person, SOKANDE), (person, FASTIGHETSAGARE)])
    assert [e.fnr for e in ecos.app.cases[case.CaseId].estates] == [KUMLA_STENEN_FNR, KUMLA_STENEN_FNR]
    counts = requests.get(f"{ecos.base_url}/_sim/counts", timeout=10).json()
    assert (counts["duplicate_role_connections"], counts["duplicate_estates"]) == (
        {case.CaseNumber: 1}, {case.CaseNumber: 1})


def test_search_case_finds_a_case_by_number_estate_party_role_and_occurrence_type(client):
    person = _person(client)
    other = _register(client, reference="brygga:other")
    mine = _register(client, party_roles=[{"CaseRoleId": SOKANDE, "PartyId": person}], reference="brygga:mine")
    client.service.AddEstateToCase(addEstateToCaseSvcDto={"CaseId": mine.CaseId, "Fnr": KUMLA_STENEN_FNR})

    by_number = _search(client, _filter(client, "CaseNumberFilterSvcDto", CaseNumber=mine.CaseNumber))
    by_fnr = _search(client, _filter(client, "FnrFilterSvcDto", Fnr=KUMLA_STENEN_FNR))
    by_party = _search(client, _all_of(
        client,
        _filter(client, "SinglePartyRoleFilterSvcDto", PartyId=person, RoleId=SOKANDE),
        _filter(client, "OccurrenceFilterSvcDto", OccurrenceDate=xsd.Nil, OccurrenceTypeId=ANMALAN_VARMEPUMP),
    ))
    for found in (by_number, by_fnr, by_party):
        assert [(r.CaseId, r.CaseSubtitleFree) for r in found] == [(mine.CaseId, "brygga:mine")]
    # AndFilterSvcDto narrows: the other case's number with my estate matches nothing.
    assert _search(client, _all_of(client, _filter(client, "CaseNumberFilterSvcDto", CaseNumber=other.CaseNumber),
                                   _filter(client, "FnrFilterSvcDto", Fnr=KUMLA_STENEN_FNR))) == []
    by_type = _search(client, _filter(client, "OccurrenceFilterSvcDto", OccurrenceDate=xsd.Nil,
                                      OccurrenceTypeId=ANMALAN_VARMEPUMP))
    assert {r.CaseId for r in by_type} == {other.CaseId, mine.CaseId}
    assert _search(client, _filter(client, "CaseNumberFilterSvcDto", CaseNumber="MBN-1999-000001")) == []


def test_search_party_finds_a_person_by_any_personnummer_form(client):
    person = _person(client)
    _organisation(client)
    found = client.service.SearchParty(model={"PersonalIdentificationNumber": "19800512-2380"})
    assert [p.Id for p in found] == [person]
    assert client.service.SearchParty(model={"PersonalIdentificationNumber": "191212121212"}) is None


def _fault(call) -> str:
    with pytest.raises(Fault) as caught:
        call()
    return caught.value.message


@pytest.mark.parametrize(("changes", "rule"), [
    ({"process_type": str(uuid.uuid4())}, "ProcessTypeId is not a process type"),
    ({"occurrence_type": str(uuid.uuid4())}, "OccurrenceTypeId is not an occurrence type"),
    ({"documents": []}, "Documents needs at least one DocumentSvcDto"),
    ({"documents": [{"Data": b"x", "DocumentTypeId": str(uuid.uuid4()), "Filename": "a.pdf"}]},
     "DocumentTypeId is not a document type"),
    ({"documents": [{"Data": b"", "Filename": "a.pdf"}]}, "Data must hold the file content"),
    ({"party_roles": [{"CaseRoleId": str(uuid.uuid4()), "PartyId": str(uuid.uuid4())}]}, "no party"),
])
def test_register_document_refuses_what_ecos_would(ecos, client, changes, rule):
    assert rule in _fault(lambda: _register(client, **changes))
    assert ecos.app.counts()["cases"] == 0


def test_register_document_refuses_an_unknown_party_role(client):
    person = _person(client)
    message = _fault(lambda: _register(client, party_roles=[{"CaseRoleId": str(uuid.uuid4()), "PartyId": person}]))
    assert "not a party role" in message


def test_parties_and_estates_go_on_existing_cases_with_known_roles_only(client):
    person = _person(client)
    case = _register(client)
    unknown = str(uuid.uuid4())
    assert "no case with that CaseId" in _fault(lambda: client.service.AddPartyToCase(
        model={"CaseId": unknown, "PartyId": person, "Roles": {"guid": [SOKANDE]}}))
    assert "not a party role" in _fault(lambda: client.service.AddPartyToCase(
        model={"CaseId": case.CaseId, "PartyId": person, "Roles": {"guid": [unknown]}}))
    assert "no party with that PartyId" in _fault(lambda: client.service.AddPartyToCase(
        model={"CaseId": case.CaseId, "PartyId": unknown, "Roles": {"guid": [SOKANDE]}}))
    assert "no case with that CaseId" in _fault(lambda: client.service.AddEstateToCase(
        addEstateToCaseSvcDto={"CaseId": unknown, "Fnr": KUMLA_STENEN_FNR}))
    assert "not an estate in the property register" in _fault(lambda: client.service.AddEstateToCase(
        addEstateToCaseSvcDto={"CaseId": case.CaseId, "Fnr": 1}))
    assert "no case with that CaseId" in _fault(lambda: client.service.GetCase(caseId=unknown))
    assert "no document" in _fault(lambda: client.service.GetDocument(documentId=unknown))


def test_identity_numbers_are_checked_and_never_echoed(ecos, client):
    bad_personnummer, bad_orgnr = "198005122381", "5560360794"
    person_fault = _fault(lambda: _person(client, bad_personnummer))
    organisation_fault = _fault(lambda: _organisation(client, bad_orgnr))
    assert "must be a valid personnummer" in person_fault
    assert "must be a valid organisationsnummer" in organisation_fault
    for text in (person_fault, organisation_fault, _views(ecos)):
        for number in (bad_personnummer, bad_orgnr, "800512-2381"):
            assert number not in text
    assert ecos.app.parties == {}


def test_search_case_refuses_filters_side_by_side_whose_meaning_the_contract_leaves_open(ecos, client):
    case = _register(client)
    by_number = _filter(client, "CaseNumberFilterSvcDto", CaseNumber=case.CaseNumber)
    by_fnr = _filter(client, "FnrFilterSvcDto", Fnr=KUMLA_STENEN_FNR)

    side_by_side = _fault(lambda: client.service.SearchCase(model={"Filters": {"FilterSvcDto": [by_number, by_fnr]}}))

    assert "several filters side by side" in side_by_side and "AndFilterSvcDto" in side_by_side
    assert "at least one filter" in _fault(lambda: client.service.SearchCase(model={"Filters": {"FilterSvcDto": [
        _filter(client, "AndFilterSvcDto", Filters=xsd.Nil)]}}))
    assert [r.CaseId for r in _search(client, _all_of(client, by_number))] == [case.CaseId]


def test_search_case_needs_typed_filters(ecos, client, post_soap):
    assert "at least one filter" in _fault(lambda: client.service.SearchCase(model={"Filters": xsd.Nil}))
    untyped = post_soap(ecos, (
        '<SearchCase xmlns="urn:Ecos.API.MinutMiljo.Service.V1"><model>'
        f'<a:Filters xmlns:a="{DC}"><a:FilterSvcDto/></a:Filters></model></SearchCase>'))
    assert untyped.status_code == 500
    assert "needs an xsi:type" in untyped.text


def test_a_request_off_contract_is_refused_by_the_schema(ecos, post_soap):
    # No ProcessTypeId: zeep would never send this, a hand-made client could.
    reply = post_soap(ecos, (
        '<RegisterDocument xmlns="urn:Ecos.API.MinutMiljo.Service.V1"><registerDocumentCaseSvcDto>'
        f'<a:Documents xmlns:a="{DC}"/><a:OccurrenceTypeId xmlns:a="{DC}">{ANMALAN_VARMEPUMP}</a:OccurrenceTypeId>'
        '</registerDocumentCaseSvcDto></RegisterDocument>'))
    assert reply.status_code == 500
    assert "schema violation" in reply.text and "ProcessTypeId" in reply.text


def test_a_20_mb_document_round_trips_intact(ecos):
    # Reading the file back needs huge_tree on the client too: its base64 is one text node over libxml2's 10 MB.
    client = zeep.Client(ecos.wsdl_url, settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True,
                                                               xml_huge_tree=True))
    content = os.urandom(20 * 1024 * 1024)
    case = _register(client, documents=[{"Data": content, "Filename": "Ritning.pdf"}])
    [document] = client.service.GetCase(caseId=case.CaseId).Documents.DocumentListItemSvcDto
    fetched = client.service.GetDocument(documentId=document.DocumentId).Data
    assert hashlib.sha256(fetched).hexdigest() == hashlib.sha256(content).hexdigest()
    assert ecos.app.cases[case.CaseId].documents[0].sha256 == hashlib.sha256(content).hexdigest()


def test_a_lost_reply_leaves_a_case_that_search_case_finds(ecos, client):
    person = _person(client)
    ecos.app.faults.set([{"operation": "RegisterDocument", "action": "lose_reply", "nth": 1}])
    with pytest.raises(requests.exceptions.ConnectionError):
        _register(client, party_roles=[{"CaseRoleId": SOKANDE, "PartyId": person}], reference="brygga:lost")
    found = _search(client, _filter(client, "SinglePartyRoleFilterSvcDto", PartyId=person, RoleId=SOKANDE))
    assert [r.CaseSubtitleFree for r in found] == ["brygga:lost"]
    assert ecos.app.counts()["cases_per_external_case_number"] == {"brygga:lost": 1}


def test_inspection_views_show_state_without_personal_data(ecos, client):
    person = _person(client)
    _organisation(client)
    case = _register(client, party_roles=[{"CaseRoleId": SOKANDE, "PartyId": person}])
    _person(client)  # the same person again: a duplicate party a harness should see
    cases = requests.get(f"{ecos.base_url}/_sim/cases", timeout=10).json()
    assert cases[0]["case_number"] == case.CaseNumber
    assert cases[0]["roles"] == [{"party_id": person, "role_id": SOKANDE}]
    counts = requests.get(f"{ecos.base_url}/_sim/counts", timeout=10).json()
    assert (counts["parties"], counts["duplicate_parties"]) == (3, 1)
    calls = requests.get(f"{ecos.base_url}/_sim/calls", timeout=10).json()
    assert [c["operation"] for c in calls] == [
        "CreatePersonParty", "CreateOrganizationParty", "RegisterDocument", "CreatePersonParty"]
    views = _views(ecos)
    for personal in (PERSONNUMMER, "800512-2380", "Anna-Karin", "Ström", "Storgatan", "AB Exempel", ORGNR):
        assert personal not in views
    assert json.loads(requests.get(f"{ecos.base_url}/_sim/reference", timeout=10).text)["party_roles"][0] == {
        "id": SOKANDE, "name": "Sökande"}


def test_add_documents_to_case_adds_an_occurrence_with_the_documents(ecos, client):
    case = _register(client)
    assert _add_documents(client, case.CaseId, status=UPPRATTAD, documents=[
        {"ContentType": "application/pdf", "Data": b"%PDF-1.4 ritning v2", "DocumentTypeId": SITUATIONSPLAN,
         "Filename": "Ritning.pdf", "Note": "Ny ritning"},
        {"Data": b"%PDF-1.4 anmalan", "Filename": "Anmalan-igen.pdf"},  # content the case already holds
    ]) is None  # AddDocumentsToCaseResponse is empty

    view = client.service.GetCase(caseId=case.CaseId)
    first, added = view.Occurrences.OccurrenceListItemSvcDto
    assert added.OccurrenceTypeId == KOMPLETTERING and first.OccurrenceTypeId == ANMALAN_VARMEPUMP
    assert [d.Filename for d in added.Documents.DocumentListItemSvcDto] == ["Ritning.pdf", "Anmalan-igen.pdf"]
    listed = {d.Filename: d for d in view.Documents.DocumentListItemSvcDto}
    assert set(listed) == {"Anmalan.pdf", "Ritning.pdf", "Anmalan-igen.pdf"}
    # DocumentStatusId is the status of every document of the call; RegisterDocument's are incoming.
    assert [listed[name].DocumentStatus for name in ("Anmalan.pdf", "Ritning.pdf", "Anmalan-igen.pdf")] == [
        "Inkommen", "Upprättad", "Upprättad"]
    assert (listed["Ritning.pdf"].Note, listed["Ritning.pdf"].DocumentTypeId) == ("Ny ritning", SITUATIONSPLAN)
    file = client.service.GetDocument(documentId=listed["Ritning.pdf"].DocumentId)
    assert file.Data == b"%PDF-1.4 ritning v2"

    record = ecos.app.cases[case.CaseId]
    assert [d.status_id for d in record.documents] == [None, UPPRATTAD, UPPRATTAD]
    counts = ecos.app.counts()
    assert counts["documents_per_case"] == {case.CaseNumber: 3}
    assert counts["duplicate_documents"] == {case.CaseNumber: 1}
    (summary,) = requests.get(f"{ecos.base_url}/_sim/cases", timeout=10).json()
    assert [len(o["documents"]) for o in summary["occurrences"]] == [1, 2]
    assert summary["occurrences"][1]["documents"][0]["status_id"] == UPPRATTAD


@pytest.mark.parametrize(("changes", "rule"), [
    ({"case_id": str(uuid.uuid4())}, "no case with that CaseId"),
    ({"documents": []}, "Documents needs at least one DocumentSvcDto"),
    ({"documents": [{"Data": b"", "Filename": "a.pdf"}]}, "Data must hold the file content"),
    ({"occurrence_type": str(uuid.uuid4())}, "OccurrenceTypeId is required and must be an occurrence type"),
    ({"occurrence_type": None}, "OccurrenceTypeId is required"),
    ({"status": str(uuid.uuid4())}, "DocumentStatusId is not a document status"),
])
def test_add_documents_to_case_refuses_what_ecos_would(ecos, client, changes, rule):
    case = _register(client)
    arguments = {"case_id": case.CaseId, **changes}
    assert rule in _fault(lambda: _add_documents(client, arguments.pop("case_id"), **arguments))
    assert len(ecos.app.cases[case.CaseId].occurrences) == 1
    assert ecos.app.counts()["documents_per_case"] == {case.CaseNumber: 1}
    assert ecos.app.inspect("calls")[-1]["fault"].startswith("AddDocumentsToCase")
