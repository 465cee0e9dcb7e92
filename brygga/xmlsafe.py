"""Safe XML parsing for everything Brygga receives.

Always an explicit parser: no DTDs, no entity expansion, no network, no huge trees.
Never rely on lxml's default parser, which another library in the process can replace.
"""

from __future__ import annotations

from lxml import etree

DEFAULT_MAX_BYTES = 50 * 1024 * 1024


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


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, source: str = "<input>",
              huge_tree: bool = False) -> etree._Element:
    """Parse bytes into an element tree, refusing DTDs, entities and oversized input.

    The XML declaration decides the encoding (Open ePlatform often sends ISO-8859-1).
    """
    if len(data) > max_bytes:
        raise UnsafeOrMalformedXml(f"{source}: {len(data)} bytes is over the limit of {max_bytes} bytes")
    try:
        root = etree.fromstring(data, parser=safe_parser(huge_tree=huge_tree))
    except etree.XMLSyntaxError as exc:
        raise UnsafeOrMalformedXml(f"{source}: not well-formed XML: {exc.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise UnsafeOrMalformedXml(f"{source}: a DOCTYPE/DTD is not allowed in received XML")
    return root
