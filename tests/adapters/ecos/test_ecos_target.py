"""The ecos target against the Ecos simulator over a real socket: one case with its documents, parties and
estates; amendments as AddDocumentsToCase; safe to repeat after a lost reply; GUIDs by name looked up once; faults
mapped to Brygga's errors."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from ecos_delivery_data import (
    CONFIG,
    FASTIGHETSAGARE,
    FNR_INDUSTRIN,
    FNR_STENEN,
    KONTAKTPERSON,
    SOKANDE,
    VARMEPUMP,
    payload,
    stored,
)
from lxml import etree

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetInDoubt, TargetRejected, TargetUnavailable
from brygga.plugins import Amendment
from brygga_adapters.ecos import EcosTarget
from brygga_simulators.ecos import DOCUMENT_STATUSES, DOCUMENT_TYPES, OCCURRENCE_TYPES, EcosSimulator

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"

SITUATIONSPLAN = next(t.id for t in DOCUMENT_TYPES if t.name == "Situationsplan")
KOMPLETTERING = next(t.id for t in OCCURRENCE_TYPES if t.name == "Komplettering")
INKOMMEN = next(s.id for s in DOCUMENT_STATUSES if s.name == "Inkommen")
AMENDING = {**CONFIG, "amendment_occurrence_type": KOMPLETTERING, "document_status": INKOMMEN}


def _roles(case) -> set[tuple[str, str]]:
    return {(c.party_id, c.role_id) for c in case.roles}


def _assert_nothing_twice(ecos, case_number: str) -> None:
    # The simulator keeps what it is told twice, as a real Ecos would: only the adapter's checks prevent it.
    counts = ecos.app.counts()
    assert counts["duplicate_parties"] == 0
    assert counts["duplicate_role_connections"] == {case_number: 0}
    assert counts["duplicate_estates"] == {case_number: 0}
    assert counts["duplicate_documents"] == {case_number: 0}


def test_a_delivery_registers_one_case_with_documents_parties_and_estates(ecos, connection, make_request, tmp_path):
    drawing = stored(tmp_path, "Ritning.pdf", b"%PDF-1.4 ritning")
    request = make_request(documents=[stored(tmp_path, "Situationsplan.pdf", b"%PDF-1.4 plan"), drawing])

    receipt = EcosTarget(CONFIG, connection).deliver(request)

    (case,) = ecos.app.cases.values()
    assert (receipt.external_ref, receipt.created) == (case.case_number, True)
    assert case.process_type_id == VARMEPUMP
    assert case.external_case_number == "1881:open-eplatform:5203"
    assert case.subtitle_free.endswith(" brygga-ref:1881:open-eplatform:5203")
    assert [(d.filename, d.sha256, d.document_type_id) for d in case.documents] == [
        ("Situationsplan.pdf", hashlib.sha256(b"%PDF-1.4 plan").hexdigest(), SITUATIONSPLAN),
        ("Ritning.pdf", drawing.sha256, SITUATIONSPLAN),
    ]
    person = next(p for p in ecos.app.parties.values() if p.kind == "person")
    organisation = next(p for p in ecos.app.parties.values() if p.kind == "organization")
    assert (person.identity_number, person.addresses[0]["StreetName"]) == ("195903042199", "Mossvägen")
    assert _roles(case) == {(person.party_id, SOKANDE), (person.party_id, FASTIGHETSAGARE),
                            (organisation.party_id, KONTAKTPERSON)}
    assert sorted(e.fnr for e in case.estates) == [FNR_INDUSTRIN, FNR_STENEN]


def test_the_same_delivery_again_finds_the_case_and_adds_nothing(ecos, connection, make_request):
    target = EcosTarget(CONFIG, connection)
    first = target.deliver(make_request())
    second = target.deliver(make_request())

    assert (second.external_ref, second.created) == (first.external_ref, False)
    (case,) = ecos.app.cases.values()
    assert len(case.roles) == 3 and len(case.estates) == 2 and len(case.documents) == 1
    assert len(ecos.app.parties) == 2
    # The applicant came with RegisterDocument; the contact's AddPartyToCase and the two estates were not repeated.
    assert len(ecos.app.faults.received("AddPartyToCase")) == 1
    assert len(ecos.app.faults.received("AddEstateToCase")) == 2
    _assert_nothing_twice(ecos, case.case_number)


def test_a_party_already_in_the_register_is_reused(ecos, connection, make_request):
    EcosTarget(CONFIG, connection).deliver(make_request(extern_ref="1881:open-eplatform:1"))
    EcosTarget(CONFIG, connection).deliver(make_request(extern_ref="1881:open-eplatform:2"))

    assert len(ecos.app.cases) == 2
    assert len(ecos.app.parties) == 2  # the same person and organisation on both cases


@pytest.mark.parametrize("operation", ["RegisterDocument", "AddPartyToCase", "AddEstateToCase", "CreatePersonParty",
                                       "CreateOrganizationParty"])
def test_a_retry_after_a_lost_reply_makes_no_second_case(ecos, connection, make_request, operation):
    target = EcosTarget(CONFIG, connection)
    ecos.app.faults.set([{"operation": operation, "action": "lose_reply", "nth": 1}])

    with pytest.raises(TargetInDoubt):
        target.deliver(make_request())
    receipt = target.deliver(make_request())

    (case,) = ecos.app.cases.values()
    assert receipt.external_ref == case.case_number
    assert receipt.created is (operation == "CreatePersonParty")  # a lost party reply comes before the case
    assert len(case.roles) == 3 and len(case.estates) == 2 and len(case.documents) == 1
    assert len(ecos.app.parties) == 2
    _assert_nothing_twice(ecos, case.case_number)


def test_guids_by_name_are_looked_up_once_per_connection(ecos, connection, make_request):
    EcosTarget(CONFIG, connection).deliver(make_request(extern_ref="ref-1"))
    EcosTarget(CONFIG, connection).deliver(make_request(extern_ref="ref-2"))

    assert len(ecos.app.faults.received("GetProcessTypes")) == 1
    assert len(ecos.app.faults.received("GetDocumentClassifications")) == 1


def test_looked_up_guids_expire_after_their_ttl(ecos, connection, make_request):
    config = {**CONFIG, "lookup_ttl_seconds": 0}
    EcosTarget(config, connection).deliver(make_request(extern_ref="ref-1"))
    EcosTarget(config, connection).deliver(make_request(extern_ref="ref-2"))

    assert len(ecos.app.faults.received("GetProcessTypes")) == 2


def test_a_guid_in_config_needs_no_lookup(ecos, connection, make_request):
    config = {**CONFIG, "process_type": VARMEPUMP.upper(), "document_type": SITUATIONSPLAN}
    EcosTarget(config, connection).deliver(make_request())

    assert not ecos.app.faults.received("GetProcessTypes")
    assert not ecos.app.faults.received("GetDocumentClassifications")
    (case,) = ecos.app.cases.values()
    assert case.process_type_id == VARMEPUMP


@pytest.mark.parametrize("key", ["process_type", "document_type"])
def test_an_unknown_name_is_a_config_error_naming_the_key(ecos, connection, make_request, key):
    with pytest.raises(ConfigError, match=f"config '{key}'"):
        EcosTarget({**CONFIG, key: "Finns inte"}, connection).deliver(make_request())
    assert not ecos.app.cases


def test_a_name_where_only_a_guid_can_work_is_refused_at_construction(connection):
    with pytest.raises(ConfigError, match="config 'occurrence_type'"):
        EcosTarget({**CONFIG, "occurrence_type": "Anmälan värmepump"}, connection)


def test_an_unknown_process_type_name_in_the_payload_is_rejected(ecos, connection, make_request):
    config = {key: value for key, value in CONFIG.items() if key != "process_type"}
    with pytest.raises(TargetRejected, match="payload processType"):
        EcosTarget(config, connection).deliver(make_request({**payload(), "processType": "Okänd"}))


def test_a_soap_fault_for_invalid_data_is_target_rejected(ecos, connection, make_request):
    body = payload()
    body["estates"] = [{"designation": "KUMLA OKÄND 9:99", "fnr": 99999999}]  # not in the property register
    with pytest.raises(TargetRejected, match="AddEstateToCase refused"):
        EcosTarget(CONFIG, connection).deliver(make_request(body))


def test_an_unknown_occurrence_type_guid_is_refused_by_ecos(ecos, connection, make_request):
    config = {**CONFIG, "occurrence_type": "00000000-0000-4000-8000-000000000000"}
    with pytest.raises(TargetRejected, match="RegisterDocument refused"):
        EcosTarget(config, connection).deliver(make_request())
    assert not ecos.app.cases


def test_http_503_is_target_unavailable(ecos, connection, make_request):
    ecos.app.faults.set([{"operation": "*", "action": "http_status", "status": 503}])
    with pytest.raises(TargetUnavailable) as raised:
        EcosTarget(CONFIG, connection).deliver(make_request())
    assert not isinstance(raised.value, TargetInDoubt)
    ecos.app.faults.clear()
    assert EcosTarget(CONFIG, connection).deliver(make_request()).created


def test_a_document_that_changed_in_the_store_is_refused_before_any_call(ecos, connection, make_request, tmp_path):
    document = stored(tmp_path, "Plan.pdf", b"%PDF-1.4 plan")
    document.path.write_bytes(b"%PDF-1.4 PLAN")
    with pytest.raises(TargetRejected, match="document 1: stored content does not match"):
        EcosTarget(CONFIG, connection).deliver(make_request(documents=[document]))
    assert not ecos.app.faults.received()


def test_a_role_without_a_configured_guid_is_refused_before_any_call(ecos, connection, make_request):
    body = payload()
    body["parties"][1]["roles"] = ["invoice_recipient"]
    with pytest.raises(TargetRejected, match=r"parties\[1\].roles: role 'invoice_recipient'"):
        EcosTarget(CONFIG, connection).deliver(make_request(body))
    assert not ecos.app.faults.received()


def _wsdl_without(operation: str, tmp_path: Path) -> Path:
    """The simulator's WSDL with ``operation`` taken out of its portType and binding, as a local file."""
    wsdl = etree.fromstring(EcosSimulator.wsdl_file.read_bytes())
    for element in wsdl.iter(f"{{{WSDL_NS}}}operation"):
        if element.get("name") == operation:
            element.getparent().remove(element)
    path = tmp_path / "wsdl" / "MinutMiljoService.wsdl"
    path.parent.mkdir()
    path.write_bytes(etree.tostring(wsdl))
    return path


