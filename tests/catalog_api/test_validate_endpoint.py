"""POST /validate: canonical JSON and e-service XML validated as `brygga validate` does it, each problem with its
path, rule, message and hint in the language asked for; and every refusal (413 by Content-Length and while reading,
415, 400 for what cannot be read or told, 422 for bad query values) as a problem that never repeats the body."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from hostile import listening, person, with_prolog
from validation_api_client import LIMIT, Api, assert_problem

from brygga.catalog import invalid_examples, resolve_schema, schema_catalog, valid_examples
from brygga.catalog.api import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_BYTES, create_app
from brygga.catalog.examples import EXAMPLES_DIR
from brygga.catalog.validate import MAX_PROBLEMS
from brygga.resources import resource

SAMPLES = resource("samples", "open-eplatform")
BYGGLOV_PERSON = json.loads((EXAMPLES_DIR / "bygglov-person.json").read_text(encoding="utf-8"))
APPLICANT = BYGGLOV_PERSON["parties"][0]
BAD_NUMBER = "19850314-2386"  # bygglov-bad-personnummer.xml's: the check digit is wrong


def _body(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _valid(spec: str) -> dict:
    """The answer for a valid document."""
    return {"valid": True, "schema": spec, "problems": [], "total": 0, "truncated": False}


def _pairs(answer: dict) -> set[tuple[str, str]]:
    return {(problem["path"], problem["rule"]) for problem in answer["problems"]}


def test_a_valid_case_is_valid_under_the_detected_schema_and_the_one_named(api: Api):
    body = _body(BYGGLOV_PERSON)
    assert api.post(body).json() == _valid(resolve_schema("case").spec)
    for spec in ("bygglov", "bygglov@1", "case@1.1.0"):
        answer = api.post(body, schema=spec)
        assert answer.status == 200 and answer.json()["valid"] is True
        assert answer.json()["schema"] == resolve_schema(spec).spec


def test_every_valid_whole_example_is_valid(api: Api):
    for entry in schema_catalog():
        for example in valid_examples(entry):
            if example.part == "document":
                answer = api.post(_body(example.document), schema=entry.spec).json()
                assert answer["valid"] is True, (entry.spec, example.name, answer["problems"])


def test_every_invalid_example_gets_exactly_its_errors(api: Api):
    examples = invalid_examples()
    assert len(examples) >= 2
    for example in examples:
        answer = api.post(_body(example.document), schema=example.schema).json()
        assert answer["valid"] is False and _pairs(answer) == set(example.errors), example.name


def test_messages_and_hints_come_in_the_language_asked_for_and_never_quote_the_document(api: Api):
    case = {**BYGGLOV_PERSON, "parties": [{**APPLICANT, "personnummer": "198503142386"}]}
    answers = {lang: api.post(_body(case), schema="bygglov", lang=lang).json() for lang in ("en", "sv")}
    for answer in answers.values():
        assert answer["valid"] is False and ("/parties/0/personnummer", "format:personnummer") in _pairs(answer)
        text = json.dumps(answer, ensure_ascii=False)
        for value in ("198503142386", "19850314-2386", APPLICANT["givenName"], APPLICANT["familyName"],
                      APPLICANT["email"]):
            assert value not in text
    (en,), (sv,) = ([p for p in answers[lang]["problems"] if p["path"] == "/parties/0/personnummer"]
                    for lang in ("en", "sv"))
    assert en["message"] != sv["message"] and en["hint"] and sv["hint"] and en["hint"] != sv["hint"]
    assert "personnummer" in sv["hint"].lower()
    assert answers["en"] == api.post(_body(case), schema="bygglov").json(), "English is the default"


def test_a_status_event_is_detected_by_its_event_id_and_kind(api: Api):
    (event,) = [e for e in valid_examples(resolve_schema("status-event")) if e.name == "decision-made"]
    assert api.post(_body(event.document)).json() == _valid(resolve_schema("status-event").spec)


def test_a_case_of_another_type_is_refused_by_the_type_schema(api: Api):
    answer = api.post(_body(BYGGLOV_PERSON), schema="felanmalan").json()
    assert answer["valid"] is False and ("/caseType", "const") in _pairs(answer)


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml; charset=utf-8"])
def test_e_service_xml_is_translated_by_its_mapping_then_validated_as_the_case(api: Api, content_type: str):
    answer = api.post((SAMPLES / "bygglov-person.xml").read_bytes(), content_type)
    assert answer.json() == _valid(resolve_schema("case").spec)
    latin1 = api.post((SAMPLES / "attefall-latin1.xml").read_bytes(), "application/xml", schema="attefall")
    assert latin1.json()["valid"] is True and latin1.json()["schema"] == resolve_schema("attefall").spec


def test_xml_the_mapping_refuses_names_the_path_and_rule_never_the_value(api: Api):
    answer = api.post((SAMPLES / "bygglov-bad-personnummer.xml").read_bytes(), "application/xml", lang="sv")
    assert answer.status == 200
    result = answer.json()
    assert result["valid"] is False and _pairs(result) == {("/parties/0/personnummer", "mapping")}
    assert "SocialSecurityNumber" in result["problems"][0]["hint"]
    assert BAD_NUMBER not in answer.text and BAD_NUMBER.replace("-", "") not in answer.text


def test_malformed_json_is_400_naming_the_place_never_the_content(api: Api):
    body = b'{\n  "caseType": "bygglov",\n  "givenName": "Johan", "familyName": Berglund\n}'
    problem = assert_problem(api.post(body), 400, "not valid JSON", "line 3")
    assert "Berglund" not in json.dumps(problem) and "Johan" not in json.dumps(problem)


@pytest.mark.parametrize(("body", "phrase"), [
    (b'{"caseType": NaN}', "NaN is not a JSON number"),
    ("{\"caseType\": \"Björk\"}".encode("latin-1"), "not UTF-8"),
    (b"[" * 50_000, "nested too deeply"),
    (b"", "not valid JSON"),
])
def test_what_is_not_json_is_400(api: Api, body: bytes, phrase: str):
    assert_problem(api.post(body), 400, phrase)


def test_malformed_or_unclaimed_xml_is_400_and_never_repeats_it(api: Api):
    malformed = assert_problem(api.post((SAMPLES / "bygglov-malformed.xml").read_bytes(), "application/xml"), 400,
                               "not well-formed XML", "line")
    assert "Stationsgatan" not in malformed["detail"] and "Berglund" not in malformed["detail"]
    unclaimed = assert_problem(api.post(b"<Ansokan><Namn>Anna Andersson</Namn></Ansokan>", "application/xml"), 400,
                               "no mapping accepts")
    assert "Anna" not in unclaimed["detail"]
    assert_problem(api.post((SAMPLES / "bygglov-person.xml").read_bytes(), "application/xml",
                            schema="status-event"), 400, "a status event is validated as JSON")


def test_an_external_entity_in_the_xml_is_refused_and_never_fetched(api: Api):
    with listening() as server:
        hostile = with_prolog(f'<!DOCTYPE FlowInstance [<!ENTITY leak SYSTEM "{server.url}/x">]>'.encode(),
                              person().replace(b"<![CDATA[Nybyggnad av", b"&leak;<![CDATA[Nybyggnad av"))
        assert_problem(api.post(hostile, "application/xml"), 400, "DTD")
    assert server.connections == 0 and server.requests == []


def test_a_document_whose_schema_cannot_be_told_is_400_asking_for_schema(api: Api):
    problem = assert_problem(api.post(_body({"givenName": "Anna"})), 400, "cannot tell which schema", "?schema=NAME")
    assert "Anna" not in problem["detail"]
    assert_problem(api.post(b"[]"), 400, "cannot tell which schema")
    # Named, anything JSON is validated: an array is simply not a case.
    answer = api.post(b"[]", schema="case").json()
    assert answer["valid"] is False and _pairs(answer) == {("", "type")}


def test_a_body_over_the_limit_is_413_by_content_length_or_while_it_is_read(api: Api):
    big = _body({**BYGGLOV_PERSON, "formAnswers": [{"question": "q", "value": "x" * LIMIT}]})
    assert_problem(api.post(big), 413, f"{LIMIT:,} bytes", "Content-Length")

    def chunks():  # no Content-Length: the cap is counted as the body arrives
        yield big[:1000]
        yield big[1000:]

    problem = assert_problem(api.post(chunks()), 413, f"{LIMIT:,} bytes", "max_json_bytes")
    assert "Content-Length" not in problem["detail"]
    exactly = _body({**BYGGLOV_PERSON, "formAnswers": [{"question": "q", "value": ""}]})
    padded = exactly[:-1] + b" " * (LIMIT - len(exactly)) + b"}"
    assert len(padded) == LIMIT and api.post(padded).status == 200, "the limit itself is allowed"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/json; "
                                          "charset=iso-8859-1", "application/problem+json", "multipart/form-data",
                                          None])
def test_other_media_types_are_415(api: Api, content_type: str | None):
    assert_problem(api.post(_body(BYGGLOV_PERSON), content_type), 415, "application/json (UTF-8)",
                   "application/xml or text/xml")


def test_bad_query_values_are_422_naming_the_parameter(api: Api):
    body = _body(BYGGLOV_PERSON)
    assert_problem(api.post(body, lang="de"), 422, "query.lang", "'en' or 'sv'")
    problem = assert_problem(api.post(body, schema="Anna Andersson"), 422, "query.schema", "should match pattern")
    assert "Anna" not in problem["detail"].split("pattern")[0]
    names = ", ".join(dict.fromkeys(entry.name for entry in schema_catalog()))
    assert_problem(api.post(body, schema="eldstad"), 422, "no schema named 'eldstad'", f"known: {names}")
    assert_problem(api.post(body, schema="case@9"), 422, "has no version 9", "available: 1.0.0, 1.1.0")


def test_the_default_limit_is_the_webhooks_and_a_limit_below_one_is_refused():
    assert DEFAULT_MAX_BODY_BYTES == 10 * 1024 * 1024
    with pytest.raises(ValueError, match="at least 1"):
        create_app(max_body_bytes=0)
    with pytest.raises(ValueError, match="at least 1"):
        create_app(max_json_bytes=0)


def test_json_has_a_lower_default_limit_than_xml():
    """Every problem of a JSON document is counted: a 300 KB array of wrong items would cost seconds of CPU. A case
    is a few KB, so JSON gets 256 KiB; an e-service's XML carries its attachments and keeps the 10 MiB."""
    client = TestClient(create_app())
    array = b"[" + b",".join([b"1"] * 150_000) + b"]"
    assert len(array) > DEFAULT_MAX_JSON_BYTES
    answer = client.post("/validate?schema=case", content=array, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and f"{DEFAULT_MAX_JSON_BYTES:,} bytes" in answer.json()["detail"]
    xml = (SAMPLES / "bygglov-person.xml").read_bytes()
    padded = xml.replace(b"</", b"<!--" + b" " * (DEFAULT_MAX_JSON_BYTES + 1) + b"--></", 1)
    answer = client.post("/validate", content=padded, headers={"Content-Type": "application/xml"})
    assert answer.status_code == 200 and answer.json()["valid"] is True


def test_a_content_length_that_is_not_a_number_is_400_and_a_huge_one_413():
    # In-process only: a real server refuses such a header itself, before the app sees the request.
    client = TestClient(create_app(max_body_bytes=LIMIT, max_json_bytes=LIMIT))
    headers = {"Content-Type": "application/json"}
    answer = client.post("/validate", content=b"{}", headers={**headers, "Content-Length": "two"})
    assert answer.status_code == 400 and "Content-Length header is not a number" in answer.json()["detail"]
    answer = client.post("/validate", content=b"{}", headers={**headers, "Content-Length": "9" * 5000})
    assert answer.status_code == 413 and f"{LIMIT:,} bytes" in answer.json()["detail"]


def test_a_body_with_a_great_many_problems_gets_the_first_ones_and_the_total(api: Api):
    crowded = _body({**BYGGLOV_PERSON, "parties": [1] * 3000})
    answer = api.post(crowded, lang="sv")
    assert answer.status == 200
    result = answer.json()
    assert (result["valid"], result["total"], result["truncated"]) == (False, 3001, True)
    assert len(result["problems"]) == MAX_PROBLEMS
    assert result["problems"][1] == {"path": "/parties/0", "rule": "type",
                                     "message": "Värdet har fel typ; det ska vara objekt.", "hint": "Part"}
    documented = create_app().openapi()["components"]["schemas"]["ValidationResult"]["properties"]
    assert f"The first {MAX_PROBLEMS} problems" in documented["problems"]["description"]
    assert set(documented) == {"valid", "schema", "problems", "total", "truncated"}


@pytest.mark.parametrize(("body", "phrase"), [
    (b'{"caseType": "nope", "caseType": "bygglov"}', "the same key twice"),
    (b'{"caseType": "bygglov", "size": 1e999}', "finite number"),
    (b'{"caseType": "bygglov", "title": "\\ud800"}', "surrogate pair"),
])
def test_json_is_read_as_strictly_as_the_webhook_reads_it(api: Api, body: bytes, phrase: str):
    assert_problem(api.post(body, schema="case"), 400, "not valid JSON", phrase)


def test_a_broken_routes_file_is_a_500_that_names_nothing_of_the_server(api: Api, tmp_path, monkeypatch, caplog):
    routes = tmp_path / "routes.yaml"
    routes.write_text("routes: [\n  {id: secret-route-name\n", encoding="utf-8")
    monkeypatch.setenv("BRYGGA_ROUTES", str(routes))
    with caplog.at_level(logging.ERROR, logger="brygga.catalog.api"):
        problem = assert_problem(api.post((SAMPLES / "bygglov-person.xml").read_bytes(), "application/xml"), 500,
                                 "the server's schema configuration cannot be read; its log says why")
    assert str(tmp_path) not in problem["detail"] and "secret-route-name" not in json.dumps(problem)
    logged = [record.getMessage() for record in caplog.records if record.name == "brygga.catalog.api"]
    assert any(str(routes) in line for line in logged), logged
