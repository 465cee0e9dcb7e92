"""What a value claims (the claim log and its roll-back), bounded identity text, header read vs run, size tolerance,
and `number`'s limits."""

from __future__ import annotations

import io
from base64 import b64encode
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from brygga.mapping import InvalidSource, MappingFailed, compile_mapping
from brygga.mapping.attachments import check_size
from brygga.mapping.converters import to_number
from brygga.mapping.dispatch import (
    MAX_IDENTITY_CHARS,
    OPEN_EPLATFORM_IDENTITY,
    EService,
    NotAccepted,
    choose_mapping,
    read_identity,
)
from brygga.mapping.errors import ConversionError, InvalidXmlSource
from brygga.mapping.paths import _child_index

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "tests" / "samples" / "open-eplatform"
FI = "http://www.oeplatform.org/version/2.0/schemas/flowinstance"
HEAD = f"source: xml\nroot: fi:FlowInstance\nnamespaces: {{fi: {FI}}}\n"
FORM = """form_answers:
  each: fi:Values/*
  label: fi:Name
  ignore: [fi:QueryID, fi:Name]
"""


def compiled(tmp_path: Path, text: str, name: str = "m.yaml") -> Any:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return compile_mapping(path, file=name)


def document(values: str, header: str = "") -> bytes:
    return f'<FlowInstance xmlns="{FI}">{header}<Values>{values}</Values></FlowInstance>'.encode()


def questions(out: dict[str, Any]) -> dict[str, str]:
    return {a["question"]: a["value"] for a in out.get("formAnswers", [])}


# --- claims: only what the output used -----------------------------------------------------------------------------

def test_a_value_map_default_leaves_the_answer_in_form_answers() -> None:
    m = compile_mapping(REPO / "mappings" / "open-eplatform" / "bygglov.yaml")
    data = (SAMPLES / "bygglov-person.xml").read_bytes()
    known = m.run(data)
    assert known["details"]["bygglov"]["buildingType"] != "annan"
    assert "byggnadstyp" not in questions(known)  # a code of the map: read, claimed
    other = data.replace(b"<Value><![CDATA[Enbostadshus]]></Value>", "<Value>Växthus med orangeri</Value>".encode())
    assert other != data
    out = m.run(other)
    assert out["details"]["bygglov"]["buildingType"] == "annan"  # the map's default
    assert {"question": "byggnadstyp", "label": "Typ av byggnad", "value": "Växthus med orangeri"} \
        in out["formAnswers"]


CLAIMS = HEAD + FORM + r"""output:
  phone: {path: fi:Values/fi:kontakt/fi:Value, extract: {pattern: '^\+?[0-9 -]+$', unmatched: empty}}
  kind: {path: fi:Values/fi:typ/fi:Value, map: typ}
  kindOrNothing: {path: fi:Values/fi:typ2/fi:Value, map: nullable, default: fallback}
  alt:
    first_of:
      - {path: fi:Values/fi:a/fi:Value, extract: {pattern: '^[0-9]+$', unmatched: empty}}
      - {path: fi:Values/fi:b/fi:Value}
  outerMap:
    first_of: [{path: fi:Values/fi:c/fi:Value}, {path: fi:Values/fi:d/fi:Value}]
    map: typ
  note: {path: fi:Values/fi:grupp}
  missing: {path: fi:Values/fi:tom/fi:Value, default: none}
value_maps:
  typ:
    values: {A: a}
    default: other
  nullable:
    values: {A: a}
    default: null
"""


def test_claims_are_taken_back_when_the_value_read_is_not_used(tmp_path: Path) -> None:
    m = compiled(tmp_path, CLAIMS)
    out = m.run(document(
        "<kontakt><Name>Telefon</Name><Value>ring efter 17, 070-123 45 67</Value></kontakt>"
        "<typ><Name>Typ</Name><Value>Garage med verkstad</Value></typ>"
        "<typ2><Name>Typ2</Name><Value>Friggebod</Value></typ2>"
        "<a><Name>A</Name><Value>ca 12 m2</Value></a>"
        "<b><Name>B</Name><Value>fallback</Value></b>"
        "<c><Name>C</Name><Value>okänd</Value></c>"
        "<grupp><Name>Grupp</Name><Extra>viktig text</Extra><Value>v</Value></grupp>"
        "<tom><Name>Tom</Name><Value> </Value></tom>"))
    assert {k: out[k] for k in ("kind", "kindOrNothing", "alt", "outerMap", "missing")} == {
        "kind": "other", "kindOrNothing": "fallback", "alt": "fallback", "outerMap": "other", "missing": "none"}
    assert "phone" not in out
    assert questions(out) == {
        "kontakt": "ring efter 17, 070-123 45 67",  # extract, unmatched: empty
        "typ": "Garage med verkstad",               # the value map's default
        "typ2": "Friggebod",                        # a null map default, then the node's default
        "a": "ca 12 m2",                            # a first_of alternative discarded after conversion
        "c": "okänd",                               # the outer map's default over a first_of
        "grupp/Extra": "viktig text",               # the text of an element with children claims nothing
        "grupp": "v",
    }


