"""Dispatch by e-service (accepts/identity), formAnswers, the attachment size option and decimal commas."""

from __future__ import annotations

import io
import threading
from base64 import b64encode
from pathlib import Path
from typing import Any

import pytest

from brygga.mapping import InvalidSource, MappingConfigError, MappingFailed, compile_mapping
from brygga.mapping.converters import to_number
from brygga.mapping.dispatch import EService, NotAccepted, choose_mapping, overlapping, read_identity
from brygga.mapping.errors import ConversionError

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "mappings" / "open-eplatform" / "testdata"
SAMPLES = REPO / "tests" / "samples" / "open-eplatform"
FI = "http://www.oeplatform.org/version/2.0/schemas/flowinstance"

HEAD = """source: xml
namespaces: {fi: http://www.oeplatform.org/version/2.0/schemas/flowinstance}
"""


def compiled(tmp_path: Path, text: str, name: str = "m.yaml") -> Any:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return compile_mapping(path, file=name)


def flow(family: str = "127", flow_id: str = "2290", version: str = "1", name: str = "Anmälan om attefallsåtgärd",
         values: str = "", encoding: str = "ISO-8859-1", before: str = "") -> bytes:
    text = (f'<?xml version="1.0" encoding="{encoding}"?>{before}<FlowInstance xmlns="{FI}"><Header><Flow>'
            f"<FamilyID>{family}</FamilyID><Version>{version}</Version><FlowID>{flow_id}</FlowID>"
            f"<Name><![CDATA[{name}]]></Name></Flow><FlowInstanceID>1</FlowInstanceID></Header>"
            f"<Values>{values}</Values></FlowInstance>")
    return text.encode("latin-1" if encoding == "ISO-8859-1" else "utf-8")


def accepting(tmp_path: Path, accepts: str, name: str = "m.yaml", extra: str = "") -> Any:
    output = "output:\n  id: {path: fi:Header/fi:FlowInstanceID}\n"
    return compiled(tmp_path, f"{HEAD}accepts: {accepts}\n{extra}{output}", name)


# --- identity ---------------------------------------------------------------------------------------------------

def test_describe_leaves_out_missing_fields_and_never_quotes() -> None:
    full = EService("open-eplatform", "127", "2290", "1", "Anmälan om attefallsåtgärd")
    assert full.describe() == "Open ePlatform FamilyID 127, FlowID 2290, version 1 (Anmälan om attefallsåtgärd)"
    assert EService("open-eplatform", flow_id="2290").describe() == "Open ePlatform FlowID 2290"
    assert EService(family_id="5").describe() == "FamilyID 5"
    assert EService().describe() == "a document without an e-service identity"


def test_read_identity_from_path_bytes_and_stream_latin1(tmp_path: Path) -> None:
    m = accepting(tmp_path, '{family_id: "127"}')
    expected = EService("open-eplatform", "127", "2290", "1", "Anmälan om attefallsåtgärd")
    assert read_identity(TESTDATA / "attefall-127.xml", m) == expected
    data = flow()
    assert read_identity(data, m) == expected
    stream = io.BytesIO(data)
    stream.seek(0)
    assert read_identity(stream, m) == expected
    assert stream.tell() == 0  # the stream is put back for the run
    assert m.run(stream) == {"id": "1"}


def test_read_identity_stops_after_the_header() -> None:
    # Everything after the header is garbage: the reader never gets there.
    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n: int | None = -1) -> bytes:
            chunk = super().read(n)
            Counting.read_bytes += len(chunk)
            return chunk

    head = flow().split(b"<Values>")[0]
    big = head + b"<Values>" + b"<x>" + b"A" * (20 * 1024 * 1024) + b"</x><broken"
    stream = Counting(big)
    m = compile_mapping(REPO / "mappings" / "open-eplatform" / "bygglov.yaml")
    assert read_identity(stream, m).family_id == "127"
    assert Counting.read_bytes <= 64 * 1024


def test_read_identity_refuses_a_doctype_like_the_run(tmp_path: Path) -> None:
    m = accepting(tmp_path, '{family_id: "127"}')
    data = flow(before='<!DOCTYPE FlowInstance [<!ENTITY e "x">]>')
    with pytest.raises(InvalidSource) as run_refused:
        m.run(data, source_name="in.xml")
    with pytest.raises(InvalidSource) as read_refused:
        read_identity(data, m, source_name="in.xml")
    assert str(read_refused.value) == str(run_refused.value)
    with pytest.raises(InvalidSource, match=r"in\.xml: not well-formed"):
        read_identity(f'<FlowInstance xmlns="{FI}"><Header><Flow><FamilyID>1'.encode(), m, source_name="in.xml")


