"""The source's reference (Open ePlatform's FlowInstanceID, a webhook's or a bus message's id), read at intake.

An administrator looks a submission up by the reference the resident's e-service shows, also when the file never
translates: a mapping that fails on it, XML the run refuses after a readable header, a file over the route's size
limit. So intake reads the reference before, and whether or not, the mapping runs: the inbound mapping's
``source.reference`` rule, when it is a plain path (``CompiledMapping.reference_path``).

Best effort and bounded, never raising: XML is streamed with the safe parser's settings (brygga.xmlsafe) and
parsing stops at the end of the element, at most ``MAX_XML_BYTES`` in (a FlowInstanceID is in the header, the
first thing in the document; a 50 MB export with drawings costs a chunk or two here). JSON is read only when it is
at most ``MAX_JSON_BYTES``. A reference is an id: one line of printable text, at most ``MAX_REFERENCE_CHARS``, with
nothing the shape of personal data in it (brygga.redact); anything else gives None, and translate stores the
reference as before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from brygga.mapping.compiler import CompiledMapping, ReferencePath
from brygga.mapping.dispatch import choose_mapping
from brygga.mapping.paths import json_walk
from brygga.redact import redact
from brygga.xmlsafe import MAX_DEPTH, safe_parser

__all__ = ["MAX_JSON_BYTES", "MAX_REFERENCE_CHARS", "MAX_XML_BYTES", "as_reference", "peek_reference",
           "peek_route_reference"]

log = logging.getLogger(__name__)

MAX_XML_BYTES = 4 * 1024 * 1024
MAX_JSON_BYTES = 10 * 1024 * 1024
# Submission.source_reference is String(200).
MAX_REFERENCE_CHARS = 200
_CHUNK = 64 * 1024

Source = Path | BinaryIO


def peek_reference(mapping: CompiledMapping, source: Source) -> str | None:
    """The reference ``mapping``'s ``source.reference`` rule reads from ``source`` (a path, or a binary reader read
    from where it is), or None: the rule is no plain path, the value is missing or does not look like a reference,
    or the document cannot be read that far. Never raises."""
    rule = mapping.reference_path
    if rule is None:
        return None
    try:
        return _peek(rule, source)
    except Exception as exc:  # best effort: the run says what is wrong with the document
        log.debug("no source reference peeked (%s)", type(exc).__name__)
        return None


def peek_route_reference(mappings: Sequence[CompiledMapping], source: Path, *, source_name: str) -> str | None:
    """The reference of a route's document: as the mapping dispatch chooses (by e-service) reads it, else the first
    one the route's ``mappings`` find in order. Never raises; reads only the start of the file."""
    rules = list(dict.fromkeys(m.reference_path for m in mappings if m.reference_path is not None))
    if len(rules) > 1:  # the mappings read it in different places: the one for this e-service first
        chosen = _dispatched(mappings, source, source_name)
        if chosen is not None and chosen.reference_path is not None:
            rules.remove(chosen.reference_path)
            rules.insert(0, chosen.reference_path)
    for rule in rules:
        try:
            found = _peek(rule, source)
        except Exception as exc:  # e.g. an XML document read by a JSON mapping's rule: the next rule
            log.debug("no source reference peeked (%s)", type(exc).__name__)
            continue
        if found is not None:
            return found
    return None


def _dispatched(mappings: Sequence[CompiledMapping], path: Path, source_name: str) -> CompiledMapping | None:
    """The mapping translate's dispatch would choose, reading at most the start of the file; None when it cannot."""
    window = max(MAX_JSON_BYTES if m.source_kind == "json" else MAX_XML_BYTES for m in mappings)
    try:
        with path.open("rb") as raw:
            mapping, _ = choose_mapping(mappings, _Window(raw, window), source_name=source_name)
    except Exception as exc:  # not accepted, unreadable header, …: every mapping is tried in order instead
        log.debug("dispatch for the source reference: %s", type(exc).__name__)
        return None
    return mapping


def _peek(rule: ReferencePath, source: Source) -> str | None:
    if isinstance(source, Path):
        if rule.kind == "json" and source.stat().st_size > MAX_JSON_BYTES:
            return None  # too large to parse at intake just for this
        with source.open("rb") as reader:
            return _peek_reader(rule, reader)
    return _peek_reader(rule, source)