def _amendment(case_number: str, revision: int = 2) -> Amendment:
    return Amendment(external_ref=case_number, revision=revision, changed_fields=("attachments", "parties"))


def test_an_amendment_adds_its_documents_to_the_case_in_a_new_occurrence(ecos, connection, make_request, tmp_path):
    target = EcosTarget(AMENDING, connection)
    receipt = target.deliver(make_request())
    drawing = stored(tmp_path, "Ritning v2.pdf", b"%PDF-1.4 ritning v2")

    again = target.deliver(make_request(documents=[drawing], amendment=_amendment(receipt.external_ref)))

    assert (again.external_ref, again.created) == (receipt.external_ref, False)
    (case,) = ecos.app.cases.values()
    assert [o.occurrence_type_id for o in case.occurrences] == [CONFIG["occurrence_type"], KOMPLETTERING]
    (added,) = case.occurrences[1].documents
    assert (added.filename, added.sha256, added.document_type_id, added.status_id) == (
        "Ritning v2.pdf", drawing.sha256, SITUATIONSPLAN, INKOMMEN)
    assert added.note == ("Komplettering via e-tjänst, version 2. Ändrade uppgifter: bilagor (attachments), "
                          "parter (parties).\nbrygga-ref:1881:open-eplatform:5203#2")
    assert ecos.app.counts()["documents_per_case"] == {receipt.external_ref: 2}


