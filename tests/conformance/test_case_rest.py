"""The case-rest profile against the work-order simulator over real HTTP with OAuth2: it passes as the simulator is,
and each non-conforming variant (brygga_simulators.workorder.flaws) fails exactly the check it breaks, with a
finding that names what was expected and what came."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from brygga_conformance.profiles.case_rest_contract import Contract
from brygga_conformance.runner import RunReport
from brygga_conformance.samples import SampleSet
from brygga_simulators import start_simulator
from brygga_simulators.workorder.contract import document, shipped
from brygga_simulators.workorder.flaws import FLAWS

from .case_rest_helpers import FELANMALAN, PER_SAMPLE, expected, outcomes, result, run_kit, work_order

GATLYKTA = "felanmalan-gatlykta"
PNG_SHA256 = "58ff1d6c8124bc4991e4fba43dcad2f5743972ef8572b1ff97bc98623cfb019a"  # the sample's 69-byte photo
REF = "conformance-t1-felanmalan-gatlykta"


def findings(report: RunReport, check: str, sample: str | None = GATLYKTA) -> list[str]:
    return result(report, check, sample).findings


# --- the contract file --------------------------------------------------------------------------------------------


def test_the_shipped_openapi_document_is_the_one_the_simulator_serves_and_the_one_the_kit_reads() -> None:
    with start_simulator("work-order") as sim:
        served = requests.get(f"{sim.url}/openapi.json", timeout=10).json()
    assert shipped() == served == document(), \
        "simulators/workorder/openapi.json is stale: run .venv/bin/python -m brygga_simulators.workorder.contract"
    assert Contract.bundled().document == served


# --- as the simulator is: every check passes ------------------------------------------------------------------------


def test_the_kit_passes_against_the_work_order_simulator(workorder, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    report = run_kit(workorder.running, workorder.secret, tmp_path, monkeypatch)

    assert report.ok
    assert set(FELANMALAN) <= set(report.samples)  # the others are no felanmalan: not this profile's
    assert outcomes(report) == {**expected(FELANMALAN[0]), **expected(FELANMALAN[1])}
    first, second = (order["orderNumber"] for order in workorder.running.app.orders)  # AO-<year>-00001, -00002
    assert result(report, "case-reference", GATLYKTA).notes == [
        f"POST /orders -> {first} (created=True, 1 document(s))"]
    assert result(report, "idempotent-repeat", GATLYKTA).notes == [
        f"second delivery -> {first} (created=False)", f"search by externalRef -> {first}",
        f"create re-sent with the same Idempotency-Key -> {first} (Idempotent-Replayed: true)",
        "upload re-sent with the same Idempotency-Key: stored once"]
    assert result(report, "reply-shape", GATLYKTA).notes == [
        "11 replies checked against the work-order API 1.0.0 document"]
    assert result(report, "fault-on-invalid", None).notes == [
        "a create body that is not JSON -> HTTP 422 application/problem+json",
        "a create body without the required field category -> HTTP 422 application/problem+json"]
    # What the system holds afterwards: one order per sample, each with its photo once; the invalid ones refused.
    counts = workorder.running.app.counts()
    assert counts["orders_per_external_ref"] == {f"conformance-t1-{name}": 1 for name in FELANMALAN}
    assert counts["attachments_per_order"] == {first: 1, second: 1}
    assert [a["sha256"] for o in workorder.running.app.orders for a in o["attachments"]] == [PNG_SHA256] * 2


def test_without_a_felanmalan_sample_the_per_sample_checks_are_skipped_and_the_fault_check_still_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order() as (sim, secret):
        report = run_kit(sim, secret, tmp_path, monkeypatch, samples=["bygglov-person"])
    assert outcomes(report) == {**{(check, None): "skipped" for check in PER_SAMPLE},
                                ("fault-on-invalid", None): "passed"}
    assert findings(report, "case-reference", None) == ["skipped: no felanmalan sample in the sample set"]


def test_a_wrong_client_secret_fails_case_reference_naming_the_refused_credentials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order() as (sim, _secret):
        report = run_kit(sim, "not-the-secret", tmp_path, monkeypatch, samples=[GATLYKTA])
    refused = "OAuth2 token endpoint refused the client credentials (OAuth2 error invalid_client, HTTP 401)"
    assert outcomes(report) == expected(GATLYKTA, case_reference="failed", documents_intact="skipped",
                                        idempotent_repeat="skipped", reply_shape="skipped",
                                        fault_on_invalid="failed")
    (finding,) = findings(report, "case-reference")
    assert finding.startswith(f"delivering {GATLYKTA} failed: connection 'conformance-t1': {refused}")
    assert [f.partition(": ")[0] for f in findings(report, "fault-on-invalid", None)] == [
        "a create body that is not JSON could not be sent",
        "a create body without the required field category could not be sent"]
    assert all(refused in f for f in findings(report, "fault-on-invalid", None))
    assert not any("not-the-secret" in f for r in report.results for f in r.findings)


def test_a_wrong_token_url_is_named_as_the_kits_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Brygga's own message names the connection's extra; a vendor running the kit sets it with --option."""
    with work_order() as (sim, secret):
        report = run_kit(sim, secret, tmp_path, monkeypatch, samples=[GATLYKTA], token_url="/no/token/here")

    (finding,) = findings(report, "case-reference")
    assert finding.endswith("OAuth2 token endpoint refused the token request (OAuth2 error missing_token, HTTP 404); "
                            "check --option token_url and --option scope")
    assert not any("extra" in text for r in report.results for text in r.findings)


