"""ByggrTarget against the ByggR simulator over real HTTP."""

from __future__ import annotations

import re

import jsonschema
import pytest
from byggr_example_payload import example_payload_from_case

from brygga.errors import ConfigError, TargetRejected, TargetUnavailable
from brygga.plugins import CaseTarget, adapter_class
from brygga_adapters.byggr import ByggrTarget

DNR = re.compile(r"^BN \d{4}-\d{6}$")


@pytest.fixture
def target(byggr_connection):
    return ByggrTarget({"handelse_rubrik": "Ansökan via e-tjänst", "handlingstyp": "BIL"}, byggr_connection)


@pytest.fixture
def request_(canonical_case, documents, make_request):
    return make_request(example_payload_from_case(canonical_case), canonical_case, documents)


def test_is_a_case_target_found_by_entry_point():
    assert adapter_class("byggr") is ByggrTarget
    assert isinstance(ByggrTarget({}, _dummy_connection()), CaseTarget)
    jsonschema.Draft202012Validator.check_schema(ByggrTarget.config_spec)


def test_deliver_creates_case_with_documents(target, request_, byggr_sim):
    receipt = target.deliver(request_)

    assert receipt.created is True
    assert DNR.match(receipt.external_ref)
    case = byggr_sim.app.cases[receipt.external_ref]
    assert case.extern_ref == request_.extern_ref
    (handelse,) = case.handelser
    assert handelse.rubrik == "Ansökan via e-tjänst"
    assert [d.sha256 for d in handelse.documents] == [d.sha256 for d in request_.documents]
    assert byggr_sim.app.auth_users[0] == "brygga"


def test_retry_returns_same_dnr_and_adds_nothing(target, request_, byggr_sim):
    first = target.deliver(request_)
    second = target.deliver(request_)

    assert second.external_ref == first.external_ref
    assert second.created is False
    assert len(byggr_sim.app.cases) == 1
    assert len(byggr_sim.app.cases[first.external_ref].handelser) == 1


def test_retry_after_crash_between_case_and_documents_adds_documents_once(
    target, request_, byggr_sim, make_request
):
    # First attempt "crashed" after SaveNewArende: same extern_ref, no documents yet.
    partial = make_request(request_.payload, request_.case, [], extern_ref=request_.extern_ref)
    dnr = target.deliver(partial).external_ref
    assert byggr_sim.app.cases[dnr].handelser == []

    receipt = target.deliver(request_)
    target.deliver(request_)

    assert (receipt.external_ref, receipt.created) == (dnr, False)
    (handelse,) = byggr_sim.app.cases[dnr].handelser
    assert len(handelse.documents) == 2


def test_two_submissions_get_sequential_dnr(target, canonical_case, documents, make_request):
    payload = example_payload_from_case(canonical_case)
    first = target.deliver(make_request(payload, canonical_case, documents, extern_ref="brygga:a"))
    second = target.deliver(make_request(payload, canonical_case, documents, extern_ref="brygga:b"))

    assert first.external_ref != second.external_ref
    assert int(second.external_ref[-6:]) == int(first.external_ref[-6:]) + 1


def test_document_with_wrong_sha256_is_refused_before_anything_is_sent(
    target, canonical_case, store_document, make_request, byggr_sim
):
    bad = store_document("Ritning.pdf", b"real bytes", sha256="0" * 64)
    request = make_request(example_payload_from_case(canonical_case), canonical_case, [bad])

    with pytest.raises(TargetRejected, match="sha256") as raised:
        target.deliver(request)

    assert "Ritning" not in str(raised.value)  # names of uploads may be personal
    assert byggr_sim.app.cases == {}
    assert byggr_sim.app.captured_requests == []


def test_invalid_payload_is_refused_by_the_target(target, canonical_case, documents, make_request, byggr_sim):
    payload = example_payload_from_case(canonical_case)
    for intressent in payload["intressentLista"]["intressent"]:
        intressent["rollLista"] = {"roll": ["KPER"]}  # no applicant (SOK)

    with pytest.raises(TargetRejected, match=r"SaveNewArende.*roll SOK"):
        target.deliver(make_request(payload, canonical_case, documents))
    assert byggr_sim.app.cases == {}


def test_payload_that_does_not_fit_the_wsdl_is_rejected(target, canonical_case, documents, make_request):
    payload = example_payload_from_case(canonical_case)
    payload["noSuchField"] = "x"

    with pytest.raises(TargetRejected, match="does not fit the WSDL"):
        target.deliver(make_request(payload, canonical_case, documents))


def test_payload_without_property_cannot_be_checked_before_create(
    target, canonical_case, documents, make_request
):
    payload = example_payload_from_case(canonical_case)
    del payload["objektLista"]

    with pytest.raises(TargetRejected, match="check-before-create"):
        target.deliver(make_request(payload, canonical_case, documents))


def test_target_down_is_unavailable(canonical_case, documents, make_request, free_port):
    from brygga.connections import Connection

    connection = Connection.from_uri(
        "byggr-down", f"http://127.0.0.1:{free_port}/TekisArende/ArendeExportWS.svc"
    )
    target = ByggrTarget({}, connection)

    with pytest.raises(TargetUnavailable):
        target.deliver(make_request(example_payload_from_case(canonical_case), canonical_case, documents))


def test_config_is_checked():
    with pytest.raises(ConfigError):
        ByggrTarget({}, None)
    with pytest.raises(ConfigError, match=r"password.*rule: additionalProperties, adapter .byggr."):
        ByggrTarget({"password": "x"}, _dummy_connection())


def _dummy_connection():
    from brygga.connections import Connection

    return Connection.from_uri("byggr-dummy", "http://127.0.0.1:9/svc")
