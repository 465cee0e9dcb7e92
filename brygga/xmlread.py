"""Read received XML safely, moving base64 attachments out of the document as they stream by.

An Open ePlatform export carries every uploaded file inline as ``<EncodedData>`` base64; a building permit's
drawings make that 10–200 MB. libxml2 refuses a text node over 10 MB unless ``huge_tree`` is on (with a
misleading "not well-formed"), and even then the text, its decoded bytes and their copies cost about five times
the attachment in memory. So the text of every *binary element* (``EncodedData`` by default) never enters the
tree: it is base64-decoded in chunks straight into a blob sink (the content store), hashed as it goes, and the
element keeps only a reference in attributes of the ``urn:brygga:blob`` namespace:

    <EncodedData blob:sha256="…" blob:size="52428800"/>      or      <EncodedData blob:error="…"/>

Small documents are parsed natively (fast) and their binary elements extracted afterwards; large ones are fed
to the parser in chunks through a target that builds the tree itself. Both give the same tree. The defences of
the safe parser hold in both: no DTD, no entities, no network, libxml2's limits on everything that is not a
binary element, plus a cap on the text outside binary elements. libxml2 does not apply its nesting limit to a
parser target, so the target applies the same one (``MAX_DEPTH``), and it refuses XInclude elements as
``parse_xml`` does. A document that declares ISO-8859-1 but whose bytes are UTF-8 is refused on both paths: the
streaming one watches the bytes as they are fed (``MislabelledUtf8``) and gives its verdict at the end.
"""

from __future__ import annotations

import binascii
import io
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from brygga.blobs import (
    BLOB_SHA256,
    BLOB_SIZE,
    DEFAULT_MAX_ATTACHMENT_BYTES,
    Base64Decoder,
    BlobSink,
    DiscardingSink,
)
from brygga.xmlsafe import (
    MAX_DEPTH,
    XINCLUDE_NAMESPACES,
    XINCLUDE_REASON,
    MislabelledUtf8,
    UnsafeOrMalformedXml,
    declared_single_byte_encoding,
    doctype_reason,
    first_parse_error,
    mislabelled_utf8_reason,
    parse_xml,
    safe_parser,
)

DEFAULT_BINARY_ELEMENTS = frozenset({"EncodedData"})
# Above this, a document is streamed instead of read whole; well under libxml2's 10 MB text-node limit.
STREAM_ABOVE_BYTES = 4 * 1024 * 1024
FEED_CHUNK = 1 << 20


# Text outside binary elements, all together: libxml2's own limit for one text node, for the whole document.
MAX_TEXT_CHARS = 10_000_000


class _Refused(Exception):
    """Raised inside the parser target; lxml would otherwise report only its own follow-up error."""


class _StreamingTarget:
    """Parser target: builds the tree like a normal parse, but binary elements' text goes to a decoder."""

    def __init__(self, binary_names: frozenset[str], sink: BlobSink, max_attachment_bytes: int) -> None:
        self._builder = etree.TreeBuilder()
        self._binary_names = binary_names
        self._sink = sink
        self._max_attachment = max_attachment_bytes
        self._text_left = MAX_TEXT_CHARS
        self._decoder: Base64Decoder | None = None
        self._binary: etree._Element | None = None
        self._nested = 0
        self._path: list[str] = []  # local names of the open elements: the depth, and where a limit was met
        self._started = False
        self._root: etree._Element | None = None
        self.refused: str | None = None

    def _refuse(self, reason: str) -> None:
        self.refused = reason
        raise _Refused(reason)

    def _spend(self, characters: int) -> None:
        # Everything kept in the tree counts: text, attribute values, comments, processing instructions.
        self._text_left -= characters
        if self._text_left < 0:
            where = "/" + "/".join(self._path) if self._path else "the prolog"
            self._refuse(f"the text outside attachments is over the limit of {MAX_TEXT_CHARS:,} characters "
                         f"(reached in {where})")

    def abort(self) -> None:
        if self._decoder is not None:
            self._decoder.abort()
            self._decoder = self._binary = None

    def start(self, tag: str, attrib: dict[str, str], nsmap: dict[str | None, str] | None = None) -> None:
        namespace, _, local = tag[1:].rpartition("}") if tag[:1] == "{" else ("", "", tag)
        self._path.append(local)
        self._started = True
        if len(self._path) > MAX_DEPTH:
            self._refuse(f"not well-formed XML: elements nested deeper than {MAX_DEPTH} levels")
        if namespace in XINCLUDE_NAMESPACES:
            self._refuse(XINCLUDE_REASON)
        self._spend(sum(len(value) for value in attrib.values()))
        nsmap = {(prefix or None): uri for prefix, uri in nsmap.items()} if nsmap else None
        try:
            element = self._builder.start(tag, attrib, nsmap)
        except ValueError:  # libxml2 accepts some names and namespace URIs that lxml will not build a tree with
            self._refuse("not well-formed XML: an element name or namespace URI with characters lxml does not "
                         "allow (e.g. control characters in a namespace URI)")
        if self._root is None:
            self._root = element
        if self._decoder is not None:
            self._nested += 1
            self._decoder.feed("!")  # markup inside a binary element is never base64
        elif local in self._binary_names:
            self._decoder = Base64Decoder(self._sink.writer(), self._max_attachment)
            self._binary = element

    def end(self, tag: str) -> None:
        self._builder.end(tag)
        self._path.pop()
        if self._decoder is None:
            return
        if self._nested:
            self._nested -= 1
            return
        assert self._binary is not None
        self._decoder.finish_into(self._binary)
        self._decoder = self._binary = None

    def data(self, text: str) -> None:
        if self._decoder is not None:
            self._decoder.feed(text)
            return
        self._spend(len(text))
        self._builder.data(text)

    def comment(self, text: str) -> None:
        if self._decoder is not None:
            self._decoder.feed("!")  # as when the whole document is parsed: a comment makes it not base64
        self._spend(len(text))
        self._builder.comment(text)

    def pi(self, target: str, data: str | None = None) -> None:
        if self._decoder is not None:
            self._decoder.feed("!")
        self._spend(len(target) + len(data or ""))
        self._builder.pi(target, data)

    def doctype(self, name: str | None = None, public_id: str | None = None, system_id: str | None = None) -> None:
        self._refuse(doctype_reason(public_id, system_id))

    def close(self) -> etree._Element | None:
        if self._path or not self._started:
            # No element, or elements still open: libxml2 stopped at an error. Returning lets lxml raise that
            # error; the tree builder's own complaint ("missing end tags") would hide it.
            return None
        self._builder.close()
        # The document element, not the builder's last top-level node (a comment or a processing instruction after
        # the document element would be that).
        return self._root


