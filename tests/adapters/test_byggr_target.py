"""ByggrTarget against the ByggR simulator over real HTTP, in every contract version and reply style."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import jsonschema
import pytest
from byggr_example_payload import example_payload_from_case
from lxml import etree

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected, TargetUnavailable
from brygga.plugins import Amendment, CaseTarget, DeliveryRequest, adapter_class, configure
from brygga_adapters.byggr import ByggrTarget
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator

DNR = re.compile(r"^BN \d{4}-\d{6}$")
SC = "{www.tekis.se/ServiceContract}"
MODES = [("contract", "v8"), ("real", "v8"), ("contract", "v4"), ("real", "v4")]


@pytest.fixture(params=MODES, ids=[f"{style}-{contract}" for style, contract in MODES])
def sim(request) -> Iterator[RunningSimulator]:
    reply_style, contract = request.param
    with start_simulator(ByggrSimulator(reply_style=reply_style, contract=contract)) as running:
        yield running


@pytest.fixture
def target(sim, connect):
    config = {"handelse_rubrik": "Ansökan via e-tjänst", "handlingstyp": "BIL", "contract": sim.app.contract}
    return ByggrTarget(config, connect(sim, "byggr-kumla", connect_timeout="2", read_timeout="10"))


@pytest.fixture
def request_(canonical_case, documents, make_request):
    return make_request(example_payload_from_case(canonical_case), canonical_case, documents)


def _amendment(request: DeliveryRequest, dnr: str, revision: int, documents=None, changed=("parties",)):
    return dataclasses.replace(
        request,
        documents=request.documents if documents is None else documents,
        amendment=Amendment(external_ref=dnr, revision=revision, changed_fields=changed),
    )


def _operations(running: RunningSimulator) -> list[str]:
    names = []
    for raw in running.app.captured_requests:
        body = etree.fromstring(raw).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
        names += [etree.QName(child).localname for child in body]
    return names


def _sent(running: RunningSimulator, operation: str) -> list[etree._Element]:
    found = []
    for raw in running.app.captured_requests:
        found += etree.fromstring(raw).iter(f"{SC}{operation}")
    return found


# --- in every mode ---------------------------------------------------------------------------------------


def test_is_a_case_target_found_by_entry_point():
    assert adapter_class("byggr") is ByggrTarget
    assert isinstance(ByggrTarget({}, _dummy_connection()), CaseTarget)
    jsonschema.Draft202012Validator.check_schema(ByggrTarget.config_spec)


def test_deliver_creates_case_with_documents(target, request_, sim):
    receipt = target.deliver(request_)

    assert receipt.created is True
    assert DNR.match(receipt.external_ref)
    case = sim.app.cases[receipt.external_ref]
    assert case.extern_ref == (request_.extern_ref if sim.app.contract == "v8" else None)
    (handelse,) = case.handelser
    assert handelse.rubrik == "Ansökan via e-tjänst"
    assert handelse.anteckning == f"brygga-ref:{request_.extern_ref}"
    assert [d.sha256 for d in handelse.documents] == [d.sha256 for d in request_.documents]
    assert sim.app.auth_users[0] == "brygga"


def test_retry_returns_same_dnr_and_adds_nothing(target, request_, sim):
    first = target.deliver(request_)
    second = target.deliver(request_)

    assert second.external_ref == first.external_ref
    assert second.created is False
    assert len(sim.app.cases) == 1
    assert len(sim.app.cases[first.external_ref].handelser) == 1


def test_retry_after_a_lost_save_new_arende_reply_creates_no_second_case(target, request_, sim):
    sim.app.faults.set([{"operation": "SaveNewArende", "action": "lose_reply", "nth": 1}])
    with pytest.raises(TargetUnavailable):
        target.deliver(request_)
    (dnr,) = sim.app.cases  # ByggR created the case; only its answer was lost

    receipt = target.deliver(request_)

    assert (receipt.external_ref, receipt.created) == (dnr, False)
    assert len(sim.app.cases) == 1
    (handelse,) = sim.app.cases[dnr].handelser
    assert len(handelse.documents) == 2


def test_a_property_with_other_cases_does_not_confuse_check_before_create(target, request_, sim, make_request):
    # A case registered by a case officer (in the real style with a startDatum that is no date) and another
    # submission's case, both on the same property.
    foreign = sim.app.seed_case("KUMLA STENEN", "1:23")
    other = target.deliver(make_request(request_.payload, request_.case, request_.documents, extern_ref="1881:x:9"))

    first = target.deliver(request_)
    again = target.deliver(request_)

    assert first.created is True and first.external_ref not in (foreign, other.external_ref)
    assert (again.external_ref, again.created) == (first.external_ref, False)
    assert len(sim.app.cases) == 3


def test_a_known_fnr_is_what_check_before_create_searches_by(target, request_, sim):
    objekt = request_.payload["objektLista"]["abstractArendeObjekt"][0]
    objekt["fastighet"]["fnr"] = 22044332

    first = target.deliver(request_)
    again = target.deliver(request_)

    assert (again.external_ref, again.created) == (first.external_ref, False)
    ((_, fastighet),) = sim.app.cases[first.external_ref].fastigheter()
    assert fastighet.get("fnr") == "22044332"
    for search in _sent(sim, "GetRelateradeArendenByFastighet"):
        assert search.findtext(f"{SC}fnr") == "22044332"
        assert search.find(f"{SC}trakt") is None


def test_amendment_adds_one_komplettering_handelse(sim, connect, request_, store_document):
    target = ByggrTarget(
        {"contract": sim.app.contract, "komplettering_handelseslag": "KOMPL"}, connect(sim, "byggr-kumla")
    )
    dnr = target.deliver(request_).external_ref
    new_document = store_document("Reviderad ritning.pdf", b"%PDF-1.4 reviderad")
    amendment = _amendment(request_, dnr, 2, [new_document], changed=("parties", "details.bygglov"))

    receipt = target.deliver(amendment)
    again = target.deliver(amendment)

    assert (receipt.external_ref, receipt.created) == (dnr, False)
    assert (again.external_ref, again.created) == (dnr, False)
    assert len(sim.app.cases) == 1
    _, komplettering = sim.app.cases[dnr].handelser
    assert komplettering.rubrik == "Komplettering från e-tjänst"
    element = komplettering.element
    assert element.findtext("{www.tekis.se/arende}riktning") == "In"
    assert element.findtext("{www.tekis.se/arende}handelsetyp") == "HANDLING"
    assert element.findtext("{www.tekis.se/arende}handelseslag") == "KOMPL"
    assert komplettering.anteckning.splitlines() == [
        "Komplettering via e-tjänst, version 2. Ändrade uppgifter: parter (parties), "
        "uppgifter om åtgärden (details.bygglov).",
        f"brygga-ref:{request_.extern_ref}#2",
    ]
    assert [d.sha256 for d in komplettering.documents] == [new_document.sha256]


def test_each_revision_is_added_once(target, request_, sim):
    dnr = target.deliver(request_).external_ref
    for revision in (2, 3, 3, 2):
        target.deliver(_amendment(request_, dnr, revision, []))

    markers = [h.anteckning.splitlines()[-1] for h in sim.app.cases[dnr].handelser]
    assert markers == [f"brygga-ref:{request_.extern_ref}", *(f"brygga-ref:{request_.extern_ref}#{r}" for r in (2, 3))]


def test_retry_after_a_lost_amendment_reply_adds_it_once(target, request_, sim):
    dnr = target.deliver(request_).external_ref
    sim.app.faults.set([{"operation": "SaveNewHandelse", "action": "lose_reply", "nth": 1}])
    amendment = _amendment(request_, dnr, 2)
    with pytest.raises(TargetUnavailable):
        target.deliver(amendment)

    assert target.deliver(amendment).external_ref == dnr
    assert len(sim.app.cases[dnr].handelser) == 2


def test_amendment_of_an_unknown_case_is_refused(target, request_, sim):
    with pytest.raises(TargetRejected, match="GetArende refused"):
        target.deliver(_amendment(request_, "BN 2026-999999", 2))
    assert sim.app.cases == {}


# --- per contract ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sim", [("contract", "v8"), ("real", "v8")], indirect=True, ids=["contract", "real"])
def test_v8_an_amendment_marker_does_not_pass_for_the_documents_marker(target, request_, sim, make_request):
    # brygga-ref:X is a prefix of brygga-ref:X#2; the documents' handelse must still be added.
    partial = make_request(request_.payload, request_.case, [], extern_ref=request_.extern_ref)
    dnr = target.deliver(partial).external_ref
    target.deliver(_amendment(request_, dnr, 2, []))

    target.deliver(request_)

    anteckningar = [h.anteckning.splitlines()[-1] for h in sim.app.cases[dnr].handelser]
    assert anteckningar == [f"brygga-ref:{request_.extern_ref}#2", f"brygga-ref:{request_.extern_ref}"]
    assert len(sim.app.cases[dnr].handelser[1].documents) == 2


@pytest.mark.parametrize("sim", [("contract", "v8")], indirect=True, ids=["contract"])
def test_v8_retry_after_crash_between_case_and_documents_adds_documents_once(target, request_, sim, make_request):
    partial = make_request(request_.payload, request_.case, [], extern_ref=request_.extern_ref)
    dnr = target.deliver(partial).external_ref
    assert sim.app.cases[dnr].handelser == []

    receipt = target.deliver(request_)
    target.deliver(request_)

    assert (receipt.external_ref, receipt.created) == (dnr, False)
    (handelse,) = sim.app.cases[dnr].handelser
    assert len(handelse.documents) == 2


@pytest.mark.parametrize("sim", [("contract", "v4"), ("real", "v4")], indirect=True, ids=["contract", "real"])
def test_v4_creates_case_and_marked_documents_in_one_call(target, request_, sim):
    target.deliver(request_)

    assert _operations(sim) == ["GetRelateradeArendenByFastighet", "SaveNewArende"]
    (save,) = _sent(sim, "SaveNewArende")
    arende = save.find(f"{SC}message/{SC}Arende")
    assert arende.find("{www.tekis.se/arende}externRef") is None and arende.get("komkod") is None
    assert save.findtext(f"{SC}message/{SC}Handelse/{{www.tekis.se/arende}}anteckning") == (
        f"brygga-ref:{request_.extern_ref}"
    )


@pytest.mark.parametrize("sim", [("contract", "v4")], indirect=True, ids=["contract"])
def test_v4_a_case_without_its_marker_is_not_taken_for_ours(target, request_, sim, make_request):
    other = target.deliver(make_request(request_.payload, request_.case, [], extern_ref="1881:x:other"))

    receipt = target.deliver(request_)

    assert receipt.created is True and receipt.external_ref != other.external_ref


@pytest.mark.parametrize("sim", [("contract", "v4")], indirect=True, ids=["contract"])
def test_v4_fields_it_cannot_carry_are_refused_before_anything_is_sent(target, request_, sim):
    request_.payload["prioritet"] = 2

    with pytest.raises(TargetRejected, match="contract v4 has no place for: prioritet"):
        target.deliver(request_)
    assert sim.app.captured_requests == []


@pytest.mark.parametrize("sim", [("contract", "v4")], indirect=True, ids=["contract"])
def test_a_v8_target_on_a_v4_installation_is_refused_clearly(sim, connect, request_):
    target = ByggrTarget({}, connect(sim, "byggr-kumla"))

    # A configuration mistake, quarantined with its message for the admin to fix and replay; not a refusal.
    with pytest.raises(ConfigError, match="serves ByggR contract v4, the target is configured for v8"):
        target.deliver(request_)
    assert sim.app.cases == {}


# --- refused locally or by the target (default contract) -------------------------------------------------


@pytest.fixture
def v8_target(byggr_connection):
    return ByggrTarget({"handelse_rubrik": "Ansökan via e-tjänst", "handlingstyp": "BIL"}, byggr_connection)


def test_document_with_wrong_sha256_is_refused_before_anything_is_sent(
    v8_target, canonical_case, store_document, make_request, byggr_sim
):
    bad = store_document("Ritning.pdf", b"real bytes", sha256="0" * 64)
    request = make_request(example_payload_from_case(canonical_case), canonical_case, [bad])

    with pytest.raises(TargetRejected, match="sha256") as raised:
        v8_target.deliver(request)

    assert "Ritning" not in str(raised.value)  # names of uploads may be personal
    assert byggr_sim.app.cases == {}
    assert byggr_sim.app.captured_requests == []


def test_a_document_that_is_gone_is_refused_without_its_name(
    v8_target, canonical_case, store_document, make_request, byggr_sim
):
    gone = store_document("Ritning.pdf", b"bytes")
    gone.path.unlink()

    with pytest.raises(TargetRejected, match="document 1: stored content cannot be read") as raised:
        v8_target.deliver(make_request(example_payload_from_case(canonical_case), canonical_case, [gone]))
    assert "Ritning" not in str(raised.value)
    assert byggr_sim.app.captured_requests == []


def test_documents_are_verified_in_chunks(v8_target, canonical_case, store_document, make_request, monkeypatch):
    from brygga_adapters import documents

    stored = store_document("Ritning.pdf", b"x" * (3 * documents.CHUNK_BYTES + 5))
    reads: list[int] = []
    real_open = type(stored.path).open

    def recording_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        if path == stored.path:
            original_read = handle.read

            def read(size=-1):
                reads.append(size)
                return original_read(size)

            handle.read = read
        return handle

    monkeypatch.setattr(type(stored.path), "open", recording_open)
    verified = documents.verify(stored, 1)

    assert verified.size == stored.size and verified.sha256 == stored.sha256
    assert reads and all(0 < size <= documents.CHUNK_BYTES for size in reads)


def test_invalid_payload_is_refused_by_the_target(v8_target, canonical_case, documents, make_request, byggr_sim):
    payload = example_payload_from_case(canonical_case)
    for intressent in payload["intressentLista"]["intressent"]:
        intressent["rollLista"] = {"roll": ["KPER"]}  # no applicant (SOK)

    with pytest.raises(TargetRejected, match=r"SaveNewArende.*roll SOK"):
        v8_target.deliver(make_request(payload, canonical_case, documents))
    assert byggr_sim.app.cases == {}


def test_payload_that_does_not_fit_the_wsdl_is_rejected(v8_target, canonical_case, documents, make_request):
    payload = example_payload_from_case(canonical_case)
    payload["noSuchField"] = "x"

    with pytest.raises(TargetRejected, match="does not fit the WSDL"):
        v8_target.deliver(make_request(payload, canonical_case, documents))


def test_payload_without_property_cannot_be_checked_before_create(
    v8_target, canonical_case, documents, make_request
):
    payload = example_payload_from_case(canonical_case)
    del payload["objektLista"]

    with pytest.raises(TargetRejected, match="check-before-create"):
        v8_target.deliver(make_request(payload, canonical_case, documents))


def test_target_down_is_unavailable(canonical_case, documents, make_request, free_port):
    connection = Connection.from_uri(
        "byggr-down", f"http://127.0.0.1:{free_port}/TekisArende/ArendeExportWS.svc?allow_http=true"
    )
    target = ByggrTarget({}, connection)

    with pytest.raises(TargetUnavailable):
        target.deliver(make_request(example_payload_from_case(canonical_case), canonical_case, documents))


def test_target_answering_503_is_unavailable(v8_target, request_, byggr_sim):
    byggr_sim.app.faults.set([{"operation": "Get*", "action": "http_status", "status": 503}])
    with pytest.raises(TargetUnavailable, match="HTTP 503"):
        v8_target.deliver(request_)


def test_config_is_checked():
    with pytest.raises(ConfigError):
        ByggrTarget({}, None)
    with pytest.raises(ConfigError, match=r"password.*rule: additionalProperties, adapter .byggr."):
        ByggrTarget({"password": "x"}, _dummy_connection())
    with pytest.raises(ConfigError, match=r"contract.*rule: enum"):
        ByggrTarget({"contract": "v5"}, _dummy_connection())


# --- preflight -------------------------------------------------------------------------------------------


def _preflight(payload, contract="v8"):
    config = configure("byggr", ByggrTarget.config_spec, {"contract": contract})
    return ByggrTarget.preflight(config, {}, payload)


@pytest.mark.parametrize("contract", ["v8", "v4"])
def test_preflight_passes_a_good_payload(canonical_case, contract):
    assert _preflight(example_payload_from_case(canonical_case), contract) == []


def test_preflight_finds_what_byggr_would_refuse_without_values(canonical_case):
    payload = example_payload_from_case(canonical_case)
    del payload["objektLista"]
    del payload["ankomstDatum"]
    payload["arendetyp"] = ""
    payload["handelseLista"] = {}
    for intressent in payload["intressentLista"]["intressent"]:
        intressent["rollLista"] = {"roll": ["KPER"]}

    problems = _preflight(payload)

    assert problems == [
        "objektLista.abstractArendeObjekt: no fastighet with fnr, or with trakt and fbetNr; "
        "check-before-create needs one to search by",
        "intressentLista.intressent: no intressent with roll SOK (applicant)",
        "arendetyp: required by ByggR",
        "ankomstDatum: required by ByggR",
        "handelseLista: not sent in the payload; the adapter adds the documents' handelse",
    ]
    assert not any(value in " ".join(problems) for value in ("Ström", "19800512", "KUMLA"))


def test_preflight_accepts_fnr_alone_and_refuses_a_bad_one(canonical_case):
    payload = example_payload_from_case(canonical_case)
    payload["objektLista"]["abstractArendeObjekt"][0]["fastighet"] = {"fnr": 22044332}
    assert _preflight(payload) == []
    payload["objektLista"]["abstractArendeObjekt"][0]["fastighet"] = {"fnr": "KUMLA 1:2"}
    assert _preflight(payload) == [
        "byggr payload: objektLista.abstractArendeObjekt[0].fastighet.fnr is not an integer"
    ]


def test_preflight_names_fields_the_configured_contract_cannot_carry(canonical_case):
    payload = example_payload_from_case(canonical_case)
    payload["externRef"] = "x"
    payload["komplexitet"] = 1

    assert _preflight(payload, "v4") == [
        "externRef: byggr contract v4 has no place for it (config 'contract')",
        "komplexitet: byggr contract v4 has no place for it (config 'contract')",
    ]
    assert _preflight(payload, "v8") == []


def test_preflight_of_something_that_is_no_payload():
    assert _preflight(None) == ["byggr payload must be an object shaped like the WSDL's arende type"]


def _dummy_connection():
    return Connection.from_uri("byggr-dummy", "http://127.0.0.1:9/svc?allow_http=true")
