"""The bygglov mapping for Sundsvall's casemanagement API, checked against that API's real OpenAPI
(../shared/reference/sundsvall-openapi/casemanagement/openapi.yaml, api-service-casemanagement, spec 8.4).

The canonical samples go through mappings/sundsvall-casemanagement/bygglov.yaml and the real rest adapter to a
capture server started here, which answers as the real service does: POST /{municipalityId}/cases -> 200
``{"caseId": "Inskickat"}`` (CaseResource returns that constant; the case is created asynchronously), a taken
externalCaseId -> 400 problem, GET /{municipalityId}/cases/case-mappings?external-case-id= -> 200 [CaseMapping]
or 404 problem; behind an OAuth2 client-credentials gateway (WSO2 ``/token``). Every captured API request and
every answer is validated against the real spec with openapi-core.

The spec as published accepts no request at all (``test_the_published_spec_accepts_no_request``), for two
generator artefacts; ``corrected_spec`` undoes exactly those two, in memory, and nothing else:

1. ``stakeholders`` carries ``oneOf: [PersonDTO, OrganizationDTO]`` on the array itself (springdoc's rendering of
   ``@Schema(oneOf=...)`` on a List field): object schemas applied to an array can never match. The items keep
   their own ``oneOf``.
2. ``CaseDTO`` is ``oneOf`` its four variants without a discriminator; the variants do not exclude each other (no
   ``additionalProperties: false``), so a ByggR case with facilities matches ByggRCaseDTO and OtherCaseDTO at once.
   The server picks the variant by ``caseType`` in its case_type table (CaseDTODeserializer); here the variant is
   named the same way: ByggRCaseDTO for the BYGGR case types the mapping produces.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from brygga.connections import Connection
from brygga.errors import TargetInDoubt
from brygga.mapping import compile_mapping
from brygga.plugins import DeliveryRequest, StoredDocument
from brygga.storage import ContentStore
from brygga_simulators.serving import RunningSimulator, serve

pytestmark = pytest.mark.interop

REPO = Path(__file__).resolve().parents[2]
SPEC = "sundsvall-openapi/casemanagement/openapi.yaml"
MAPPINGS = REPO / "mappings" / "sundsvall-casemanagement"
OUTBOUND = MAPPINGS / "bygglov.yaml"
INBOUND = REPO / "mappings" / "open-eplatform" / "bygglov.yaml"
OEP_SAMPLES = [REPO / "samples" / "open-eplatform" / f"bygglov-{name}.xml" for name in ("person", "organisation")]
CANONICAL_CASES = [
    REPO / "schemas" / "canonical" / "examples" / "bygglov-person.json",
    REPO / "schemas" / "canonical" / "examples" / "bygglov-organisation.json",
    *sorted((MAPPINGS / "testdata").glob("bygglov-[!b]*.json")),
]
FELANMALAN_CASES = [REPO / "schemas" / "canonical" / "examples" / "felanmalan.json",
                    *sorted((MAPPINGS / "testdata").glob("felanmalan-*.json"))]
FELANMALAN_SAMPLE = REPO / "samples" / "open-eplatform" / "felanmalan-gatlykta.xml"
SPEC_SERVER = "http://localhost:60088"  # the spec's servers[0]; the gateway's prefix is taken off before matching
GATEWAY_PREFIX = "/casemanagement/8.4"
MUNICIPALITY = "2281"  # Sundsvall
CLIENT_ID, CLIENT_SECRET = "brygga", "s3cret"
# openapi-core reads only application/json as JSON; the API's errors are RFC 7807 application/problem+json.
READ_PROBLEMS = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
VARIANTS = ("CaseDTO", "ByggRCaseDTO", "EcosCaseDTO", "OtherCaseDTO", "FutureCaseDTO")

# The route config README.md documents, as the rest adapter reads it.
ROUTE_CONFIG: dict[str, Any] = {
    # A taken externalCaseId is a 400 problem (CaseMappingService.validateUniqueCase), not a 409.
    "create": {"path": "/{municipalityId}/cases", "method": "POST", "conflict": [400, 409]},
    "path_values": {"municipalityId": MUNICIPALITY},
    "extern_ref_field": "/externalCaseId",
    # The documented answer's caseId is always "Inskickat" (see README.md): later calls go by externalCaseId.
    "reference": {"extern_ref": True},
    "search": {
        "path": "/{municipalityId}/cases/case-mappings",
        "query": {"external-case-id": "{extern_ref}"},
        "items": "",
        "reference": "/externalCaseId",
    },
    "attachments": {"mode": "embedded", "items": "/attachments", "content_field": "file"},
}


# --- the real spec ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(shared_reference: Path) -> dict[str, Any]:
    return yaml.safe_load((shared_reference / SPEC).read_text(encoding="utf-8"))


def corrected_spec(published: dict[str, Any], variant: str) -> OpenAPI:
    """The published spec with the two generator artefacts undone (module docstring), ``variant`` chosen."""
    spec = copy.deepcopy(published)
    schemas = spec["components"]["schemas"]
    for name in VARIANTS:
        stakeholders = schemas[name]["properties"]["stakeholders"]
        assert stakeholders["type"] == "array" and "oneOf" in stakeholders["items"], f"{name}: spec changed"
        stakeholders.pop("oneOf")
    assert len(schemas["CaseDTO"]["oneOf"]) == 4 and "discriminator" not in schemas["CaseDTO"], "spec changed"
    schemas["CaseDTO"]["oneOf"] = [{"$ref": f"#/components/schemas/{variant}"}]
    return OpenAPI.from_dict(spec, config=READ_PROBLEMS)


@pytest.fixture(scope="module")
def byggr_spec(published: dict[str, Any]) -> OpenAPI:
    return corrected_spec(published, "ByggRCaseDTO")


def _schema_errors(error: BaseException) -> Iterator[str]:
    """Each leaf jsonschema error under an openapi-core error, as 'path: message'."""
    cause: BaseException | None = error
    while cause is not None:
        for schema_error in getattr(cause, "schema_errors", None) or []:
            yield from _leaves(schema_error)
        cause = cause.__cause__


def _leaves(schema_error: Any) -> Iterator[str]:
    if schema_error.context:
        for sub in schema_error.context:
            yield from _leaves(sub)
    else:
        where = "/" + "/".join(str(p) for p in schema_error.absolute_path)
        yield f"{where}: {schema_error.message}"


def request_problems(spec: OpenAPI, request: MockRequest) -> list[str]:
    """Everything the spec refuses in a request: operation, path and query parameters, content type, body."""
    problems: list[str] = []
    for error in spec.iter_request_errors(request):
        leaves = list(_schema_errors(error))
        problems.extend(leaves or [f"{type(error).__name__}: {error}"])
    return problems


def body_request(body: dict[str, Any]) -> MockRequest:
    return MockRequest(SPEC_SERVER, "post", f"/{MUNICIPALITY}/cases", data=json.dumps(body).encode(),
                       content_type="application/json")


# --- canonical cases and the mapping ------------------------------------------------------------------------------


@dataclass
class Prepared:
    case: dict[str, Any]
    payload: dict[str, Any]
    documents: list[StoredDocument]


@pytest.fixture(scope="module")
def outbound() -> Any:
    return compile_mapping(OUTBOUND)


def _from_oep_sample(sample: Path, store: ContentStore, outbound: Any, inbound: Path = INBOUND) -> Prepared:
    case = compile_mapping(inbound).run(sample, blob_sink=store)
    documents = [StoredDocument(name=a["name"], media_type=a["mediaType"], size=a["size"], sha256=a["sha256"],
                                path=store.path_for(a["sha256"])) for a in case.get("attachments", [])]
    return Prepared(case, outbound.run(case), documents)


def _with_adapter_fields(payload: dict[str, Any], extern_ref: str, contents: dict[str, bytes]) -> dict[str, Any]:
    """What the adapter adds to the mapping's output: the extern ref and each document's base64."""
    body = copy.deepcopy(payload)
    body["externalCaseId"] = extern_ref
    for item in body.get("attachments", []):
        item["file"] = base64.b64encode(contents.get(item["file"], b"%PDF-1.4 stand-in")).decode()
    return body


def _extern_ref(case: dict[str, Any]) -> str:
    return f"{case['tenant']['kommunkod']}:{case['source']['system']}:{case['source']['reference']}"


# --- the spec itself ----------------------------------------------------------------------------------------------


def test_the_published_spec_accepts_no_request(published: dict[str, Any], outbound: Any) -> None:
    """Why ``corrected_spec`` exists: as published, a body valid under any reading is refused at /stakeholders.
    When Sundsvall fixes its spec this fails, and the corrections can go."""
    case = json.loads(CANONICAL_CASES[0].read_text(encoding="utf-8"))
    body = _with_adapter_fields(outbound.run(case), _extern_ref(case), {})

    problems = request_problems(OpenAPI.from_dict(published), body_request(body))

    # The array itself is held to PersonDTO and OrganizationDTO, which are objects.
    assert any(p.startswith("/stakeholders: ") and p.endswith("is not of type 'object'") for p in problems), problems


def test_the_correction_names_one_variant_as_the_server_does(published: dict[str, Any], outbound: Any) -> None:
    """Without a variant a ByggR body with facilities matches several (the spec's oneOf cannot hold); with
    ByggRCaseDTO it is valid, and an Ecos-only rule (one facility at most) does not apply to it."""
    case = json.loads((MAPPINGS / "testdata" / "bygglov-fasadandring.json").read_text(encoding="utf-8"))
    body = _with_adapter_fields(outbound.run(case), _extern_ref(case), {})
    assert len(body["facilities"]) == 2

    assert request_problems(corrected_spec(published, "ByggRCaseDTO"), body_request(body)) == []
    ecos = request_problems(corrected_spec(published, "EcosCaseDTO"), body_request(body))
    assert any(p.startswith("/facilities: ") for p in ecos), ecos


# --- the mapping's output against the real schema -----------------------------------------------------------------


@pytest.mark.parametrize("path", CANONICAL_CASES, ids=lambda p: p.stem)
def test_the_mapping_output_of_a_canonical_case_is_a_valid_byggr_case(byggr_spec: OpenAPI, outbound: Any,
                                                                    path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    body = _with_adapter_fields(outbound.run(case), _extern_ref(case), {})

    assert request_problems(byggr_spec, body_request(body)) == []
    assert body["facilities"] and sum(f["mainFacility"] for f in body["facilities"]) == 1  # the server's rules


@pytest.mark.parametrize("sample", OEP_SAMPLES, ids=lambda p: p.stem)
def test_an_open_eplatform_sample_maps_to_a_valid_byggr_case(byggr_spec: OpenAPI, outbound: Any, sample: Path,
                                                            tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "content")
    prepared = _from_oep_sample(sample, store, outbound)
    contents = {d.sha256: d.path.read_bytes() for d in prepared.documents}
    body = _with_adapter_fields(prepared.payload, _extern_ref(prepared.case), contents)

    assert request_problems(byggr_spec, body_request(body)) == []
    assert len(body["attachments"]) == len(prepared.case["attachments"]) >= 1


@pytest.mark.parametrize(
    ("broken", "where"),
    [
        (lambda b: b.pop("externalCaseId"), "/: 'externalCaseId' is a required property"),
        (lambda b: b.pop("caseType"), "/: 'caseType' is a required property"),
        (lambda b: b["stakeholders"][0].pop("firstName"), "/stakeholders/0: 'firstName' is a required property"),
        (lambda b: b["attachments"][0].pop("mimeType"), "/attachments/0: 'mimeType' is a required property"),
        (lambda b: b["attachments"][0].update(file="not base64!"), "/attachments/0/file: "),
        (lambda b: b["stakeholders"][0].update(type="ROBOT"), "/stakeholders/0/type: 'ROBOT' is not one of"),
        (lambda b: b["extraParameters"].update(buildingArea=142), "/extraParameters/buildingArea: 142 is not of"),
        (lambda b: b["facilities"][0]["address"].pop("addressCategories"),
         "/facilities/0/address: 'addressCategories' is a required property"),
    ],
    ids=["no-externalCaseId", "no-caseType", "person-without-firstName", "attachment-without-mimeType",
         "file-not-base64", "unknown-stakeholder-type", "extra-parameter-not-text", "address-without-category"],
)
def test_a_broken_body_is_reported_invalid(byggr_spec: OpenAPI, outbound: Any, broken: Any, where: str) -> None:
    """The same validation fails, and says where, when the body breaks one of the spec's rules."""
    case = json.loads(CANONICAL_CASES[0].read_text(encoding="utf-8"))
    body = _with_adapter_fields(outbound.run(case), _extern_ref(case), {})
    assert request_problems(byggr_spec, body_request(body)) == []

    broken(body)

    problems = request_problems(byggr_spec, body_request(body))
    assert any(p.startswith(where) for p in problems), problems


# --- felanmalan: the "other" case (CaseData) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_spec(published: dict[str, Any]) -> OpenAPI:
    return corrected_spec(published, "OtherCaseDTO")


@pytest.fixture(scope="module")
def felanmalan() -> Any:
    return compile_mapping(MAPPINGS / "felanmalan.yaml")


@pytest.mark.parametrize("path", FELANMALAN_CASES, ids=lambda p: p.stem)
def test_a_felanmalan_maps_to_a_valid_other_case(other_spec: OpenAPI, felanmalan: Any, path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    body = _with_adapter_fields(felanmalan.run(case), _extern_ref(case), {})

    assert request_problems(other_spec, body_request(body)) == []


def test_the_open_eplatform_felanmalan_sample_maps_to_a_valid_other_case(other_spec: OpenAPI, felanmalan: Any,
                                                                         tmp_path: Path) -> None:
    inbound = REPO / "mappings" / "open-eplatform" / "felanmalan.yaml"
    prepared = _from_oep_sample(FELANMALAN_SAMPLE, ContentStore(tmp_path / "content"), felanmalan, inbound)
    contents = {d.sha256: d.path.read_bytes() for d in prepared.documents}
    body = _with_adapter_fields(prepared.payload, _extern_ref(prepared.case), contents)

    assert request_problems(other_spec, body_request(body)) == []
    assert [a["category"] for a in body["attachments"]] == ["PHOTO"]


def test_an_other_case_without_facilities_is_reported_invalid(other_spec: OpenAPI, felanmalan: Any) -> None:
    """OtherCaseDTO requires facilities, which is why the mapping always makes the one facility."""
    case = json.loads(FELANMALAN_CASES[0].read_text(encoding="utf-8"))
    body = _with_adapter_fields(felanmalan.run(case), _extern_ref(case), {})
    body.pop("facilities")

    assert "/: 'facilities' is a required property" in request_problems(other_spec, body_request(body))


# --- through the real rest adapter to a capture server ------------------------------------------------------------


@dataclass
class Captured:
    method: str
    path: str  # without the gateway prefix, as the spec names it
    query: MultiDict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0
    answer: bytes = b""
    answer_type: str = ""


@dataclass
class CaseManagementCapture:
    """Sundsvall's casemanagement behind its gateway, answering as CaseResource and CaseMappingResource do."""

    token: str = "gateway-token-1"
    api_calls: list[Captured] = field(default_factory=list)
    token_calls: list[dict[str, str]] = field(default_factory=list)
    mappings: dict[str, dict[str, Any]] = field(default_factory=dict)  # externalCaseId -> CaseMapping
    # With ``asynchronous``, a POSTed case waits here (the service's queue) until ``settle()``: case-mappings
    # answers 404 for it meanwhile, while a second POST with its externalCaseId is already a 400.
    asynchronous: bool = False
    queued: dict[str, dict[str, Any]] = field(default_factory=dict)
    # How many accepted creates the gateway answers 502 (the backend took the case, the answer was lost).
    lose_answers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/token":
            return self._token(request)(environ, start_response)
        body = request.get_data()
        captured = Captured(request.method, request.path.removeprefix(GATEWAY_PREFIX), request.args.copy(),
                            dict(request.headers), body)
        response = self._api(request, captured.path, body)
        captured.status, captured.answer = response.status_code, response.get_data()
        captured.answer_type = response.mimetype
        with self.lock:
            self.api_calls.append(captured)
        return response(environ, start_response)

    def _token(self, request: Request) -> Response:
        with self.lock:
            self.token_calls.append({"grant_type": request.form.get("grant_type", ""),
                                     "client": (request.authorization or {}).get("username") or
                                     request.form.get("client_id", "")})
        auth = request.authorization
        client = (auth.username, auth.password) if auth else (request.form.get("client_id"),
                                                              request.form.get("client_secret"))
        if client != (CLIENT_ID, CLIENT_SECRET):
            return Response(json.dumps({"error": "invalid_client"}), 401, mimetype="application/json")
        if request.form.get("grant_type") != "client_credentials":
            return Response(json.dumps({"error": "unsupported_grant_type"}), 400, mimetype="application/json")
        return Response(json.dumps({"access_token": self.token, "token_type": "Bearer", "expires_in": 3600}),
                        200, mimetype="application/json")

    def _api(self, request: Request, path: str, body: bytes) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if request.method == "POST" and path == f"/{MUNICIPALITY}/cases":
            case = json.loads(body)
            with self.lock:
                taken = case["externalCaseId"] in self.mappings or case["externalCaseId"] in self.queued
                if taken:  # CaseMappingService.validateUniqueCase
                    return _problem(400, "A resources already exists with the same externalCaseId")
                mapping = {
                    "externalCaseId": case["externalCaseId"],
                    "caseId": f"BYGG 2026-{len(self.mappings) + len(self.queued) + 1:06d}",
                    "municipalityId": MUNICIPALITY, "system": "BYGGR", "caseType": case["caseType"],
                    "timestamp": "2026-05-04T10:00:01+02:00",
                }
                (self.queued if self.asynchronous else self.mappings)[case["externalCaseId"]] = mapping
                if self.lose_answers:
                    self.lose_answers -= 1
                    return _problem(502, "Upstream did not answer in time")
            return Response(json.dumps({"caseId": "Inskickat"}), 200, mimetype="application/json")
        if request.method == "GET" and path == f"/{MUNICIPALITY}/cases/case-mappings":
            found = self.mappings.get(request.args.get("external-case-id", ""))
            if found is None:  # CaseMappingService.getCaseMapping: none is a 404, not an empty list
                return _problem(404, "Case not found")
            return Response(json.dumps([found]), 200, mimetype="application/json")
        return _problem(404, "No such resource")

    def settle(self) -> None:
        """The service's queue runs: ByggR creates the queued cases and their case mappings are written."""
        with self.lock:
            self.mappings.update(self.queued)
            self.queued.clear()


def _problem(status: int, detail: str) -> Response:
    title = {400: "Bad Request", 404: "Not Found", 502: "Bad Gateway"}[status]
    return Response(json.dumps({"title": title, "status": status, "detail": detail}), status,
                    mimetype="application/problem+json")


@pytest.fixture
def capture() -> Iterator[RunningSimulator]:
    running = serve(CaseManagementCapture(), name="sundsvall-casemanagement")
    try:
        yield running
    finally:
        running.stop()


def _target(running: RunningSimulator) -> Any:
    from brygga_adapters.rest import RestTarget

    uri = (f"http://{CLIENT_ID}:{CLIENT_SECRET}@127.0.0.1:{running.server.port}{GATEWAY_PREFIX}"
           "?auth=oauth2&token_url=/token&allow_http=true")
    return RestTarget(copy.deepcopy(ROUTE_CONFIG), Connection.from_uri("sundsvall_casemanagement", uri))


def _as_spec_request(call: Captured) -> MockRequest:
    return MockRequest(SPEC_SERVER, call.method.lower(), call.path, args=call.query, headers=call.headers,
                       data=call.body or None, content_type=call.headers.get("Content-Type", "application/json"))


def _checked(spec: OpenAPI, calls: list[Captured]) -> None:
    """Every captured request, and the answer given to it, against the spec."""
    for call in calls:
        assert request_problems(spec, _as_spec_request(call)) == [], f"{call.method} {call.path}"
        assert call.headers.get("Authorization", "").startswith("Bearer ")
        answer = MockResponse(call.answer, call.status, content_type=call.answer_type)
        response_errors = list(spec.iter_response_errors(_as_spec_request(call), answer))
        assert response_errors == [], f"the capture server's answer to {call.method} {call.path}"


@pytest.mark.parametrize("sample", OEP_SAMPLES, ids=lambda p: p.stem)
def test_the_rest_adapter_creates_the_case_with_a_valid_request(byggr_spec: OpenAPI, outbound: Any, sample: Path,
                                                                capture: RunningSimulator, tmp_path: Path) -> None:
    prepared = _from_oep_sample(sample, ContentStore(tmp_path / "content"), outbound)
    extern_ref = _extern_ref(prepared.case)
    request = DeliveryRequest(submission_id=f"sub-{extern_ref}", idempotency_key=hashlib.sha256(
        extern_ref.encode()).hexdigest(), extern_ref=extern_ref, payload=prepared.payload, case=prepared.case,
        documents=prepared.documents)

    receipt = _target(capture).deliver(request)

    app: CaseManagementCapture = capture.app
    _checked(byggr_spec, app.api_calls)
    assert app.token_calls and all(t == {"grant_type": "client_credentials", "client": CLIENT_ID}
                                   for t in app.token_calls)
    creates = [c for c in app.api_calls if c.method == "POST"]
    assert len(creates) == 1 and creates[0].status == 200
    sent = json.loads(creates[0].body)
    assert sent["externalCaseId"] == extern_ref
    assert {k: v for k, v in sent.items() if k not in ("externalCaseId", "attachments")} == \
        {k: v for k, v in prepared.payload.items() if k != "attachments"}
    for item, document in zip(sent["attachments"], prepared.documents, strict=True):
        assert base64.b64decode(item["file"], validate=True) == document.path.read_bytes()
    # The answer's caseId is a constant (README.md): the case is known by the externalCaseId Brygga sent.
    assert (receipt.external_ref, receipt.created) == (extern_ref, True)
    assert list(app.mappings) == [extern_ref]


def test_a_second_delivery_finds_the_case_by_its_external_case_id(byggr_spec: OpenAPI, outbound: Any,
                                                                  capture: RunningSimulator, tmp_path: Path) -> None:
    prepared = _from_oep_sample(OEP_SAMPLES[0], ContentStore(tmp_path / "content"), outbound)
    extern_ref = _extern_ref(prepared.case)
    request = DeliveryRequest(submission_id="sub-1", idempotency_key="key-1", extern_ref=extern_ref,
                              payload=prepared.payload, case=prepared.case, documents=prepared.documents)
    target = _target(capture)

    target.deliver(request)
    again = target.deliver(request)

    app: CaseManagementCapture = capture.app
    _checked(byggr_spec, app.api_calls)
    assert (again.external_ref, again.created) == (extern_ref, False)
    assert [c.method for c in app.api_calls].count("POST") == 1
    searches = [c for c in app.api_calls if c.method == "GET"]
    assert [s.query.get("external-case-id") for s in searches] == [extern_ref, extern_ref]
    assert [s.status for s in searches] == [404, 200]


def test_a_retry_after_a_lost_create_answer_waits_for_the_queued_case(byggr_spec: OpenAPI, outbound: Any,
                                                                      capture: RunningSimulator,
                                                                      tmp_path: Path) -> None:
    """The gateway loses the answer to a create the service took; the retry's POST is a 400 (externalCaseId
    taken) while case-mappings still answers 404 (the case is queued): in doubt, not quarantined, until the case
    shows and is taken."""
    prepared = _from_oep_sample(OEP_SAMPLES[0], ContentStore(tmp_path / "content"), outbound)
    extern_ref = _extern_ref(prepared.case)
    request = DeliveryRequest(submission_id="sub-1", idempotency_key="key-1", extern_ref=extern_ref,
                              payload=prepared.payload, case=prepared.case, documents=prepared.documents)
    app: CaseManagementCapture = capture.app
    app.asynchronous, app.lose_answers = True, 1
    target = _target(capture)

    with pytest.raises(TargetInDoubt, match=r"create: HTTP 502 from a gateway"):
        target.deliver(request)
    with pytest.raises(TargetInDoubt, match=r"create: HTTP 400 \(config create/conflict\) and no case carries"):
        target.deliver(request)  # the pipeline's retry after the in-doubt delay; ByggR has not got to it yet
    app.settle()
    receipt = target.deliver(request)

    # The spec's 400 answer is oneOf [Problem, ConstraintViolationProblem], which any problem matches both of (no
    # required fields): no 400 answer can satisfy it. Its request is checked; the answer is left out.
    conflict = [c for c in app.api_calls if c.status == 400]
    assert len(conflict) == 1 and request_problems(byggr_spec, _as_spec_request(conflict[0])) == []
    _checked(byggr_spec, [c for c in app.api_calls if c.status != 400])
    assert (receipt.external_ref, receipt.created) == (extern_ref, False)
    assert [(c.method, c.status) for c in app.api_calls] == [
        ("GET", 404), ("POST", 502), ("GET", 404), ("POST", 400), ("GET", 404), ("GET", 200)]
    assert list(app.mappings) == [extern_ref]
