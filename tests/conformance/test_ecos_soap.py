"""The ecos-soap profile against the Ecos simulator over real SOAP: it passes as the simulator is, and each
non-conforming variant (brygga_simulators.ecos.flaws) fails exactly the check it breaks, with a finding that names
what was expected and what came."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep.wsdl
from zeep.transports import Transport

from brygga_adapters.ecos import clear_lookup_cache
from brygga_adapters.soap import clear_soap_cache, safe_settings
from brygga_conformance.endpoint import LOGIN_ENV, PASSWORD_ENV, Endpoint
from brygga_conformance.model import CaseResult
from brygga_conformance.profiles.ecos_contract import compare_wsdl, contract
from brygga_conformance.profiles.soap_replies import ReplyCheck
from brygga_conformance.runner import RunReport, run_profile
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.connections import Simulated
from brygga_simulators.ecos import OCCURRENCE_TYPES, PARTY_ROLES, PROCESS_TYPES, EcosSimulator
from brygga_simulators.ecos.flaws import FLAWS

SAMPLE = "varmepump-bergvarme"
REF = "conformance-t1-varmepump-bergvarme"
MARKER = f"brygga-ref:{REF}"
CHECKS = ("case-reference", "documents-intact", "idempotent-repeat", "fault-on-invalid", "reply-shape")
PER_RUN = ("fault-on-invalid", "reply-shape")
DOCUMENT = "document 1 of 1 of varmepump-bergvarme (sent: 102 bytes, sha256 060ab6284897…)"
BLACKSTA_FNR = "22041045"  # KUMLA BLACKSTA 1:45 in the property register the simulator reads
CLOCK = datetime(2026, 3, 9, 8, 31, 17).astimezone()  # case numbers MBN-2026-...
PROBES = ("RegisterDocument without ProcessTypeId",
          "RegisterDocument with an OccurrenceTypeId that is not a GUID",
          "RegisterDocument with a ProcessTypeId the endpoint does not know")
RULES = ("the contract requires ProcessTypeId", "the contract types OccurrenceTypeId as a GUID (ser:guid)",
         "a ProcessTypeId must be one of the installation's process types (GetProcessTypes)")


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    """A simulator here may get the port of an earlier test's: the zeep clients and GUID lists cached per connection
    in this process must not outlive it (as tests/helpers/ecos_simulator.py does for the adapter's tests)."""
    clear_soap_cache()
    clear_lookup_cache()
    yield
    clear_soap_cache()
    clear_lookup_cache()


@contextmanager
def ecos_with(*flaws: str) -> Iterator[RunningSimulator]:
    with start_simulator("ecos", flaws=list(flaws), clock=lambda: CLOCK) as sim:
        yield sim


def run_kit(sim: RunningSimulator, workdir: Path, **options: str) -> RunReport:
    return run_profile("ecos-soap", Endpoint(sim.url, options), workdir=workdir, run_id="t1")


def outcomes(report: RunReport) -> dict[tuple[str, str | None], str]:
    found = {(r.check.id, r.sample): r.outcome for r in report.results}
    assert len(found) == len(report.results), "a check recorded twice"
    return found


def expected(**differing: str) -> dict[tuple[str, str | None], str]:
    """Every check passed, but those named (check id with _ for -)."""
    found = {(check, None if check in PER_RUN else SAMPLE): differing.pop(check.replace("-", "_"), "passed")
             for check in CHECKS}
    assert not differing, differing
    return found


def result(report: RunReport, check: str) -> CaseResult:
    (found,) = [r for r in report.results if r.check.id == check]
    return found


# --- as the simulator is ---------------------------------------------------------------------------------------


def test_the_kit_passes_against_the_ecos_simulator_behind_basic_auth(ecos: Simulated, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOGIN_ENV, "brygga")
    monkeypatch.setenv(PASSWORD_ENV, ecos.secret)
    sim = ecos.running
    report = run_kit(sim, tmp_path)

    assert report.ok, [r.findings for r in report.results]
    assert outcomes(report) == expected()
    assert result(report, "case-reference").notes[1].startswith("RegisterDocument -> MBN-")
    assert result(report, "documents-intact").notes[1] == f"GetDocument: {DOCUMENT} intact"
    assert f"SearchCase by the applicant's role: 1 case(s) carry {MARKER}" in result(report, "idempotent-repeat").notes
    assert result(report, "fault-on-invalid").notes == [f"{p} -> SOAP Fault s:Client (HTTP 500)" for p in PROBES]
    shape = result(report, "reply-shape").notes
    assert shape[0] == "the endpoint's WSDL has every operation, element and type of Brygga's contract"
    assert shape[1].startswith("replies validated against Brygga's contract: CreatePersonParty ×1, GetCase ×2")
    # What Ecos holds afterwards: one case for the sample, with its document once; the probes were all refused.
    counts = sim.app.counts()
    assert counts["cases_per_external_case_number"] == {REF: 1}
    assert list(counts["documents_per_case"].values()) == [1]
    assert list(counts["duplicate_documents"].values()) == [0]
    assert counts["duplicate_parties"] == 0
    assert set(sim.app.auth_users) == {"brygga"}


def test_with_an_fnr_the_estates_are_added_and_a_repeat_adds_none(tmp_path: Path) -> None:
    with ecos_with() as sim:
        report = run_kit(sim, tmp_path, fnr=BLACKSTA_FNR)
        (case,) = sim.app.cases.values()

    assert outcomes(report) == expected()
    assert result(report, "case-reference").notes[0] == "the sample's 1 estate(s) were sent with the FNR given by " \
                                                        "--option fnr"
    assert [estate.fnr for estate in case.estates] == [int(BLACKSTA_FNR)]


def test_without_an_fnr_the_estates_are_left_out_and_the_report_says_so(tmp_path: Path) -> None:
    with ecos_with() as sim:
        report = run_kit(sim, tmp_path)
        (case,) = sim.app.cases.values()

    assert case.estates == []
    assert result(report, "case-reference").notes[0] == (
        "the sample's 1 estate(s) were left out: they have no FNR without a property register, and AddEstateToCase "
        "takes one (give --option fnr to add them)")


def test_without_a_varmepump_sample_every_check_is_skipped(tmp_path: Path) -> None:
    with ecos_with() as sim:
        report = run_profile("ecos-soap", Endpoint(sim.url), workdir=tmp_path, samples=["bygglov-person"])

    assert outcomes(report) == {(check, None): "skipped" for check in CHECKS}
    assert {tuple(r.findings) for r in report.results} == {
        ("skipped: no sample of a case type a bundled route sends to Ecos",)}


def test_a_refused_password_fails_reply_shape_naming_it_and_skips_the_rest(ecos: Simulated, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOGIN_ENV, "brygga")
    monkeypatch.setenv(PASSWORD_ENV, "not-the-secret")
    report = run_kit(ecos.running, tmp_path)

    assert outcomes(report) == {("reply-shape", None): "failed",
                                **{(check, None): "skipped" for check in CHECKS if check != "reply-shape"}}
    (finding,) = result(report, "reply-shape").findings
    assert finding.startswith("the endpoint's WSDL could not be loaded: ")
    assert "HTTP 401: the target refused the connection's credentials" in finding
    assert "not-the-secret" not in finding


# --- each flaw fails the check it breaks, and only that one -------------------------------------------------------

FLAWED: dict[str, tuple[str, list[str]]] = {
    "no-case-number": ("case-reference", [
        "delivery of varmepump-bergvarme failed: RegisterDocument reply has no CaseNumber"]),
    "text-mode-documents": ("documents-intact", [
        f"{DOCUMENT} came back from GetDocument with 110 bytes, sha256 66c392442a3b…; expected 102 bytes, sha256 "
        "060ab6284897…"]),
    "truncates-subtitle": ("idempotent-repeat", [
        f"second delivery of varmepump-bergvarme created a new case MBN-2026-000002 (first: MBN-2026-000001); "
        f"expected the same case (externRef {REF})",
        f"GetCase shows case MBN-2026-000001 without the marker {MARKER} that RegisterDocument sent in "
        "CaseSubtitleFree (cut short or changed); Brygga finds a case again by it",
        f"0 of the applicant's cases carry the marker {MARKER}; expected exactly 1"]),
    "accepts-invalid": ("fault-on-invalid", [
        f"{PROBES[0]} was accepted (HTTP 200, RegisterDocumentResponse, case MBN-2026-000002 was made); expected a "
        f"SOAP Fault: {RULES[0]}",
        f"{PROBES[1]} was accepted (HTTP 200, RegisterDocumentResponse, case MBN-2026-000003 was made); expected a "
        f"SOAP Fault: {RULES[1]}",
        f"{PROBES[2]} was accepted (HTTP 200, RegisterDocumentResponse, case MBN-2026-000004 was made); expected a "
        f"SOAP Fault: {RULES[2]}"]),
    "no-fault-500": ("fault-on-invalid", [
        f"{probe} got HTTP 500 (text/html; charset=utf-8) without a SOAP Fault; expected a SOAP Fault ({rule}): "
        "Brygga takes that for a temporary failure and retries it" for probe, rule in zip(PROBES, RULES, strict=True)]),
    "server-fault-on-invalid": ("fault-on-invalid", [
        f"{probe} got a SOAP Fault with faultcode s:Server; expected a Client fault ({rule}): Brygga retries a Server "
        "fault as a temporary failure instead of setting the submission aside for a person"
        for probe, rule in zip(PROBES, RULES, strict=True)]),
    "renames-reply-element": ("reply-shape", [
        f"GetCase reply: GetCaseResponse/GetCaseResult/{where}DocumentListItemSvcDto holds an element FileName that "
        "neither Brygga's contract nor the endpoint's WSDL declares (Brygga's contract has there: "
        "DocumentClassificationTypeDescription, DocumentId, DocumentStatus, DocumentTypeId, Filename, Note) "
        "(2 replies)" for where in ("Documents/", "Occurrences/OccurrenceListItemSvcDto/Documents/")]),
    "wsdl-lacks-operation": ("reply-shape", [
        "the endpoint's WSDL has no operation GetDocument; Brygga's contract has it"]),
    "wsdl-renames-element": ("reply-shape", [
        "the endpoint's WSDL: type DocumentListItemSvcDto has no element Filename; Brygga's contract has it (it "
        "declares FileName there instead)"]),
}


def test_every_flaw_has_a_test() -> None:
    assert set(FLAWED) == set(FLAWS)


@pytest.mark.parametrize("flaw", list(FLAWED))
def test_a_flaw_fails_exactly_the_check_it_breaks_with_a_precise_finding(flaw: str, tmp_path: Path) -> None:
    check, findings = FLAWED[flaw]
    with ecos_with(flaw) as sim:
        report = run_kit(sim, tmp_path)

    differing = {check.replace("-", "_"): "failed"}
    if check == "case-reference":  # the checks on the case it made cannot run
        differing |= {"documents_intact": "skipped", "idempotent_repeat": "skipped"}
    if flaw == "wsdl-lacks-operation":  # nor can documents be read back, which the contract can: a failure too
        differing |= {"documents_intact": "failed"}
    assert outcomes(report) == expected(**differing)
    assert result(report, check).findings == findings
    assert not report.ok


def test_the_checks_on_a_case_are_skipped_when_no_case_reference_came_back(tmp_path: Path) -> None:
    with ecos_with("no-case-number") as sim:
        report = run_kit(sim, tmp_path)
    assert result(report, "documents-intact").findings == ["skipped: case-reference failed"]
    assert result(report, "idempotent-repeat").findings == ["skipped: case-reference failed"]


def test_documents_intact_fails_when_the_wsdl_has_no_getdocument(tmp_path: Path) -> None:
    """The contract has GetDocument: an endpoint without it cannot show its documents, a failure (as in byggr-soap),
    not a check that cannot apply."""
    with ecos_with("wsdl-lacks-operation") as sim:
        report = run_kit(sim, tmp_path)
    assert result(report, "documents-intact").outcome == "failed"
    assert result(report, "documents-intact").findings == [
        "the documents of case MBN-2026-000001 cannot be read back: the endpoint's WSDL has no GetDocument operation; "
        "Brygga's contract has it"]


def test_reply_shape_is_skipped_when_every_call_gets_a_fault(tmp_path: Path) -> None:
    """Only faults came back: nothing could be validated against the contract, so reply-shape does not pass on it."""
    plan = [{"action": "soap_fault", "operation": "*", "faultcode": "Client"}]
    with start_simulator("ecos", fault_plan=plan, clock=lambda: CLOCK) as sim:
        report = run_kit(sim, tmp_path)

    assert result(report, "reply-shape").outcome == "skipped"
    assert result(report, "reply-shape").findings == [
        "skipped: no successful reply came back to validate against Brygga's contract (a fault or an error answer is "
        "judged by the check it answered)"]
    assert "the endpoint's WSDL has every operation, element and type of Brygga's contract" in \
        result(report, "reply-shape").notes


def test_the_options_give_the_installations_own_guids(tmp_path: Path) -> None:
    process_type, occurrence_type = PROCESS_TYPES[0].id, OCCURRENCE_TYPES[2].id  # Värmepump, Anmälan
    applicant, owner = PARTY_ROLES[0].id, PARTY_ROLES[1].id
    with ecos_with() as sim:
        report = run_kit(sim, tmp_path, process_type=process_type, occurrence_type=occurrence_type,
                         party_roles=f"applicant={applicant}, property_owner={owner}", document_type="none")
        (case,) = sim.app.cases.values()

    assert outcomes(report) == expected()
    assert (case.process_type_id, case.occurrences[0].occurrence_type_id) == (process_type, occurrence_type)
    assert {role.role_id for role in case.roles} == {applicant, owner}
    assert [document.document_type_id for document in case.documents] == [None]


# --- the flaws as options, and the contract the kit reads -----------------------------------------------------------


def test_flaws_come_as_a_comma_separated_option_and_unknown_ones_are_refused() -> None:
    assert EcosSimulator(flaws="no-case-number, truncates-subtitle").flaws == {"no-case-number", "truncates-subtitle"}
    assert EcosSimulator().flaws == frozenset()
    with pytest.raises(ValueError, match="unknown ecos flaw 'typo'; known: no-case-number, text-mode-documents"):
        EcosSimulator(flaws=["typo"])


def test_the_kit_reads_the_contract_the_simulator_is_built_on() -> None:
    assert contract().wsdl == EcosSimulator.wsdl_file.read_bytes()


# --- reply-shape: what an installation declares beyond Brygga's subset is allowed ------------------------------------

DOCUMENT_ITEM = b"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<s1:GetCaseResponse xmlns:s1="urn:Ecos.API.MinutMiljo.Service.V1" xmlns:a="urn:Ecos.API.MinutMiljo.DataContracts.V1">
<s1:GetCaseResult><a:CaseId>3f2504e0-4f89-41d3-9a0c-0305e82c3301</a:CaseId><a:Documents><a:DocumentListItemSvcDto>
<a:DocumentId>3f2504e0-4f89-41d3-9a0c-0305e82c3302</a:DocumentId><a:Filename>ritning.pdf</a:Filename>
<a:IsMainDecision>false</a:IsMainDecision></a:DocumentListItemSvcDto></a:Documents></s1:GetCaseResult>
</s1:GetCaseResponse></s:Body></s:Envelope>"""


def _reply(content: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Type"] = "text/xml; charset=utf-8"
    response._content = content
    return response


def _served(wsdl: bytes) -> Any:
    return zeep.wsdl.Document(io.BytesIO(wsdl), Transport(), settings=safe_settings())


def test_an_element_the_endpoints_wsdl_declares_beyond_the_contract_is_noted_not_a_finding() -> None:
    # A real Ecos lists IsMainDecision after Filename; Brygga's copy leaves it out.
    ours = contract()
    extended = ours.wsdl.replace(
        b'<xs:element minOccurs="0" name="Filename" nillable="true" type="xs:string"/>\n'
        b'          <xs:element minOccurs="0" name="Note"',
        b'<xs:element minOccurs="0" name="Filename" nillable="true" type="xs:string"/>\n'
        b'          <xs:element minOccurs="0" name="IsMainDecision" type="xs:boolean"/>\n'
        b'          <xs:element minOccurs="0" name="Note"', 1)
    assert extended != ours.wsdl

    tolerant = ReplyCheck(ours, _served(extended))
    tolerant.add(_reply(DOCUMENT_ITEM))
    strict = ReplyCheck(ours, ours.document)
    strict.add(_reply(DOCUMENT_ITEM))

    assert tolerant.summary() == ([], [
        "replies validated against Brygga's contract: GetCase ×1",
        "GetCase reply: GetCaseResponse/GetCaseResult/Documents/DocumentListItemSvcDto/IsMainDecision is declared by "
        "the endpoint's WSDL, not by Brygga's contract (Brygga ignores it)"])
    (finding,), _ = strict.summary()
    assert finding.startswith("GetCase reply: GetCaseResponse/GetCaseResult/Documents/DocumentListItemSvcDto holds "
                              "an element IsMainDecision that neither")


def test_a_reply_value_off_the_contract_is_a_finding_that_does_not_quote_the_value() -> None:
    ours = contract()
    check = ReplyCheck(ours, ours.document)
    reply = DOCUMENT_ITEM.replace(b"<a:IsMainDecision>false</a:IsMainDecision>", b"")
    check.add(_reply(reply.replace(b"3f2504e0-4f89-41d3-9a0c-0305e82c3301", b"19590304-2199")))

    (finding,), _ = check.summary()
    assert finding == ("GetCase reply does not follow Brygga's contract: Element 'CaseId': [facet 'pattern'] The "
                       "value is not accepted by the pattern "
                       "'[\\da-fA-F]{8}-[\\da-fA-F]{4}-[\\da-fA-F]{4}-[\\da-fA-F]{4}-[\\da-fA-F]{12}'.")


REAL_WSDL = Path(__file__).resolve().parents[3] / "shared" / "reference" / "vertical-systems" / "ecos" / \
    "MinutMiljoService.wsdl"


@pytest.mark.interop
def test_ecos_own_published_wsdl_has_every_operation_element_and_type_of_bryggas_contract() -> None:
    # So a real Ecos passes the WSDL comparison: Brygga's copy is a subset of it under the same names.
    if not REAL_WSDL.is_file():
        pytest.skip(f"reference material not found at {REAL_WSDL}")
    assert compare_wsdl(contract(), _served(REAL_WSDL.read_bytes())) == []
