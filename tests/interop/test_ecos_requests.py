"""Every request the ecos target sends in a delivery is valid against Ecos's REAL MinutMiljoService WSDL.

The adapter talks to the Ecos simulator over HTTP; the simulator keeps every raw request; each SOAP Body payload
is validated against the schema embedded in the real WSDL (../shared/reference/vertical-systems/ecos). The
adapter is run twice: bound to the simulator's WSDL, as in production against Brygga's subset, and bound to the
real WSDL itself (the connection's ``wsdl`` extra), for a delivery and for an amendment (AddDocumentsToCase).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_samples import stored
from ecos_simulator import running_ecos
from lxml import etree
from soap_capture import schema_errors, sent_payloads

from brygga.connections import Connection
from brygga.errors import TargetInDoubt
from brygga.plugins import Amendment, DeliveryRequest
from brygga_adapters.ecos import EcosTarget
from brygga_simulators import RunningSimulator
from brygga_simulators.wsdl_schema import compile_wsdl_schema

pytestmark = pytest.mark.interop

REAL_WSDL = "vertical-systems/ecos/MinutMiljoService.wsdl"
DC = "urn:Ecos.API.MinutMiljo.DataContracts.V1"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

CONFIG = {
    "process_type": "Värmepump",
    "document_type": "Situationsplan",
    "occurrence_type": "8e21a7d4-3c5b-4f60-a1e2-7b9c0d1e2f31",
    "amendment_occurrence_type": "8e21a7d4-3c5b-4f60-a1e2-7b9c0d1e2f35",
    "document_status": "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a51",  # "Inkommen" in the simulator
    "party_roles": {
        "applicant": "c4d5e6f7-0a1b-4c2d-8e3f-405162738491",
        "property_owner": "c4d5e6f7-0a1b-4c2d-8e3f-405162738492",
        "contact": "c4d5e6f7-0a1b-4c2d-8e3f-405162738493",
    },
}
PAYLOAD = {
    "caseSubtitle": "Anmälan om installation av värmepump, bergvärme",
    "startDate": "2026-03-09T08:31:17+01:00",
    "occurrenceNote": "Bergvärme: 2 borrhål.",
    "parties": [
        {"kind": "person", "nationalIdentificationNumber": "19590304-2199", "firstName": "Göran",
         "lastName": "Ekström", "address": {"streetName": "Mossvägen", "streetNumber": "22", "postCode": "692 92",
                                            "postalArea": "Kumla"},
         "roles": ["applicant", "property_owner"]},
        {"kind": "organisation", "nationalIdentificationNumber": "556712-3459",
         "organizationName": "Kumla Borr & Värme AB", "roles": ["contact"]},
    ],
    "estates": [{"designation": "KUMLA INDUSTRIN 1:45", "fnr": 22040145}],
}


@pytest.fixture(scope="module")
def real_schema(shared_reference: Path) -> etree.XMLSchema:
    return compile_wsdl_schema((shared_reference / REAL_WSDL).read_bytes())


@pytest.fixture
def ecos() -> Iterator[RunningSimulator]:
    with running_ecos() as running:
        yield running


def _request(tmp_path: Path, amendment: Amendment | None = None) -> DeliveryRequest:
    document = stored(tmp_path, "Situationsplan.pdf", b"%PDF-1.4 plan" + (b" v2" if amendment else b""),
                      "application/pdf")
    return DeliveryRequest("sub-1", "sub-1:ecos", "1881:open-eplatform:5203", PAYLOAD, {}, [document], amendment)


def _filter_types(search_case: etree._Element) -> list[str]:
    return [f.get(XSI_TYPE, "").split(":")[-1] for f in search_case.iter(f"{{{DC}}}FilterSvcDto")]


def _connection(running: RunningSimulator, wsdl: Path | None) -> Connection:
    extra = f"&wsdl={wsdl}" if wsdl else ""
    return Connection.from_uri("ecos", f"{running.url}?allow_http=true{extra}")


@pytest.mark.parametrize("bound_to", ["simulator-wsdl", "real-wsdl"])
def test_every_request_of_a_delivery_is_valid_against_the_real_wsdl(
    ecos, tmp_path, real_schema, shared_reference, bound_to
):
    wsdl = shared_reference / REAL_WSDL if bound_to == "real-wsdl" else None
    target = EcosTarget(CONFIG, _connection(ecos, wsdl))
    receipt = target.deliver(_request(tmp_path))
    target.deliver(_request(tmp_path))  # the repeat: check-before-create and the follow-up checks

    operations = [etree.QName(payload).localname for payload in sent_payloads(ecos.app)]
    assert {"GetProcessTypes", "GetDocumentClassifications", "SearchParty", "CreatePersonParty",
            "CreateOrganizationParty", "SearchCase", "RegisterDocument", "GetCasePartyRoles", "AddPartyToCase",
            "AddEstateToCase"} <= set(operations)
    assert operations.count("RegisterDocument") == 1
    # The estate check's filters travel in one AndFilterSvcDto, as the real contract combines them.
    searches = [_filter_types(p) for p in sent_payloads(ecos.app) if etree.QName(p).localname == "SearchCase"]
    assert ["AndFilterSvcDto", "CaseNumberFilterSvcDto", "FnrFilterSvcDto"] in searches
    assert all(len(p.findall(f".//{{{DC}}}Filters")[0]) == 1 for p in sent_payloads(ecos.app)
               if etree.QName(p).localname == "SearchCase")  # one filter at the top, never several side by side
    for payload in sent_payloads(ecos.app):
        assert schema_errors(real_schema, payload) == [], etree.QName(payload).localname
    assert receipt.external_ref == ecos.app.case_by_number(receipt.external_ref).case_number


@pytest.mark.parametrize("bound_to", ["simulator-wsdl", "real-wsdl"])
def test_an_amendment_adds_its_documents_once_even_after_a_lost_reply(
    ecos, tmp_path, real_schema, shared_reference, bound_to
):
    wsdl = shared_reference / REAL_WSDL if bound_to == "real-wsdl" else None
    target = EcosTarget(CONFIG, _connection(ecos, wsdl))
    receipt = target.deliver(_request(tmp_path))
    amendment = Amendment(external_ref=receipt.external_ref, revision=2, changed_fields=("attachments",))
    ecos.app.faults.set([{"operation": "AddDocumentsToCase", "action": "lose_reply", "nth": 1}])

    with pytest.raises(TargetInDoubt):
        target.deliver(_request(tmp_path, amendment))
    again = target.deliver(_request(tmp_path, amendment))

    case = ecos.app.case_by_number(receipt.external_ref)
    assert (again.external_ref, again.created) == (receipt.external_ref, False)
    assert [len(o.documents) for o in case.occurrences] == [1, 1]
    (added,) = case.occurrences[1].documents
    assert added.note.endswith("brygga-ref:1881:open-eplatform:5203#2")
    assert case.occurrences[1].occurrence_type_id == CONFIG["amendment_occurrence_type"]
    assert added.status_id == CONFIG["document_status"]
    sent = sent_payloads(ecos.app)
    assert [etree.QName(p).localname for p in sent].count("AddDocumentsToCase") == 1  # the retry saw it there
    assert ecos.app.counts()["duplicate_documents"] == {receipt.external_ref: 0}
    for payload in sent:
        assert schema_errors(real_schema, payload) == [], etree.QName(payload).localname
