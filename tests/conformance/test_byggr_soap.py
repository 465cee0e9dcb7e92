"""The byggr-soap profile against the ByggR simulator over real SOAP: it passes as the simulator is, on contract v8 and
v4, and each non-conforming variant (brygga_simulators.byggr.flaws) fails exactly the check it breaks, with a finding
that names what was expected and what came."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from soap_capture import sent_payloads

from brygga_adapters.soap import clear_soap_cache
from brygga_conformance.endpoint import Endpoint
from brygga_conformance.model import COMMON_CHECKS, CaseResult
from brygga_conformance.runner import RunReport, run_profile
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr.flaws import FLAWS

SAMPLES = ["attefall-latin1", "attefall-utf8", "bygga-hus-va", "bygglov-organisation", "bygglov-person"]
SAMPLE = "bygglov-person"  # three documents: a PDF of 77 bytes, a PNG of 69 and a DOCX of 108
REF = f"conformance-t1-{SAMPLE}"
MARKER = f"brygga-ref:{REF}"
PER_RUN = "-"  # the sample of a check made once per run
SERVICE = "{www.tekis.se/ServiceContract}"
INVALID = ("SaveNewArende without Arende/ankomstDatum (the schema requires it)",
           "SaveNewArende without an applicant (no intressent with roll SOK; ByggR requires one)",
           "SaveNewArende without the attributes arendegrupp and arendetyp (ByggR requires them)")


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    """Every run here has the run id t1: a simulator on the port of an earlier test's must not meet the SOAP client
    cached in this process for that one (a run from the command line has an id of its own)."""
    clear_soap_cache()
    yield
    clear_soap_cache()


def run_kit(sim: RunningSimulator, workdir: Path, samples: list[str] | None = None, **options: str) -> RunReport:
    return run_profile("byggr-soap", Endpoint(sim.url, options), workdir=workdir, samples=samples or [SAMPLE],
                       run_id="t1")


def by_case(report: RunReport) -> dict[tuple[str, str], CaseResult]:
    found = {(r.check.id, r.sample or PER_RUN): r for r in report.results}
    assert len(found) == len(report.results), "a check recorded twice"
    return found


def outcomes(report: RunReport) -> dict[tuple[str, str], str]:
    return {key: result.outcome for key, result in by_case(report).items()}


def expected(samples: list[str] | None = None, **differing: str) -> dict[tuple[str, str], str]:
    """Every check passed (per sample, and reply-shape and fault-on-invalid once per run), but those named as
    ``check_id__sample`` (``-`` as ``_``; the sample left out for a per-run check)."""
    found = {("reply-shape", PER_RUN): "passed", ("fault-on-invalid", PER_RUN): "passed"}
    for sample in samples or [SAMPLE]:
        for check in ("case-reference", "documents-intact", "idempotent-repeat", "reply-shape"):
            found[(check, sample)] = "passed"
    for name, outcome in differing.items():
        check, _, sample = name.partition("__")
        key = (check.replace("_", "-"), sample.replace("_", "-") or PER_RUN)
        assert key in found, key
        found[key] = outcome
    return found


def findings(report: RunReport, check: str, sample: str = SAMPLE) -> list[str]:
    return by_case(report)[(check, sample)].findings


@pytest.mark.parametrize("contract", ["v8", "v4"])
def test_the_kit_passes_against_the_simulator_and_leaves_one_case_per_sample(tmp_path, contract):
    with start_simulator("byggr", contract=contract) as sim:
        report = run_kit(sim, tmp_path, SAMPLES, contract=contract)
        counts = sim.app.counts()

    assert outcomes(report) == expected(SAMPLES), [r.findings for r in report.results if r.outcome != "passed"]
    assert {r.check for r in report.results} == set(COMMON_CHECKS)
    assert report.ok
    # One case per sample, its documents once, and nothing from the invalid input (every one was refused).
    assert counts["cases"] == len(SAMPLES)
    assert counts["cases_per_marker"] == {f"brygga-ref:conformance-t1-{name}": 1 for name in SAMPLES}
    assert set(counts["duplicate_documents"].values()) == {0}
    documents = by_case(report)[("documents-intact", SAMPLE)].notes
    assert sum(note.endswith(": intact") for note in documents) == 3
    faults = by_case(report)[("fault-on-invalid", PER_RUN)].notes
    assert [note.partition(": HTTP 500, SOAP Fault s:Client")[0] for note in faults] == list(INVALID)


def test_every_save_registers_as_the_handlaggar_sign_given(tmp_path):
    with start_simulator("byggr") as sim:
        report = run_kit(sim, tmp_path, handlaggar_sign="brygga01")
        saves = [p for p in sent_payloads(sim.app) if etree.QName(p).localname in ("SaveNewArende", "SaveNewHandelse")]

    assert report.ok
    assert len(saves) == 2 + len(INVALID)  # the case and its documents' handelse, then the invalid input
    assert {save.findtext(f"{SERVICE}message/{SERVICE}HandlaggarSign") for save in saves} == {"brygga01"}


def test_replies_shaped_as_real_byggr_shapes_them_fail_reply_shape_only(tmp_path):
    """Brygga's adapter reads real ByggR's off-contract replies (adapters/byggr/README.md, "Reading replies"), so
    every other check passes; the kit still names what is off the contract."""
    with start_simulator("byggr", reply_style="real") as sim:
        report = run_kit(sim, tmp_path)

    assert outcomes(report) == expected(reply_shape__bygglov_person="failed")
    shape = findings(report, "reply-shape")
    assert (f"the GetArende reply does not follow contract v8: Element '{SERVICE}GetArendeResult', attribute "
            "'checksum': The attribute 'checksum' is not allowed.") in shape
    assert (f"the GetRelateradeArendenByFastighet reply does not follow contract v8: Element '{SERVICE}Arende': This "
            f"element is not expected. Expected is ( {SERVICE}arende ).") in shape


def test_a_v4_endpoint_checked_as_v8_is_one_finding_and_nothing_sent(tmp_path):
    with start_simulator("byggr", contract="v4") as sim:
        report = run_kit(sim, tmp_path)
        cases = sim.app.cases

    assert findings(report, "reply-shape", PER_RUN) == [
        "the endpoint's WSDL is ByggR contract v4 (its SOAP actions say so); the kit checked it as contract v8: "
        "run it with --option contract=v4"]
    skipped = {r.check.id: r.findings for r in report.results if r.outcome == "skipped"}
    reason = ["skipped: the endpoint serves contract v4, not v8 (see reply-shape)"]
    assert skipped == {check: reason for check in
                       ("case-reference", "documents-intact", "fault-on-invalid", "idempotent-repeat")}
    assert cases == {}


def test_no_byggr_sample_in_the_run_skips_with_the_reason(tmp_path):
    with start_simulator("byggr") as sim:
        report = run_kit(sim, tmp_path, ["felanmalan-gatlykta"])

    assert outcomes(report)[("reply-shape", PER_RUN)] == "passed"
    skipped = [r.findings for r in report.results if r.outcome == "skipped"]
    assert skipped == [["skipped: no bygglov or attefall sample in this run (--sample)"]] * 4


# --- the non-conforming variants ----------------------------------------------------------------------------------


def test_a_save_that_answers_no_dnr_fails_case_reference(tmp_path):
    with start_simulator("byggr", flaws=["omits-dnr"]) as sim:
        report = run_kit(sim, tmp_path)
        registered = len(sim.app.cases)

    assert outcomes(report) == expected(case_reference__bygglov_person="failed",
                                        documents_intact__bygglov_person="skipped",
                                        idempotent_repeat__bygglov_person="skipped")
    assert findings(report, "case-reference") == [
        "delivery of bygglov-person failed: UnreadableReply: SaveNewArende reply has no Dnr"]
    assert findings(report, "documents-intact") == ["skipped: case-reference failed"]
    assert registered == 1  # the flaw: the case is there, its reference never came back


def test_documents_stored_short_fail_documents_intact_naming_the_document(tmp_path):
    with start_simulator("byggr", flaws=["truncates-documents"]) as sim:
        report = run_kit(sim, tmp_path)
        (case,) = sim.app.cases.values()
        stored = case.handelser[0].documents[0]

    assert outcomes(report) == expected(documents_intact__bygglov_person="failed")
    sent = hashlib.sha256(stored.content).hexdigest()  # what the simulator kept; the sample's first document
    assert stored.size == 75
    (finding,) = findings(report, "documents-intact")
    assert finding.startswith("document 1 of 3 of bygglov-person (application/pdf, 77 bytes, sha256 ")
    assert finding.endswith(f") came back changed: GetDocument of dokId {stored.dok_id} gave 75 bytes, "
                            f"sha256 {sent[:16]}…")
    # A file whose size is a multiple of 3 has no padded group to lose: the PNG (69 bytes) and the DOCX (108) pass.
    notes = by_case(report)[("documents-intact", SAMPLE)].notes
    assert [note.partition(" (")[0] for note in notes if note.endswith(": intact")] == [
        "document 2 of 3 of bygglov-person", "document 3 of 3 of bygglov-person"]


def test_a_system_that_takes_invalid_input_fails_fault_on_invalid_naming_what_it_registered(tmp_path):
    with start_simulator("byggr", flaws=["accepts-invalid"]) as sim:
        report = run_kit(sim, tmp_path)
        junk = sorted(dnr for dnr, case in sim.app.cases.items() if case.extern_ref != REF)

    assert outcomes(report) == expected(fault_on_invalid="failed")
    assert len(junk) == 3
    assert findings(report, "fault-on-invalid", PER_RUN) == [
        f"{what} was accepted: HTTP 200 SaveNewArendeResponse, registering case {dnr}; expected a SOAP Fault with "
        "faultcode Client" for what, dnr in zip(INVALID, junk, strict=True)]


def test_invalid_input_answered_with_a_bare_500_fails_fault_on_invalid(tmp_path):
    with start_simulator("byggr", flaws=["no-fault-500"]) as sim:
        report = run_kit(sim, tmp_path)

    assert outcomes(report) == expected(fault_on_invalid="failed")
    assert findings(report, "fault-on-invalid", PER_RUN) == [
        f"{what} got HTTP 500 (text/html; charset=utf-8) without a SOAP Fault; expected a SOAP Fault with faultcode "
        "Client" for what in INVALID]


def test_invalid_input_answered_with_a_server_fault_fails_fault_on_invalid(tmp_path):
    with start_simulator("byggr", flaws=["server-fault"]) as sim:
        report = run_kit(sim, tmp_path)

    assert outcomes(report) == expected(fault_on_invalid="failed")
    assert findings(report, "fault-on-invalid", PER_RUN) == [
        f"{what} got a SOAP Fault with faultcode s:Server, which says the server failed; expected a SOAP Fault with "
        "faultcode Client (Brygga retries a Server fault, so a refused submission would wait out its retry budget "
        "instead of going to quarantine)" for what in INVALID]


def test_a_system_that_drops_extern_ref_fails_idempotent_repeat_with_the_second_case(tmp_path):
    with start_simulator("byggr", flaws=["ignores-extern-ref"]) as sim:
        report = run_kit(sim, tmp_path)
        dnrs = sorted(sim.app.cases)

    first, second = dnrs
    assert outcomes(report) == expected(idempotent_repeat__bygglov_person="failed")
    assert findings(report, "idempotent-repeat") == [
        f"second delivery of bygglov-person created a new case {second} (first: {first}); expected the same case "
        f"(externRef {REF})",
        f"GetRelateradeArendenByFastighet finds 0 cases with externRef {REF}; expected one, {first}"]


def test_a_handelse_stored_without_its_anteckning_fails_idempotent_repeat_on_v8(tmp_path):
    """v8 finds the case by externRef, but not its documents' handelse: the repeat sends the documents again."""
    with start_simulator("byggr", flaws=["drops-anteckning"]) as sim:
        report = run_kit(sim, tmp_path)
        (dnr,) = sim.app.cases

    assert outcomes(report) == expected(idempotent_repeat__bygglov_person="failed")
    assert findings(report, "idempotent-repeat") == [
        f"case {dnr} has 0 handelser whose anteckning carries the marker {MARKER}; expected 1 (Brygga finds the "
        "handelse with the submission's documents by it)",
        f"after the second delivery case {dnr} lists 6 documents; expected 3, each of the sample's documents once"]


