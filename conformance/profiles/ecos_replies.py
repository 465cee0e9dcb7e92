"""The reply-shape check: every answer the endpoint gave during the run, validated against Brygga's contract.

Answers are caught as Brygga's own SOAP session receives them (a requests response hook), so what is checked is
exactly what the adapter read. A reply body is validated against the contract's XSD after one allowance: an element
the contract does not declare at that place is left out when the endpoint's own WSDL declares it there (a real
Ecos answers with more than the subset Brygga's copy holds, and Brygga ignores it); one neither declares is a
finding. Faults are not shape-checked here: fault-on-invalid looks at them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from lxml import etree
from zeep.exceptions import Error as ZeepError

from brygga import redact
from brygga.xmlsafe import UnsafeOrMalformedXml, parse_xml, safe_parser
from brygga_adapters.soap.envelope import SOAP11, SOAP12, is_soap_envelope
from brygga_adapters.soap.transport import MAX_REPLY_BYTES
from brygga_conformance.profiles.ecos_contract import Contract

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
SOAP11_CONTENT_TYPES = ("text/xml", "multipart/related")  # multipart: an MTOM answer
ERRORS_PER_REPLY = 3
# lxml's schema errors quote the offending value; the value may be personal data, the rule is not.
_VALUES = (
    (re.compile(r"\{[^{}:]+:[^{}]*\}"), ""),  # {namespace}Element -> Element
    (re.compile(r"[Tt]he value '[^']*'"), "The value"),
    (re.compile(r"'[^']*' is not a valid value"), "the value is not a valid value"),
)


class ReplyLog:
    """The answers to every POST the session makes while ``listening``."""

    def __init__(self) -> None:
        self.responses: list[requests.Response] = []

    def _hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "POST":
            self.responses.append(response)  # its body is read by the transport afterwards; .content has it then

    @contextmanager
    def listening(self, session: requests.Session) -> Iterator[ReplyLog]:
        session.hooks["response"].append(self._hook)
        try:
            yield self
        finally:
            session.hooks["response"].remove(self._hook)


class ReplyCheck:
    """Findings and notes over many replies; the same finding from several replies is reported once, counted."""

    def __init__(self, ours: Contract, served: Any) -> None:
        self.ours = ours
        self.served = served
        self.findings: Counter[str] = Counter()
        self.notes: Counter[str] = Counter()
        self.checked: Counter[str] = Counter()

    def add(self, response: requests.Response) -> None:
        content = response.content
        if response.status_code != 200 or not is_soap_envelope(content):
            return  # an error answer: the checks that caused it report it
        operation = "reply"
        try:
            envelope = parse_xml(content, max_bytes=MAX_REPLY_BYTES, source="reply")
            body = next((e for e in envelope if etree.QName(e).localname == "Body"), None)
            payload = next((e for e in body if isinstance(e.tag, str)), None) if body is not None else None
            if payload is None or etree.QName(payload).namespace in (SOAP11, SOAP12):
                return
            operation = etree.QName(payload).localname.removesuffix("Response")
        except UnsafeOrMalformedXml:
            self.findings[f"a {operation} is not well-formed XML"] += 1
            return
        self.checked[operation] += 1
        content_type = response.headers.get("Content-Type", "")
        if not content_type.lower().startswith(SOAP11_CONTENT_TYPES):
            self.findings[f"{operation} reply has Content-Type {content_type or '(none)'}; SOAP 1.1 answers "
                          "text/xml"] += 1
        self._check_payload(operation, payload)

    def _check_payload(self, operation: str, payload: etree._Element) -> None:
        # A document of its own; serialising keeps the namespaces that xsi:type values use.
        pruned = etree.fromstring(etree.tostring(payload), parser=safe_parser())
        ours = _lookup(self.ours.document.types.get_element, pruned.tag)
        if ours is None:
            self.findings[f"{operation} reply: the contract has no element {etree.QName(pruned).localname}"] += 1
            return
        theirs = _lookup(self.served.types.get_element, pruned.tag)
        self._prune(operation, pruned, ours.type, theirs.type if theirs is not None else None,
                    etree.QName(pruned).localname)
        if self.ours.schema.validate(etree.ElementTree(pruned)):
            return
        for error in list(self.ours.schema.error_log)[:ERRORS_PER_REPLY]:
            self.findings[f"{operation} reply does not match Brygga's contract: {_clean(error.message)}"] += 1

    def _prune(self, operation: str, node: etree._Element, ours: Any, theirs: Any, path: str) -> None:
        declared_type = node.get(XSI_TYPE)
        if declared_type:
            qname = _resolve(node, declared_type)
            ours = _lookup(self.ours.document.types.get_type, qname) or ours
            theirs = _lookup(self.served.types.get_type, qname) or theirs
        expected = _declared(ours)
        if not expected:
            return
        known = _declared(theirs)
        for child in list(node):
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if child.tag in expected:
                self._prune(operation, child, expected[child.tag].type,
                            known[child.tag].type if child.tag in known else None, f"{path}/{name}")
                continue
            if child.tag in known:
                self.notes[f"{operation} reply: {path}/{name} is declared by the endpoint's WSDL, not by Brygga's "
                           "contract (Brygga ignores it)"] += 1
            else:
                allowed = ", ".join(etree.QName(tag).localname for tag in expected)
                self.findings[f"{operation} reply: {path} holds an element {name} that neither Brygga's contract "
                              f"nor the endpoint's WSDL declares (the contract has there: {allowed})"] += 1
            node.remove(child)

    def summary(self) -> tuple[list[str], list[str]]:
        counted = [f"{text} ({n} replies)" if n > 1 else text for text, n in self.findings.items()]
        seen = ", ".join(f"{operation} ×{n}" for operation, n in sorted(self.checked.items()))
        notes = [f"replies validated against Brygga's contract: {seen or 'none'}", *self.notes]
        return counted, notes


def _declared(xsd_type: Any) -> dict[str, Any]:
    """Element QName text -> zeep element, for the elements a complex type declares (its base's included)."""
    declared = {}
    for _, element in getattr(xsd_type, "elements", None) or []:
        qname = getattr(element, "qname", None)
        if qname is not None:
            declared[etree.QName(qname).text] = element
    return declared


def _resolve(node: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    return etree.QName(node.nsmap.get(prefix or None), local).text


def _lookup(getter: Any, qname: str) -> Any:
    try:
        return getter(qname)
    except (ZeepError, ValueError):
        return None


def _clean(message: str) -> str:
    for pattern, replacement in _VALUES:
        message = pattern.sub(replacement, message)
    # The pattern a value breaks is the contract's, not the document's: it stays as it is.
    head, keyword, rule = message.rstrip(".").partition("accepted by the pattern ")
    return f"{redact.redact(head, 300)} {keyword}{rule}" if keyword else redact.redact(head, 300)
