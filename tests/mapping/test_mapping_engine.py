"""The mapping engine: language features, problems, config errors, and the promise of value-free messages."""

from __future__ import annotations

import hashlib
import json
from base64 import b64encode
from pathlib import Path
from typing import Any

import pytest

from brygga.blobs import DiscardingSink
from brygga.mapping import InvalidSource, MappingConfigError, MappingFailed, compile_mapping
from brygga.mapping.converters import FACTORIES
from brygga.mapping.spec import SCHEMA_PATH
from brygga.storage import ContentStore

NS = "urn:example:form"


def mapping(tmp_path: Path, text: str, name: str = "m.yaml") -> Any:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return compile_mapping(path)


def problems(exc: pytest.ExceptionInfo[MappingFailed]) -> list[tuple[str, str, str]]:
    return [(p.rule, p.source_path, p.message) for p in exc.value.problems]


# --- JSON sources -----------------------------------------------------------------------------------

JSON_MAPPING = """
source: json
defaults: {tenant: {kommunkod: "1881"}}
value_maps:
  colour: {values: {R: red, G: green}, default: other}
output:
  id: {path: meta.id, convert: string, required: true}
  tenant: {context: tenant.kommunkod}
  kind: {const: demo}
  count: {path: meta.count, convert: integer}
  ratio: {path: meta.ratio, convert: number}
  flag: {path: meta.flag, convert: boolean}
  day: {path: meta.when, convert: date}
  colour: {path: meta.colour, map: colour}
  name: {path: "meta['full name']", convert: [strip, upper]}
  first_tag: {path: "tags[0]"}
  missing: {path: meta.nothing}
  with_default: {path: meta.nothing, default: fallback}
  people:
    each: people
    fields:
      name: {path: name}
      doc: {path: $.meta.id}
"""


def test_json_mapping_reads_paths_context_consts_maps_and_groups(tmp_path: Path) -> None:
    m = mapping(tmp_path, JSON_MAPPING)
    doc = {"meta": {"id": 7, "count": "12", "ratio": "3,5", "flag": "ja", "when": "2026-10-14T09:12:44",
                    "colour": "X", "full name": "  anna  "},
           "tags": ["a", "b"], "people": [{"name": "A"}, {"name": ""}, {"name": "C"}]}
    out = m.run(doc)
    assert out == {
        "id": "7", "tenant": "1881", "kind": "demo", "count": 12, "ratio": 3.5, "flag": True, "day": "2026-10-14",
        "colour": "other", "name": "ANNA", "first_tag": "a", "with_default": "fallback",
        # an item whose fields are all empty still has `doc`; empty values are omitted, not null
        "people": [{"name": "A", "doc": 7}, {"doc": 7}, {"name": "C", "doc": 7}],
    }
    assert m.run(json.dumps(doc).encode(), context={"tenant": {"kommunkod": "1880"}})["tenant"] == "1880"


def test_required_missing_and_conversion_problems_are_all_collected(tmp_path: Path) -> None:
    m = mapping(tmp_path, JSON_MAPPING)
    with pytest.raises(MappingFailed) as exc:
        m.run({"meta": {"count": "twelve", "flag": "maybe"}})
    assert problems(exc) == [
        ("id", "meta.id", "required value is missing or empty"),
        ("count", "meta.count", "value is not an integer"),
        ("flag", "meta.flag", "value is not a boolean (true/false, ja/nej, 1/0)"),
    ]
    assert all("twelve" not in str(p) and "maybe" not in str(p) for p in exc.value.problems)


def test_output_constants_are_not_shared_between_runs(tmp_path: Path) -> None:
    m = mapping(tmp_path, "source: json\noutput:\n  roles: {const: [applicant]}\n")
    first = m.run({})
    first["roles"].append("mutated")
    assert m.run({}) == {"roles": ["applicant"]}


def test_invalid_json_input_is_an_input_error(tmp_path: Path) -> None:
    m = mapping(tmp_path, JSON_MAPPING)
    with pytest.raises(InvalidSource, match=r"in\.json: not valid JSON"):
        m.run(b"{nope", source_name="in.json")


# --- XML sources ------------------------------------------------------------------------------------

XML_MAPPING = f"""
source: xml
root: f:Form
namespaces: {{f: "{NS}"}}
output:
  posted: {{path: f:Head/f:Posted, convert: datetime}}
  winter: {{path: f:Head/f:Winter, convert: datetime}}
  deep: {{path: f:Rows/f:Row/f:Late}}
  expr: {{path: "concat(f:Head/f:A, '-', f:Head/f:B)"}}
  phone: {{path: [f:Head/f:Phone, f:Head/f:Mobile]}}
  rows:
    each: f:Rows/f:Row
    when: f:Value
    fields:
      value: {{path: f:Value, convert: integer}}
      attr: {{path: "@code"}}
  flagged:
    items:
      - {{const: yes-a, when: f:Head/f:A}}
      - {{const: no-z, when: f:Head/f:Z}}
      - {{const: not-z, unless: f:Head/f:Z}}
"""

