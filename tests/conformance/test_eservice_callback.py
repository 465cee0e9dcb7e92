"""The eservice-callback profile against the IntegrationCallback simulator: it passes where the simulator keeps the
contract, and each deliberate flaw fails exactly the check it breaks, with a finding that names the facts."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import zeep.wsdl
from zeep.transports import Transport

from brygga_adapters.soap import safe_settings
from brygga_conformance.profiles.eservice_callback import NO_READ_BACK
from brygga_conformance.profiles.eservice_callback_contract import binding_operations, compare, contract
from brygga_conformance.runner import InvalidOption
from brygga_simulators import start_simulator
from brygga_simulators.oep_callback.flaws import FLAWS

from .eservice_callback_helpers import (
    FLOW_INSTANCES,
    RUN_ID,
    UNKNOWN,
    not_passing,
    platform,
    result,
    run_kit,
    skipped,
)
from .http_helpers import rewriting_proxy

PERSON = "bygglov-person"
FELANMALAN = "felanmalan-gatlykta"
REFERENCE = f"conformance-{RUN_ID}-{PERSON}"
REAL_UPSTREAM = Path(__file__).resolve().parents[3] / "shared" / "reference" / "open-eplatform" / "callback-upstream"
NO_DECISION = "skipped: the status vocabulary of workorder_kumla has no decision_made: Brygga tells no decision for " \
              "this case type"


# --- a platform that keeps the contract -----------------------------------------------------------------------------

def test_the_simulator_passes_and_gets_what_brygga_sends(tmp_path: Path) -> None:
    with platform() as sim:
        report = run_kit(sim, tmp_path)
        calls = sim.app.calls

    assert report.ok, not_passing(report)
    assert {(r.check.id, r.sample) for r in report.results if r.outcome == "passed"} == {
        ("case-reference", PERSON), ("decision-message", PERSON), ("idempotent-repeat", PERSON),
        ("case-reference", FELANMALAN), ("idempotent-repeat", FELANMALAN),
        ("fault-on-invalid", None), ("reply-shape", None)}
    assert skipped(report) == {("documents-intact", PERSON): f"skipped: {NO_READ_BACK}",
                               ("decision-message", FELANMALAN): NO_DECISION,
                               ("documents-intact", FELANMALAN): NO_DECISION}
    # What reached the platform for the bygglov: the registration, confirmed with the case's reference, then the
    # decision with the sample's first document, intact (the simulator keeps each attachment's sha256).
    person = [c for c in calls if c.fields.get("flowInstanceID") == FLOW_INSTANCES[PERSON]]
    assert [c.operation for c in person] == ["setStatus", "addMessage", "confirmDelivery", "setStatus", "addMessage",
                                             "setStatus", "confirmDelivery"]
    assert person[2].fields["externalID"] == {"ID": REFERENCE, "System": "ByggR"}
    assert person[3].fields["statusAlias"] == "Beslut fattat"
    attachment = person[4].fields["message"]["attachments"]
    repeat = result(report, "idempotent-repeat", PERSON)
    assert "setStatus repeated ('Beslut fattat') -> eventID 0 (first: 16003)" in repeat.notes
    assert any(f"sha256 {attachment['sha256']}" in note for note in result(report, "decision-message", PERSON).notes)
    assert attachment["bytes"] == int(attachment["size"])


def test_the_sundsvall_variant_passes_with_its_option(tmp_path: Path) -> None:
    with platform(variant="sundsvall") as sim:
        report = run_kit(sim, tmp_path, variant="sundsvall")
        messages = sim.app.calls_for("addMessage")

    assert report.ok, not_passing(report)
    assert "IntegrationCallbackSundsvall.wsdl" in " ".join(result(report, "reply-shape").notes)
    assert {m.fields["message"]["readReceiptEnabled"] for m in messages} == {"false"}


def test_a_sundsvall_platform_checked_as_upstream_is_told_which_variant_to_use(tmp_path: Path) -> None:
    with platform(variant="sundsvall") as sim:
        report = run_kit(sim, tmp_path, samples=[PERSON])
        assert sim.app.calls == []  # refused before anything was sent: a notification is never half-sent

    (finding,) = result(report, "case-reference", PERSON).findings
    assert finding.startswith(f"the registration update for flowInstanceID {FLOW_INSTANCES[PERSON]} was not sent")
    assert finding.endswith("(for the kit: --option variant=sundsvall)")
    assert result(report, "reply-shape").findings == [
        "the endpoint's WSDL: type IntegrationMessage requires element readReceiptEnabled (minOccurs 1); "
        "IntegrationCallbackService.wsdl has it optional"]


def test_flow_instance_option_reports_every_sample_on_one_flow_instance(tmp_path: Path) -> None:
    with platform(known=[4242]) as sim:
        report = run_kit(sim, tmp_path, flow_instance="4242")
        flow_ids = {c.fields["flowInstanceID"] for c in sim.app.calls}

    assert report.ok, not_passing(report)
    assert flow_ids == {4242}


def test_an_endpoint_without_a_wsdl_fails_reply_shape_and_skips_the_rest(tmp_path: Path) -> None:
    with platform() as sim:
        report = run_kit(sim, tmp_path, url=sim.base_url + "/no/such/service")

    (finding,) = result(report, "reply-shape").findings
    assert finding.startswith("the endpoint's WSDL could not be loaded: TargetRejected: ") and "HTTP 404" in finding
    assert set(skipped(report).values()) == {"skipped: the endpoint's WSDL could not be loaded (see reply-shape)"}


def test_reply_shape_is_skipped_when_no_reply_came_back(tmp_path: Path) -> None:
    """The webhook sample's route tells no platform: nothing is sent, so no reply can be judged; the served WSDL alone
    is no pass for the replies."""
    with platform() as sim:
        report = run_kit(sim, tmp_path, samples=["webhook-felanmalan-gatlykta"])

    assert sim.app.calls == []
    assert result(report, "reply-shape").outcome == "skipped"
    assert result(report, "reply-shape").findings == [
        "skipped: no successful reply came back to validate against IntegrationCallbackService.wsdl (a fault or an "
        "error answer is judged by the check it answered)"]


def test_a_bad_variant_option_is_named_before_anything_is_sent(tmp_path: Path) -> None:
    with platform() as sim:
        with pytest.raises(InvalidOption) as refused:
            run_kit(sim, tmp_path, variant="stockholm")
        assert sim.app.calls == []

    assert str(refused.value) == ("profile eservice-callback: --option variant cannot be 'stockholm'; allowed: "
                                  "upstream, sundsvall")


# --- flawed platforms -----------------------------------------------------------------------------------------------

def test_requires_log_message_fails_case_reference_at_confirm_delivery(tmp_path: Path) -> None:
    with platform(["requires-log-message"]) as sim:
        report = run_kit(sim, tmp_path)

    assert not_passing(report) == {("case-reference", PERSON): "failed", ("case-reference", FELANMALAN): "failed"}
    (finding,) = result(report, "case-reference", PERSON).findings
    assert finding.startswith(f"the registration update for flowInstanceID {FLOW_INSTANCES[PERSON]} stopped at "
                              "confirmDelivery (accepted before it: setStatus, addMessage)")
    # The fault by its code: its faultstring is the platform's free text, which may quote what was sent.
    assert (f"conformance-{RUN_ID}.confirmDelivery: the endpoint answered with a SOAP Fault, faultcode s:Server (its "
            "faultstring is not quoted: it may hold personal data); Brygga retries a Server fault") in finding
    assert "NullPointerException" not in finding
    assert skipped(report)[("idempotent-repeat", PERSON)] == "skipped: case-reference failed"
    assert result(report, "decision-message", PERSON).outcome == "passed"


def test_duplicates_status_event_fails_idempotent_repeat(tmp_path: Path) -> None:
    with platform(["duplicates-status-event"]) as sim:
        report = run_kit(sim, tmp_path)

    assert not_passing(report) == {("idempotent-repeat", PERSON): "failed", ("idempotent-repeat", FELANMALAN): "failed"}
    assert result(report, "idempotent-repeat", PERSON).findings == [
        f"setStatus repeated with the status flowInstanceID {FLOW_INSTANCES[PERSON]} already has ('Beslut fattat') was "
        "answered with a new eventID 16005 (first: 16003); expected eventID 0, as Open ePlatform answers a status a "
        "flow instance already has (a new status event tells the resident twice)"]


def test_refuses_repeat_confirm_fails_idempotent_repeat(tmp_path: Path) -> None:
    with platform(["refuses-repeat-confirm"]) as sim:
        report = run_kit(sim, tmp_path)

    assert not_passing(report) == {("idempotent-repeat", PERSON): "failed", ("idempotent-repeat", FELANMALAN): "failed"}
    (finding,) = result(report, "idempotent-repeat", PERSON).findings
    assert finding.startswith(f"confirmDelivery repeated for flowInstanceID {FLOW_INSTANCES[PERSON]} (externalID "
                              f"{REFERENCE}), as Brygga sends it after a lost answer, was refused")
    assert "the endpoint answered with a SOAP Fault, faultcode s:Server" in finding
    assert finding.endswith("expected it accepted (Open ePlatform ignores a repeated delivery confirmation)")


def test_omits_event_id_fails_reply_shape_only(tmp_path: Path) -> None:
    with platform(["omits-event-id"]) as sim:
        report = run_kit(sim, tmp_path)

    assert not_passing(report) == {("reply-shape", None): "failed"}
    # Five setStatus answers (each sample's registration and repeat, the bygglov's decision) and two probes' faults.
    assert result(report, "reply-shape").findings == [
        f"5 of 7 setStatus replies (e.g. for sample {PERSON}): Element 'setStatusResponse': Missing child element(s). "
        "Expected is ( eventID )."]


def test_renames_reply_element_fails_reply_shape_and_brygga_cannot_read_it(tmp_path: Path) -> None:
    with platform(["renames-reply-element"]) as sim:
        report = run_kit(sim, tmp_path)

    assert result(report, "reply-shape").findings == [
        f"3 of 5 addMessage replies (e.g. for sample {PERSON}): Element 'messageId': This element is not expected. "
        "Expected is ( messageID )."]
    # Brygga's own notifier cannot read that answer, so the update stops there.
    (finding,) = result(report, "case-reference", PERSON).findings
    assert "stopped at addMessage (accepted before it: setStatus)" in finding and "XMLParseError" in finding
    # The element names are the contract's, not personal data: the vendor sees which one is misspelt.
    assert "XMLParseError: Unexpected element messageId, expected messageID;" in finding
    assert result(report, "fault-on-invalid").outcome == "passed"


def test_stale_wsdl_fails_reply_shape_only(tmp_path: Path) -> None:
    with platform(["stale-wsdl"]) as sim:
        report = run_kit(sim, tmp_path)

    assert not_passing(report) == {("reply-shape", None): "failed"}
    assert result(report, "reply-shape").findings == [
        "the endpoint's WSDL: type IntegrationMessage has no element readReceiptEnabled; "
        "IntegrationCallbackService.wsdl has it"]


def test_ignores_unknown_flow_instance_fails_fault_on_invalid(tmp_path: Path) -> None:
    with platform(["ignores-unknown-flow-instance"]) as sim:
        report = run_kit(sim, tmp_path)

    assert not_passing(report) == {("fault-on-invalid", None): "failed"}
    assert result(report, "fault-on-invalid").findings == [
        f"{operation} with an unknown flowInstanceID ({UNKNOWN}) was answered as a success (HTTP 200 with "
        f"{operation}Response); expected a SOAP Fault" for operation in ("setStatus", "addMessage", "confirmDelivery")]


def test_no_schema_validation_fails_fault_on_invalid(tmp_path: Path) -> None:
    with platform(["no-schema-validation"]) as sim:
        report = run_kit(sim, tmp_path)

    assert not_passing(report) == {("fault-on-invalid", None): "failed"}
    # Unchecked, the flowInstanceID that is no number fails in the platform's own code: a Server fault, retried.
    assert result(report, "fault-on-invalid").findings == [
        "addMessage with its required element message missing was answered as a success (HTTP 200 with "
        "addMessageResponse); expected a SOAP Fault",
        "setStatus with a flowInstanceID that is not an xs:int got a SOAP Fault with faultcode s:Server; expected a "
        "Client fault: Brygga retries a Server fault as a temporary failure, so the call is sent again until its "
        "retry budget runs out"]


def test_server_faults_for_invalid_input_fail_fault_on_invalid(tmp_path: Path) -> None:
    """A platform that refuses invalid calls with a Server fault (its faults rewritten from Client to Server on their
    way): Brygga retries a Server fault, so a refused call is never set aside. As byggr-soap and ecos-soap, and as
    docs/vendors.md says, the refusal must be a Client fault."""
    with platform() as sim, rewriting_proxy(sim.base_url, b">s:Client<", b">s:Server<") as proxy:
        report = run_kit(sim, tmp_path, url=proxy + urlsplit(sim.url).path)

    assert not_passing(report) == {("fault-on-invalid", None): "failed"}
    retried = ("got a SOAP Fault with faultcode s:Server; expected a Client fault: Brygga retries a Server fault as a "
               "temporary failure, so the call is sent again until its retry budget runs out")
    assert result(report, "fault-on-invalid").findings == [
        f"setStatus with an unknown flowInstanceID ({UNKNOWN}) {retried}",
        f"addMessage with an unknown flowInstanceID ({UNKNOWN}) {retried}",
        f"confirmDelivery with an unknown flowInstanceID ({UNKNOWN}) {retried}",
        f"addMessage with its required element message missing {retried}",
        f"setStatus with a flowInstanceID that is not an xs:int {retried}",
        f"a body that is not XML {retried}"]


def test_no_fault_500_fails_fault_on_invalid(tmp_path: Path) -> None:
    with platform(["no-fault-500"]) as sim:
        report = run_kit(sim, tmp_path)

    assert not_passing(report) == {("fault-on-invalid", None): "failed"}
    bare = ("was answered with HTTP 500 with a text/html body that is no SOAP envelope; expected a SOAP Fault (without "
            "one, Brygga cannot tell a refusal from an outage and retries the call until its retry budget runs out)")
    assert result(report, "fault-on-invalid").findings == [
        f"addMessage with its required element message missing {bare}",
        f"setStatus with a flowInstanceID that is not an xs:int {bare}",
        f"a body that is not XML {bare}"]


def test_every_flaw_is_tested_here() -> None:
    tested = {"requires-log-message", "duplicates-status-event", "refuses-repeat-confirm", "omits-event-id",
              "renames-reply-element", "stale-wsdl", "ignores-unknown-flow-instance", "no-schema-validation",
              "no-fault-500"}
    assert set(FLAWS) == tested


def test_flaws_from_a_shell_and_unknown_ones() -> None:
    with start_simulator("oep-callback", flaws="stale-wsdl, no-fault-500", known_flow_instances="2001,4711") as sim:
        assert sim.app.flaws == {"stale-wsdl", "no-fault-500"}
        assert sim.app.known_flow_instances == {2001, 4711}
    with pytest.raises(ValueError, match="unknown oep-callback flaw 'slow'; known: requires-log-message, "):
        start_simulator("oep-callback", flaws=["slow"])


@pytest.mark.interop
def test_open_eplatforms_own_wsdl_fits_brygga_copy() -> None:
    """Open ePlatform's published WSDL (its schema in a separate XSD) as an endpoint would serve it: no finding."""
    if not REAL_UPSTREAM.is_dir():
        pytest.skip(f"reference material not found at {REAL_UPSTREAM}")
    document = zeep.wsdl.Document(str(REAL_UPSTREAM / "IntegrationCallbackService.wsdl"), Transport(),
                                  settings=safe_settings())

    served = binding_operations(document)
    assert {"setStatus", "addMessage", "confirmDelivery", "getManagers"} <= set(served)
    assert compare(contract("upstream"), served) == []