def test_another_root_has_no_identity(tmp_path: Path) -> None:
    m = accepting(tmp_path, '{family_id: "127"}')
    assert read_identity(b"<other><Header/></other>", m) == EService()


def test_json_identity(tmp_path: Path) -> None:
    m = compiled(tmp_path, 'source: json\naccepts: {flow_id: [7, "8"], versions: ">=2,<5"}\n'
                 "identity: {system: demo, flow_id: meta.flow, version: meta.version}\n"
                 "output: {id: {path: meta.id}}\n")
    assert m.run(b'{"meta": {"id": "x", "flow": 7, "version": "4"}}') == {"id": "x"}
    assert read_identity(b'{"meta": {"flow": 8, "version": 2}}', m) == EService("demo", flow_id="8", version="2")
    with pytest.raises(NotAccepted, match=r"^mapping m.yaml does not accept demo FlowID 7, version 5; it accepts "
                                          r"FlowID 7 or 8, versions >=2,<5$"):
        m.run({"meta": {"id": "x", "flow": 7, "version": "5"}})


@pytest.mark.parametrize(("text", "rule", "message"), [
    ('source: json\naccepts: {family_id: "1"}\noutput: {a: {path: a}}\n', "accepts", "needs `identity`"),
    (HEAD + 'accepts: {family_id: "1", versions: "~~3"}\noutput: {a: {path: a}}\n', "accepts.versions",
     "not a version specifier"),
    (HEAD + 'accepts: {family_id: "1"}\nidentity: {family_id: "fi:Header//fi:FamilyID"}\noutput: {a: {path: a}}\n',
     "identity.family_id", "child steps"),
    (HEAD + 'root: fi:Other\naccepts: {family_id: "1"}\noutput: {a: {path: a}}\n', "accepts", "`identity` is needed"),
    (HEAD + "accepts: {versions: \"3\"}\noutput: {a: {path: a}}\n", "accepts", "not valid under any"),
    ('source: json\nform_answers: {each: a}\noutput: {a: {path: a}}\n', "form_answers", "XML sources only"),
    (HEAD + "form_answers: {each: fi:Values/*}\noutput: {formAnswers: {path: a}}\n", "output.formAnswers",
     "written by `form_answers`"),
    (HEAD + "output: {a: {path: ., attachment: {size: kB}}}\n", "output.a.attachment", "convert: attachment"),
    (HEAD + "output: {a: {path: ., convert: attachment, attachment: {size: GB}}}\n", "output.a.attachment.size",
     "is not one of"),
])
def test_config_errors(tmp_path: Path, text: str, rule: str, message: str) -> None:
    with pytest.raises(MappingConfigError) as exc:
        compiled(tmp_path, text)
    assert exc.value.rule == rule
    assert message in exc.value.message


# --- accepts and choose_mapping ------------------------------------------------------------------------------------

def test_accepts_ids_versions_and_numbers(tmp_path: Path) -> None:
    m = accepting(tmp_path, '[{family_id: 412, versions: ">=3"}, {flow_id: ["2290", "2291"]}]')
    assert m.accepts(EService(family_id="412", version="3"))
    assert m.accepts(EService(family_id="412", version="10"))
    assert not m.accepts(EService(family_id="412", version="2"))
    assert not m.accepts(EService(family_id="412"))  # a version is required by the specifier
    assert not m.accepts(EService(family_id="412", version="three"))
    assert m.accepts(EService(flow_id="2291"))
    assert m.describe_accepts() == "FamilyID 412, versions >=3; or FlowID 2290 or 2291"
    both = accepting(tmp_path, '{family_id: "1", flow_id: "2", versions: 3}', "b.yaml")
    assert both.accepts(EService(family_id="1", flow_id="2", version="3.0"))
    assert not both.accepts(EService(family_id="1", flow_id="9", version="3"))
    assert both.describe_accepts() == "FamilyID 1, FlowID 2, version 3"


def test_choose_mapping_picks_the_one_that_accepts(tmp_path: Path) -> None:
    (tmp_path / "open-eplatform").mkdir()
    bygglov = accepting(tmp_path, '{family_id: "412", versions: ">=3"}', "open-eplatform/bygglov.yaml")
    attefall = accepting(tmp_path, '{family_id: "127"}', "attefall.yaml")
    chosen, eservice = choose_mapping([bygglov, attefall], TESTDATA / "attefall-127.xml")
    assert chosen is attefall
    assert eservice.family_id == "127"


