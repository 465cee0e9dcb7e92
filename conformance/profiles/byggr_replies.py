"""Every reply the endpoint gives the profile, kept as it came, and judged against the contract's XSD.

Brygga's adapter reads replies tolerantly (adapters/byggr/README.md, "Reading replies"), so a reply off the contract
can pass every other check; here each SOAP Body payload is validated as a document of its own against the schema of
Brygga's copy of the contract. The replies are caught with a ``requests`` response hook on the SOAP client's
session, so the adapter's own calls are seen as sent, not as the kit would have made them.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import requests
from lxml import etree

from brygga.xmlsafe import UnsafeOrMalformedXml, parse_xml
from brygga_adapters.soap.envelope import is_soap_envelope

# lxml's schema messages quote the offending value; drop it, as a reply may carry personal data.
_VALUES = (
    (re.compile(r"'[^']*' is not a valid value"), "the value is not a valid value"),
    (re.compile(r"[Tt]he value '[^']*'"), "The value"),
    (re.compile(r"'[^']*' is not accepted by the pattern"), "the value is not accepted by the pattern"),
)


class ReplyLog:
    """The SOAP replies (answers to POSTs) seen on one ``requests`` session, in order."""

    def __init__(self, session: requests.Session) -> None:
        self.session = session
        self.replies: list[requests.Response] = []

    def __enter__(self) -> ReplyLog:
        self.session.hooks["response"].append(self._seen)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.session.hooks["response"].remove(self._seen)

    def _seen(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "POST":  # not the WSDL's GET
            self.replies.append(response)

    def mark(self) -> int:
        return len(self.replies)

    def since(self, mark: int) -> list[requests.Response]:
        return self.replies[mark:]


def operation_of(reply: requests.Response) -> str:
    """The operation a reply answers, by its request's SOAPAction (``.../IExportArenden/GetArende``)."""
    action = (reply.request.headers.get("SOAPAction") or "").strip().strip('"')
    return action.rpartition("/")[2] or "(no SOAPAction)"


def shape_findings(replies: list[requests.Response], schema: etree.XMLSchema, version: str) -> tuple[list[str], str]:
    """Findings for the successful replies that do not follow the contract, and a note of what was validated.

    Faults and error pages are not judged here: the check that got one says what it expected instead."""
    findings: dict[str, None] = {}
    validated: Counter[str] = Counter()
    for reply in replies:
        content = _content(reply)
        if reply.status_code != 200 or content is None:
            continue
        operation = operation_of(reply)
        validated[operation] += 1
        if not is_soap_envelope(content):
            findings[f"the {operation} reply (HTTP 200) is not a SOAP envelope"] = None
            continue
        try:
            envelope = parse_xml(content, max_bytes=len(content), source=f"{operation} reply")
        except UnsafeOrMalformedXml as exc:
            findings[f"the {operation} reply is not well-formed XML: {str(exc).partition(': ')[2][:200]}"] = None
            continue
        body = envelope.find(f"{{{etree.QName(envelope).namespace}}}Body")
        payloads = [child for child in body if isinstance(child.tag, str)] if body is not None else []
        if len(payloads) != 1:
            findings[f"the {operation} reply's SOAP Body holds {len(payloads)} elements; the contract has one"] = None
            continue
        for error in schema_errors(schema, payloads[0]):
            findings[f"the {operation} reply does not follow contract {version}: {error}"] = None
    note = ", ".join(f"{operation} {count}" for operation, count in validated.items())
    return list(findings), f"replies validated against contract {version}'s XSD: {note or 'none'}"


def schema_errors(schema: etree.XMLSchema, payload: etree._Element) -> list[str]:
    """The schema's complaints about one payload, values left out; the first one per element."""
    document = etree.ElementTree(etree.fromstring(etree.tostring(payload)))
    if schema.validate(document):
        return []
    errors: dict[str, str] = {}
    for error in schema.error_log:
        errors.setdefault(error.path, _without_values(error.message))
    return list(errors.values())


def _without_values(message: str) -> str:
    for pattern, replacement in _VALUES:
        message = pattern.sub(replacement, message)
    return message


def _content(reply: requests.Response) -> bytes | None:
    try:
        return reply.content
    except (requests.RequestException, RuntimeError):  # a reply the transport gave up reading (over its limit)
        return None
