"""Safe XML parsing for everything Brygga receives.

Always an explicit parser: no DTDs, no entity expansion, no network, no huge trees.
Never rely on lxml's default parser, which another library in the process can replace.

Reasons never carry a value from the document. libxml2's own messages sometimes do (``Entity 'x' not defined``
names an entity an attacker chose; ``Unsupported encoding: x`` repeats the declaration), so every parse error is
described here, by its libxml2 error code, in words of our own (``describe_parse_error``).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from lxml import etree

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# libxml2's own nesting limit without XML_PARSE_HUGE; brygga.xmlread's streaming target applies the same one.
MAX_DEPTH = 256
XINCLUDE_NAMESPACES = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")


class UnsafeOrMalformedXml(ValueError):
    """The bytes are not well-formed XML, are too large, or carry a DTD."""


def safe_parser(target: object | None = None, *, huge_tree: bool = False) -> etree.XMLParser:
    """The only parser settings Brygga uses for received XML; ``target`` for streaming (brygga.xmlread).

    ``huge_tree`` lifts libxml2's 10 MB text-node limit; only a simulator, which must take whole documents in, uses
    it. Brygga streams large text out instead (brygga.xmlread).
    """
    return etree.XMLParser(
        target=target,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge_tree,
        remove_blank_text=False,
    )


_T = etree.ErrorTypes
# libxml2 error code -> what it means, in words that never repeat the document's names or values.
_DESCRIPTIONS: dict[int, str] = {
    _T.ERR_UNDECLARED_ENTITY: "a reference to an entity that is not defined (entities are never expanded in "
                              "received XML; the name is not repeated here)",
    _T.WAR_UNDECLARED_ENTITY: "a reference to an entity that is not defined (entities are never expanded in "
                              "received XML; the name is not repeated here)",
    _T.ERR_ENTITYREF_SEMICOL_MISSING: "an entity or character reference without its closing ';'",
    _T.ERR_INVALID_CHAR: "a character that XML does not allow (a NUL or control character)",
    _T.ERR_INVALID_CHARREF: "a character reference to a character that XML does not allow (e.g. &#0; or &#1;)",
    _T.ERR_INVALID_DEC_CHARREF: "a character reference to a character that XML does not allow (e.g. &#0; or &#1;)",
    _T.ERR_INVALID_HEX_CHARREF: "a character reference to a character that XML does not allow (e.g. &#x0;)",
    _T.ERR_INVALID_ENCODING: "bytes that are not valid in the document's encoding (UTF-8 unless the XML "
                             "declaration names another)",
    _T.ERR_UNKNOWN_ENCODING: "the XML declaration names an encoding that is not supported",
    _T.ERR_UNSUPPORTED_ENCODING: "the XML declaration names an encoding that is not supported",
    _T.ERR_CDATA_NOT_FINISHED: "a CDATA section that is not finished or holds a character that XML does not allow",
    _T.ERR_TAG_NAME_MISMATCH: "an end tag that does not match its start tag",
    _T.NS_ERR_UNDEFINED_NAMESPACE: "a namespace prefix that is not declared",
    _T.WAR_NS_URI: "a namespace URI that is not a valid URI",
    _T.ERR_ATTRIBUTE_REDEFINED: "an attribute given twice on one element",
    _T.ERR_RESOURCE_LIMIT: f"over a parser limit (e.g. elements nested deeper than {MAX_DEPTH} levels)",
    _T.ERR_ENTITY_LOOP: "entity declarations that refer to themselves",
    _T.ERR_DOCUMENT_EMPTY: "the document is empty",
    _T.ERR_DOCUMENT_END: "content after the document element",
}
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
# What may be kept of a libxml2 message without a table entry: its words up to the first name or value.
_FALLBACK_KEEP = re.compile(r"[A-Za-z ,;()-]*")


def describe_parse_error(code: int, message: str, line: int | None = None, column: int | None = None) -> str:
    """A parse error in words that never repeat a name or value from the document; the line and column stay."""
    text = _DESCRIPTIONS.get(code)
    if code == _T.ERR_RESOURCE_LIMIT and "amplification" in message:
        text = ("entity declarations whose expansion is over libxml2's amplification limit (a billion-laughs "
                "attack; a DOCTYPE/DTD is not allowed in received XML, and nothing was expanded into the document)")
    elif text is None:
        # libxml2 has hundreds of codes: keep its leading words, never what follows a quote, a colon or a digit.
        head = _FALLBACK_KEEP.match(_QUOTED.sub("", message))
        text = (head.group(0) if head else "").strip(" ,;(-") or "a syntax error"
        text = f"{text} (libxml2 error {code})"
    where = f", line {line}, column {column}" if line else ""
    return f"not well-formed XML: {text}{where}"


def first_parse_error(parser: etree.XMLParser, exc: BaseException) -> str:
    """The first error the parser logged (the cause; later ones are its echoes), described safely."""
    for entry in parser.error_log:
        if entry.level >= etree.ErrorLevels.ERROR:
            return describe_parse_error(entry.type, entry.message, entry.line, entry.column)
    code = getattr(exc, "code", 0) or 0
    position = getattr(exc, "position", None) or (None, None)
    return describe_parse_error(code, getattr(exc, "msg", "") or "", *position)


def doctype_reason(public_id: str | None, system_id: str | None) -> str:
    """Why a DOCTYPE is refused, naming what it tried (never the identifier or URL itself)."""
    if public_id:
        what = "it names an external DTD by PUBLIC identifier"
    elif system_id:
        what = "it names an external DTD by SYSTEM identifier"
    else:
        what = "it declares an internal DTD subset (entity declarations)"
    return f"a DOCTYPE/DTD is not allowed in received XML ({what}; nothing was fetched or expanded)"


XINCLUDE_REASON = "an XInclude element is not allowed in received XML (nothing was included or fetched)"


def _docinfo_reason(docinfo: Any) -> str | None:
    if docinfo.internalDTD is None and not docinfo.doctype:
        return None
    return doctype_reason(docinfo.public_id, docinfo.system_url)


# -- a declared single-byte encoding whose bytes are UTF-8 --------------------------------------------------
_DECLARATION = re.compile(rb"<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
# Python codec name -> the name the reason uses. Only encodings in which UTF-8's multi-byte sequences are all
# printable text, so that a mislabelled file reads without an error, only garbled.
_SINGLE_BYTE = {"iso8859-1": "ISO-8859-1", "iso8859-15": "ISO-8859-15", "cp1252": "windows-1252"}
_LABELS: dict[bytes, str | None] = {b"UTF-8": None, b"utf-8": None}  # declared label -> _SINGLE_BYTE name


def declared_single_byte_encoding(head: bytes) -> str | None:
    """The single-byte encoding (ISO-8859-1 and kin) the XML declaration at the start of ``head`` names, if any.

    A byte order mark wins over the declaration in libxml2, so a document starting with one is read as UTF-8
    whatever it declares: None.
    """
    if not head.startswith(b"<?xml"):
        return None
    match = _DECLARATION.match(head, 0, 256)
    if match is None:
        return None
    label = match.group(1)
    if label in _LABELS:
        return _LABELS[label]
    try:
        found = _SINGLE_BYTE.get(codecs.lookup(label.decode("ascii")).name)
    except LookupError:
        found = None
    if len(_LABELS) < 64:  # bounded: labels come from documents
        _LABELS[label] = found
    return found


def mislabelled_utf8_reason(declared: str) -> str:
    return (f"the XML declaration says encoding {declared}, but the bytes are UTF-8: every non-ASCII byte is part "
            "of a valid multi-byte UTF-8 sequence, so read as declared its text would be garbled (mojibake). "
            "Export it again as UTF-8, or with the encoding it really has")


class MislabelledUtf8:
    """Fed the bytes of a document that declares a single-byte encoding, in chunks: are they UTF-8 instead?

    The verdict takes the whole document. Real ISO-8859-1 text is almost never valid UTF-8: å, ä and ö are single
    bytes of 0xE4-0xF6, which in UTF-8 must be followed by continuation bytes, and a Swedish word never has them
    there. So one invalid sequence anywhere clears the document, and a document whose every non-ASCII byte is
    valid UTF-8 (with at least one such byte) was written as UTF-8. ASCII chunks (base64 attachments) cost one
    ``isascii`` each.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._multibyte = False
        self._cleared = False

    def feed(self, chunk: bytes) -> None:
        if self._cleared or (chunk.isascii() and not self._decoder.getstate()[0]):
            return
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError:
            self._cleared = True
            return
        self._multibyte = self._multibyte or not chunk.isascii()

    def is_utf8(self) -> bool:
        if self._cleared:
            return False
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
        return self._multibyte