XML_DOC = f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<Form xmlns="{NS}"><Head><Posted>2026-07-01T12:00:00</Posted><Winter>2026-01-01T12:00:00</Winter>
<A>x</A><B>y</B><Mobile> 070 </Mobile></Head>
<Rows><Row code="r1"><Value>1</Value></Row><Row code="r2"/>
<Row code="r3"><Value>3</Value><Late>l\xe5ng</Late></Row></Rows>
</Form>""".encode("iso-8859-1")


def test_xml_mapping_paths_groups_conditions_and_local_time(tmp_path: Path) -> None:
    out = mapping(tmp_path, XML_MAPPING).run(XML_DOC)
    assert out == {
        "posted": "2026-07-01T12:00:00+02:00",
        "winter": "2026-01-01T12:00:00+01:00",
        # a/b/c where only the 3rd b has c: the fast walk falls back to XPath and still finds it
        "deep": "l\u00e5ng",
        "expr": "x-y",
        "phone": "070",
        "rows": [{"value": 1, "attr": "r1"}, {"value": 3, "attr": "r3"}],
        "flagged": ["yes-a", "not-z"],
    }


def test_xml_wrong_root_and_problem_positions(tmp_path: Path) -> None:
    m = mapping(tmp_path, XML_MAPPING)
    with pytest.raises(MappingFailed) as exc:
        m.run(f'<Other xmlns="{NS}"/>'.encode())
    assert problems(exc) == [("(document)", "/", "the document element is not f:Form")]
    bad = XML_DOC.replace(b"<Value>3</Value>", b"<Value>three</Value>")
    with pytest.raises(MappingFailed) as exc:
        m.run(bad)
    assert problems(exc) == [("rows[1].value", "f:Rows/f:Row[3]/f:Value", "value is not an integer")]


@pytest.mark.parametrize("data", [b"<a><b></a>", b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'])
def test_malformed_or_doctype_xml_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(InvalidSource, match=r"upload\.xml"):
        mapping(tmp_path, XML_MAPPING).run(data, source_name="upload.xml")


# --- identifiers and attachments --------------------------------------------------------------------

IDS_MAPPING = """
source: json
output:
  pnr: {path: pnr, convert: personnummer}
  org: {path: org, convert: organisationsnummer}
  zip: {path: zip, convert: postnummer}
  file: {path: file, convert: attachment}
