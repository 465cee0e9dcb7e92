"""brygga.catalog.validate: which schema a document is checked against, the problems with their hints, and files and
request bodies (canonical JSON, or an e-service's XML through the mapping that accepts it)."""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from brygga.canonical import CaseTypeRegistry, validate_case
from brygga.catalog import UnknownSchema, resolve_schema
from brygga.catalog.examples import EXAMPLES_DIR
from brygga.catalog.inputs import UnknownRoute, check_route
from brygga.catalog.validate import detect_schema, validate_bytes, validate_document, validate_file
from brygga.errors import ConfigError
from brygga.resources import resource

SAMPLES = resource("samples", "open-eplatform")


def _bad_numbers() -> tuple[str, str]:
    """The applicant's number in bygglov-bad-personnummer.xml (its check digit wrong), as the file writes it and as
    the twelve digits the mapping makes of it: read from the file, so that the test follows it."""
    tree = etree.parse(SAMPLES / "bygglov-bad-personnummer.xml")
    [written] = tree.xpath("//*[local-name()='sokande']/*[local-name()='SocialSecurityNumber']/text()")
    return written, written.replace("-", "")


def _example(name: str) -> Any:
    return json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def _found(problems: list[Any]) -> list[tuple[str, str]]:
    return [(problem.path, problem.rule) for problem in problems]


def test_a_case_and_a_status_event_are_told_apart_and_anything_else_is_refused_listing_the_schemas() -> None:
    assert detect_schema(_example("bygglov-person")).spec == "case@1.1.0"
    assert detect_schema(_example("status/decision-made")).spec == "status-event@1.0.0"
    for document in ({"title": "Ansökan"}, [], "text"):
        with pytest.raises(UnknownSchema) as caught:
            detect_schema(document)
        assert "--schema NAME" in str(caught.value) and "known: case, attefall, bygglov" in str(caught.value)


def test_the_hint_names_the_field_in_the_chosen_language_with_an_example_from_the_schema() -> None:
    case = _example("bygglov-person")
    case["details"]["bygglov"]["measure"] = "pool"
    [english] = validate_document(case, resolve_schema("bygglov"))
    [swedish] = validate_document(case, resolve_schema("bygglov"), lang="sv")
    assert (english.path, english.rule) == ("/details/bygglov/measure", "enum")
    assert english.hint == 'Measure: e.g. "nybyggnad"'
    assert swedish.hint == 'Åtgärd: t.ex. "nybyggnad"'
    assert swedish.message.startswith('Värdet är inte ett av de tillåtna: "nybyggnad", "tillbyggnad"')


def test_a_field_in_a_case_types_own_definitions_is_found_through_its_embedded_schema() -> None:
    case = _example("felanmalan")
    case["details"]["felanmalan"]["location"]["northing"] = 12  # felanmalan's location is its own #/$defs/location
    [problem] = validate_document(case, resolve_schema("felanmalan"), lang="sv")
    assert (problem.path, problem.rule) == ("/details/felanmalan/location/northing", "minimum")
    assert problem.message == "Talet måste vara minst 6100000."
    assert problem.hint == "Nordkoordinat (N): t.ex. 6551234.5"


def test_a_property_named_like_personal_data_is_withheld_and_the_hint_lists_the_allowed_ones() -> None:
    case = _example("felanmalan")
    case["parties"][0]["198503142385"] = "Testa Exempelsson"
    [problem] = validate_document(case, resolve_schema("case"))
    assert (problem.path, problem.rule) == ("/parties/0", "additionalProperties")
    assert "withheld" in problem.message
    assert problem.hint is not None and problem.hint.startswith("Party: allowed properties: kind, roles,")
    assert "198503142385" not in problem.message + problem.hint and "Testa" not in problem.message + problem.hint


def test_a_case_of_another_type_is_refused_by_the_case_types_schema_only() -> None:
    felanmalan = _example("felanmalan")
    assert validate_document(felanmalan, resolve_schema("case")) == []
    assert _found(validate_document(felanmalan, resolve_schema("bygglov"))) == [("/caseType", "const")]


def test_the_released_case_schema_refuses_what_came_after_it() -> None:
    case = _example("fardtjanst-1.1")  # written for 1.1: formAnswers, source.familyId and flowVersion
    assert validate_document(case, resolve_schema("case")) == []
    found = _found(validate_document(case, resolve_schema("case@1.0.0")))
    assert ("/formAnswers", "additionalProperties") in found
    assert ("/source/familyId", "additionalProperties") in found
    assert ("/schemaVersion", "const") in found