def _peek_reader(rule: ReferencePath, reader: BinaryIO) -> str | None:
    text = _xml_text(rule, reader) if rule.kind == "xml" else _json_text(rule, reader)
    return as_reference(text)


def as_reference(text: str | None) -> str | None:
    """``text`` stripped when it looks like a reference (an id), else None."""
    if text is None:
        return None
    text = text.strip()
    if not text or len(text) > MAX_REFERENCE_CHARS or not text.isprintable():
        return None
    if redact(text, limit=MAX_REFERENCE_CHARS) != text:
        return None  # the shape of a personnummer, an e-mail address or a phone number: not recorded at intake
    return text


# -- JSON --------------------------------------------------------------------------------------------------------
def _json_text(rule: ReferencePath, reader: BinaryIO) -> str | None:
    data = reader.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        return None  # too large to parse at intake just for this
    document = json.loads(data)
    if not isinstance(document, dict):
        return None  # the mapping run takes only an object
    value = json_walk(document, rule.steps)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)  # as translate stores it: str(case["source"]["reference"])


# -- XML ---------------------------------------------------------------------------------------------------------
class _Stop(Exception):
    """Parsing is over: the element was read, or it cannot be there (another document element, a DOCTYPE)."""


class _ReferenceTarget:
    """Parser target that keeps the text of the first element at ``rule.steps`` (in document order, as the XPath
    of the mapping finds it) and stops at its end. Of its text, leading white space is skipped and at most one
    character more than a reference may have is kept, so a huge text node is never held."""

    def __init__(self, rule: ReferencePath) -> None:
        self._steps = rule.steps
        self._root_tag = rule.root_tag
        self._path: list[str] = []  # tags of the open elements below the document element
        self._capturing = False
        self._text: list[str] = []
        self._kept = 0
        self.root_seen = False
        self.value: str | None = None

    def start(self, tag: str, attrib: Any, nsmap: Any = None) -> None:
        if not self.root_seen:
            self.root_seen = True
            if self._root_tag is not None and tag != self._root_tag:
                raise _Stop  # another kind of document: the mapping's run refuses it
            return
        self._path.append(tag)
        depth = len(self._path)
        if depth >= MAX_DEPTH:
            raise _Stop
        if depth == len(self._steps) and tag == self._steps[-1] and tuple(self._path) == self._steps:
            self._capturing = True

    def data(self, text: str) -> None:
        if not self._capturing or self._kept > MAX_REFERENCE_CHARS:
            return
        piece = text if self._kept else text.lstrip()
        if piece:
            piece = piece[:MAX_REFERENCE_CHARS + 1 - self._kept]
            self._text.append(piece)
            self._kept += len(piece)

    def end(self, tag: str) -> None:
        if not self._path:
            raise _Stop  # the document element ended without it
        if self._capturing and len(self._path) == len(self._steps):
            self.value = "".join(self._text)
            raise _Stop
        self._path.pop()

    def comment(self, text: str) -> None:
        pass

    def pi(self, target: str, data: str | None = None) -> None:
        pass

    def doctype(self, name: str | None = None, public_id: str | None = None, system_id: str | None = None) -> None:
        raise _Stop  # received XML with a DTD is refused whole; nothing of it is recorded

    def close(self) -> None:
        return None


def _xml_text(rule: ReferencePath, reader: BinaryIO) -> str | None:
    target = _ReferenceTarget(rule)
    parser = safe_parser(target=target)
    budget = MAX_XML_BYTES
    try:
        while budget > 0:
            chunk = reader.read(min(_CHUNK, budget))
            if not chunk:
                parser.close()  # the whole file was read: libxml2 parses what it held back for lookahead
                break
            budget -= len(chunk)
            parser.feed(chunk)
    except _Stop:
        return target.value
    except etree.XMLSyntaxError:
        return None  # not well-formed before the element ended: nothing trustworthy to record
    return None  # the document, or the budget, ended before the element did


class _Window:
    """The first ``limit`` bytes of a seekable binary file as a seekable stream: the dispatch reads no further."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self._raw = raw
        self._limit = limit

    def read(self, size: int | None = -1) -> bytes:
        left = self._limit - self._raw.tell()
        if left <= 0:
            return b""
        return self._raw.read(left if size is None or size < 0 else min(size, left))

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def seekable(self) -> bool:
        return True