"""


def test_identifier_problems_never_repeat_the_value(tmp_path: Path) -> None:
    m = mapping(tmp_path, IDS_MAPPING)
    assert m.run({"pnr": "850314-2385", "org": "559123-4561", "zip": "692 32"}) == {
        "pnr": "198503142385", "org": "5591234561", "zip": "69232"}
    with pytest.raises(MappingFailed) as exc:
        m.run({"pnr": "19850314-2386", "org": "5591234562", "zip": "06923"})
    text = "\n".join(str(p) for p in exc.value.problems)
    assert [p.rule for p in exc.value.problems] == ["pnr", "org", "zip"]
    assert "Luhn" in text
    for value in ("2386", "5591234562", "06923"):
        assert value not in text


def test_attachment_goes_to_the_sink_and_only_a_reference_to_the_output(tmp_path: Path) -> None:
    m = mapping(tmp_path, IDS_MAPPING)
    data = b"%PDF-1.4 invented"
    sha = hashlib.sha256(data).hexdigest()
    store = ContentStore(tmp_path / "content")
    file = {"ID": 9, "Name": "Plan.PDF", "Size": str(len(data)), "EncodedData": b64encode(data).decode()}
    out = m.run({"file": file}, blob_sink=store)
    assert out == {"file": {"sourceId": "9", "name": "Plan.PDF", "mediaType": "application/pdf",
                            "size": len(data), "sha256": sha}}
    assert store.get(sha) == data
    assert m.run({"file": {"Name": "x.unknownext", "EncodedData": "AAAA"}})["file"]["mediaType"] == (
        "application/octet-stream")


def test_attachment_problems(tmp_path: Path) -> None:
    m = mapping(tmp_path, IDS_MAPPING)
    sink = DiscardingSink()
    for file, message in [
        ({"Name": "a.pdf", "EncodedData": "not base64!"}, "EncodedData is not valid base64"),
        ({"Name": "a.pdf", "EncodedData": "QUJD=QUJD"}, "EncodedData is not valid base64"),
        ({"Name": "a.pdf", "Size": "5", "EncodedData": "AAAA"}, "File Size does not match"),
        ({"Name": "a.pdf", "Size": "many", "EncodedData": "AAAA"}, "File Size is not an integer"),
        ({"Name": "a.pdf"}, "File has no EncodedData"),
        ({"Name": "a.pdf", "EncodedData": "QUJDRA=="}, "over the route's limit of 3 bytes"),
    ]:
        with pytest.raises(MappingFailed) as exc:
            m.run({"file": file}, blob_sink=sink, max_attachment_bytes=3)
        [(rule, source, text)] = problems(exc)
        assert (rule, source) == ("file", "file")
        assert message in text
    # Invalid or oversize base64 never becomes a blob; only the two well-formed "AAAA" decoded.
    assert len(sink.stored) == 2


# --- the mapping file itself ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "rule", "message"), [
    ("source: xml\noutput: {a: {path: 'f:x['}}\nnamespaces: {f: 'urn:x'}\n", "output.a.path", "invalid XPath"),
    ("source: xml\noutput: {a: {path: 'g:x'}}\n", "output.a.path", "invalid XPath"),
    ("source: json\noutput: {a: {path: x, convert: shout}}\n", "output.a", "is not valid under any"),
    ("source: json\noutput: {a: {path: x, map: nope}}\n", "output.a.map", "unknown value map 'nope'"),
    ("source: json\nvalue_maps: {m: {values: {no: x}}}\noutput: {a: {const: 1}}\n", "value_maps.m.values",
     "quote it"),
    ("source: json\noutput: {a: {path: x, requird: true}}\n", "output.a", "requird"),
    ("source: json\noutput: {a: [1]}\n", "output.a", "is not of type 'object'"),
    ("source: json\noutput: {a: {path: 'x..y'}}\n", "output.a.path", "invalid JSON path"),
    ("source: [json\n", "line ", "not valid YAML"),
    # A node that holds itself: a clear error, not a RecursionError in every later walk of the file.
    ("source: json\noutput: {caseType: &a [*a]}\n", "output.caseType[0]", "refers to a node that holds it"),
])
def test_config_errors_name_the_file_and_the_rule(tmp_path: Path, text: str, rule: str, message: str) -> None:
    with pytest.raises(MappingConfigError) as exc:
        mapping(tmp_path, text, name="broken.yaml")
    assert exc.value.file.endswith("broken.yaml")
    assert exc.value.rule.startswith(rule), exc.value
    assert message in exc.value.message, exc.value


def test_schema_converter_list_matches_the_engine() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert set(schema["$defs"]["converter"]["enum"]) == set(FACTORIES)


# --- templates, extract, first_of, position, pattern value maps ------------------------------------

TEXT_MAPPING = r"""
source: json
value_maps:
  phone_type:
    values: {"112": EMERGENCY}
    patterns:
      - {pattern: '^(?:(?:\+|00)46[ ()0-]*|0)7', value: MOB}
    default: TEL
  code: {values: {a: A}}
output:
  name: {template: '{given} {family}'}
  braces: {template: '{{{given}}}'}
  label: {template: 'no. {meta.n}', default: none}
  pnr: {path: pnr, extract: {pattern: '^(\d{8})(\d{4})$', template: '{1}-{2}'}}
  trakt: {path: fbet, extract: {pattern: '^(?P<trakt>.+) (?P<nr>\S+:\S+)$', group: trakt}}
  nr: {path: fbet, extract: {pattern: '^(.+) (\S+:\S+)$', group: 2}}
  zip: {path: zip, extract: {pattern: '^(\d{3})(\d{2})$', template: '{1} {2}', unmatched: keep}}
  digits: {path: zip, extract: {pattern: '^\d+$', unmatched: empty}, default: none}
  id:
    first_of:
      - {path: pnr, extract: {pattern: '^(\d{8})(\d{4})$', template: '{1}-{2}'}}
      - {path: org, extract: {pattern: '^(\d{6})(\d{4})$', template: '16{1}-{2}'}}
      - {template: 'x{missing}'}
    required: true
  phones:
    each: phones
    value: {path: ., map: phone_type}
  codes:
    each: codes
    fields:
      code: {path: ., map: code}
      main: {position: first}
      index: {position: index}
