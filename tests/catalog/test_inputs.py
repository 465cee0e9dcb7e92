"""Reading what is validated: JSON by the same strict rules as the webhook intake (brygga.http_body.read_json), XML
told from JSON after a byte order mark, a document nested too deeply said to be so, and the mapping run without its
own output check so that each problem is reported by the schema's rule."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from brygga.canonical import validate_case
from brygga.catalog.examples import EXAMPLES_DIR
from brygga.catalog.inputs import inbound_mapping, looks_like_xml
from brygga.catalog.messages import LANGS
from brygga.catalog.validate import validate_bytes, validate_file
from brygga.http_body import JsonProblem, read_json
from brygga.mapping import MappingFailed
from brygga.resources import resource

SAMPLES = resource("samples", "open-eplatform")
CASE = (EXAMPLES_DIR / "bygglov-person.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(("body", "phrase"), [
    (b'{"caseType": "nope", "caseType": "bygglov"}', "an object has the same key twice"),
    (b'{"caseType": "bygglov", "size": 1e999}', "too large to be a finite number"),
    (b'{"caseType": "bygglov", "title": "\\ud800"}', "half of a surrogate pair"),
    (b'{"caseType": "bygglov", "title": "x\\udc00"}', "half of a surrogate pair"),
    (b'{"caseType": NaN}', "NaN is not a JSON number"),
    (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
])
def test_a_body_and_a_file_are_read_by_the_webhooks_strict_rules(tmp_path: Path, body: bytes, phrase: str) -> None:
    report = validate_bytes(body, media_type="application/json", schema="case")
    assert (report.valid, report.problems) == (False, [])
    assert report.error is not None and report.error.startswith("<body>: not valid JSON") and phrase in report.error
    path = tmp_path / "case.json"
    path.write_bytes(body)
    assert phrase in (validate_file(path).error or "")
    with pytest.raises(JsonProblem, match=phrase) as caught:  # the webhook's reader says the same
        read_json(body)
    assert caught.value.status == 400 and caught.value.detail == f"the body is {caught.value.reason}"


def test_a_surrogate_pair_is_one_character_and_any_json_value_is_read_when_asked() -> None:
    assert read_json(b'{"title": "\\ud83d\\ude00"}') == {"title": "\U0001f600"}
    assert read_json(b"[1, 2]", any_value=True) == [1, 2]
    with pytest.raises(JsonProblem, match="an array, not a JSON object") as caught:
        read_json(b"[1, 2]")
    assert caught.value.status == 422


def test_a_utf8_byte_order_mark_is_allowed_in_a_file_and_another_encoding_is_named(tmp_path: Path) -> None:
    with_bom = tmp_path / "bom.json"
    with_bom.write_bytes(b"\xef\xbb\xbf" + CASE.encode())
    assert validate_file(with_bom).valid
    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes(CASE.encode("utf-16"))
    report = validate_file(utf16)
    assert report.error == f"{utf16}: UTF-16-LE text (by its byte order mark): JSON is read as UTF-8"


def _sample_in(encoding: str, bom: bytes) -> bytes:
    declared = "-".join(encoding.split("-")[:2]).upper()  # UTF-16, UTF-32
    text = (SAMPLES / "bygglov-person.xml").read_text(encoding="utf-8")
    return bom + text.replace('encoding="UTF-8"', f'encoding="{declared}"').encode(encoding)


@pytest.mark.parametrize(("bom", "encoding"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_utf16_xml_is_told_from_json_by_its_byte_order_mark_and_validated(tmp_path: Path, bom: bytes,
                                                                          encoding: str) -> None:
    path = tmp_path / "bygglov.xml"
    path.write_bytes(_sample_in(encoding, bom))
    report = validate_file(path)
    assert (report.valid, report.error) == (True, None)


def test_what_starts_with_a_tag_after_a_byte_order_mark_is_xml() -> None:
    assert looks_like_xml(_sample_in("utf-32-le", codecs.BOM_UTF32_LE)[:64])
    assert looks_like_xml(_sample_in("utf-32-be", codecs.BOM_UTF32_BE)[:64])
    assert looks_like_xml(b"\xef\xbb\xbf\r\n <?xml")
    assert not looks_like_xml(b'\xef\xbb\xbf  {"a": "<"}')
    assert not looks_like_xml(codecs.BOM_UTF16_LE + "{}".encode("utf-16-le"))


def test_a_case_nested_too_deeply_for_the_validator_says_so() -> None:
    case = json.loads(CASE)
    case["formAnswers"] = json.loads("[" * 300 + "]" * 300)
    [problem] = validate_case(case)
    assert (problem.path, problem.rule) == ("", "json")
    assert problem.message == "The document is nested too deeply to be checked."
    body = json.dumps(case).encode()
    worded = {lang: validate_bytes(body, media_type="application/json", lang=lang).problems for lang in LANGS}
    assert [p.message for p in worded["en"]] == ["The document is nested too deeply to be checked."]
    assert [p.message for p in worded["sv"]] == ["Dokumentet är för djupt nästlat för att kunna kontrolleras."]
    # Data that is not JSON at all keeps its own message.
    assert validate_case({"caseType": "bygglov", 1: 2})[0].message.startswith("The document contains data that is")


def test_the_mapping_runs_without_its_output_check_when_asked() -> None:
    # The mapping passes the e-mail through; only the case schema's format check refuses it.
    xml = (SAMPLES / "bygglov-person.xml").read_bytes().replace(b"johan.berglund@example.se", b"no address")
    mapping, context = inbound_mapping(xml)
    with pytest.raises(MappingFailed, match="output schema: format:email"):
        mapping.run(xml, context=context or None)
    case = mapping.run(xml, context=context or None, check_output=False)
    assert case["parties"][0]["email"] == "no address"
    [problem] = validate_bytes(xml, media_type="application/xml").problems
    assert (problem.path, problem.rule) == ("/parties/0/email", "format:email")
