"""What a client really sent a simulator, judged by a real schema: the interop suite's shared helpers.

Every simulator keeps the raw bodies it received (``app.captured_requests``); each SOAP Body payload is
validated as a document of its own against the schema compiled from a real WSDL
(``brygga_simulators.wsdl_schema.compile_wsdl_schema``).
"""

from __future__ import annotations

from lxml import etree

from brygga.xmlsafe import parse_xml
from brygga_simulators import SoapSimulator

SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"


def sent_payloads(simulator: SoapSimulator) -> list[etree._Element]:
    """The Body payload of every request the simulator received, in order."""
    return [child for raw in simulator.captured_requests
            for child in parse_xml(raw, max_bytes=len(raw), huge_tree=True).find(SOAP_BODY)
            if isinstance(child.tag, str)]


def schema_errors(schema: etree.XMLSchema, payload: etree._Element) -> list[str]:
    """The schema's complaints about one payload; empty when it is valid."""
    document = etree.ElementTree(etree.fromstring(etree.tostring(payload)))
    return [] if schema.validate(document) else [error.message for error in schema.error_log]