"""


def test_template_extract_first_of_position_and_pattern_maps(tmp_path: Path) -> None:
    m = mapping(tmp_path, TEXT_MAPPING)
    out = m.run({"given": "Anna-Karin", "family": "Ström", "pnr": "198005122380", "fbet": "KUMLA STENEN 1:23",
                 "zip": "69231", "phones": ["070-123 45 67", "+46 (0)70 1", "+46 19 12 34 56", "112"],
                 "codes": ["a", "a"], "meta": {"n": 3}})
    assert out == {
        "name": "Anna-Karin Ström", "braces": "{Anna-Karin}", "label": "no. 3", "pnr": "19800512-2380",
        "trakt": "KUMLA STENEN", "nr": "1:23", "zip": "692 31", "digits": "69231", "id": "19800512-2380",
        "phones": ["MOB", "MOB", "TEL", "EMERGENCY"],
        "codes": [{"code": "A", "main": True, "index": 0}, {"code": "A", "main": False, "index": 1}],
    }
    # an empty placeholder gives empty text, all empty an empty value; the second alternative wins
    out = m.run({"family": "Ström", "org": "5560360793", "zip": "N-0150"})
    assert out == {"name": "Ström", "label": "none", "zip": "N-0150", "digits": "none", "id": "16556036-0793"}


def test_extract_and_template_problems_name_rule_and_source_not_the_value(tmp_path: Path) -> None:
    m = mapping(tmp_path, TEXT_MAPPING)
    with pytest.raises(MappingFailed) as exc:
        m.run({"given": {"nested": "Secret"}, "pnr": "19800512238", "fbet": "KUMLA", "codes": ["a", "zz"]})
    assert problems(exc) == [
        ("name", "given + family", "a template placeholder is a structure, not text"),
        ("braces", "given", "a template placeholder is a structure, not text"),
        ("pnr", "pnr", "value does not match the pattern of `extract`"),
        ("trakt", "fbet", "value does not match the pattern of `extract`"),
        ("nr", "fbet", "value does not match the pattern of `extract`"),
        ("id", "pnr", "value does not match the pattern of `extract`"),
        # JSON positions count from 0, like the JSON path syntax
        ("codes[1].code", "codes[1]", "value is not a code in value map 'code', which has no default"),
    ]
    text = "\n".join(str(p) for p in exc.value.problems)
    for value in ("Secret", "19800512238", "KUMLA", "zz"):
        assert value not in text


def test_xml_template_reads_xpaths(tmp_path: Path) -> None:
    text = f"""
source: xml
namespaces: {{f: "{NS}"}}
output:
  ab: {{template: '{{f:Head/f:A}}/{{f:Head/f:B}}'}}
  rows:
    each: f:Rows/f:Row
    fields: {{first: {{position: first}}, code: {{path: '@code'}}}}
"""
    out = mapping(tmp_path, text).run(XML_DOC)
    assert out["ab"] == "x/y"
    assert [r["first"] for r in out["rows"]] == [True, False, False]


@pytest.mark.parametrize(("text", "rule", "message"), [
    ("source: json\noutput: {a: {template: 'x {b'}}\n", "output.a.template", "lone '{'"),
    ("source: json\noutput: {a: {template: 'x {}'}}\n", "output.a.template", "empty placeholder"),
    ("source: json\noutput: {a: {template: '{b..c}'}}\n", "output.a.template", "invalid JSON path"),
    ("source: json\noutput: {a: {path: x, extract: {pattern: '('}}}\n", "output.a.extract.pattern",
     "invalid regular expression"),
    ("source: json\noutput: {a: {path: x, extract: {pattern: '(a)', group: 2}}}\n", "output.a.extract.group",
     "no group 2"),
    ("source: json\noutput: {a: {path: x, extract: {pattern: '(a)', template: '{1}{name}'}}}\n",
     "output.a.extract.template", "no group 'name'"),
    ("source: json\noutput: {a: {path: x, extract: {pattern: a, group: 0, template: b}}}\n", "output.a", ""),
    ("source: json\noutput: {a: {position: first}}\n", "output.a.position", "enclosing `each`"),
    ("source: json\noutput: {a: {position: last}}\n", "output.a", ""),
    ("source: json\noutput: {a: {path: x, template: y}}\n", "output.a", ""),
    ("source: json\nvalue_maps: {m: {patterns: [{pattern: '['}]}}\noutput: {a: {const: 1}}\n",
     "value_maps.m.patterns[0]", "required"),
    ("source: json\nvalue_maps: {m: {patterns: [{pattern: '[', value: 1}]}}\noutput: {a: {path: x, map: m}}\n",
     "value_maps.m.patterns[0].pattern", "invalid regular expression"),
])
def test_config_errors_of_the_text_features(tmp_path: Path, text: str, rule: str, message: str) -> None:
    with pytest.raises(MappingConfigError) as exc:
        mapping(tmp_path, text, name="broken.yaml")
    assert exc.value.file.endswith("broken.yaml")
    assert exc.value.rule.startswith(rule), exc.value
    assert message in exc.value.message, exc.value


def test_first_of_with_nothing_there_is_one_required_problem_naming_every_source(tmp_path: Path) -> None:
    with pytest.raises(MappingFailed) as exc:
        mapping(tmp_path, TEXT_MAPPING).run({})
    assert problems(exc) == [("id", "pnr | org | missing", "required value is missing or empty")]
