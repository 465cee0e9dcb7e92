"""Property-based fuzzing of the XML intake and the mapping engine.

For arbitrary bytes and for generated Open ePlatform-like trees (with hostile pieces spliced in), reading and
mapping either succeed or raise Brygga's own documented errors: ``UnsafeOrMalformedXml`` from ``read_xml``,
``InvalidSource`` / ``MappingFailed`` from ``CompiledMapping.run``, ``MappingConfigError`` from compiling. Never
anything else, and never a value from the document in the message.

Settings: 200 examples per property and a 5 s deadline per example (generous, the machines are noisy; a hang or a
blow-up would still be caught). The inputs stay small, so the whole module runs in seconds.
"""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from brygga import xmlread
from brygga.blobs import DiscardingSink
from brygga.mapping import InvalidSource, MappingConfigError, MappingFailed, compile_mapping
from brygga.settings import REPO_ROOT
from brygga.xmlread import read_xml
from brygga.xmlsafe import UnsafeOrMalformedXml

# `make test` runs the same examples every time, so CI is reproducible; BRYGGA_FUZZ_EXPLORE=1 explores new ones.
FUZZ = settings(max_examples=200, deadline=timedelta(seconds=5), database=None,
                derandomize=not os.environ.get("BRYGGA_FUZZ_EXPLORE"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
NS = "http://www.oeplatform.org/version/2.0/schemas/flowinstance"
BYGGLOV = compile_mapping(REPO_ROOT / "mappings" / "open-eplatform" / "bygglov.yaml")
MARKER = "Hemligt7Varde"  # planted in documents: must never come back in a message
NAMES = ["FlowInstance", "Header", "Flow", "FlowID", "Name", "FlowInstanceID", "Posted", "Values", "sokande",
         "Firstname", "Lastname", "SocialSecurityNumber", "ZipCode", "fastighet", "Property",
         "PropertyUnitDesignation", "atgard", "Value", "beskrivning", "ytor", "Byggnadsarea", "File", "ID", "Size",
         "EncodedData", "OrganizationNumber", "OrganizationName"]
HOSTILE = [b"<!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>", b"&" + MARKER.encode() + b";", b"&#0;",
           b"\x00", b"\xff\xfe", b"<![CDATA[", b"]]>", b"<?xml-stylesheet href='x'?>", b"<!--", b"-->",
           b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="x"/>', b"<d>" * 300,
           b"QUJD=QUJD", b"</FlowInstance>", b'encoding="ISO-8859-1"', "Jörgen".encode(), b"\xc3\x28"]


def _xml_text(max_size: int = 40) -> st.SearchStrategy[str]:
    # Characters XML 1.0 allows (lxml refuses to build a tree holding others).
    return st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff")
                   .filter(lambda c: c in "\t\n\r" or ord(c) >= 0x20), max_size=max_size)


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> etree._Element:
    name = draw(st.sampled_from(NAMES))
    element = etree.Element(f"{{{NS}}}{name}")
    element.text = draw(st.one_of(_xml_text(), st.just(MARKER), st.sampled_from(["2001", "19850314-2385", "QUJD",
                                                                               "Nybyggnad", "128,5", ""])))
    if depth < 4:
        for child in draw(st.lists(trees(depth + 1), max_size=4)):
            element.append(child)
    return element


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    root = etree.Element(f"{{{NS}}}FlowInstance", nsmap={None: NS})
    for child in draw(st.lists(trees(1), max_size=4)):
        root.append(child)
    encoding = draw(st.sampled_from(["UTF-8", "ISO-8859-1"]))
    try:
        data = etree.tostring(root, xml_declaration=True, encoding=encoding)
    except UnicodeEncodeError:
        data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if draw(st.booleans()):  # splice a hostile piece in somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(HOSTILE)) + data[at:]
    return data


def _read_both_ways(data: bytes) -> None:
    for threshold in (xmlread.STREAM_ABOVE_BYTES, 16):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(xmlread, "STREAM_ABOVE_BYTES", threshold)
            try:
                root = read_xml(io.BytesIO(data), sink=DiscardingSink(), source_name="fuzz.xml")
            except UnsafeOrMalformedXml as exc:
                assert str(exc).startswith("fuzz.xml: ") and MARKER not in str(exc)
            else:
                assert isinstance(root.tag, str)


@FUZZ
@given(st.binary(max_size=2000))
def test_read_xml_on_arbitrary_bytes_reads_or_refuses(data: bytes) -> None:
    _read_both_ways(data)


@FUZZ
@given(documents())
def test_read_xml_on_generated_and_spliced_documents_reads_or_refuses(data: bytes) -> None:
    _read_both_ways(data)


def _map(mapping, data: bytes) -> None:  # type: ignore[no-untyped-def]
    try:
        case = mapping.run(data, source_name="fuzz.xml")
    except InvalidSource as exc:
        assert MARKER not in str(exc)
    except MappingFailed as failed:
        assert failed.problems and all(MARKER not in str(p) for p in failed.problems)
    else:
        assert isinstance(case, dict)


@FUZZ
@given(documents())
def test_the_bygglov_mapping_on_generated_documents_maps_or_fails_with_its_own_errors(data: bytes) -> None:
    _map(BYGGLOV, data)


@FUZZ
@given(st.binary(max_size=1000))
def test_the_bygglov_mapping_on_arbitrary_bytes_fails_with_its_own_errors(data: bytes) -> None:
    _map(BYGGLOV, data)


PATHS = ["fi:Header/fi:FlowInstanceID", "fi:Values//fi:Firstname", "fi:Values/*[fi:OrganizationNumber]",
         "fi:Values//fi:File", ".", "..", "fi:Values/fi:sokande[1]/fi:Lastname", "fi:Nope", "fi:Values/*[", "@x"]
CONVERTERS = ["string", "integer", "number", "boolean", "date", "datetime", "personnummer", "organisationsnummer",
              "postnummer", "fastighetsbeteckning", "upper", "strip", "attachment", "no-such-converter"]


@st.composite
def mappings(draw: st.DrawFn) -> str:
    fields = []
    for i in range(draw(st.integers(1, 4))):
        rule = f"{{path: '{draw(st.sampled_from(PATHS))}'"
        if draw(st.booleans()):
            rule += f", convert: {draw(st.sampled_from(CONVERTERS))}"
        if draw(st.booleans()):
            rule += ", required: true"
        fields.append(f"  f{i}: {rule}}}")
    each = draw(st.sampled_from(["", "  items:\n    each: fi:Values/*\n    fields: {x: {path: fi:Name}}\n"]))
    return ("source: xml\nroot: fi:FlowInstance\nnamespaces: {fi: '" + NS + "'}\noutput:\n"
            + "\n".join(fields) + "\n" + each)


@settings(FUZZ, max_examples=100)
@given(mappings(), documents())
def test_generated_mappings_compile_and_run_or_fail_with_their_own_errors(tmp_path_factory, spec: str,
                                                                          data: bytes) -> None:
    path = tmp_path_factory.mktemp("m") / "fuzz.yaml"
    path.write_text(spec, encoding="utf-8")
    try:
        mapping = compile_mapping(path)
    except MappingConfigError as exc:
        assert str(exc).startswith("mapping ")
        return
    _map(mapping, data)