def _stream(reader: BinaryIO, binary_names: frozenset[str], sink: BlobSink, max_attachment_bytes: int,
            source: str) -> etree._Element:
    target = _StreamingTarget(binary_names, sink, max_attachment_bytes)
    parser = safe_parser(target=target)
    encoding_check: MislabelledUtf8 | None = None
    declared: str | None = None
    first = True
    try:
        for chunk in iter(lambda: reader.read(FEED_CHUNK), b""):
            if first:  # the first chunk holds the XML declaration
                first = False
                declared = declared_single_byte_encoding(chunk)
                encoding_check = MislabelledUtf8() if declared else None
            if encoding_check is not None:
                encoding_check.feed(chunk)
            parser.feed(chunk)
        root = parser.close()
        if root is None:
            raise etree.XMLSyntaxError("no complete document element", 0, 0, 0)
    except (_Refused, etree.XMLSyntaxError) as exc:
        target.abort()
        reason = target.refused or first_parse_error(parser, exc)
        raise UnsafeOrMalformedXml(f"{source}: {reason}") from None
    except BaseException:
        target.abort()  # e.g. the disk filled up under the blob being written
        raise
    if declared is not None and encoding_check is not None and encoding_check.is_utf8():
        # Known only at the end; attachments already stored stay in the content store, addressed by their sha256.
        raise UnsafeOrMalformedXml(f"{source}: {mislabelled_utf8_reason(declared)}")
    return root


def _store_whole(element: etree._Element, sink: BlobSink, max_attachment_bytes: int) -> bool:
    """The common case of a small document: unwrapped base64 within the limit, decoded in one call."""
    try:
        decoded = binascii.a2b_base64(element.text or "", strict_mode=True)
    except (binascii.Error, ValueError):
        return False  # line breaks, or not base64: the decoder says which
    if not decoded or len(decoded) > max_attachment_bytes:
        return False
    writer = sink.writer()
    try:
        writer.write(decoded)
        sha256, _ = writer.commit()
    except BaseException:
        writer.abort()
        raise
    element.text = None
    element.set(BLOB_SHA256, sha256)
    element.set(BLOB_SIZE, str(len(decoded)))
    return True


def extract_binaries(root: etree._Element, binary_names: frozenset[str], sink: BlobSink,
                     max_attachment_bytes: int) -> None:
    """Move the text of the binary elements of an already parsed tree out, as the streaming path does."""
    found = [e for name in binary_names for e in root.iter(f"{{*}}{name}")]
    if any(len(e) for e in found):  # markup inside a binary element: nested ones go with their outermost
        outer = set(found)
        found = [e for e in found if not any(a in outer for a in e.iterancestors())]
    for element in found:
        if not len(element) and _store_whole(element, sink, max_attachment_bytes):
            continue
        decoder = Base64Decoder(sink.writer(), max_attachment_bytes)
        try:
            if len(element):  # child elements, comments or processing instructions: never base64
                decoder.feed("!")
            decoder.feed(element.text or "")
            decoder.finish_into(element)
        except BaseException:
            decoder.abort()
            raise


def read_xml(source: bytes | Path | BinaryIO, *, sink: BlobSink | None = None,
             binary_names: Iterable[str] = DEFAULT_BINARY_ELEMENTS,
             max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES, source_name: str = "<input>") -> etree._Element:
    """Parse received XML with its attachments moved to ``sink`` (hashed and dropped when None).

    Raises ``UnsafeOrMalformedXml`` naming ``source_name`` and the rule; never a value from the document.
    """
    names = frozenset(binary_names)
    sink = sink if sink is not None else DiscardingSink()
    if isinstance(source, Path):
        with source.open("rb") as reader:
            if source.stat().st_size > STREAM_ABOVE_BYTES:
                return _stream(reader, names, sink, max_attachment_bytes, source_name)
            return read_xml(reader, sink=sink, binary_names=names, max_attachment_bytes=max_attachment_bytes,
                            source_name=source_name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        data = source.read(STREAM_ABOVE_BYTES + 1)
        if len(data) > STREAM_ABOVE_BYTES:
            chained = io.BufferedReader(_Chained(data, source), FEED_CHUNK)  # whole chunks, the first included
            return _stream(chained, names, sink, max_attachment_bytes, source_name)
    if len(data) > STREAM_ABOVE_BYTES:
        return _stream(io.BytesIO(data), names, sink, max_attachment_bytes, source_name)
    root = parse_xml(data, source=source_name)
    if names:
        extract_binaries(root, names, sink, max_attachment_bytes)
    return root


class _Chained(io.RawIOBase):
    """The bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, tail: BinaryIO) -> None:
        self._head = io.BytesIO(head)
        self._tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._head.read(len(buffer)) or self._tail.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)