def check_declared_encoding(data: bytes, source: str) -> None:
    """Refuse a whole document that declares ISO-8859-1 (or kin) but is UTF-8; one ``isascii`` for most."""
    if data.isascii():
        return
    declared = declared_single_byte_encoding(data)
    if declared is None:
        return
    check = MislabelledUtf8()
    check.feed(data)
    if check.is_utf8():
        raise UnsafeOrMalformedXml(f"{source}: {mislabelled_utf8_reason(declared)}")


def _may_hold_xinclude(data: bytes) -> bool:
    """False when the bytes cannot hold an XInclude element: a document that starts with an ASCII XML declaration
    (so not UTF-16) and never names the namespace. Anything else is walked."""
    return b"XInclude" in data or not data.startswith(b"<?xml")


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, source: str = "<input>",
              huge_tree: bool = False) -> etree._Element:
    """Parse bytes into an element tree, refusing DTDs, entities, XInclude and oversized input.

    The XML declaration decides the encoding (Open ePlatform often sends ISO-8859-1); a document that declares
    ISO-8859-1 but whose bytes are UTF-8 is refused rather than read garbled.
    """
    if len(data) > max_bytes:
        raise UnsafeOrMalformedXml(f"{source}: {len(data)} bytes is over the limit of {max_bytes} bytes")
    check_declared_encoding(data, source)
    parser = safe_parser(huge_tree=huge_tree)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeOrMalformedXml(f"{source}: {first_parse_error(parser, exc)}") from None
    refused = _docinfo_reason(root.getroottree().docinfo)
    if refused is not None:
        raise UnsafeOrMalformedXml(f"{source}: {refused}")
    if _may_hold_xinclude(data):
        for namespace in XINCLUDE_NAMESPACES:
            if next(root.iter(f"{{{namespace}}}*"), None) is not None:
                raise UnsafeOrMalformedXml(f"{source}: {XINCLUDE_REASON}")
    return root