def test_every_problem_of_a_status_event_is_reported_not_only_the_first() -> None:
    event = _example("status/handler-assigned")
    del event["kind"], event["occurredAt"]
    event["eventId"] = "not-a-uuid"
    event["case"]["kommunkod"] = "188"
    event["case"]["198503142385"] = "Testa Exempelsson"
    problems = validate_document(event, resolve_schema("status-event"), lang="sv")
    assert sorted(_found(problems)) == [("/case", "additionalProperties"), ("/case/kommunkod", "pattern"),
                                        ("/eventId", "format:uuid"), ("/kind", "required"),
                                        ("/occurredAt", "required")]
    withheld = next(problem for problem in problems if problem.rule == "additionalProperties")
    assert withheld.message == "Ett fält som schemat inte känner till finns med (namnet visas inte)."
    assert all("198503142385" not in f"{problem.message} {problem.hint}" for problem in problems)


def test_a_json_file_is_validated_and_reported_with_its_schema(tmp_path: Path) -> None:
    case = copy.deepcopy(_example("attefall"))
    del case["details"]["attefall"]["measure"]
    path = tmp_path / "attefall.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    report = validate_file(path, lang="sv")
    assert (report.file, report.schema, report.valid, report.error) == (str(path), "case@1.1.0", False, None)
    assert _found(report.problems) == [("/details/attefall/measure", "required")]
    assert report.problems[0].message == "Obligatoriskt fält saknas."
    assert report.as_json()["problems"][0] == {"path": "/details/attefall/measure", "rule": "required",
                                               "message": "Obligatoriskt fält saknas.",
                                               "hint": 'Åtgärd: t.ex. "komplementbostadshus"'}


def test_a_file_that_cannot_be_read_or_parsed_is_an_error_naming_it_never_quoting_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"personnummer": "198503142385", ', encoding="utf-8")
    constant = tmp_path / "nan.json"
    constant.write_text('{"caseType": NaN}', encoding="utf-8")
    for path, why in ((broken, "not valid JSON"), (constant, "NaN is not a JSON number"),
                      (tmp_path / "missing.json", "cannot read: No such file or directory"),
                      (tmp_path, "cannot read: Is a directory")):
        report = validate_file(path)
        assert (report.valid, report.schema, report.problems) == (False, None, [])
        assert report.error is not None and report.error.startswith(f"{path}: ") and why in report.error
        assert "198503142385" not in report.error


def test_an_unknown_schema_is_refused_before_any_file_is_read(tmp_path: Path) -> None:
    with pytest.raises(UnknownSchema, match="known: case, attefall"):
        validate_file(tmp_path / "missing.json", schema="eldstad")


def test_xml_goes_through_the_mapping_that_accepts_it_and_is_validated_as_the_case() -> None:
    report = validate_file(SAMPLES / "bygglov-person.xml")
    assert (report.schema, report.valid, report.problems, report.error) == ("case@1.1.0", True, [], None)
    against_type = validate_file(SAMPLES / "felanmalan-gatlykta.xml", schema="bygglov")
    assert _found(against_type.problems) == [("/caseType", "const")]


def test_xml_the_mapping_cannot_translate_names_the_field_and_the_xml_path_never_the_value() -> None:
    for lang in ("en", "sv"):
        report = validate_file(SAMPLES / "bygglov-bad-personnummer.xml", lang=lang)
        assert (report.valid, report.error) == (False, None)
        [problem] = report.problems
        assert (problem.path, problem.rule) == ("/parties/0/personnummer", "mapping")
        assert problem.hint is not None and "fi:Values/fi:sokande[1]/fi:SocialSecurityNumber" in problem.hint
        shown = json.dumps(report.as_json(), ensure_ascii=False)
        for number in _bad_numbers():
            assert number not in shown
        assert "Luhn" in problem.message


def test_malformed_xml_is_an_error_naming_the_file(tmp_path: Path) -> None:
    report = validate_file(SAMPLES / "bygglov-malformed.xml")
    assert (report.valid, report.problems) == (False, [])
    assert report.error is not None
    assert report.error.startswith(f"{SAMPLES / 'bygglov-malformed.xml'}: not well-formed XML")