# --- the flaws: each fails its check, precisely -----------------------------------------------------------------


def test_unknown_flaws_are_refused_naming_the_known_ones_and_a_comma_list_works_as_from_a_shell() -> None:
    with pytest.raises(ValueError, match="unknown work-order flaw 'no-such-bug'; known: omits-reference, "):
        start_simulator("work-order", flaws=["no-such-bug"])
    with start_simulator("work-order", flaws="numeric-status, accepts-invalid") as sim:
        assert sim.app.flaws == {"numeric-status", "accepts-invalid"}


def test_omits_reference_fails_case_reference_and_reply_shape(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order("omits-reference") as (sim, secret):
        report = run_kit(sim, secret, tmp_path, monkeypatch, samples=[GATLYKTA])
    assert outcomes(report) == expected(GATLYKTA, case_reference="failed", documents_intact="skipped",
                                        idempotent_repeat="skipped", reply_shape="failed")
    assert findings(report, "case-reference") == [
        f"delivering {GATLYKTA} failed: rest conformance-t1.create: HTTP 201 but the answer has nothing at config "
        "reference/json (rule: in doubt: the create was accepted; the next attempt checks before it creates)"]
    assert findings(report, "reply-shape") == [
        "POST /orders (createOrder) -> 201: body /orderNumber: Required property is missing (rule: required)"]
    assert findings(report, "documents-intact") == ["skipped: case-reference failed"]


def test_truncates_documents_fails_documents_intact_with_both_digests_and_sizes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order("truncates-documents") as (sim, secret):
        report = run_kit(sim, secret, tmp_path, monkeypatch, samples=[GATLYKTA])
        (stored,) = sim.app.order("AO-2026-00001")["attachments"]
    assert outcomes(report) == expected(GATLYKTA, documents_intact="failed")
    assert stored["size"] == 8  # the PNG signature: its 9th byte is the first NUL
    assert findings(report, "documents-intact") == [
        f"document 1 (image/png, 69 bytes, sha256 {PNG_SHA256}) of {GATLYKTA} is not among case AO-2026-00001's "
        f"attachments: it lists 1 other attachment(s): 8 bytes, sha256 {stored['sha256']}; expected the same bytes "
        "(sha256 and size)"]


def test_ignores_idempotency_key_fails_idempotent_repeat_on_the_resent_create_and_upload(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order("ignores-idempotency-key") as (sim, secret):
        report = run_kit(sim, secret, tmp_path, monkeypatch, samples=[GATLYKTA])
        held = sim.app.counts()
    # Brygga's own repeat searches first, so it finds the case; the retries after a lost answer do not.
    assert outcomes(report) == expected(GATLYKTA, idempotent_repeat="failed")
    assert findings(report, "idempotent-repeat") == [
        f"the create of {GATLYKTA} re-sent with the same Idempotency-Key (as after a lost answer) created a new "
        "case AO-2026-00002 (first: AO-2026-00001); expected the first answer replayed (Idempotent-Replayed: true) "
        "or HTTP 409",
        f"document 1 (image/png, 69 bytes, sha256 {PNG_SHA256}) of {GATLYKTA} re-sent with the same "
        "Idempotency-Key (as after a lost answer) was stored again: case AO-2026-00001 now holds it 2 times; "
        "expected the first answer replayed"]
    assert held["orders_per_external_ref"] == {REF: 2}
    assert held["duplicate_attachments"]["AO-2026-00001"] == 1


def test_search_finds_nothing_fails_idempotent_repeat_though_the_key_saves_the_repeat(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order("search-finds-nothing") as (sim, secret):
        report = run_kit(sim, secret, tmp_path, monkeypatch, samples=[GATLYKTA])
        held = sim.app.counts()
    assert outcomes(report) == expected(GATLYKTA, idempotent_repeat="failed")
    assert findings(report, "idempotent-repeat") == [
        f"a search by externalRef {REF} (config search) found no case; expected AO-2026-00001 (Brygga searches "
        "before it creates: a case it cannot find is created again)"]
    assert "second delivery -> AO-2026-00001 (created=False)" in result(report, "idempotent-repeat", GATLYKTA).notes
    assert held["orders"] == 1


def test_ignoring_both_key_and_search_duplicates_the_case_on_brygga_s_own_repeat(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order("ignores-idempotency-key", "search-finds-nothing") as (sim, secret):
        report = run_kit(sim, secret, tmp_path, monkeypatch, samples=[GATLYKTA])
    assert outcomes(report) == expected(GATLYKTA, idempotent_repeat="failed")
    found = findings(report, "idempotent-repeat")
    assert found[:2] == [
        f"the second delivery of {GATLYKTA} created a new case AO-2026-00002 (first: AO-2026-00001); expected the "
        f"same case (externalRef {REF})",
        f"a search by externalRef {REF} (config search) found no case; expected AO-2026-00001 (Brygga searches "
        "before it creates: a case it cannot find is created again)"]
    assert len(found) == 4
    assert "re-sent with the same Idempotency-Key (as after a lost answer) created a new case AO-2026-00003 " \
           "(first: AO-2026-00001)" in found[2]
    assert "was stored again: case AO-2026-00001 now holds it 2 times" in found[3]


def test_accepts_invalid_fails_fault_on_invalid_naming_the_case_it_created(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order("accepts-invalid") as (sim, secret):
        report = run_kit(sim, secret, tmp_path, monkeypatch, samples=[GATLYKTA])
        invalid = sim.app.order("AO-2026-00002")
    assert outcomes(report) == expected(GATLYKTA, fault_on_invalid="failed")
    assert findings(report, "fault-on-invalid", None) == [
        "a create body without the required field category was accepted: HTTP 201 (case AO-2026-00002); expected "
        "HTTP 4xx with a problem body (application/problem+json)"]
    assert invalid["externalRef"] == "conformance-t1-invalid" and "category" not in invalid
    # The body that is not JSON is still refused properly, so it is no finding.
    assert result(report, "fault-on-invalid", None).notes == [
        "a create body that is not JSON -> HTTP 422 application/problem+json"]


def test_no_fault_500_fails_fault_on_invalid_for_the_body_that_is_not_json(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order("no-fault-500") as (sim, secret):
        report = run_kit(sim, secret, tmp_path, monkeypatch, samples=[GATLYKTA])
    assert outcomes(report) == expected(GATLYKTA, fault_on_invalid="failed")
    assert findings(report, "fault-on-invalid", None) == [
        "a create body that is not JSON got HTTP 500 (text/plain) without a problem body; expected HTTP 4xx with a "
        "problem body (application/problem+json): a 5xx says the service failed, not that the input was wrong"]


def test_numeric_status_fails_reply_shape_on_every_operation_that_shows_an_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order("numeric-status") as (sim, secret):
        report = run_kit(sim, secret, tmp_path, monkeypatch, samples=[GATLYKTA])
    assert outcomes(report) == expected(GATLYKTA, reply_shape="failed")
    allowed = '"registered", "assigned", "in_progress", "waiting", "closed"'
    assert findings(report, "reply-shape") == [
        f"{operation}: body {path}: {problem}"
        for operation, path in (("POST /orders (createOrder) -> 201", "/status"),
                                ("GET /orders/{orderNumber} (getOrder) -> 200", "/status"),
                                ("GET /orders (searchOrders) -> 200", "/items/0/status"))
        for problem in ("Value has the wrong type; expected string (rule: type)",
                        f"Value is not one of the allowed values: {allowed} (rule: enum)")]


def test_findings_and_notes_never_quote_the_samples_personal_values(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with work_order(*FLAWS) as (sim, secret):
        report = run_kit(sim, secret, tmp_path / "run", monkeypatch)
    texts = [text for r in report.results for text in (*r.findings, *r.notes)]
    assert sum(r.outcome == "failed" for r in report.results) >= 3  # the run found plenty to say
    personal = set()
    for sample in SampleSet.load(tmp_path / "samples").of_types("felanmalan"):
        personal |= _strings(sample.case["parties"]) | _strings(sample.case["details"]) | {
            d.name for d in sample.documents}
    personal = {value for value in personal if len(value) > 3 and value not in FLAWS}
    assert personal, "the samples have personal values to look for"
    leaked = [(value, text) for value in personal for text in texts if value in text]
    assert not leaked, json.dumps(leaked, ensure_ascii=False)


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*map(_strings, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_strings, value)) if value else set()
    return set()