def test_claims_stay_when_the_value_read_is_used(tmp_path: Path) -> None:
    m = compiled(tmp_path, CLAIMS)
    out = m.run(document(
        "<kontakt><Name>Telefon</Name><Value>070-123 45 67</Value></kontakt>"
        "<typ><Name>Typ</Name><Value>A</Value></typ>"
        "<a><Name>A</Name><Value>12</Value></a><b><Name>B</Name><Value>kvar</Value></b>"
        "<c><Name>C</Name><Value>A</Value></c>"
        "<x><Name>X</Name><Value>oläst<!-- c --></Value></x>"))
    assert out["phone"] == "070-123 45 67" and out["kind"] == "a" and out["alt"] == "12" and out["outerMap"] == "a"
    assert questions(out) == {"b": "kvar", "x": "oläst"}  # b: the first alternative won, b was never read


def test_a_leaf_with_a_comment_is_still_a_leaf_and_claimed(tmp_path: Path) -> None:
    m = compiled(tmp_path, HEAD + FORM + "output:\n  x: {path: fi:Values/fi:x/fi:Value}\n"
                 "  y: {path: 'fi:Values/fi:y/fi:Value/text()'}\n")
    out = m.run(document("<x><Value>ett<!-- c --></Value></x><y><Value>två<?p?></Value></y>"))
    assert out["x"] == "ett" and out["y"] == "två" and "formAnswers" not in out


# --- number -----------------------------------------------------------------------------------------------------

def test_a_huge_number_is_a_problem_of_the_run_not_a_crash(tmp_path: Path) -> None:
    m = compiled(tmp_path, HEAD + "output:\n  n: {path: fi:Values/fi:n, convert: number}\n")
    with pytest.raises(MappingFailed) as exc:
        m.run(document("<n>" + "6" * 5000 + "</n>"))
    (problem,) = exc.value.problems
    assert problem.message == "value is longer than 40 characters, the limit for a number"
    assert to_number("1" * 40, None) == int("1" * 40)


def test_number_problems_never_quote_the_value() -> None:
    for text in ("1.500", "12.345", "0,5e3", "7" * 100):
        with pytest.raises(ConversionError) as exc:
            to_number(text, None)
        assert text not in str(exc.value)


# --- attachment size tolerance ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("declared", "unit", "length", "ok"), [
    ("2", "kB", 1001, True), ("2", "kB", 2999, True), ("2", "kB", 1000, False), ("2", "kB", 3000, False),
    ("1,5", "MB", 1_400_001, True), ("1,5", "MB", 1_599_999, True),
    ("1,5", "MB", 1_400_000, False), ("1,5", "MB", 1_600_000, False), ("1.5", "MB", 1_000_001, False),
    ("1,50", "MB", 1_509_999, True), ("1,50", "MB", 1_510_000, False),
    ("1", "KiB", 1, True), ("1", "KiB", 2047, True), ("1", "KiB", 0, False), ("1", "KiB", 2048, False),
    ("0", "kB", 999, True), ("0", "kB", 1000, False),
])
def test_size_tolerance_is_one_step_of_the_declared_precision_exclusive(declared: str, unit: str, length: int,
                                                                        ok: bool) -> None:
    if ok:
        check_size(declared, length, unit)
    else:
        with pytest.raises(ConversionError, match="does not match"):
            check_size(declared, length, unit)


def test_a_huge_declared_size_is_a_problem_not_a_crash() -> None:
    for unit in ("bytes", "kB"):
        with pytest.raises(ConversionError, match="File Size is not"):
            check_size("9" * 5000, 1, unit)


# --- identity: bounded, checked as the run checks -----------------------------------------------------------------

def header(family: str, name: str = "Bygglov", flow_id: str = "2290") -> str:
    return (f"<Header><Flow><FamilyID>{family}</FamilyID><Version>1</Version><FlowID>{flow_id}</FlowID>"
            f"<Name>{name}</Name></Flow></Header>")


def test_describe_shows_only_ids_that_look_like_ids_and_a_short_name() -> None:
    assert EService("open-eplatform", "a.b_c-1", name="x").describe() == "Open ePlatform FamilyID a.b_c-1 (x)"
    long_name = "Ansökan " * 100
    text = EService("open-eplatform", "19850314 2385", "9" * 41, "1", long_name).describe()
    assert text.startswith("Open ePlatform FamilyID (not an id), FlowID (not an id), version 1 (Ansökan Ansökan")
    assert text.endswith("…)") and len(text) < 200
    assert EService(name="a\nb\t c").describe() == "(a b c)"