def test_an_amendment_after_a_lost_reply_adds_its_documents_once(ecos, connection, make_request, tmp_path):
    target = EcosTarget(AMENDING, connection)
    receipt = target.deliver(make_request())
    amended = make_request(documents=[stored(tmp_path, "Ritning v2.pdf", b"%PDF-1.4 ritning v2")],
                           amendment=_amendment(receipt.external_ref))
    ecos.app.faults.set([{"operation": "AddDocumentsToCase", "action": "lose_reply", "nth": 1}])

    with pytest.raises(TargetInDoubt):
        target.deliver(amended)
    target.deliver(amended)
    # The next revision is new: it is added beside the first.
    target.deliver(make_request(documents=[stored(tmp_path, "Ritning v3.pdf", b"%PDF-1.4 ritning v3")],
                                amendment=_amendment(receipt.external_ref, revision=3)))

    (case,) = ecos.app.cases.values()
    assert [[d.filename for d in o.documents] for o in case.occurrences] == [
        ["Situationsplan borrhål.pdf"], ["Ritning v2.pdf"], ["Ritning v3.pdf"]]
    assert len(ecos.app.faults.received("AddDocumentsToCase")) == 2
    _assert_nothing_twice(ecos, case.case_number)


def test_an_amendment_ecos_cannot_place_is_refused(ecos, connection, make_request):
    target = EcosTarget(AMENDING, connection)
    receipt = target.deliver(make_request())

    with pytest.raises(TargetRejected, match="without new documents"):
        target.deliver(make_request(documents=[], amendment=_amendment(receipt.external_ref)))
    with pytest.raises(TargetRejected, match="no case with the amendment's CaseNumber"):
        target.deliver(make_request(amendment=_amendment("MBN-1999-000001")))
    with pytest.raises(TargetRejected, match="AddDocumentsToCase refused"):
        EcosTarget({**AMENDING, "document_status": "00000000-0000-4000-8000-000000000000"}, connection).deliver(
            make_request(amendment=_amendment(receipt.external_ref)))
    (case,) = ecos.app.cases.values()
    assert len(case.occurrences) == 1


