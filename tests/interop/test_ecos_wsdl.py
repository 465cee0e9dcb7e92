"""The Ecos simulator's WSDL is a true subset of Ecos's published MinutMiljoService.wsdl, and what it accepts is
valid there too.

Structure: every type and element of the subset exists in the real contract, in the same namespace, with the
same children in the same order (the subset may leave optional children out, never required ones), the same
occurrence and nillability, the same types and the same base types. Traffic: a zeep client drives every
operation of the simulator; each raw request it received is validated against the real WSDL's schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import zeep
from lxml import etree
from soap_capture import schema_errors, sent_payloads
from zeep import xsd

from brygga.xmlsafe import parse_xml
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.ecos import EcosSimulator
from brygga_simulators.ecos.reference import (
    DOCUMENT_STATUSES,
    DOCUMENT_TYPES,
    OCCURRENCE_TYPES,
    PARTY_ROLES,
    PROCESS_TYPES,
)
from brygga_simulators.wsdl_schema import compile_wsdl_schema

pytestmark = pytest.mark.interop

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
XS = "http://www.w3.org/2001/XMLSchema"
DC = "urn:Ecos.API.MinutMiljo.DataContracts.V1"
REAL = "vertical-systems/ecos/MinutMiljoService.wsdl"


@pytest.fixture(scope="module")
def real_wsdl(shared_reference: Path) -> etree._Element:
    return parse_xml((shared_reference / REAL).read_bytes(), source=REAL)


@pytest.fixture(scope="module")
def real_schema(shared_reference: Path) -> etree.XMLSchema:
    return compile_wsdl_schema((shared_reference / REAL).read_bytes())


@pytest.fixture
def ecos() -> Iterator[RunningSimulator]:
    with start_simulator(EcosSimulator) as running:
        yield running


def _ours() -> etree._Element:
    return parse_xml(EcosSimulator.wsdl_file.read_bytes(), source="simulator WSDL")


# --- structure ----------------------------------------------------------------------------------------


def _qname(element: etree._Element, attribute: str) -> str | None:
    """An attribute's QName value resolved to Clark notation, so prefixes do not matter."""
    value = element.get(attribute)
    if value is None:
        return None
    prefix, _, local = value.rpartition(":")
    return etree.QName(element.nsmap.get(prefix or None), local).text


def _components(definitions: etree._Element) -> dict[tuple[str, str, str], etree._Element]:
    """(namespace, kind, name) -> each top-level xs:complexType, xs:simpleType and xs:element of every schema."""
    found = {}
    for schema in definitions.iterfind(f"{{{WSDL_NS}}}types/{{{XS}}}schema"):
        for component in schema:
            if isinstance(component.tag, str) and component.get("name"):
                kind = etree.QName(component).localname
                found[(schema.get("targetNamespace"), kind, component.get("name"))] = component
    return found


def _content(component: etree._Element) -> tuple[str | None, list[dict[str, str | None]]]:
    """A type's base type (for extensions) and its local elements with their facets, in order."""
    extension = component.find(f".//{{{XS}}}extension")
    base = _qname(extension, "base") if extension is not None else None
    elements = [
        {
            "name": e.get("name"),
            "type": _qname(e, "type"),
            "minOccurs": e.get("minOccurs", "1"),
            "maxOccurs": e.get("maxOccurs", "1"),
            "nillable": e.get("nillable", "false"),
        }
        for e in component.iter(f"{{{XS}}}element")
        if e is not component
    ]
    return base, elements


def _restriction(simple_type: etree._Element) -> tuple[str | None, list[tuple[str, str | None]]]:
    restriction = simple_type.find(f"{{{XS}}}restriction")
    facets = [(etree.QName(f).localname, f.get("value")) for f in restriction if isinstance(f.tag, str)]
    return _qname(restriction, "base"), facets


def _difference(ours: etree._Element, real: etree._Element) -> str | None:
    """Why ``ours`` is not a subset of ``real``; None when it is."""
    if etree.QName(ours).localname == "simpleType":
        return None if _restriction(ours) == _restriction(real) else "a different restriction"
    if _qname(ours, "type") != _qname(real, "type"):
        return "a different type"
    our_base, our_elements = _content(ours)
    real_base, real_elements = _content(real)
    if our_base != real_base:
        return "a different base type"
    real_by_name = {e["name"]: (position, e) for position, e in enumerate(real_elements)}
    last = -1
    for element in our_elements:
        if element["name"] not in real_by_name:
            return f"an element {element['name']} the real type lacks"
        position, real_element = real_by_name[element["name"]]
        if real_element != element:
            return f"element {element['name']} differs: ours {element}, real {real_element}"
        if position < last:
            return f"element {element['name']} out of the real order"
        last = position
    kept = {e["name"] for e in our_elements}
    dropped_required = [e["name"] for e in real_elements if e["minOccurs"] != "0" and e["name"] not in kept]
    return f"required elements left out: {dropped_required}" if dropped_required else None


