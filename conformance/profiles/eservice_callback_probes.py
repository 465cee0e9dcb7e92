"""fault-on-invalid for the IntegrationCallback contract: requests the contract refuses, and what must come back.

Each probe is posted raw, so the kit sees exactly what the endpoint answers: a SOAP Fault with a Client faultcode
(HTTP 500, or a 4xx) is right; a success is wrong (Brygga would believe the resident was told), and so is an error
without a SOAP Fault or a Server fault (Brygga takes either for an outage, so it retries the call until its retry
budget runs out).
The calls for an unknown flow instance are built by zeep from the served WSDL, like Brygga's own, so only the
flowInstanceID is wrong in them; each must get the FlowInstanceNotFoundFault the WSDL declares for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from brygga.faults import Fault, soap_fault_code_fault
from brygga_adapters.oep_callback.variants import integration_message
from brygga_adapters.soap import SoapService
from brygga_conformance.profiles.eservice_callback_contract import CALLBACK_NS
from brygga_conformance.profiles.eservice_callback_wire import RawAnswer, envelope, fault_code

NOT_FOUND = "FlowInstanceNotFoundFault"
NOT_XML = "not XML"  # the probe that names no operation


@dataclass(frozen=True)
class Probe:
    operation: str
    what: str  # what is wrong with it, for notes and findings
    data: bytes
    declared_fault: str | None = None  # the detail element the WSDL declares for this refusal

    @property
    def label(self) -> str:
        return f"{self.operation} with {self.what}" if self.operation != NOT_XML else self.what


def probes(service: SoapService, *, variant: str, unknown: int, known: int, status: str, reference: str,
           external_system: str) -> list[Probe]:
    """The requests to send: ``unknown`` is a flowInstanceID the platform does not have, ``known`` one it has (so a
    malformed request is wrong in one way only)."""
    def built(operation: str, **kwargs: object) -> bytes:
        return etree.tostring(service.client.create_message(service.proxy, operation, **kwargs))

    message = integration_message(variant, added=datetime.now().astimezone(), text="Brygga conformance: fault check",
                                  user_id="brygga", read_receipt_enabled=False)  # type: ignore[arg-type]
    unknown_id = f"an unknown flowInstanceID ({unknown})"
    return [
        Probe("setStatus", unknown_id, built("setStatus", flowInstanceID=unknown, statusAlias=status), NOT_FOUND),
        Probe("addMessage", unknown_id, built("addMessage", flowInstanceID=unknown, message=message), NOT_FOUND),
        Probe("confirmDelivery", unknown_id,
              built("confirmDelivery", flowInstanceID=unknown, delivered=True,
                    externalID={"ID": reference, "System": external_system}), NOT_FOUND),
        Probe("addMessage", "its required element message missing",
              envelope(f'<addMessage xmlns="{CALLBACK_NS}"><flowInstanceID>{known}</flowInstanceID></addMessage>')),
        Probe("setStatus", "a flowInstanceID that is not an xs:int",
              envelope(f'<setStatus xmlns="{CALLBACK_NS}"><flowInstanceID>not-a-number</flowInstanceID>'
                       f"<statusAlias>{_escape(status)}</statusAlias></setStatus>")),
        Probe(NOT_XML, "a body that is not XML", b"this is not XML"),
    ]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def judge(probe: Probe, answer: RawAnswer) -> list[str]:
    """Findings for one probe's answer; none when the contract's fault came."""
    sent = probe.label
    if answer.fault is None:
        if 200 <= answer.status < 300:
            return [f"{sent} was answered as a success ({answer.describe()}); expected a SOAP Fault"]
        return [f"{sent} was answered with {answer.describe()}; expected a SOAP Fault (without one, Brygga cannot "
                "tell a refusal from an outage and retries the call until its retry budget runs out)"]
    code = fault_code(answer.fault)
    if soap_fault_code_fault(code) is Fault.TRANSIENT:
        return [f"{sent} got a SOAP Fault with faultcode {code}; expected a Client fault: Brygga retries a Server "
                "fault as a temporary failure, so the call is sent again until its retry budget runs out"]
    if probe.declared_fault and not _has_detail(answer.fault, probe.declared_fault):
        return [f"{sent} got a SOAP Fault without the {probe.declared_fault} the WSDL declares for {probe.operation} "
                "in its detail"]
    return []


def _has_detail(fault: etree._Element, name: str) -> bool:
    detail = fault.find("detail")
    if detail is None:
        detail = fault.find("{http://schemas.xmlsoap.org/soap/envelope/}detail")
    return detail is not None and detail.find(f"{{{CALLBACK_NS}}}{name}") is not None
