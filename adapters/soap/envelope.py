"""Whether an answer is SOAP at all: its root element is a SOAP 1.1 or 1.2 Envelope.

An answer that is not (an HTML maintenance page from a proxy, an empty body, plain text, other XML) says nothing
about the request, so it is retried later. One that is SOAP but broken or unsafe is the target's answer and is
refused as before.
"""

from __future__ import annotations

import contextlib

from lxml import etree

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ENVELOPES = frozenset({f"{{{SOAP11}}}Envelope", f"{{{SOAP12}}}Envelope"})

# The root element opens within the first bytes of any SOAP answer; only that much is looked at.
_PEEK_BYTES = 64 * 1024


def is_soap_envelope(content: bytes) -> bool:
    """True when ``content`` opens with a SOAP Envelope root element, however the rest of it reads."""
    # Pull parsing stops at the root's start tag; same safe settings as brygga.xmlsafe (no DTD, entities, network).
    parser = etree.XMLPullParser(
        events=("start",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    # Broken after the root's start tag, perhaps: the events read before the error still tell.
    with contextlib.suppress(etree.XMLSyntaxError):
        parser.feed(content[:_PEEK_BYTES])
    for _event, element in parser.read_events():
        return element.tag in ENVELOPES
    return False