def test_choose_mapping_says_what_the_route_has_and_who_would_take_it(tmp_path: Path) -> None:
    (tmp_path / "open-eplatform").mkdir()
    bygglov = accepting(tmp_path, '{family_id: "412", versions: ">=3"}', "open-eplatform/bygglov.yaml")
    seen: list[EService] = []

    def elsewhere(eservice: EService) -> list[str]:
        seen.append(eservice)
        return ["kumla-attefall"]

    with pytest.raises(NotAccepted) as exc:
        choose_mapping([bygglov], TESTDATA / "attefall-127.xml", route="kumla-bygglov", elsewhere=elsewhere)
    assert str(exc.value) == (
        "no mapping accepts Open ePlatform FamilyID 127, FlowID 2290, version 1 (Anmälan om attefallsåtgärd); "
        "route kumla-bygglov has: open-eplatform/bygglov.yaml (FamilyID 412, versions >=3); "
        "routes that accept it: kumla-attefall")
    assert isinstance(exc.value, InvalidSource)
    assert exc.value.routes == ("kumla-attefall",)
    assert seen == [exc.value.eservice]
    with pytest.raises(NotAccepted, match=r"has: open-eplatform/bygglov.yaml \(FamilyID 412, versions >=3\)$"):
        choose_mapping([bygglov], TESTDATA / "attefall-127.xml", route="r", elsewhere=lambda e: [])


def test_choose_mapping_refuses_an_ambiguous_route_and_an_unreadable_header(tmp_path: Path) -> None:
    a = accepting(tmp_path, '{family_id: "127"}', "a.yaml")
    b = accepting(tmp_path, '{flow_id: "2290"}', "b.yaml")
    with pytest.raises(NotAccepted, match=r"^2 mappings of route r accept .*: a.yaml \(FamilyID 127\), b.yaml "
                                          r"\(FlowID 2290\); exactly one may"):
        choose_mapping([a, b], flow(), route="r")
    with pytest.raises(InvalidSource, match=r"^x\.xml: not well-formed XML"):
        choose_mapping([a], f'<FlowInstance xmlns="{FI}"><Header'.encode(), source_name="x.xml")


def test_a_mapping_without_accepts_takes_everything(tmp_path: Path) -> None:
    anything = compiled(tmp_path, HEAD + "output: {id: {path: fi:Header/fi:FlowInstanceID}}\n")
    assert anything.accepts_any and anything.accepts(EService())
    chosen, eservice = choose_mapping([anything], flow())
    assert chosen is anything and eservice.flow_id == "2290"


def test_overlapping(tmp_path: Path) -> None:
    a = accepting(tmp_path, '{family_id: "412", versions: ">=3"}', "a.yaml")
    b = accepting(tmp_path, '{family_id: ["412", "413"], versions: "<5"}', "b.yaml")
    c = accepting(tmp_path, '{family_id: "412", versions: "<3"}', "c.yaml")
    d = accepting(tmp_path, '{family_id: "412", versions: ">3,<4"}', "d.yaml")
    e = accepting(tmp_path, '{family_id: "412", versions: ">=3.5,<3.6"}', "e.yaml")
    assert overlapping([a, c]) == []
    assert overlapping([a, b]) == ["mappings a.yaml (FamilyID 412, versions >=3) and b.yaml (FamilyID 412 or 413, "
                                   "versions <5) overlap: both accept FamilyID 412, version 3"]
    assert len(overlapping([d, e])) == 1  # no whole number between, but 3.5 is
    plain = compiled(tmp_path, HEAD + "output: {a: {path: a}}\n", "plain.yaml")
    assert overlapping([plain, a]) == ["mappings plain.yaml and a.yaml overlap: plain.yaml has no accepts, so it "
                                       "accepts every e-service"]


# --- the run checks accepts; fixtures ----------------------------------------------------------------------------

def test_run_refuses_another_e_service_before_any_rule(tmp_path: Path) -> None:
    m = compile_mapping(REPO / "mappings" / "open-eplatform" / "bygglov.yaml", file="bygglov.yaml")
    with pytest.raises(NotAccepted) as exc:
        m.run(TESTDATA / "attefall-127.xml")
    assert str(exc.value) == ("mapping bygglov.yaml does not accept Open ePlatform FamilyID 127, FlowID 2290, "
                              "version 1 (Anmälan om attefallsåtgärd); it accepts FamilyID 412; or FamilyID 640")


# --- formAnswers --------------------------------------------------------------------------------------------------

