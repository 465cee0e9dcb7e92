"""The fault-on-invalid check: RegisterDocument requests the contract refuses, each of which must get a SOAP Fault.

Each probe is a valid request (built by zeep from the endpoint's WSDL, with the installation's own process and
occurrence types) with one thing broken in the envelope afterwards, so only that one thing is wrong. A Fault with
a Client code passes. Anything else is a finding: success (a case made of invalid input), an HTTP error without a
Fault, or a Server fault, which Brygga takes for a temporary failure and retries instead of setting the submission
aside for a person. The probes carry no personal data, only a probe document of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from lxml import etree

from brygga.faults import Fault, http_status_fault, soap_fault_code_fault
from brygga.xmlsafe import UnsafeOrMalformedXml, parse_xml
from brygga_adapters.soap import SoapService
from brygga_adapters.soap.elements import child_text
from brygga_adapters.soap.envelope import SOAP11, SOAP12, is_soap_envelope
from brygga_adapters.soap.errors import NotSoapReply
from brygga_adapters.soap.transport import MAX_REPLY_BYTES

OPERATION = "RegisterDocument"
PROBE_DOCUMENT = b"Brygga conformance kit: a probe document, sent with a request that must be refused.\n"


@dataclass(frozen=True)
class Probe:
    what: str  # "RegisterDocument without ProcessTypeId": names the request, for findings
    rule: str  # why the contract refuses it
    breaks: Callable[[etree._Element], None]  # changes the built envelope


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    fault_code: str | None  # None: no SOAP Fault
    payload: str | None  # the Body's element when it is no Fault, e.g. RegisterDocumentResponse
    case_number: str | None = None


def _elements(envelope: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in envelope.iter() if isinstance(e.tag, str) and etree.QName(e).localname == name]


def _without(name: str) -> Callable[[etree._Element], None]:
    def remove(envelope: etree._Element) -> None:
        for element in _elements(envelope, name):
            element.getparent().remove(element)
    return remove


def _set(name: str, value: str) -> Callable[[etree._Element], None]:
    def change(envelope: etree._Element) -> None:
        for element in _elements(envelope, name):
            element.text = value
    return change


PROBES = (
    Probe("RegisterDocument without ProcessTypeId", "the contract requires ProcessTypeId", _without("ProcessTypeId")),
    Probe("RegisterDocument with an OccurrenceTypeId that is not a GUID",
          "the contract types OccurrenceTypeId as a GUID (ser:guid)", _set("OccurrenceTypeId", "not-a-guid")),
    Probe("RegisterDocument with a ProcessTypeId the endpoint does not know",
          "a ProcessTypeId must be one of the installation's process types (GetProcessTypes)",
          _set("ProcessTypeId", str(uuid.UUID(int=0x5EED_0000_0000_4000_8000_0000_0000_0000)))),
)


def request(process_type_id: str, occurrence_type_id: str, extern_ref: str) -> dict[str, Any]:
    """A valid registerDocumentCaseSvcDto without parties: the probes break it."""
    return {
        "CaseSubtitleFree": f"Brygga conformance probe {extern_ref}",
        "Documents": {"DocumentSvcDto": [{"ContentType": "text/plain", "Data": PROBE_DOCUMENT,
                                          "Filename": "conformance-probe.txt"}]},
        "ExternalCaseNumber": extern_ref,
        "OccurrenceTypeId": occurrence_type_id,
        "ProcessTypeId": process_type_id,
    }


def send(service: SoapService, probe: Probe, dto: dict[str, Any]) -> Answer:
    """Build the request with zeep (and its WS-Security header, if any), break it, post it, read the answer."""
    envelope, headers = service.proxy._binding._create(OPERATION, (), {"registerDocumentCaseSvcDto": dto},
                                                       client=service.client, options=service.proxy._binding_options)
    probe.breaks(envelope)
    try:
        response = service.transport.post_xml(service.endpoint, envelope, headers)
    except NotSoapReply:
        return Answer(200, "", None, None)
    return read_answer(response)


def read_answer(response: requests.Response) -> Answer:
    content_type = response.headers.get("Content-Type", "")
    content = response.content
    if not is_soap_envelope(content):
        return Answer(response.status_code, content_type, None, None)
    try:
        envelope = parse_xml(content, max_bytes=MAX_REPLY_BYTES, source="probe reply")
    except UnsafeOrMalformedXml:
        return Answer(response.status_code, content_type, None, None)
    body = next((e for e in envelope if isinstance(e.tag, str) and etree.QName(e).localname == "Body"), None)
    payload = next((e for e in body if isinstance(e.tag, str)), None) if body is not None else None
    if payload is None:
        return Answer(response.status_code, content_type, None, None)
    if payload.tag == f"{{{SOAP11}}}Fault":
        code = payload.findtext("faultcode") or payload.findtext(f"{{{SOAP11}}}faultcode") or ""
        return Answer(response.status_code, content_type, code.strip() or "(none)", None)
    if payload.tag == f"{{{SOAP12}}}Fault":
        code = payload.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value") or ""
        return Answer(response.status_code, content_type, code.strip() or "(none)", None)
    case_number = next((child_text(e, "CaseNumber") for e in payload.iter() if isinstance(e.tag, str)
                        and child_text(e, "CaseNumber")), None)
    return Answer(response.status_code, content_type, None, etree.QName(payload).localname, case_number)


def judge(probe: Probe, answer: Answer) -> str | None:
    """The finding for this answer, or None when it is the Client fault the contract asks for."""
    if answer.fault_code is not None:
        if soap_fault_code_fault(answer.fault_code) is Fault.TRANSIENT:
            return (f"{probe.what} got a SOAP Fault with faultcode {answer.fault_code}; expected a Client fault "
                    f"({probe.rule}): Brygga retries a Server fault as a temporary failure instead of setting the "
                    "submission aside for a person")
        return None
    if answer.status == 200 and answer.payload is not None:
        made = f", case {answer.case_number} was made" if answer.case_number else ""
        return (f"{probe.what} was accepted (HTTP 200, {answer.payload}{made}); expected a SOAP Fault: "
                f"{probe.rule}")
    retried = (": Brygga takes that for a temporary failure and retries it"
               if http_status_fault(answer.status) is Fault.TRANSIENT else "")
    return (f"{probe.what} got HTTP {answer.status} ({answer.content_type or 'no Content-Type'}) without a SOAP "
            f"Fault; expected a SOAP Fault ({probe.rule}){retried}")
