"""Reading the source's reference before, and whether or not, the mapping runs (brygga.mapping.peek)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from brygga.mapping import compile_mapping
from brygga.mapping import peek as peek_module
from brygga.mapping.peek import MAX_REFERENCE_CHARS, MAX_XML_BYTES, peek_reference, peek_route_reference
from brygga_simulators.oep_export import write_export_with_drawing

REPO = Path(__file__).resolve().parents[2]
OEP = REPO / "samples" / "open-eplatform"
MAPPINGS = REPO / "mappings"
FI = "http://www.oeplatform.org/version/2.0/schemas/flowinstance"
MIB = 1024 * 1024

XML_HEAD = f"""source: xml
namespaces: {{fi: {FI}}}
"""


def compiled(tmp_path: Path, text: str, name: str = "m.yaml") -> Any:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return compile_mapping(path, file=name)


def document(header: str = "<FlowInstanceID>2001</FlowInstanceID>", *, family: str = "412", values: str = "",
             before: str = "", root: str = "FlowInstance") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{before}<{root} xmlns="{FI}"><Header><Flow>'
            f"<FamilyID>{family}</FamilyID><Version>3</Version><FlowID>1187</FlowID></Flow>{header}</Header>"
            f"<Values>{values}</Values></{root}>").encode()


class Counting(io.RawIOBase):
    """A binary reader that counts the bytes handed out."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self.raw.read(size)
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self.raw.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def seekable(self) -> bool:
        return True


@pytest.fixture(scope="module")
def bygglov() -> Any:
    return compile_mapping(MAPPINGS / "open-eplatform" / "bygglov.yaml")


@pytest.mark.parametrize(("mapping", "sample"), [
    ("open-eplatform/bygglov.yaml", "bygglov-person.xml"),
    ("open-eplatform/bygglov.yaml", "bygglov-organisation.xml"),
    ("open-eplatform/attefall.yaml", "attefall-latin1.xml"),  # ISO-8859-1, as its declaration says
    ("open-eplatform/felanmalan.yaml", "felanmalan-gatlykta.xml"),
])
def test_the_peeked_reference_is_the_one_the_mapping_gives(mapping: str, sample: str) -> None:
    compiled_mapping = compile_mapping(MAPPINGS / mapping)
    case = compiled_mapping.run(OEP / sample, source_name=sample)
    assert peek_reference(compiled_mapping, OEP / sample) == case["source"]["reference"]


def test_the_webhook_json_reference_is_the_one_the_mapping_gives() -> None:
    mapping = compile_mapping(MAPPINGS / "webhook" / "felanmalan.yaml")
    sample = REPO / "samples" / "webhook" / "felanmalan-gatlykta.json"
    assert json.loads(sample.read_bytes())["flowInstance"]["id"] == 4711  # a JSON number, `convert: string`
    assert peek_reference(mapping, sample) == mapping.run(sample)["source"]["reference"] == "4711"


def test_the_header_is_read_even_when_the_rest_of_the_document_is_not_well_formed(bygglov: Any) -> None:
    assert peek_reference(bygglov, OEP / "bygglov-malformed.xml") == "2007"
    broken_after = document(values="<a><b></a>")
    assert peek_reference(bygglov, io.BytesIO(broken_after)) == "2001"


@pytest.mark.parametrize(("data", "why"), [
    (document(header="<FlowInstanceID>20<x></FlowInstanceID>"), "not well-formed inside the element"),
    (document().replace(b"<Flow>", b"<Flow><x></y>"), "not well-formed before the element"),
    (document(header=""), "no FlowInstanceID"),
    (document(header="<FlowInstanceID>   </FlowInstanceID>"), "blank"),
    (document(root="SomethingElse"), "another document element than the mapping's root"),
    (document(before='<!DOCTYPE x [<!ENTITY e "2001">]>'), "a DOCTYPE: refused whole"),
    (document(header="<FlowInstanceID>2001\n2002</FlowInstanceID>"), "two lines: no id"),
    (document(header=f"<FlowInstanceID>{'9' * (MAX_REFERENCE_CHARS + 1)}</FlowInstanceID>"), "too long"),
    (document(header="<FlowInstanceID>19850314-2385</FlowInstanceID>"), "the shape of a personnummer"),
    (document(header="<FlowInstanceID>anna@example.se</FlowInstanceID>"), "an e-mail address"),
    (b"", "empty"),
    (b"\x00\x01 not xml", "not XML"),
    (document()[:120], "cut off before the element"),
])
def test_no_reference_when_it_cannot_be_read_or_is_no_id(bygglov: Any, data: bytes, why: str) -> None:
    assert peek_reference(bygglov, io.BytesIO(data)) is None, why