FORM = HEAD + """form_answers:
  each: fi:Values/*
  label: fi:Name
  ignore: [fi:QueryID, fi:Name]
output:
  name: {template: "{fi:Values/fi:sokande/fi:Firstname} {fi:Values/fi:sokande/fi:Lastname}"}
  measure: {path: fi:Values/fi:atgard/fi:Value, when: fi:Values/fi:villkor/fi:Value}
  phone: {first_of: [{path: fi:Values/fi:sokande/fi:Phone}, {path: fi:Values/fi:sokande/fi:MobilePhone}]}
  area: {path: "fi:Values/fi:ytor/*[fi:Byggnadsarea]/fi:Byggnadsarea", convert: number}
  count: {path: "count(fi:Values/fi:extra/fi:Value)"}
  files:
    each: fi:Values//fi:File
    value: {path: ., convert: attachment}
  texts:
    each: fi:Values/fi:lista/fi:Rad
    value: {path: "fi:Text/text()"}
"""

VALUES = ("<sokande><QueryID>1</QueryID><Name>Sökande</Name><Firstname>Anna</Firstname><Lastname>Ek</Lastname>"
          "<CareOf> c/o Lind </CareOf><Phone/><MobilePhone>070</MobilePhone><Email>  </Email></sokande>"
          "<villkor><QueryID>2</QueryID><Name>Villkor</Name><Value>ja</Value></villkor>"
          "<atgard><QueryID>3</QueryID><Name>  </Name><Value>Nybyggnad</Value></atgard>"
          "<ytor><QueryID>4</QueryID><Name>Ytor</Name><Grupp><Byggnadsarea>4,0</Byggnadsarea>"
          "<Bruttoarea>5</Bruttoarea></Grupp></ytor>"
          "<extra><QueryID>5</QueryID><Name>Extra</Name><Value>x<!-- c --></Value></extra>"
          f"<bilagor><QueryID>6</QueryID><Name>Bilagor</Name><File><ID>9</ID><Name>a.pdf</Name><Size>3</Size>"
          f"<EncodedData>{b64encode(b'abc').decode()}</EncodedData></File></bilagor>"
          "<lista><QueryID>7</QueryID><Name>Lista</Name><Rad><Text>ett</Text></Rad><Rad><Text>två</Text><Not>n</Not>"
          "</Rad></lista>"
          "<hojd>5,4</hojd>")


def test_form_answers_keep_what_no_rule_read(tmp_path: Path) -> None:
    m = compiled(tmp_path, FORM)
    out = m.run(flow(values=VALUES))
    assert out["name"] == "Anna Ek" and out["measure"] == "Nybyggnad" and out["phone"] == "070" and out["area"] == 4
    assert out["count"] == "1" and out["texts"] == ["ett", "två"]
    assert out["formAnswers"] == [
        {"question": "sokande/CareOf", "label": "Sökande", "value": "c/o Lind"},
        {"question": "villkor", "label": "Villkor", "value": "ja"},       # a `when` does not claim
        {"question": "ytor/Grupp/Bruttoarea", "label": "Ytor", "value": "5"},
        {"question": "extra", "label": "Extra", "value": "x"},            # count() claims nothing
        {"question": "lista/Rad/Not", "label": "Lista", "value": "n"},    # text() claims its element only
        {"question": "hojd", "value": "5,4"},                             # a question that is itself the answer
    ]


