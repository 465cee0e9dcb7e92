"""The shared base of Brygga's SOAP simulators: a WSGI app that speaks SOAP 1.1 over real HTTP.

It serves its own WSDL at ``GET ?wsdl``, parses requests safely (no DTD, no entities, no network),
validates the Body payload against the XSD embedded in that WSDL, and dispatches by the payload's element
name to a handler method ``on_<ElementName>``. Invalid requests get a SOAP 1.1 Fault (HTTP 500,
``faultcode`` Client) whose text names the element and the rule, never the value that broke it, because
values may be personal data.

Subclasses add ``/_sim/<name>`` JSON views for tests and demos through ``inspect``.

Requests may carry building-permit drawings of 10-50 MB as base64 text, over libxml2's 10 MB text-node limit
for a normal parse. This is Brygga's own test double, not a production reader, so it parses requests with
``huge_tree`` on and keeps the other defences; Brygga's readers of outside input stream instead (brygga.xmlread).
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from lxml import etree
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from brygga.xmlsafe import UnsafeOrMalformedXml, parse_xml, safe_parser
from brygga_adapters.soap.wsdl_schema import redact_schema_error
from brygga_simulators.faults import (
    DROPPING,
    INSTEAD,
    FaultPlan,
    FaultRule,
    answer_instead,
    drop_connection,
    wait,
)
from brygga_simulators.serving import sim_view
from brygga_simulators.wsdl_schema import compile_wsdl_schema

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_REQUEST_BYTES = 300 * 1024 * 1024  # a submission with several large drawings, base64-encoded
_FAULTSTRING_LIMIT = 500


class SoapFault(Exception):
    """Raised by handlers (or the base) to answer with a SOAP 1.1 Fault."""

    def __init__(
        self, faultstring: str, faultcode: str = "Client", detail: etree._Element | None = None
    ) -> None:
        super().__init__(faultstring)
        self.faultcode = faultcode
        self.faultstring = faultstring[:_FAULTSTRING_LIMIT]
        self.detail = detail


def parse_request(data: bytes, max_bytes: int | None = None) -> etree._Element:
    """Parse a request body: no DTD, no entities, no network, a size cap; large text nodes allowed."""
    try:
        return parse_xml(data, max_bytes=MAX_REQUEST_BYTES if max_bytes is None else max_bytes,
                         source="SOAP request", huge_tree=True)
    except UnsafeOrMalformedXml as exc:
        raise SoapFault(str(exc)) from None


def append_child(parent: etree._Element, child: etree._Element) -> None:
    """``parent.append(child)`` that keeps ``xsi:type`` values meaningful.

    On a move lxml drops namespace declarations it deems redundant and renames prefixes in tags, but it
    cannot see prefixes used inside attribute values; ``xsi:type="ns3:arendeFastighet"`` would dangle.
    """
    xsi_type = f"{{{XSI}}}type"
    typed = []
    for element in child.iter():
        value = element.get(xsi_type) if isinstance(element.tag, str) else None
        if value:
            prefix, _, local = value.rpartition(":")
            typed.append((element, element.nsmap.get(prefix or None), local))
    parent.append(child)
    for element, uri, local in typed:
        prefixes = [p for p, u in element.nsmap.items() if u == uri]
        if prefixes:  # the type's namespace is in practice the element's own, so it is always in scope
            element.set(xsi_type, f"{prefixes[0]}:{local}" if prefixes[0] else local)


def _envelope(body_child: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"s": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    append_child(body, body_child)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _soap_fault_answer(rule: FaultRule) -> Response:
    fault = SoapFault(rule.faultstring, faultcode=rule.faultcode)
    return Response(_fault_envelope(fault), status=500, content_type="text/xml; charset=utf-8")


def _fault_envelope(fault: SoapFault) -> bytes:
    element = etree.Element(f"{{{SOAP_ENV}}}Fault", nsmap={"s": SOAP_ENV})
    # faultcode is a QName in the envelope namespace, e.g. s:Client.
    etree.SubElement(element, "faultcode").text = f"s:{fault.faultcode}"
    etree.SubElement(element, "faultstring").text = fault.faultstring
    if fault.detail is not None:
        etree.SubElement(element, "detail").append(fault.detail)
    return _envelope(element)


class SoapSimulator:
    """Base WSGI app. Subclasses set ``name``, ``wsdl_file``, ``path`` and ``target_namespace``."""

    name: ClassVar[str]
    wsdl_file: ClassVar[Path]
    path: ClassVar[str]
    target_namespace: ClassVar[str]

    def __init__(self, wsdl_file: Path | None = None) -> None:
        # wsdl_file: another contract version of the same service (e.g. ByggR v4); the class's by default.
        self.wsdl = (wsdl_file or self.wsdl_file).read_bytes()
        self.schema = compile_wsdl_schema(self.wsdl)
        self.lock = threading.RLock()
        self._schema_lock = threading.Lock()
        # Tests set this to make the served WSDL advertise another endpoint (the SSRF case).
        self.advertised_url: str | None = None
        # Every request body received, raw, for interop tests that validate what a client really sent.
        self.captured_requests: list[bytes] = []
        self.validate_responses = True
        # User names of HTTP basic auth seen on SOAP POSTs (never the passwords).
        self.auth_users: list[str | None] = []
        # With require_basic_auth: the one account the service takes, as a real installation's integration user.
        self.basic_auth: tuple[str, str] | None = None
        # What to do wrong, and when (brygga_simulators.faults); also at /_sim/faults.
        self.faults = FaultPlan()

    def require_basic_auth(self, credentials: str) -> None:
        """Answer 401 to every request under the service path without this ``user:password`` (WSDL included), as an
        installation behind IIS Basic authentication does."""
        user, sep, password = credentials.partition(":")
        if not sep or not user:
            raise ValueError("basic_auth must be 'user:password'")
        self.basic_auth = (user, password)

    def _authorized(self, request: Request) -> bool:
        if self.basic_auth is None:
            return True
        auth = request.authorization
        return (auth is not None and auth.type == "basic"
                and hmac.compare_digest((auth.username or "").encode(), self.basic_auth[0].encode())
                and hmac.compare_digest((auth.password or "").encode(), self.basic_auth[1].encode()))

    # --- WSGI -------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        request.max_content_length = MAX_REQUEST_BYTES
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path.startswith("/_sim/"):
            return sim_view(request, self.faults, self.inspect)
        if request.path.rstrip("/") != self.path.rstrip("/"):
            return Response("not found", status=404, mimetype="text/plain")
        if not self._authorized(request):
            return Response("401 Unauthorized", status=401, mimetype="text/plain",
                            headers={"WWW-Authenticate": 'Basic realm="brygga-simulator"'})
        if request.method == "GET" and "wsdl" in {key.lower() for key in request.args}:
            return Response(self.served_wsdl(request.host_url.rstrip("/") + self.path), mimetype="text/xml")
        if request.method != "POST":
            return Response("POST a SOAP 1.1 envelope, or GET ?wsdl", status=405, mimetype="text/plain")
        rule: FaultRule | None = None
        try:
            data = request.get_data(cache=False)
            with self.lock:
                self.captured_requests.append(data)
                self.auth_users.append(request.authorization.username if request.authorization else None)
            payload, operation = self.read_operation(data)
            rule = self.faults.match(operation)
            if rule is not None and rule.action in INSTEAD:
                return answer_instead(rule, request, _soap_fault_answer)
            if rule is not None:
                wait(rule, "before")
            answer = self.perform(payload, operation)
        except RequestEntityTooLarge:
            return Response("request too large", status=413, mimetype="text/plain")
        except SoapFault as fault:
            if rule is not None and rule.action in DROPPING:  # refused, but the answer is lost all the same
                return drop_connection(request.environ)
            return Response(_fault_envelope(fault), status=500, content_type="text/xml; charset=utf-8")
        if rule is not None:
            if rule.action in DROPPING:
                return drop_connection(request.environ)
            wait(rule, "after")
        return Response(_envelope(answer), status=200, content_type="text/xml; charset=utf-8")

    def served_wsdl(self, url: str) -> bytes:
        """The WSDL with its soap:address pointing at where the client reached us."""
        definitions = parse_xml(self.wsdl, source="simulator WSDL")
        for address in definitions.iter(f"{{{WSDL_SOAP}}}address"):
            address.set("location", self.advertised_url or url)
        return etree.tostring(definitions, xml_declaration=True, encoding="utf-8")

    # --- SOAP -------------------------------------------------------------------------------------

    def handle_soap(self, data: bytes) -> etree._Element:
        payload, operation = self.read_operation(data)
        return self.perform(payload, operation)

    def read_operation(self, data: bytes) -> tuple[etree._Element, str]:
        """The Body's payload and the operation it names; a SoapFault for anything that is no call of ours."""
        envelope = parse_request(data)
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            raise SoapFault("the request is not a SOAP 1.1 Envelope", faultcode="VersionMismatch")
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        if body is None:
            raise SoapFault("the SOAP Envelope has no Body")
        payloads = [child for child in body if isinstance(child.tag, str)]
        if len(payloads) != 1:
            raise SoapFault(f"the SOAP Body must hold exactly one element, found {len(payloads)}")
        payload = payloads[0]
        qname = etree.QName(payload)
        if qname.namespace != self.target_namespace:
            raise SoapFault(f"unknown operation element {qname.text}")
        return payload, qname.localname

    def perform(self, payload: etree._Element, operation: str) -> etree._Element:
        """Validate the payload, run the operation's handler, and check its answer."""
        handler = getattr(self, f"on_{operation}", None)
        if handler is None:
            raise SoapFault(f"unknown operation {operation}")
        self.check_schema(payload, operation)
        answer = handler(payload)
        if self.validate_responses:
            self._check_response(answer, operation)
        return answer

    def check_schema(self, payload: etree._Element, operation: str) -> None:
        """Validate the payload as a document of its own against the WSDL's schema."""
        document = etree.ElementTree(copy_element(payload))
        with self._schema_lock:  # the schema's error log is shared: the verdict and its error must be one call's
            if self.schema.validate(document):
                return
            error = self._first_error()
        raise SoapFault(f"{operation}: schema violation: {redact_schema_error(error)}")

    def _check_response(self, answer: etree._Element, operation: str) -> None:
        # A simulator that answers off-contract would hide client bugs, so fail loudly instead.
        with self._schema_lock:
            if self.schema.validate(etree.ElementTree(copy_element(answer))):
                return
            error = self._first_error()
        raise SoapFault(f"{operation}: simulator built an invalid response: {error}", faultcode="Server")

    def _first_error(self) -> str:
        errors = self.schema.error_log.filter_from_errors()
        return errors[0].message if errors else "invalid document"

    # --- inspection -------------------------------------------------------------------------------

    def inspect(self, what: str) -> Any:
        """JSON-ready view named ``what`` (``/_sim/<what>``); raise KeyError for unknown views."""
        raise KeyError(what)

    def reset(self) -> None:
        with self.lock:
            self.captured_requests.clear()
            self.auth_users.clear()
        self.faults.reset()


def copy_element(element: etree._Element) -> etree._Element:
    """Deep copy into a fresh document, keeping the namespaces that xsi:type values rely on."""
    return etree.fromstring(etree.tostring(element), parser=safe_parser(huge_tree=True))


__all__ = [
    "XSI",
    "SoapFault",
    "SoapSimulator",
    "append_child",
    "copy_element",
    "parse_request",
]
