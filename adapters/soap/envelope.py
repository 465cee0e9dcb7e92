"""Whether an answer is SOAP at all: its root element is a SOAP 1.1 or 1.2 Envelope.

An answer that is not (an HTML maintenance page from a proxy, an empty body, plain text, other XML) says nothing
about the request, so it is retried later. One that is SOAP but broken or unsafe is the target's answer and is
refused as before.
"""

from __future__ import annotations

from lxml import etree

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ENVELOPES = frozenset({f"{{{SOAP11}}}Envelope", f"{{{SOAP12}}}Envelope"})

# The root element opens within the first bytes of any SOAP answer; only that much is looked at, fed in small
# pieces so the parser stops at the root's start tag instead of parsing a whole reply (it is asked twice per call).
_PEEK_BYTES = 64 * 1024
_FEED_BYTES = 2048


def is_soap_envelope(content: bytes) -> bool:
    """True when ``content`` opens with a SOAP Envelope root element, however the rest of it reads."""
    # Pull parsing stops at the root's start tag; same safe settings as brygga.xmlsafe (no DTD, entities, network).
    parser = etree.XMLPullParser(
        events=("start",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    for start in range(0, min(len(content), _PEEK_BYTES), _FEED_BYTES):
        broken = False
        # Broken after the root's start tag, perhaps: the events read before the error still tell.
        try:
            parser.feed(content[start:min(start + _FEED_BYTES, _PEEK_BYTES)])
        except etree.XMLSyntaxError:
            broken = True
        for _event, element in parser.read_events():
            return element.tag in ENVELOPES
        if broken:
            return False
    return False