def test_a_huge_family_id_gives_a_short_message(tmp_path: Path) -> None:
    accepting = compiled(tmp_path, HEAD + 'accepts: {family_id: "127"}\noutput: {id: {path: fi:Header}}\n')
    data = document("", header("19850314-2385 " * 400_000, name="N" * 10_000))
    eservice = read_identity(data, accepting)
    assert len(eservice.family_id) == MAX_IDENTITY_CHARS and len(eservice.name) == MAX_IDENTITY_CHARS
    with pytest.raises(NotAccepted) as exc:
        choose_mapping([accepting], data, route="r")
    assert len(str(exc.value)) < 400 and "FamilyID (not an id)" in str(exc.value)
    with pytest.raises(NotAccepted) as run_exc:  # the run reads the whole tree, and says the same
        accepting.run(data)
    assert "FamilyID (not an id)" in str(run_exc.value) and len(str(run_exc.value)) < 400
    assert run_exc.value.eservice == eservice  # the tree and the stream cut the text alike


def test_identity_text_skips_leading_white_space_before_the_cut(tmp_path: Path) -> None:
    m = compiled(tmp_path, HEAD + 'accepts: {family_id: "127"}\noutput: {id: {path: fi:Header}}\n')
    data = document("", header(" " * 5000 + "127" + " " * 5000))
    assert read_identity(data, m).family_id == "127"
    assert m.run(data)["id"].startswith("127")  # accepted by the run too


def test_header_read_refuses_xinclude_and_an_empty_document_as_the_run_does(tmp_path: Path) -> None:
    m = compiled(tmp_path, HEAD + 'accepts: {family_id: "127"}\noutput: {id: {path: fi:Header}}\n')
    xinclude = document("", '<Header><Flow><FamilyID>127</FamilyID><xi:include '
                            'xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/></Flow></Header>')
    for data in (xinclude, b""):
        with pytest.raises(InvalidXmlSource) as run_exc:
            m.run(data)
        with pytest.raises(InvalidXmlSource) as read_exc:
            read_identity(data, m)
        assert str(read_exc.value) == str(run_exc.value)
        with pytest.raises(InvalidXmlSource) as choose_exc:
            choose_mapping([m], data)
        assert str(choose_exc.value) == str(run_exc.value)
    assert "document is empty" in str(run_exc.value)


def test_a_mislabelled_encoding_is_the_reason_given_rather_than_a_garbled_name(tmp_path: Path) -> None:
    m = compiled(tmp_path, HEAD + 'accepts: {family_id: "412"}\noutput: {id: {path: fi:Header}}\n')
    data = (b'<?xml version="1.0" encoding="ISO-8859-1"?>'
            + document("<q><Value>åäö</Value></q>", header("127", name="Anmälan")).replace(b"\n", b""))
    assert data.decode("utf-8")  # the bytes are UTF-8, though the declaration says ISO-8859-1
    with pytest.raises(InvalidXmlSource) as run_exc:
        m.run(data)
    for source in (data, io.BytesIO(data)):
        with pytest.raises(InvalidSource) as exc:
            choose_mapping([m], source)
        assert not isinstance(exc.value, NotAccepted)
        assert str(exc.value) == str(run_exc.value)
        assert "Anm" not in str(exc.value)
    path = tmp_path / "x.xml"
    path.write_bytes(data)
    with pytest.raises(InvalidXmlSource, match="bytes are UTF-8"):
        choose_mapping([m], path, source_name="x.xml")
    # Really ISO-8859-1: no refusal for the encoding; the name reads right.
    latin = data.decode("utf-8").encode("latin-1")
    with pytest.raises(NotAccepted, match=r"\(Anmälan\)"):
        choose_mapping([m], latin)


def test_from_tree_builds_the_engines_child_index() -> None:
    tree = etree.fromstring(document("<q/>", header("127")))
    indexes: dict[Any, Any] = {}
    eservice = OPEN_EPLATFORM_IDENTITY.from_tree(tree, indexes)
    assert eservice.family_id == "127" and eservice.name == "Bygglov"
    assert indexes and all(index == _child_index(element) for element, index in indexes.items())


def test_a_stream_is_put_back_after_the_encoding_check(tmp_path: Path) -> None:
    m = compiled(tmp_path, HEAD + 'accepts: {family_id: "412"}\noutput: {id: {path: fi:Header}}\n')
    stream = io.BytesIO(b"xx" + document("", header("127")))
    stream.seek(2)
    with pytest.raises(NotAccepted):
        choose_mapping([m], stream)
    assert stream.tell() == 2


def test_attachment_size_through_a_mapping(tmp_path: Path) -> None:
    m = compiled(tmp_path, HEAD + "output:\n  files:\n    each: fi:Values//fi:File\n"
                 "    value: {path: ., convert: attachment, attachment: {size: kB}}\n")

    def run(declared: str, length: int) -> Any:
        return m.run(document(f"<q><File><ID>1</ID><Name>a.pdf</Name><Size>{declared}</Size>"
                              f"<EncodedData>{b64encode(b'x' * length).decode()}</EncodedData></File></q>"))

    assert run("2", 1001)["files"][0]["size"] == 1001
    with pytest.raises(MappingFailed, match="declared Size 2 \\(kB\\) but the decoded file is 1000 bytes"):
        run("2", 1000)