def test_white_space_around_the_reference_goes_and_the_first_element_in_document_order_counts(bygglov: Any) -> None:
    assert peek_reference(bygglov, io.BytesIO(document(header="<FlowInstanceID>\n  2001 \n</FlowInstanceID>"))) \
        == "2001"
    two_headers = document().replace(b"</Header>", b"</Header><Header><FlowInstanceID>9</FlowInstanceID></Header>")
    assert peek_reference(bygglov, io.BytesIO(two_headers)) == "2001"
    first_lacks_it = document(header="").replace(
        b"</Header>", b"</Header><Header><FlowInstanceID>9</FlowInstanceID></Header>")
    assert peek_reference(bygglov, io.BytesIO(first_lacks_it)) == "9"  # as the mapping's XPath finds it


def test_a_reference_of_the_longest_allowed_length_is_kept(bygglov: Any) -> None:
    longest = "7" * MAX_REFERENCE_CHARS
    assert peek_reference(bygglov, io.BytesIO(document(header=f"<FlowInstanceID>{longest}</FlowInstanceID>"))) \
        == longest


def test_a_30_mb_export_is_read_only_at_its_start(tmp_path: Path, bygglov: Any) -> None:
    export = tmp_path / "stor-ritning.xml"
    write_export_with_drawing(export, 30 * MIB, sample=OEP / "bygglov-person.xml")
    with export.open("rb") as raw:
        reader = Counting(raw)
        assert peek_reference(bygglov, reader) == "2001"
    assert reader.bytes_read <= 64 * 1024, reader.bytes_read


def test_a_reference_far_into_a_document_is_not_looked_for_past_the_budget(bygglov: Any) -> None:
    filler = "<Filler>" + "x" * (MAX_XML_BYTES + MIB) + "</Filler>"
    data = document(header="").replace(b"<Header>", f"{filler}<Header>".encode()).replace(
        b"</Flow>", b"</Flow><FlowInstanceID>2001</FlowInstanceID>")
    reader = Counting(io.BytesIO(data))
    assert peek_reference(bygglov, reader) is None
    assert reader.bytes_read <= MAX_XML_BYTES


def test_a_route_peek_with_dispatch_reads_only_the_start_of_a_30_mb_export(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Two mappings that read the reference in different places: the dispatch (by e-service) must choose.
    other = XML_HEAD + ('accepts: {family_id: "999"}\noutput:\n  source:\n'
                        "    reference: {path: fi:Header/fi:Flow/fi:FlowID}\n")
    mappings = [compiled(tmp_path, other), compile_mapping(MAPPINGS / "open-eplatform" / "bygglov.yaml")]
    export = tmp_path / "stor-ritning.xml"
    write_export_with_drawing(export, 30 * MIB, sample=OEP / "bygglov-person.xml")
    opened: list[Counting] = []
    real_open = Path.open

    def counting_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, *args, **kwargs)
        if self == export:
            opened.append(Counting(handle))
            return io.BufferedReader(opened[-1])
        return handle

    monkeypatch.setattr(Path, "open", counting_open)
    assert peek_route_reference(mappings, export, source_name=export.name) == "2001"
    assert len(opened) >= 2, "the dispatch and the peek each read the file"
    assert sum(c.bytes_read for c in opened) <= 4 * 64 * 1024, [c.bytes_read for c in opened]


def test_the_dispatch_chooses_where_the_reference_is_read(tmp_path: Path) -> None:
    by_flow_id = XML_HEAD + ('accepts: {family_id: "999"}\noutput:\n  source:\n'
                             "    reference: {path: fi:Header/fi:Flow/fi:FlowID}\n")
    by_instance = XML_HEAD + ('accepts: {family_id: "412"}\noutput:\n  source:\n'
                              "    reference: {path: fi:Header/fi:FlowInstanceID}\n")
    mappings = [compiled(tmp_path, by_instance, "a.yaml"), compiled(tmp_path, by_flow_id, "b.yaml")]
    path = tmp_path / "doc.xml"
    path.write_bytes(document(family="999"))
    assert peek_route_reference(mappings, path, source_name="doc.xml") == "1187"  # b's rule, though a comes first
    path.write_bytes(document(family="412"))
    assert peek_route_reference(mappings, path, source_name="doc.xml") == "2001"
    # No mapping accepts it: the route's mappings in order, the first reference found.
    path.write_bytes(document(family="1"))
    assert peek_route_reference(mappings, path, source_name="doc.xml") == "2001"
    path.write_bytes(document(family="1", header=""))
    assert peek_route_reference(mappings, path, source_name="doc.xml") == "1187"