def test_the_subset_uses_the_real_target_namespaces(real_wsdl):
    ours = _ours()
    assert ours.get("targetNamespace") == real_wsdl.get("targetNamespace")
    namespaces = {s.get("targetNamespace") for s in ours.iterfind(f"{{{WSDL_NS}}}types/{{{XS}}}schema")}
    real_namespaces = {s.get("targetNamespace") for s in real_wsdl.iterfind(f"{{{WSDL_NS}}}types/{{{XS}}}schema")}
    assert namespaces <= real_namespaces
    assert {"urn:Ecos.API.MinutMiljo.Service.V1", DC} <= namespaces


def test_every_type_and_element_of_the_subset_exists_in_the_real_wsdl_with_compatible_content(real_wsdl):
    real = _components(real_wsdl)
    ours = _components(_ours())
    assert len(ours) > 60  # the comparison below ran over the whole subset
    problems = {}
    for key, component in ours.items():
        if key not in real:
            problems[key] = "missing from the real WSDL"
        elif (why := _difference(component, real[key])) is not None:
            problems[key] = why
    assert problems == {}


def test_the_comparison_notices_a_changed_type(real_wsdl):
    # Guards the test above: a comparison that accepts everything would prove nothing.
    real = _components(real_wsdl)
    ours = _components(_ours())
    key = (DC, "complexType", "RegisterDocumentCaseSvcDto")
    changed = etree.fromstring(etree.tostring(ours[key]))
    changed.find(f".//{{{XS}}}element[@name='ProcessTypeId']").set("minOccurs", "0")
    assert "ProcessTypeId differs" in _difference(changed, real[key])
    process_type = changed.find(f".//{{{XS}}}element[@name='ProcessTypeId']")
    process_type.getparent().remove(process_type)
    assert "required elements left out" in _difference(changed, real[key])
    # AddDocumentsToCaseSvcDto's CaseId is optional in the real contract: a subset requiring it would differ.
    key = (DC, "complexType", "AddDocumentsToCaseSvcDto")
    changed = etree.fromstring(etree.tostring(ours[key]))
    del changed.find(f".//{{{XS}}}element[@name='CaseId']").attrib["minOccurs"]
    assert "CaseId differs" in _difference(changed, real[key])


def test_operations_have_the_real_soap_actions_and_the_service_the_real_path(real_wsdl):
    def actions(definitions: etree._Element) -> dict[str, str]:
        binding = definitions.find(f"{{{WSDL_NS}}}binding")
        return {op.get("name"): op.find(f"{{{SOAP_BINDING_NS}}}operation").get("soapAction")
                for op in binding.iterfind(f"{{{WSDL_NS}}}operation")}

    ours = actions(_ours())
    assert len(ours) == 13
    assert "AddDocumentsToCase" in ours
    assert {name: actions(real_wsdl).get(name) for name in ours} == ours
    real_address = real_wsdl.find(f".//{{{SOAP_BINDING_NS}}}address").get("location")
    assert urlsplit(real_address).path == EcosSimulator.path


# --- traffic ------------------------------------------------------------------------------------------