def test_form_answers_are_per_run_and_thread_safe(tmp_path: Path) -> None:
    m = compiled(tmp_path, FORM)
    first = flow(values=VALUES)
    other = flow(values="<fraga><Name>F</Name><Value>svar</Value></fraga>")
    results: list[Any] = []

    def work(data: bytes) -> None:
        for _ in range(50):
            results.append(m.run(data)["formAnswers"])

    threads = [threading.Thread(target=work, args=(d,)) for d in (first, other, first, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {len(r) for r in results} == {6, 1}
    assert m.run(other)["formAnswers"] == [{"question": "fraga", "label": "F", "value": "svar"}]


def test_form_answers_omitted_when_empty_and_absent_without_the_key(tmp_path: Path) -> None:
    m = compiled(tmp_path, FORM)
    assert "formAnswers" not in m.run(flow(values="<a><Name>Q</Name><Value> </Value></a>"))
    plain = compiled(tmp_path, HEAD + "output: {id: {path: fi:Header/fi:FlowInstanceID}}\n", "p.yaml")
    assert plain.run(flow(values=VALUES)) == {"id": "1"}


def test_form_answer_values_never_reach_problems(tmp_path: Path) -> None:
    m = compiled(tmp_path, FORM + "  bad: {path: fi:Values/fi:hojd, convert: integer, required: true}\n")
    with pytest.raises(MappingFailed) as exc:
        m.run(flow(values=VALUES))
    assert all(secret not in str(p) for p in exc.value.problems for secret in ("Lind", "5,4", "Anna"))


# --- attachment size ----------------------------------------------------------------------------------------------

def attachment_mapping(tmp_path: Path, size: str | None) -> Any:
    option = f", attachment: {{size: {size}}}" if size else ""
    return compiled(tmp_path, HEAD + f"output:\n  files:\n    each: fi:Values//fi:File\n"
                    f"    value: {{path: ., convert: attachment{option}}}\n", f"a-{size}.yaml")


def file_values(declared: str, length: int = 1500) -> str:
    return (f"<q><File><ID>1</ID><Name>a.pdf</Name><Size>{declared}</Size>"
            f"<EncodedData>{b64encode(b'x' * length).decode()}</EncodedData></File></q>")


@pytest.mark.parametrize(("size", "declared", "ok"), [
    (None, "1500", True), (None, "1", False), (None, "", True), ("bytes", "1501", False),
    ("kB", "1,5", True), ("kB", "2", True), ("kB", "3", False), ("KiB", "1.46", True), ("MB", "0", True),
    ("MiB", "1", True), ("ignore", "99", True), ("kB", "abc", False),
])
def test_attachment_size_units(tmp_path: Path, size: str | None, declared: str, ok: bool) -> None:
    m = attachment_mapping(tmp_path, size)
    data = flow(values=file_values(declared))
    if ok:
        assert m.run(data)["files"][0]["size"] == 1500
    else:
        with pytest.raises(MappingFailed):
            m.run(data)


def test_size_mismatch_names_both_sizes(tmp_path: Path) -> None:
    with pytest.raises(MappingFailed) as exc:
        attachment_mapping(tmp_path, None).run(flow(values=file_values("1", 586)))
    assert exc.value.problems[0].message == ("File Size does not match the decoded file: declared Size 1 (bytes) "
                                             "but the decoded file is 586 bytes")
    with pytest.raises(MappingFailed) as exc:
        attachment_mapping(tmp_path, "kB").run(flow(values=file_values("0,5", 1600)))
    assert "declared Size 0.5 (kB) but the decoded file is 1600 bytes" in exc.value.problems[0].message


# --- decimal commas -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("4,0", 4), ("4.0", 4), ("142", 142), ("128,5", 128.5), ("1 234,5", 1234.5), ("1\u00a0234,5", 1234.5),
    ("1\u202f234\u202f567", 1234567), ("-0,5", -0.5), ("+3", 3), (" 7 ", 7), ("1,234", 1.234),
    ("4.5", 4.5), ("4.50", 4.5), ("0.500", 0.5), ("1234.567", 1234.567), ("\u22123,5", -3.5), ("\u22122", -2),
])
def test_number_reads_swedish_notation(text: str, expected: float) -> None:
    value = to_number(text, None)
    assert value == expected
    assert isinstance(value, int) == isinstance(expected, int)


@pytest.mark.parametrize(("text", "message"), [
    ("1.234,5", "ambiguous"), ("12,", "not a number"), (",5", "not a number"), ("1 23", "not a number"),
    ("12 345 6", "not a number"), ("abc", "not a number"), ("", "not a number"),
    # a point and exactly three digits: thousands or decimals?
    ("1.500", "ambiguous.*write"), ("12.345", "ambiguous.*write"), ("-1.500", "ambiguous"),
    ("0,5e3", "not a number"), ("1e3", "not a number"), ("1e999", "not a number"),  # no exponents
    ("\uff11\uff12", "not a number"), ("\u0663", "not a number"),  # digits 0-9 only
    ("6" * 5000, "longer than 40 characters"), ("1" * 41, "longer than 40 characters"),
])
def test_number_refuses_what_it_would_have_to_guess(text: str, message: str) -> None:
    with pytest.raises(ConversionError, match=message) as exc:
        to_number(text, None)
    assert text.strip() == "" or text not in str(exc.value)


def test_a_document_neither_kind_of_mapping_can_read_is_refused_for_what_it_looks_like(tmp_path):
    from brygga.settings import REPO_ROOT

    json_first = [compile_mapping(REPO_ROOT / "mappings" / "webhook" / "felanmalan.yaml"),
                  compile_mapping(REPO_ROOT / "mappings" / "open-eplatform" / "felanmalan.yaml")]
    with pytest.raises(InvalidSource, match=r"a DOCTYPE/DTD is not allowed in received XML"):
        choose_mapping(json_first, b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><FlowInstance/>")
    with pytest.raises(InvalidSource, match=r"not valid JSON: Expecting value: line 1"):
        choose_mapping(list(reversed(json_first)), b'{"flowInstance": ')