def test_validating_xml_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sample carries three attachments: they are hashed as they stream by, and no file is kept anywhere.
    # tempfile read TMPDIR long ago (tempfile.tempdir): the folder it uses is set there.
    home, temporary = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temporary.mkdir()
    monkeypatch.setenv("BRYGGA_HOME", str(home))
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    assert validate_file(SAMPLES / "bygglov-person.xml").valid
    assert list(home.iterdir()) == [] and list(temporary.iterdir()) == []


def test_a_request_body_is_json_or_e_service_xml_by_its_media_type() -> None:
    body = json.dumps(_example("felanmalan")).encode()
    assert validate_bytes(body, media_type="application/json; charset=utf-8").valid
    xml = (SAMPLES / "bygglov-person.xml").read_bytes()
    report = validate_bytes(xml, media_type="text/xml", schema="bygglov", name="upload")
    assert (report.file, report.schema, report.valid) == ("upload", "bygglov@1.1.0", True)
    bad = validate_bytes(b'{"caseType": "bygglov", ', media_type="application/json", schema="case")
    assert bad.error is not None and bad.error.startswith("<body>: not valid JSON") and "bygglov" not in bad.error
    undetected = validate_bytes(b'{"title": "x"}', media_type="application/json")
    assert undetected.error is not None and "cannot tell which schema" in undetected.error
    with pytest.raises(ValueError, match="media type text/plain is not validated"):
        validate_bytes(b"x", media_type="text/plain")


def test_xml_is_no_status_event() -> None:
    report = validate_bytes((SAMPLES / "bygglov-person.xml").read_bytes(), media_type="application/xml",
                            schema="status-event")
    assert report.error is not None and "a status event is validated as JSON" in report.error


def test_a_changed_mapping_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The routes and their mappings are kept between inputs, for as long as none of their files changes.
    shutil.copy(resource("routes", "routes.yaml"), tmp_path / "routes.yaml")
    shutil.copytree(resource("mappings"), tmp_path / "mappings")
    monkeypatch.setenv("BRYGGA_CONFIG", str(tmp_path))
    assert validate_file(SAMPLES / "bygglov-person.xml").valid
    mapping = tmp_path / "mappings" / "open-eplatform" / "bygglov.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8").replace('family_id: "412"', 'family_id: "99999"'),
                       encoding="utf-8")
    report = validate_file(SAMPLES / "bygglov-person.xml")
    assert report.error is not None and "no mapping accepts Open ePlatform FamilyID 412" in report.error


def test_a_broken_routes_file_is_the_servers_fault_and_raised_not_reported(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    routes = tmp_path / "routes.yaml"
    routes.write_text("routes: [\n", encoding="utf-8")
    monkeypatch.setenv("BRYGGA_ROUTES", str(routes))
    with pytest.raises(ConfigError):
        validate_file(SAMPLES / "bygglov-person.xml")
    with pytest.raises(ConfigError):
        validate_bytes((SAMPLES / "bygglov-person.xml").read_bytes(), media_type="application/xml")
    assert validate_file(EXAMPLES_DIR / "bygglov-person.json").valid, "JSON needs no routes"


def test_an_unknown_route_is_named_with_the_known_ones() -> None:
    with pytest.raises(UnknownRoute, match=r"no route nowhere; known: .*kumla-bygglov") as caught:
        validate_file(SAMPLES / "bygglov-person.xml", route="nowhere")
    assert isinstance(caught.value, ConfigError)
    check_route("kumla-bygglov")
    with pytest.raises(UnknownRoute):
        check_route("nowhere")


def test_a_valid_case_is_not_looked_up_among_the_case_types(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pipeline validates every case: a valid one costs one is_valid call, and its caseType is registered (the
    # schema's enum says so). Only an invalid one asks the registry whether its type is registered.
    case, lookups = _example("bygglov-person"), []
    validate_case(case)  # the registry and the compiled schema, once
    real = CaseTypeRegistry.__contains__
    monkeypatch.setattr(CaseTypeRegistry, "__contains__", lambda self, name: lookups.append(name) or real(self, name))
    assert validate_case(case) == []
    assert lookups == []
    case["caseType"] = "eldstad"
    assert _found(validate_case(case)) == [("/caseType", "caseType")]
    assert lookups == ["eldstad"]
