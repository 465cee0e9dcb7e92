"""Reading received XML with its attachments streamed out: both paths agree, and the defences hold."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from pathlib import Path

import pytest
from lxml import etree

from brygga import xmlread
from brygga.blobs import BLOB_ERROR, BLOB_SHA256, BLOB_SIZE, DiscardingSink
from brygga.mapping import InvalidSource, MappingFailed, compile_mapping
from brygga.settings import REPO_ROOT
from brygga.storage import ContentStore
from brygga.xmlread import MAX_TEXT_CHARS, read_xml
from brygga.xmlsafe import UnsafeOrMalformedXml

SAMPLES = sorted((REPO_ROOT / "tests" / "samples" / "open-eplatform").glob("*.xml"))
MAPPING = REPO_ROOT / "mappings" / "open-eplatform" / "bygglov.yaml"
PERSON = REPO_ROOT / "samples" / "open-eplatform" / "bygglov-person.xml"


def _outcome(read):  # type: ignore[no-untyped-def]
    sink = DiscardingSink()
    try:
        root = read(sink)
    except UnsafeOrMalformedXml:
        # libxml2 words the same fault differently when fed in chunks; that it is refused is what counts.
        return ("refused", None), sink.stored
    return ("tree", etree.tostring(root, encoding="unicode")), sink.stored


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_streamed_and_whole_reads_agree_on_every_sample(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = sample.read_bytes()
    whole = _outcome(lambda sink: read_xml(data, sink=sink, source_name="f"))
    monkeypatch.setattr(xmlread, "STREAM_ABOVE_BYTES", 16)  # force the streaming path
    streamed = _outcome(lambda sink: read_xml(io.BytesIO(data), sink=sink, source_name="f"))
    assert streamed == whole


def _oep_with_file(content: bytes, *, encoding: str = "UTF-8", wrap: bool = True) -> bytes:
    encoded = base64.encodebytes(content) if wrap else base64.b64encode(content)
    return (f'<?xml version="1.0" encoding="{encoding}"?>'
            '<FlowInstance xmlns="http://www.oeplatform.org/version/2.0/schemas/flowinstance"><Values><q>'
            '<Name>Märta</Name><File><ID>1</ID><Name>ritning.pdf</Name>'
            f'<Size>{len(content)}</Size><EncodedData>').encode(encoding) + encoded + \
        b"</EncodedData></File></q></Values></FlowInstance>"


def test_a_large_attachment_streams_into_the_store_and_leaves_a_reference(tmp_path: Path) -> None:
    content = os.urandom(12 * 1024 * 1024)  # over libxml2's 10 MB text-node limit once base64-encoded
    source = tmp_path / "in.xml"
    source.write_bytes(_oep_with_file(content, encoding="ISO-8859-1"))
    store = ContentStore(tmp_path / "content")
    root = read_xml(source, sink=store, source_name="in.xml")
    (encoded,) = root.iter("{*}EncodedData")
    sha = hashlib.sha256(content).hexdigest()
    assert encoded.get(BLOB_SHA256) == sha and encoded.get(BLOB_SIZE) == str(len(content))
    assert encoded.text is None
    assert store.path_for(sha).read_bytes() == content
    assert root.findtext(".//{*}q/{*}Name") == "Märta"  # the ISO-8859-1 declaration was honoured


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize(("encoded", "reason"), [
    (b"not base64!", "EncodedData is not valid base64"),
    (b"QUJD=QUJD", "EncodedData is not valid base64"),
    (b"QUJDRA==QUJD", "EncodedData is not valid base64"),
    (b"QUJDR", "EncodedData is not valid base64"),
    (b"QUJD<b/>QUJD", "EncodedData is not valid base64"),
    (b"QUJD<!-- a comment -->RA==", "EncodedData is not valid base64"),
    (b"QUJD<?pi data?>RA==", "EncodedData is not valid base64"),
    (b"   ", "File has no EncodedData"),
    (b"QUJDREVGR0g=", "the attachment is 8 bytes, over the route's limit of 5 bytes"),
])
def test_bad_or_oversize_base64_is_marked_and_never_stored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: bool, encoded: bytes, reason: str) -> None:
    if stream:
        monkeypatch.setattr(xmlread, "STREAM_ABOVE_BYTES", 16)
    store = ContentStore(tmp_path / "content")
    data = b"<a><EncodedData>" + encoded + b"</EncodedData><b>kept</b></a>"
    root = read_xml(io.BytesIO(data), sink=store, max_attachment_bytes=5)
    element = root.find("EncodedData")
    assert reason in element.get(BLOB_ERROR) and element.get(BLOB_SHA256) is None
    assert root.findtext("b") == "kept"
    assert [p for p in store.root.rglob("*") if p.is_file()] == []  # no blob, no temporary file left


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("encoded", [b"<![CDATA[QUJDRA==]]>", b"QUJD&#82;A==", b"QU<![CDATA[JD]]>RA=="])
def test_cdata_and_character_references_are_text_on_both_paths(
        monkeypatch: pytest.MonkeyPatch, stream: bool, encoded: bytes) -> None:
    if stream:
        monkeypatch.setattr(xmlread, "STREAM_ABOVE_BYTES", 16)
    sink = DiscardingSink()
    root = read_xml(io.BytesIO(b"<a><EncodedData>" + encoded + b"</EncodedData></a>"), sink=sink)
    assert root.find("EncodedData").get(BLOB_SHA256) == hashlib.sha256(b"ABCD").hexdigest()


def test_a_document_broken_inside_an_attachment_leaves_no_blob_and_no_temporary_file(tmp_path: Path) -> None:
    content = os.urandom(6 * 1024 * 1024)
    truncated = _oep_with_file(content)[: 5 * 1024 * 1024]  # cut off in the middle of EncodedData
    store = ContentStore(tmp_path / "content")
    with pytest.raises(UnsafeOrMalformedXml, match="not well-formed"):
        read_xml(io.BytesIO(truncated), sink=store, source_name="cut.xml")
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("markup", [b"<!--%s-->", b"<?pi %s?>", b'<b c="%s"/>'], ids=["comment", "pi", "attribute"])
def test_comments_instructions_and_attributes_count_against_the_text_ceiling(markup: bytes) -> None:
    filler = b"x" * (MAX_TEXT_CHARS // 2 + 1)
    huge = b"<a>" + markup % filler + markup % filler + b"</a>"
    with pytest.raises(UnsafeOrMalformedXml, match="text outside attachments is over the limit"):
        read_xml(io.BytesIO(huge), source_name="big.xml")


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_doctype_entities_and_malformed_input_are_refused_on_both_paths(
        monkeypatch: pytest.MonkeyPatch, stream: bool) -> None:
    if stream:
        monkeypatch.setattr(xmlread, "STREAM_ABOVE_BYTES", 16)
    samples = REPO_ROOT / "tests" / "samples" / "open-eplatform"
    for name, reason in [("bygglov-xxe.xml", "DOCTYPE/DTD is not allowed"),
                         # a billion-laughs DTD: libxml2's amplification guard may answer before our refusal
                         ("bygglov-doctype.xml", "DOCTYPE/DTD is not allowed|amplification"),
                         ("bygglov-malformed.xml", "not well-formed XML")]:
        with pytest.raises(UnsafeOrMalformedXml, match=reason) as refused:
            read_xml(io.BytesIO((samples / name).read_bytes()), source_name=name)
        assert str(refused.value).startswith(f"{name}: ")


def test_text_outside_attachments_has_a_ceiling() -> None:
    huge = b"<a><b>" + b"x" * (MAX_TEXT_CHARS + 1) + b"</b></a>"
    with pytest.raises(UnsafeOrMalformedXml, match="text outside attachments is over the limit"):
        read_xml(io.BytesIO(huge), source_name="big.xml")


def test_an_oep_export_with_a_large_drawing_translates(tmp_path: Path) -> None:
    """v0 refused any attachment over about 7 MB with a misleading "not well-formed XML"."""
    content = os.urandom(9 * 1024 * 1024)
    person = PERSON.read_bytes()
    drawing = (b"<File><ID>99</ID><Name>ritning.pdf</Name><Size>" + str(len(content)).encode() +
               b"</Size><EncodedData>" + base64.encodebytes(content) + b"</EncodedData></File>")
    patched = person.replace(b"</Values>", b"<ritning>" + drawing + b"</ritning></Values>", 1)
    source = tmp_path / "big.xml"
    source.write_bytes(patched)
    store = ContentStore(tmp_path / "content")
    case = compile_mapping(MAPPING).run(source, blob_sink=store)
    big = [a for a in case["attachments"] if a["sourceId"] == "99"]
    assert big == [{"sourceId": "99", "name": "ritning.pdf", "mediaType": "application/pdf",
                    "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}]
    assert store.path_for(big[0]["sha256"]).read_bytes() == content
    with pytest.raises(MappingFailed) as failed:
        compile_mapping(MAPPING).run(source, blob_sink=store, max_attachment_bytes=1024 * 1024)
    (problem,) = failed.value.problems
    assert problem.rule.startswith("attachments[") and "limits.max_attachment_bytes" in problem.message
    with pytest.raises(InvalidSource, match="not well-formed"):
        compile_mapping(MAPPING).run(b"<not-closed>")