def test_a_handelse_stored_without_its_anteckning_fails_idempotent_repeat_on_v4(tmp_path):
    """v4 has no externRef: without the marker the case itself cannot be found again."""
    with start_simulator("byggr", contract="v4", flaws=["drops-anteckning"]) as sim:
        report = run_kit(sim, tmp_path, contract="v4")
        first, second = sorted(sim.app.cases)

    assert outcomes(report) == expected(idempotent_repeat__bygglov_person="failed")
    assert findings(report, "idempotent-repeat") == [
        f"second delivery of bygglov-person created a new case {second} (first: {first}); expected the same case "
        f"(the marker {MARKER})",
        f"GetRelateradeArendenByFastighet finds 0 cases with the marker {MARKER}; expected one, {first}",
        f"case {first} has 0 handelser whose anteckning carries the marker {MARKER}; expected 1 (Brygga finds the "
        "handelse with the submission's documents by it)"]


def test_a_misspelt_reply_element_fails_reply_shape_though_brygga_reads_it(tmp_path):
    with start_simulator("byggr", flaws=["renames-reply-element"]) as sim:
        report = run_kit(sim, tmp_path)

    assert outcomes(report) == expected(reply_shape__bygglov_person="failed")
    assert findings(report, "reply-shape") == [
        f"the SaveNewArende reply does not follow contract v8: Element '{SERVICE}DNr': This element is not "
        f"expected. Expected is ( {SERVICE}Dnr )."]