def _drive_every_operation(ecos: RunningSimulator) -> None:
    client = zeep.Client(ecos.wsdl_url, settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True))
    client.service.GetProcessTypes()
    client.service.GetDocumentClassifications()
    person = client.service.CreatePersonParty(personParty={
        "Addresses": {"PartyAddressSvcDto": [{"CareOfName": None, "PostCode": "69231", "PostalArea": "Kumla",
                                              "StreetName": "Storgatan", "StreetNumber": "12"}]},
        "NationalIdentificationNumber": "19800512-2380", "FirstName": "Anna-Karin", "LastName": "Ström"})
    organisation = client.service.CreateOrganizationParty(organizationParty={
        "Addresses": xsd.Nil, "NationalIdentificationNumber": "556036-0793", "OrganizationName": "AB Exempel"})
    client.service.SearchParty(model={"PersonalIdentificationNumber": "19800512-2380"})
    client.service.SearchParty(model={"OrganizationIdentificationNumber": "556036-0793"})
    case = client.service.RegisterDocument(registerDocumentCaseSvcDto={
        "CaseSubtitleFree": "brygga:sub-1",
        "Documents": {"DocumentSvcDto": [
            {"ContentType": "application/pdf", "Data": b"%PDF-1.4 anmalan", "DocumentTypeId": DOCUMENT_TYPES[0].id,
             "Filename": "Anmalan.pdf", "Note": "Anmälan"},
            {"Data": b"%PDF-1.4 plan", "Filename": "Situationsplan.pdf"},
        ]},
        "ExternalCaseNumber": "brygga:sub-1",
        "OccurrenceNote": "Inkommen via e-tjänst",
        "OccurrenceTypeId": OCCURRENCE_TYPES[0].id,
        "PartyRoles": {"RegisterDocumentPartyRoleDto": [{"CaseRoleId": PARTY_ROLES[0].id, "PartyId": person}]},
        "ProcessTypeId": PROCESS_TYPES[0].id,
        "StartDate": "2026-10-14T09:12:44+02:00",
    })
    client.service.AddPartyToCase(model={"CaseId": case.CaseId, "PartyId": organisation,
                                         "Roles": {"guid": [PARTY_ROLES[1].id, PARTY_ROLES[4].id]}})
    client.service.AddDocumentsToCase(addDocumentToCaseSvcDto={
        "CaseId": case.CaseId,
        "DocumentStatusId": DOCUMENT_STATUSES[0].id,
        "Documents": {"DocumentSvcDto": [
            {"ContentType": "application/pdf", "Data": b"%PDF-1.4 ritning v2", "DocumentTypeId": DOCUMENT_TYPES[4].id,
             "Filename": "Ritning.pdf", "Note": "Komplettering"},
        ]},
        "OccurrenceTypeId": OCCURRENCE_TYPES[4].id,
    })
    client.service.AddEstateToCase(addEstateToCaseSvcDto={"CaseId": case.CaseId, "Fnr": 22044332})
    client.service.GetCasePartyRoles(caseId=case.CaseId)

    def typed(kind: str, **values):
        return client.get_type(f"{{{DC}}}{kind}")(**values)

    # Filters combine in an AndFilterSvcDto, as the real contract defines it (nested, to prove the recursion).
    client.service.SearchCase(model={"Filters": {"FilterSvcDto": [typed("AndFilterSvcDto", Filters={"FilterSvcDto": [
        typed("SinglePartyRoleFilterSvcDto", PartyId=person, RoleId=PARTY_ROLES[0].id),
        typed("OccurrenceFilterSvcDto", OccurrenceDate=xsd.Nil, OccurrenceTypeId=OCCURRENCE_TYPES[0].id),
        typed("AndFilterSvcDto", Filters={"FilterSvcDto": [
            typed("FnrFilterSvcDto", Fnr=22044332),
            typed("CaseNumberFilterSvcDto", CaseNumber=case.CaseNumber),
        ]}),
    ]})]}})
    found = client.service.GetCase(caseId=case.CaseId)
    client.service.GetDocument(documentId=found.Documents.DocumentListItemSvcDto[0].DocumentId)


def test_requests_the_simulator_accepts_validate_against_the_real_schema(ecos, real_schema):
    _drive_every_operation(ecos)
    payloads = sent_payloads(ecos.app)
    operations = {etree.QName(p).localname for p in payloads}
    assert operations == {op for op in operations if hasattr(ecos.app, f"on_{op}")}
    assert len(operations) == 13
    assert all(call["fault"] is None for call in ecos.app.inspect("calls"))
    for payload in payloads:
        assert schema_errors(real_schema, payload) == []


def test_the_real_schema_does_catch_an_invalid_request(ecos, real_schema):
    # Guards the test above: a validator that accepts everything would prove nothing.
    _drive_every_operation(ecos)
    register = next(p for p in sent_payloads(ecos.app) if etree.QName(p).localname == "RegisterDocument")
    process_type = register.find(f".//{{{DC}}}ProcessTypeId")
    process_type.getparent().remove(process_type)
    errors = schema_errors(real_schema, register)
    assert errors and "ProcessTypeId" in errors[-1]
