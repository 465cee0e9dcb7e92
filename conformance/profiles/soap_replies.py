"""The SOAP profiles' reply-shape check: every answer the endpoint gave, judged against Brygga's copy of the contract.

Answers are caught as Brygga's own SOAP session receives them (a ``requests`` response hook), so what is checked is
exactly what the adapter read. A reply body is validated against the copy's XSD after one allowance: an element or
attribute the copy does not declare at that place is left out, as a note, when the endpoint's own WSDL declares it
there (a real installation answers with more than the subset Brygga's copy holds, and Brygga ignores it). One that
neither declares is a finding naming where it is. Faults and error answers are not shape-checked here: the check that
caused one says what it expected instead.
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

from brygga.xmlsafe import UnsafeOrMalformedXml, parse_xml, safe_parser
from brygga_adapters.soap.envelope import SOAP11, SOAP12, is_soap_envelope
from brygga_adapters.soap.transport import MAX_REPLY_BYTES
from brygga_adapters.soap.wsdl_schema import redact_schema_error
from brygga_conformance.profiles.soap_contract import SoapContract

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
SOAP11_CONTENT_TYPE = "text/xml"
MTOM_CONTENT_TYPE = "multipart/related"
ERRORS_PER_REPLY = 3
MESSAGE_LIMIT = 300
_QNAME = re.compile(r"\{([^{}\s]*)\}([A-Za-z_][\w.-]*)")


def nothing_validated(contract: str) -> str:
    """Why reply-shape is skipped when no reply could be checked, as no check passes on nothing."""
    return (f"no successful reply came back to validate against {contract} (a fault or an error answer is judged by "
            "the check it answered)")


class ReplyLog:
    """The answers to every POST a session makes while the log listens (the WSDL's GET is not one).

    ``with ReplyLog(session) as log: ...`` or ``log = ReplyLog()`` and ``with log.listening(session): ...``."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session
        self.responses: list[requests.Response] = []

    def __enter__(self) -> ReplyLog:
        if self.session is None:
            raise ValueError("ReplyLog() has no session to listen to: give it one, or use listening(session)")
        self.session.hooks["response"].append(self._seen)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.session is not None:
            self.session.hooks["response"].remove(self._seen)

    @contextmanager
    def listening(self, session: requests.Session) -> Iterator[ReplyLog]:
        session.hooks["response"].append(self._seen)
        try:
            yield self
        finally:
            session.hooks["response"].remove(self._seen)

    def _seen(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "POST":
            self.responses.append(response)  # its body is read by the transport afterwards; .content has it then

    def mark(self) -> int:
        return len(self.responses)

    def since(self, mark: int) -> list[requests.Response]:
        return self.responses[mark:]


def operation_of(reply: requests.Response) -> str:
    """The operation a reply answers, by its request's SOAPAction (``.../IExportArenden/GetArende``)."""
    request = reply.request
    action = (request.headers.get("SOAPAction") or "" if request is not None else "").strip().strip('"')
    return action.rpartition("/")[2] or "(no SOAPAction)"


class ReplyCheck:
    """Findings and notes over many replies; the same finding from several replies is reported once, counted."""

    def __init__(self, ours: SoapContract, served: Any = None) -> None:
        self.ours = ours
        self.served = served if served is not None else ours.document  # the endpoint's WSDL, a zeep Document
        self.findings: Counter[str] = Counter()  # finding -> how many replies have it
        self.notes: Counter[str] = Counter()
        self.checked: Counter[str] = Counter()
        self._reply_findings: dict[str, None] = {}  # the reply being checked: each finding once, however often seen
        self._reply_notes: dict[str, None] = {}

    def add(self, response: requests.Response) -> None:
        self._reply_findings, self._reply_notes = {}, {}
        self._check(response)
        self.findings.update(self._reply_findings.keys())
        self.notes.update(self._reply_notes.keys())

    def _fail(self, finding: str) -> None:
        self._reply_findings[finding] = None

    def _note(self, note: str) -> None:
        self._reply_notes[note] = None

    def _check(self, response: requests.Response) -> None:
        content = _content(response)
        if response.status_code != 200 or content is None:
            return  # an error answer: the check that caused it reports it
        operation = operation_of(response)
        content_type = response.headers.get("Content-Type", "")
        if content_type.lower().startswith(MTOM_CONTENT_TYPE):
            self._note(f"{operation} reply is MTOM (multipart/related); its parts were not shape-checked")
            return
        if not is_soap_envelope(content):
            self._fail(f"{operation} reply (HTTP 200) is not a SOAP envelope")
            return
        try:
            envelope = parse_xml(content, max_bytes=MAX_REPLY_BYTES, source=f"{operation} reply")
        except UnsafeOrMalformedXml as exc:
            self._fail(f"{operation} reply is not well-formed XML: {str(exc).partition(': ')[2][:200]}")
            return
        body = next((e for e in envelope if isinstance(e.tag, str) and etree.QName(e).localname == "Body"), None)
        payloads = [child for child in body if isinstance(child.tag, str)] if body is not None else []
        if len(payloads) != 1:
            self._fail(f"{operation} reply's SOAP Body holds {len(payloads)} elements; the contract has one")
            return
        payload = payloads[0]
        if etree.QName(payload).namespace in (SOAP11, SOAP12):
            return  # a fault
        operation = etree.QName(payload).localname.removesuffix("Response")
        self.checked[operation] += 1
        if not content_type.lower().startswith(SOAP11_CONTENT_TYPE):
            self._fail(f"{operation} reply has Content-Type {content_type or '(none)'}; SOAP 1.1 answers "
                       f"{SOAP11_CONTENT_TYPE}")
        self._check_payload(operation, payload)

    def _check_payload(self, operation: str, payload: etree._Element) -> None:
        # A document of its own; serialising keeps the namespaces that xsi:type values use.
        pruned = etree.fromstring(etree.tostring(payload), parser=safe_parser())
        ours = _lookup(self.ours.document.types.get_element, pruned.tag)
        if ours is None:
            self._fail(f"{operation} reply: {self.ours.name} has no element {etree.QName(pruned).localname}")
            return
        theirs = _lookup(self.served.types.get_element, pruned.tag)
        self._prune(operation, pruned, ours.type, getattr(theirs, "type", None), etree.QName(pruned).localname)
        for error in schema_errors(self.ours.schema, pruned)[:ERRORS_PER_REPLY]:
            self._fail(f"{operation} reply does not follow {self.ours.name}: {error}")

    def _prune(self, operation: str, node: etree._Element, ours: Any, theirs: Any, path: str) -> None:
        """Take out of ``node`` (recursively) what Brygga's copy does not declare there, noting or finding each."""
        declared_type = node.get(XSI_TYPE)
        if declared_type:
            qname = _resolve(node, declared_type)
            ours = _lookup(self.ours.document.types.get_type, qname) or ours
            theirs = _lookup(self.served.types.get_type, qname) or theirs
        self._prune_attributes(operation, node, ours, theirs, path)
        expected, wildcard = _declared(ours)
        if not expected or wildcard:
            return  # a simple type, or one that takes any element: the schema judges it
        known, _ = _declared(theirs)
        for child in list(node):
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if child.tag in expected:
                self._prune(operation, child, expected[child.tag].type,
                            known[child.tag].type if child.tag in known else None, f"{path}/{name}")
                continue
            if child.tag in known:
                self._note(f"{operation} reply: {path}/{name} is declared by the endpoint's WSDL, not by "
                           f"{self.ours.name} (Brygga ignores it)")
            else:
                allowed = ", ".join(etree.QName(tag).localname for tag in expected)
                self._fail(f"{operation} reply: {path} holds an element {name} that neither {self.ours.name} "
                           f"nor the endpoint's WSDL declares ({self.ours.name} has there: {allowed})")
            node.remove(child)

    def _prune_attributes(self, operation: str, node: etree._Element, ours: Any, theirs: Any, path: str) -> None:
        expected, wildcard = _declared_attributes(ours)
        if ours is None or wildcard:
            return
        known, _ = _declared_attributes(theirs)
        for name in [key for key in node.attrib if not key.startswith("{")]:  # xsi:type, xsi:nil are XML Schema's
            if name in expected:
                continue
            if name in known:
                self._note(f"{operation} reply: {path}/@{name} is declared by the endpoint's WSDL, not by "
                           f"{self.ours.name} (Brygga ignores it)")
            else:
                self._fail(f"{operation} reply: {path} has an attribute {name} that neither {self.ours.name} "
                           "nor the endpoint's WSDL declares")
            del node.attrib[name]

    @property
    def validated(self) -> int:
        """How many replies were validated against the contract (faults and error answers are not)."""
        return sum(self.checked.values())

    def summary(self) -> tuple[list[str], list[str]]:
        counted = [f"{text} ({n} replies)" if n > 1 else text for text, n in self.findings.items()]
        seen = ", ".join(f"{operation} ×{n}" for operation, n in sorted(self.checked.items()))
        notes = [f"replies validated against {self.ours.name}: {seen or 'none'}", *self.notes]
        return counted, notes


def schema_errors(schema: etree.XMLSchema, payload: etree._Element) -> list[str]:
    """The schema's complaints about one payload (validated as a document of its own), the first one per element,
    without the document's values."""
    document = etree.ElementTree(etree.fromstring(etree.tostring(payload), parser=safe_parser()))
    if schema.validate(document):
        return []
    errors: dict[str, str] = {}
    for error in schema.error_log:
        errors.setdefault(error.path, schema_error_text(error.message))
    return list(errors.values())


def schema_error_text(message: str) -> str:
    """An lxml schema error for a report: values masked, ``{namespace}`` left out of names wherever the local names
    alone are unambiguous, the pattern a value breaks kept as the contract writes it."""
    head, keyword, rule = redact_schema_error(message).strip().partition("accepted by the pattern ")
    names = set(_QNAME.findall(head))
    if len({local for _, local in names}) == len(names):
        head = _QNAME.sub(r"\2", head)
    return f"{head}{keyword}{rule}"[:MESSAGE_LIMIT]


def _declared(xsd_type: Any) -> tuple[dict[str, Any], bool]:
    """Element QName text -> zeep element, for the elements a complex type declares (its base's included), and
    whether it takes any element (xs:any)."""
    declared, wildcard = {}, False
    for _, element in getattr(xsd_type, "elements", None) or []:
        qname = getattr(element, "qname", None)
        if qname is None:
            wildcard = True
        else:
            declared[etree.QName(qname).text] = element
    return declared, wildcard


def _declared_attributes(xsd_type: Any) -> tuple[set[str], bool]:
    names = {name for name, _ in getattr(xsd_type, "attributes", None) or []}
    return names, any(name.startswith("_") for name in names)  # zeep names an xs:anyAttribute _attr_N


def _resolve(node: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    return etree.QName(node.nsmap.get(prefix or None), local).text


def _lookup(getter: Any, qname: str) -> Any:
    try:
        return getter(qname)
    except (ZeepError, ValueError):
        return None


def _content(reply: requests.Response) -> bytes | None:
    try:
        return reply.content
    except (requests.RequestException, RuntimeError):  # a reply the transport gave up reading (over its limit)
        return None