def test_a_wsdl_without_get_document_fails_reply_shape_and_documents_intact(tmp_path):
    with start_simulator("byggr", flaws=["wsdl-without-get-document"]) as sim:
        report = run_kit(sim, tmp_path)
        (dnr,) = sim.app.cases

    assert outcomes(report) == expected(reply_shape="failed", documents_intact__bygglov_person="failed")
    assert findings(report, "reply-shape", PER_RUN) == [
        "the endpoint's WSDL has no operation GetDocument; contract v8 has it"]
    assert findings(report, "documents-intact") == [
        f"the documents of {dnr} cannot be read back: the endpoint's WSDL has no GetDocument operation; "
        "contract v8 has it"]


def test_every_flaw_has_a_test_here():
    tested = {"omits-dnr", "truncates-documents", "accepts-invalid", "no-fault-500", "server-fault",
              "ignores-extern-ref", "drops-anteckning", "renames-reply-element", "wsdl-without-get-document"}
    assert set(FLAWS) == tested
    source = Path(__file__).read_text(encoding="utf-8")
    assert all(f'flaws=["{flaw}"]' in source for flaw in FLAWS)


# --- the simulator's flaws option and the kit's imports --------------------------------------------------------------


def test_flaws_come_as_a_list_or_as_the_command_line_gives_them():
    with start_simulator("byggr", flaws="omits-dnr, truncates-documents") as sim:
        assert sim.app.flaws == {"omits-dnr", "truncates-documents"}
    with pytest.raises(ValueError, match=r"unknown byggr flaw 'no-such-flaw'; known: omits-dnr, truncates-documents"):
        start_simulator("byggr", flaws=["no-such-flaw"])


def test_the_profile_reads_the_contract_without_running_simulator_code():
    code = ("import sys\n"
            "from brygga_conformance.profiles.byggr_contract import contract\n"
            "assert sorted(contract('v8').operations) == ['GetArende', 'GetDocument', "
            "'GetRelateradeArendenByFastighet', 'GetUpdatedArenden', 'SaveNewArende', 'SaveNewHandelse']\n"
            "assert contract('v4').version == 'v4'\n"
            "import brygga_conformance.profiles.byggr_soap\n"
            "print(sorted(name for name in sys.modules if name.startswith('brygga_simulators')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