def test_an_amendment_is_refused_when_the_service_cannot_add_documents(ecos, connection, make_request, tmp_path):
    receipt = EcosTarget(CONFIG, connection).deliver(make_request())
    amendment = Amendment(external_ref=receipt.external_ref, revision=2, changed_fields=("attachments",))
    without = Connection.from_uri(
        "ecos_old", f"{ecos.url}?allow_http=true&wsdl={_wsdl_without('AddDocumentsToCase', tmp_path)}"
    )

    with pytest.raises(TargetRejected, match="no AddDocumentsToCase"):
        EcosTarget(CONFIG, without).deliver(make_request(amendment=amendment))
    (case,) = ecos.app.cases.values()
    assert len(case.documents) == 1


def test_preflight_names_what_ecos_would_refuse():
    body = payload()
    body["parties"][0]["roles"] = ["property_owner"]
    body["estates"] = [{"designation": "KUMLA STENEN 1:23"}]
    del body["caseSubtitle"]

    problems = EcosTarget.preflight({**CONFIG}, {"attachments": []}, body)

    assert "caseSubtitle: required (the case's subtitle, CaseSubtitleFree)" in problems
    assert "parties: exactly one party with role applicant is required, found 0" in problems
    assert any(p.startswith("estates[0].fnr: required") for p in problems)
    assert any(p.startswith("attachments: RegisterDocument needs at least one document") for p in problems)
    assert EcosTarget.preflight(CONFIG, {"attachments": [{}]}, payload()) == []


@pytest.mark.parametrize("position", [0, 1])
def test_every_party_needs_its_identity_number_or_a_retry_would_create_it_again(
    ecos, connection, make_request, position
):
    body = payload()
    del body["parties"][position]["nationalIdentificationNumber"]
    number = ("personnummer", "organisationsnummer")[position]

    problems = EcosTarget.preflight(CONFIG, {"attachments": [{}]}, body)
    with pytest.raises(TargetRejected, match=rf"parties\[{position}\]\.nationalIdentificationNumber: required"):
        EcosTarget(CONFIG, connection).deliver(make_request(body))

    assert [p for p in problems if "nationalIdentificationNumber" in p] == [
        f"parties[{position}].nationalIdentificationNumber: required for every party (the {number}): SearchParty "
        "finds an existing party by it, so a retry does not create the party again"]
    assert ecos.app.inspect("calls") == []  # refused before anything was sent


def test_a_name_the_service_cannot_list_is_a_config_error_naming_the_key(ecos, connection, make_request):
    # Brygga's simulator has no GetDiaryPlan: a diary plan can then only be given by GUID.
    with pytest.raises(ConfigError, match=r"config 'diary_plan': .*no operation GetDiaryPlan"):
        EcosTarget({**CONFIG, "diary_plan": "Miljöbalken"}, connection).deliver(make_request())
    assert not ecos.app.cases


def test_connection_fields_list_every_field_the_readme_says_the_connection_needs():
    readme = (Path(__file__).resolve().parents[3] / "adapters" / "ecos" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Connection", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    extras = {name for row in rows for name in re.findall(r"`(\w+)`", row)} | {"allow_http", "path"}
    fields = {name.lower() for row in rows if "`" not in row for name in re.findall(r"[A-Za-z]+", row)}

    assert len(extras) >= 9 and {"host", "login", "password", "path"} <= fields
    listed = EcosTarget.connection_fields
    assert {extra for extra in extras if f"extra {extra}" not in listed} == set()
    assert {name for name in fields - {"port", "scheme", "path"} if name not in listed} == set()