def test_a_route_with_xml_and_json_mappings_reads_each_kind_by_its_own_rule(tmp_path: Path) -> None:
    xml = compile_mapping(MAPPINGS / "open-eplatform" / "felanmalan.yaml")
    webhook = compile_mapping(MAPPINGS / "webhook" / "felanmalan.yaml")
    for name, reference in ((OEP / "bygglov-person.xml", "2001"),
                            (REPO / "samples" / "webhook" / "felanmalan-gatlykta.json", "4711")):
        assert peek_route_reference([xml, webhook], name, source_name=name.name) == reference
        assert peek_route_reference([webhook, xml], name, source_name=name.name) == reference


@pytest.mark.parametrize("rule", [
    '{template: "oep-{fi:Header/fi:FlowInstanceID}"}',
    "{const: '2001'}",
    "{context: tenant.kommunkod}",
    "{path: fi:Header/fi:FlowInstanceID, convert: integer}",
    "{path: fi:Header/fi:FlowInstanceID, extract: {pattern: '(\\d+)'}}",
    "{path: fi:Header/fi:FlowInstanceID, when: fi:Header/fi:Posted}",
    "{path: 'fi:Header/fi:FlowInstanceID[1]'}",
    "{path: [fi:Header/fi:FlowInstanceID, fi:Header/fi:Flow/fi:FlowID]}",
    "{first_of: [{path: fi:Header/fi:FlowInstanceID}]}",
])
def test_only_a_plain_path_rule_is_peeked(tmp_path: Path, rule: str) -> None:
    mapping = compiled(tmp_path, XML_HEAD + f"output:\n  source:\n    reference: {rule}\n")
    assert mapping.reference_path is None
    assert peek_reference(mapping, io.BytesIO(document())) is None


@pytest.mark.parametrize("source", [
    "  source:\n    reference: {path: fi:Header/fi:FlowInstanceID, required: true, convert: string}\n",
    "  source:\n    fields:\n      reference: {path: fi:Header/fi:FlowInstanceID}\n",
])
def test_plain_path_rules_in_either_form_are_peeked(tmp_path: Path, source: str) -> None:
    mapping = compiled(tmp_path, XML_HEAD + "root: fi:FlowInstance\noutput:\n" + source)
    assert peek_reference(mapping, io.BytesIO(document())) == "2001"


def test_a_mapping_without_a_source_reference_peeks_nothing(tmp_path: Path) -> None:
    mapping = compiled(tmp_path, XML_HEAD + "output:\n  title: {path: fi:Header/fi:Flow/fi:Name}\n")
    assert mapping.reference_path is None
    assert peek_route_reference([mapping], OEP / "bygglov-person.xml", source_name="x.xml") is None


@pytest.mark.parametrize(("data", "expected"), [
    (b'{"flowInstance": {"id": "A-17"}}', "A-17"),
    (b'{"flowInstance": {"id": 17}}', "17"),
    (b'{"flowInstance": {"id": true}}', None),
    (b'{"flowInstance": {"id": {"n": 1}}}', None),
    (b'{"flowInstance": {}}', None),
    (b'[{"flowInstance": {"id": 17}}]', None),
    (b'{"flowInstance": {"id": 17}', None),
    (b"\xff\xfe", None),
])
def test_json_references(tmp_path: Path, data: bytes, expected: str | None) -> None:
    mapping = compiled(tmp_path, "source: json\noutput:\n  source:\n    reference: {path: flowInstance.id}\n")
    assert peek_reference(mapping, io.BytesIO(data)) == expected


def test_json_over_the_peek_limit_is_not_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = compiled(tmp_path, "source: json\noutput:\n  source:\n    reference: {path: id}\n")
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"id": "B-1", "pad": "x" * 500}))
    assert peek_reference(mapping, path) == "B-1"
    monkeypatch.setattr(peek_module, "MAX_JSON_BYTES", 100)
    assert peek_reference(mapping, path) is None
    assert peek_reference(mapping, io.BytesIO(path.read_bytes())) is None


def test_a_missing_file_or_a_folder_gives_none(tmp_path: Path, bygglov: Any) -> None:
    assert peek_reference(bygglov, tmp_path / "gone.xml") is None
    assert peek_reference(bygglov, tmp_path) is None
    assert peek_route_reference([bygglov], tmp_path / "gone.xml", source_name="gone.xml") is None
