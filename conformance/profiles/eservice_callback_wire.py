"""What the eservice-callback profile sends and sees: Brygga's own notifier on a SOAP client that keeps every reply,
and raw posts for the requests a notifier would never build.

The notifier is ``OepCallbackNotifier`` unchanged (its calls, its CallProgress, its variant check); only its SOAP
client is one of the kit's own, whose zeep plugin keeps each reply's Body payload (a fault included) for the
reply-shape check.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import requests
import zeep
from lxml import etree

from brygga.connections import Connection
from brygga.errors import TargetRejected, TargetUnavailable
from brygga.xmlsafe import UnsafeOrMalformedXml, parse_xml
from brygga_adapters.http.answers import read_capped
from brygga_adapters.oep_callback import OepCallbackNotifier
from brygga_adapters.soap import SoapService
from brygga_adapters.soap.envelope import SOAP11, is_soap_envelope
from brygga_adapters.soap.transport import MAX_REPLY_BYTES

SOAP_FAULT = f"{{{SOAP11}}}Fault"


@dataclass(frozen=True)
class Reply:
    operation: str  # as the request named it
    sample: str | None  # the sample it was sent for; None for the kit's own probes
    payload: etree._Element  # the Body's element: the operation's answer, or a soap:Fault

    @property
    def is_fault(self) -> bool:
        return self.payload.tag == SOAP_FAULT


class ReplyLog(zeep.Plugin):
    """Keeps every SOAP reply the client reads, tagged with the sample the profile is working on."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.sample: str | None = None

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        body = envelope.find(f"{{{SOAP11}}}Body")
        for child in body if body is not None else ():
            if isinstance(child.tag, str):
                self.add(getattr(operation, "name", "?"), copy.deepcopy(child))
                break
        return envelope, http_headers

    def add(self, operation: str, payload: etree._Element) -> None:
        self.replies.append(Reply(operation, self.sample, payload))

    def since(self, start: int) -> list[Reply]:
        return self.replies[start:]


class KitNotifier(OepCallbackNotifier):
    """Brygga's notifier on the kit's SOAP client (the cached one of ``soap_service`` has no reply log)."""

    def __init__(self, config: dict[str, Any], connection: Connection, service: SoapService) -> None:
        super().__init__(config, connection)
        self._service = service

    @property
    def service(self) -> SoapService:
        return self._service


def open_service(connection: Connection, log: ReplyLog) -> SoapService:
    """A SOAP client on the endpoint's served WSDL (``?wsdl``), loaded through Brygga's guarded transport."""
    return SoapService(connection, plugins=[log])


@dataclass(frozen=True)
class RawAnswer:
    status: int
    content_type: str
    payload: etree._Element | None  # the Body's element when the answer is a readable SOAP envelope

    @property
    def fault(self) -> etree._Element | None:
        return self.payload if self.payload is not None and self.payload.tag == SOAP_FAULT else None

    def describe(self) -> str:
        """What came, for a finding: status, and what the body was."""
        if self.payload is None:
            return f"HTTP {self.status} with a {self.content_type or 'untyped'} body that is no SOAP envelope"
        if self.fault is not None:
            return f"HTTP {self.status} with a SOAP Fault ({fault_code(self.fault)})"
        return f"HTTP {self.status} with {etree.QName(self.payload).localname}"


def fault_code(fault: etree._Element) -> str:
    return (fault.findtext("faultcode") or fault.findtext(f"{{{SOAP11}}}faultcode") or "no faultcode").strip()


def envelope(operation_element: etree._Element | str) -> bytes:
    """A SOAP 1.1 request around one Body element (an lxml element, or its markup)."""
    body = operation_element if isinstance(operation_element, str) else etree.tostring(operation_element).decode()
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}"><soap:Body>{body}'
            "</soap:Body></soap:Envelope>").encode()


def post_raw(service: SoapService, data: bytes) -> RawAnswer:
    """POST ``data`` to the endpoint on the service's own session (the connection's credentials and URL guard)."""
    session = service.transport.session
    with session.post(service.endpoint, data=data, timeout=service.transport.operation_timeout, stream=True,
                      headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}) as response:
        content = read_capped(response, MAX_REPLY_BYTES, too_big=_too_big, broken=_broken)
    payload = None
    if is_soap_envelope(content):
        try:
            document = parse_xml(content, max_bytes=MAX_REPLY_BYTES, source="probe reply")
        except UnsafeOrMalformedXml:
            document = None
        body = document.find(f"{{{SOAP11}}}Body") if document is not None else None
        payload = next((child for child in body if isinstance(child.tag, str)), None) if body is not None else None
    return RawAnswer(response.status_code, response.headers.get("Content-Type", "").split(";")[0].strip(), payload)


def _too_big() -> Exception:
    return TargetRejected(f"the answer is over the limit of {MAX_REPLY_BYTES} bytes; it was not read further")


def _broken(exc: requests.RequestException) -> Exception:
    return TargetUnavailable(f"the connection broke off while the answer was read ({type(exc).__name__})")
