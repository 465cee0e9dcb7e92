"""Dispatch by e-service: which of a route's mappings is for this document (``accepts`` and ``identity``).

Open ePlatform sends every e-service to the same integration, so a route holds one inbound mapping per e-service
and picks one per submission by the e-service's identity: its family (``FamilyID``, the same across versions),
its flow (``FlowID``, one per published version), the version number and the name. For an Open ePlatform
FlowInstance they are in ``Header/Flow``, the first thing in the document; ``read_identity`` reads only that far,
with the safe parser's settings, so a 200 MB export with drawings costs a few kilobytes of parsing here.

Messages name the e-service by ``EService.describe()``: ids, version and the e-service's name, never an answer
from the form (the name is the municipality's title of the e-service, not something the resident wrote).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from lxml import etree
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from brygga.mapping.errors import InvalidSource, InvalidXmlSource, NotAccepted
from brygga.mapping.paths import _text_of, child_walk, json_walk
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

if TYPE_CHECKING:
    from brygga.mapping.compiler import CompiledMapping

__all__ = [
    "OPEN_EPLATFORM_IDENTITY",
    "Accept",
    "EService",
    "Identity",
    "NotAccepted",
    "choose_mapping",
    "overlapping",
    "parse_accepts",
    "read_identity",
]

OPEN_EPLATFORM_NS = "http://www.oeplatform.org/version/2.0/schemas/flowinstance"
# How describe() names a source system; an unknown one is shown as written.
SYSTEM_NAMES = {"open-eplatform": "Open ePlatform"}
FIELDS = ("family_id", "flow_id", "version", "name")
_LABELS = {"family_id": "FamilyID", "flow_id": "FlowID", "version": "version"}
# Bytes fed to the parser at a time while looking for the header: the header is in the first one.
_CHUNK = 64 * 1024
# Text kept of one identity field: a 40 MB FamilyID must not become a 40 MB message (or be held while streaming).
MAX_IDENTITY_CHARS = 200
# What describe() shows: an id only when it looks like one, the name shortened.
_ID = re.compile(r"[0-9A-Za-z._-]{1,40}")
_NAME_CHARS = 120


@dataclass(frozen=True, slots=True)
class EService:
    """Which e-service a document was submitted through. Every field is text or None (not in the document)."""

    system: str | None = None
    family_id: str | None = None
    flow_id: str | None = None
    version: str | None = None
    name: str | None = None

    def describe(self) -> str:
        """``Open ePlatform FamilyID 127, FlowID 2290, version 1 (Anmälan om attefallsåtgärd)``; missing fields
        are left out. The name is in parentheses, not quotes (brygga.redact masks quoted text), on one line and
        shortened to 120 characters; an id that does not look like one (``[0-9A-Za-z._-]{1,40}``) is shown as
        ``(not an id)``: whatever a document puts there, the message stays short and names no answer."""
        system = SYSTEM_NAMES.get(self.system or "", self.system)
        ids = ", ".join(f"{_LABELS[f]} {value if _ID.fullmatch(value) else '(not an id)'}"
                        for f in ("family_id", "flow_id", "version") if (value := getattr(self, f)) is not None)
        if not ids and self.name is None:
            return f"a document from {system} without an e-service identity" if system else \
                "a document without an e-service identity"
        text = " ".join(part for part in (system, ids) if part)
        if self.name is not None:
            name = " ".join(self.name.split())  # one line in a log, whatever the document holds
            if len(name) > _NAME_CHARS:
                name = name[:_NAME_CHARS - 1].rstrip() + "…"
            text = f"{text} ({name})" if text else f"({name})"
        return text


@dataclass(frozen=True, slots=True)
class Identity:
    """Where a source names its e-service: a path per field, compiled for the kind of source.

    XML: Clark tags of child steps from the document element (read while the document streams; the first element
    of each step counts, as in the engine's simple paths). JSON: the key/index steps of a JSON path. ``root_tag``:
    the document element the identity applies to (the default: Open ePlatform's FlowInstance); any other gives an
    ``EService`` without ids.
    """

    kind: str
    system: str | None
    fields: tuple[tuple[str, tuple[str | int, ...]], ...]
    root_tag: str | None = None

    def from_tree(self, root: Any, indexes: dict[Any, Any] | None = None) -> EService:
        """The identity of an already parsed document (an lxml element or a dict).

        ``indexes``: the run's child index (``_Run.children``, built by the same ``paths._child_index``), so the
        rules that read the header later find it built. Each field is cut to ``MAX_IDENTITY_CHARS``, as ``read``
        cuts it."""
        found: dict[str, str | None] = {}
        if self.kind == "xml":
            if self.root_tag is not None and root.tag != self.root_tag:
                return EService()
            # Child index per visited element (first child per tag): Header/Flow is walked once for all fields.
            if indexes is None:
                indexes = {}
            for name, tags in self.fields:
                element = child_walk(indexes, root, tags)
                text = _text_of(element) if element is not None else None
                found[name] = text[:MAX_IDENTITY_CHARS].rstrip() if text is not None else None
        else:
            for name, steps in self.fields:
                found[name] = _json_text(json_walk(root, steps))
        return EService(system=self.system, **found)

    def read(self, source: bytes | Path | BinaryIO, source_name: str) -> EService:
        """Read the identity of an XML document, streaming only as far as the identity fields."""
        return _reading(source, lambda reader: self._stream(reader, source_name))

    def _stream(self, reader: BinaryIO, source_name: str) -> EService:
        target = _HeaderTarget(self)
        parser = safe_parser(target=target)
        empty = True
        try:
            for chunk in iter(lambda: reader.read(_CHUNK), b""):
                empty = False
                parser.feed(chunk)
            if empty:
                _read_as_the_run(b"", source_name)  # the run's own words for an empty document
            parser.close()
        except _Done:
            pass
        except (_Refused, etree.XMLSyntaxError) as exc:
            reason = target.refused or first_parse_error(parser, exc)
            raise InvalidXmlSource(f"{source_name}: {reason}") from None
        if not target.root_seen:
            raise InvalidXmlSource(f"{source_name}: not well-formed XML: the document is empty")
        if not target.applies:
            return EService()
        return EService(system=self.system, **{name: target.values.get(name) for name, _ in self.fields})


def _read_as_the_run(data: bytes, source_name: str) -> None:
    """Parse ``data`` as the mapping run does (brygga.xmlsafe.parse_xml), raising what the run would raise."""
    try:
        parse_xml(data, source=source_name)
    except UnsafeOrMalformedXml as exc:
        raise InvalidXmlSource(str(exc)) from None


def _encoding_reason(source: Any) -> str | None:
    """Why the mapping run refuses ``source`` for its encoding (brygga.xmlread: it declares ISO-8859-1 or kin but its
    bytes are UTF-8), or None. Reads the whole source, bytes only, no parsing; used only on the way to a refusal,
    where a header read as declared would show a garbled name."""
    if not isinstance(source, Path | bytes | bytearray | memoryview) and not hasattr(source, "seek"):
        return None  # an lxml tree: already read
    return _reading(source, _encoding_reason_of)


def _encoding_reason_of(reader: BinaryIO) -> str | None:
    head = reader.read(_CHUNK)
    declared = declared_single_byte_encoding(head)
    if declared is None:
        return None
    check = MislabelledUtf8()
    check.feed(head)
    for chunk in iter(lambda: reader.read(1 << 20), b""):
        check.feed(chunk)
    return mislabelled_utf8_reason(declared) if check.is_utf8() else None


def _stripped(text: str | None) -> str | None:
    return (text.strip() or None) if text is not None else None


def _json_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    return _stripped(str(value))


def _reading(source: Any, read: Callable[[BinaryIO], Any]) -> Any:
    """``read`` on a binary reader of ``source``: a path (opened; an OSError goes to the caller, as from the mapping
    run), bytes, or a stream (put back where it was afterwards)."""
    if isinstance(source, Path):
        with source.open("rb") as reader:
            return read(reader)
    if isinstance(source, bytes | bytearray | memoryview):
        return read(io.BytesIO(bytes(source)))
    return _rewound(source, lambda: read(source))


def _rewound(stream: Any, read: Callable[[], Any]) -> Any:
    """Run ``read`` on a stream and put the stream back where it was, so the mapping run reads it whole."""
    if not hasattr(stream, "read"):
        raise InvalidSource("the identity is read from bytes, a path or a binary stream")
    try:
        position = stream.tell() if stream.seekable() else None
    except (OSError, ValueError, AttributeError):
        position = None
    if position is None:
        raise InvalidSource("a stream must be seekable to read its e-service identity and then map it; pass a "
                            "path or bytes")
    try:
        return read()
    finally:
        stream.seek(position)


class _Done(Exception):
    """Every identity field is known: stop parsing."""


class _Refused(Exception):
    pass


class _HeaderTarget:
    """Parser target that keeps only the text of the identity fields and stops when they are all known.

    A field is known when its element ended, or when the first element of one of its steps ended without it (the
    first element of each step counts, as in ``Identity.from_tree``). Of a field's text, leading white space is
    skipped and at most ``MAX_IDENTITY_CHARS`` characters are kept. An XInclude element is refused, as the run
    refuses it (brygga.xmlread).
    """

    def __init__(self, identity: Identity) -> None:
        self._identity = identity
        self._pending = {name: tuple(tags) for name, tags in identity.fields}
        self._path: list[Any] = []  # tags of the open elements below the document element
        self._capturing: dict[str, int] = {}  # field -> depth of its element, while inside it
        self._text: dict[str, list[str]] = {}
        self._kept: dict[str, int] = {}  # field -> characters in _text
        self.values: dict[str, str | None] = {}
        self.root_seen = False
        self.applies = True
        self.refused: str | None = None

    def _refuse(self, reason: str) -> None:
        self.refused = reason
        raise _Refused(reason)

    def start(self, tag: str, attrib: Any, nsmap: Any = None) -> None:
        if not self.root_seen:
            self.root_seen = True
            if self._identity.root_tag is not None and tag != self._identity.root_tag:
                self.applies = False
                raise _Done
            if not self._pending:
                raise _Done
            return
        self._path.append(tag)
        depth = len(self._path)
        if depth >= MAX_DEPTH:
            self._refuse(f"not well-formed XML: elements nested deeper than {MAX_DEPTH} levels")
        if tag[:1] == "{" and tag[1:].partition("}")[0] in XINCLUDE_NAMESPACES:
            self._refuse(XINCLUDE_REASON)
        for name, tags in self._pending.items():
            if len(tags) == depth and name not in self._capturing and tags[-1] == tag \
                    and tuple(self._path) == tags:
                self._capturing[name] = depth
                self._text[name] = []
                self._kept[name] = 0

    def data(self, text: str) -> None:
        for name in self._capturing:
            kept = self._kept[name]
            if kept >= MAX_IDENTITY_CHARS:
                continue
            piece = text if kept else text.lstrip()  # leading white space is not kept, so it does not count
            if piece:
                piece = piece[:MAX_IDENTITY_CHARS - kept]
                self._text[name].append(piece)
                self._kept[name] = kept + len(piece)

    def end(self, tag: str) -> None:
        if not self._path:  # the document element
            for name in self._pending:
                self.values[name] = None
            self._pending = {}
            raise _Done
        path = tuple(self._path)
        depth = len(path)
        done = [name for name, tags in self._pending.items() if tags[:depth] == path]
        for name in done:
            if self._capturing.pop(name, None) == depth:
                self.values[name] = _stripped("".join(self._text.pop(name)))
                del self._kept[name]
            else:
                self.values[name] = None
            del self._pending[name]
        self._path.pop()
        if done and not self._pending:
            raise _Done

    def comment(self, text: str) -> None:
        pass

    def pi(self, target: str, data: str | None = None) -> None:
        pass

    def doctype(self, name: str | None = None, public_id: str | None = None, system_id: str | None = None) -> None:
        self._refuse(doctype_reason(public_id, system_id))

    def close(self) -> None:
        return None


OPEN_EPLATFORM_IDENTITY = Identity(
    kind="xml",
    system="open-eplatform",
    fields=tuple((name, tuple(f"{{{OPEN_EPLATFORM_NS}}}{step}" for step in ("Header", "Flow", element)))
                 for name, element in (("family_id", "FamilyID"), ("flow_id", "FlowID"), ("version", "Version"),
                                       ("name", "Name"))),
    root_tag=f"{{{OPEN_EPLATFORM_NS}}}FlowInstance",
)


# -- accepts ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Accept:
    """One entry of ``accepts``: the ids it names must all match, and the version its specifier."""

    family_ids: frozenset[str] | None
    flow_ids: frozenset[str] | None
    versions: SpecifierSet | None
    versions_text: str | None  # as written, for messages

    def matches(self, eservice: EService) -> bool:
        if self.family_ids is not None and eservice.family_id not in self.family_ids:
            return False
        if self.flow_ids is not None and eservice.flow_id not in self.flow_ids:
            return False
        if self.versions is not None:
            if eservice.version is None:
                return False
            try:
                version = Version(eservice.version)
            except InvalidVersion:
                return False
            return self.versions.contains(version, prereleases=True)
        return True

    def describe(self) -> str:
        parts = []
        for label, ids in (("FamilyID", self.family_ids), ("FlowID", self.flow_ids)):
            if ids is not None:
                parts.append(f"{label} {' or '.join(sorted(ids, key=_id_order))}")
        if self.versions_text is not None:
            bare = _is_bare_version(self.versions_text)
            parts.append(f"version {self.versions_text}" if bare else f"versions {self.versions_text}")
        return ", ".join(parts)


def _id_order(text: str) -> tuple[int, str]:
    return (int(text), text) if text.isdigit() else (1 << 62, text)


def _is_bare_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _ids(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return frozenset(str(v).strip() for v in values)


def parse_accepts(value: Any, error: Callable[[tuple[str | int, ...], str], Exception]) -> tuple[Accept, ...]:
    """``accepts`` from a schema-checked mapping file (an object or a list of them) into ``Accept`` entries.

    ``error(where, message)`` makes the config error for a bad version specifier.
    """
    entries = value if isinstance(value, list) else [value]
    accepts = []
    for i, entry in enumerate(entries):
        where: tuple[str | int, ...] = ("accepts", i) if isinstance(value, list) else ("accepts",)
        versions = None
        text = None
        if "versions" in entry:
            text = str(entry["versions"]).strip()
            # A bare version ("3") means exactly that version; packaging wants "==3".
            spec = f"=={text}" if _is_bare_version(text) else text
            try:
                versions = SpecifierSet(spec)
            except InvalidSpecifier:
                raise error((*where, "versions"), "not a version specifier (PEP 440 style: 3, >=2, >=2,<5, "
                                                  "!=4)") from None
        accepts.append(Accept(_ids(entry.get("family_id")), _ids(entry.get("flow_id")), versions, text))
    return tuple(accepts)


def describe_accepts(accepts: tuple[Accept, ...] | None) -> str:
    if accepts is None:
        return "any e-service"
    return "; or ".join(a.describe() for a in accepts)


# -- reading and choosing --------------------------------------------------------------------------------------
def read_identity(source: bytes | Path | BinaryIO | Any, mapping: CompiledMapping, *,
                  source_name: str = "<input>") -> EService:
    """The e-service a document was submitted through, as ``mapping`` locates it (its ``identity``).

    XML is streamed only as far as the identity fields, with the safe parser's settings (no DTD, no entities, no
    network; a DOCTYPE is refused as the mapping run refuses it, with the same ``InvalidSource``). ``source`` is a
    path, bytes, a *seekable* binary stream (put back where it was, so the run can read it whole), an lxml element
    or, for a JSON mapping, a dict or JSON text. A mapping with no identity (a JSON mapping without ``identity``)
    gives an ``EService`` without ids.
    """
    identity = mapping.identity
    if identity is None:
        return EService()
    if identity.kind == "xml":
        if isinstance(source, etree._ElementTree):
            return identity.from_tree(source.getroot())
        if isinstance(source, etree._Element):
            return identity.from_tree(source)
        return identity.read(source, source_name)
    if isinstance(source, dict):
        return identity.from_tree(source)
    if isinstance(source, Path):
        return identity.from_tree(mapping._read(source, source_name, None, 0))
    if isinstance(source, (bytes, bytearray, str)):
        return identity.from_tree(mapping._read(source, source_name, None, 0))
    return _rewound(source, lambda: identity.from_tree(mapping._read(source.read(), source_name, None, 0)))


def _names(mappings: Sequence[CompiledMapping]) -> str:
    return ", ".join(f"{m.file} ({m.describe_accepts()})" for m in mappings)


def _looks_like(source: Any) -> str:
    """``json`` for a document that starts with ``{`` or ``[``, else ``xml``: which refusal to give."""
    if isinstance(source, dict | list):
        return "json"
    head = _reading(source, lambda reader: reader.read(64))
    return "json" if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[") else "xml"


def choose_mapping(mappings: Sequence[CompiledMapping], source: bytes | Path | BinaryIO | Any, *,
                   route: str | None = None, elsewhere: Callable[[EService], list[str]] | None = None,
                   source_name: str = "<input>") -> tuple[CompiledMapping, EService]:
    """The one mapping of ``mappings`` that accepts the document, and the e-service it is.

    Raises ``NotAccepted`` (an ``InvalidSource``) when none accepts it, naming the e-service and what the route
    has, plus the routes ``elsewhere(eservice)`` names that would accept it; or when more than one does (the
    route's mappings overlap: a config error shown on the document that found it). An unreadable header raises
    the ``InvalidSource`` the mapping run would raise; so does, instead of ``NotAccepted``, a document the run
    would refuse for its encoding (declared ISO-8859-1, bytes UTF-8), which is checked only then.
    """
    if not mappings:
        raise ValueError("choose_mapping needs at least one mapping")
    read: dict[Identity | None, EService | None] = {}
    unreadable: dict[str, InvalidSource] = {}  # by the kind of mapping that could not read it
    mixed = len({m.source_kind for m in mappings}) > 1  # XML and JSON mappings: a document is only one kind
    accepting: list[CompiledMapping] = []
    shown: EService | None = None  # the identity the messages name: as the first mapping with `accepts` reads it
    for mapping in mappings:
        key = mapping.identity
        if key not in read:
            try:
                read[key] = read_identity(source, mapping, source_name=source_name)
            except InvalidSource as exc:
                if not mixed:
                    raise
                unreadable.setdefault(mapping.source_kind, exc)  # read as the other kind, by the other mappings
                read[key] = None
        eservice = read[key]
        if eservice is None:
            continue
        if shown is None and mapping.accepts_any is False:
            shown = eservice
        if mapping.accepts(eservice):
            accepting.append(mapping)
    if shown is None:
        shown = next((e for e in read.values() if e is not None), None)
        if shown is None:  # no kind could read it: the reason of the kind it looks like
            raise unreadable.get(_looks_like(source)) or next(iter(unreadable.values()))
    where = f"route {route}" if route else "the route"
    if len(accepting) == 1:
        return accepting[0], read[accepting[0].identity]
    if any(m.identity is not None and m.identity.kind == "xml" for m in mappings):
        # Refusing: a document that declares ISO-8859-1 but is UTF-8 would show a garbled name here; the run
        # refuses it for its encoding whichever mapping it gets, so that is the reason to give.
        reason = _encoding_reason(source)
        if reason is not None:
            raise InvalidXmlSource(f"{source_name}: {reason}")
    if not accepting:
        message = f"no mapping accepts {shown.describe()}; {where} has: {_names(mappings)}"
        routes = tuple(elsewhere(shown)) if elsewhere is not None else ()
        if routes:
            message += f"; routes that accept it: {', '.join(routes)}"
        raise NotAccepted(message, shown, routes)
    raise NotAccepted(f"{len(accepting)} mappings of {where} accept {shown.describe()}: {_names(accepting)}; "
                      "exactly one may (make their accepts disjoint)", shown)


# -- lint ------------------------------------------------------------------------------------------------------
@cache
def _candidate_versions() -> tuple[Version, ...]:
    return tuple(Version(str(n)) for n in range(10000))


def _common_version(a: Accept, b: Accept) -> Version | bool | None:
    """A version both accept (True when neither restricts versions), or None when they share none we can find.

    Tried: the whole numbers 0..9999, every version the specifiers name, and those with ``.1`` appended (for
    ``>3,<4``)."""
    if a.versions is None and b.versions is None:
        return True
    named = [Version(s.version.rstrip(".*")) for spec in (a.versions, b.versions) if spec is not None for s in spec
             if _is_bare_version(s.version.rstrip(".*"))]
    extra = [*named, *(Version(f"{v}.1") for v in named)]
    for version in (*extra, *_candidate_versions()):
        if all(spec is None or spec.contains(version, prereleases=True) for spec in (a.versions, b.versions)):
            return version
    return None


def _entry_overlap(a: Accept, b: Accept) -> str | None:
    shared = []
    for label, mine, theirs in (("FamilyID", a.family_ids, b.family_ids), ("FlowID", a.flow_ids, b.flow_ids)):
        if mine is not None and theirs is not None:
            common = mine & theirs
            if not common:
                return None
            shared.append(f"{label} {sorted(common, key=_id_order)[0]}")
    if not shared:
        return None  # one names a family, the other a flow: which flows belong to which family is not in the files
    version = _common_version(a, b)
    if version is None:
        return None
    return ", ".join(shared) + ("" if version is True else f", version {version}")


def overlapping(mappings: Sequence[CompiledMapping]) -> list[str]:
    """Pairs of mappings that would both accept some e-service, so that dispatch could not choose: one line each.

    Two entries overlap when they name a common FamilyID (both name families) and a common FlowID (both name
    flows) and their version specifiers share a version. A mapping without ``accepts`` accepts everything, so it
    overlaps with every other mapping.
    """
    found = []
    for i, a in enumerate(mappings):
        for b in mappings[i + 1:]:
            if a.accepts_any or b.accepts_any:
                which = a if a.accepts_any else b
                found.append(f"mappings {a.file} and {b.file} overlap: {which.file} has no accepts, so it accepts "
                             "every e-service")
                continue
            for x in a.accept_entries:
                example = next((e for y in b.accept_entries if (e := _entry_overlap(x, y)) is not None), None)
                if example is not None:
                    found.append(f"mappings {a.file} ({a.describe_accepts()}) and {b.file} "
                                 f"({b.describe_accepts()}) overlap: both accept {example}")
                    break
    return found

