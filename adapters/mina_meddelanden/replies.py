"""Reading the service's answers: strict about safety, tolerant about shape.

The answer is parsed with Brygga's safe parser and read by namespace and element name, so the optional parts a
real service adds (Logo, UIAdress, LastRegistration, LastSenderAcceptChange) do not matter.

- A SOAP Fault with an ``applicationFault`` detail (Common v3: ErrorCode, Description, CallId) is the service
  refusing the request: ``TargetRejected`` naming the ErrorCode and CallId and the Description redacted, whatever
  the faultcode. Without that detail, the faultcode decides as for every SOAP target (``brygga_adapters.soap``):
  Server is retried (``TargetUnavailable``), the rest is refused.
- No SOAP at all, by HTTP status as for every SOAP target: 401/403/407 ``CredentialsRefused``; 5xx, 408, 425, 429
  ``TargetUnavailable``; an HTTP 200 that is not SOAP (a maintenance page) ``TargetUnavailable``; other statuses
  ``TargetRejected``. Except after deliverSecure: a bare 5xx other than 503 (500, 502, 504: a server or gateway
  that took the request and lost what became of it) is ``TargetInDoubt``, the message may have been delivered.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from zeep import exceptions as zeep_errors

from brygga import redact as redaction
from brygga.errors import TargetInDoubt, TargetRejected
from brygga.xmlsafe import UnsafeOrMalformedXml, parse_xml
from brygga_adapters.mina_meddelanden.names import COMMON_V3, READ, SOAP_ENV
from brygga_adapters.mina_meddelanden.transport import MAX_REPLY_BYTES
from brygga_adapters.soap.envelope import is_soap_envelope
from brygga_adapters.soap.errors import _by_status as soap_status_error
from brygga_adapters.soap.errors import _fault as soap_fault_error
from brygga_adapters.soap.errors import not_soap

_DESCRIPTION_LIMIT = 300
SERVICE_UNAVAILABLE = 503  # the one bare 5xx that says the request was not taken: retried


def _by_status(where: str, status: int, changes_state: bool) -> Exception:
    if changes_state and status >= 500 and status != SERVICE_UNAVAILABLE:
        return TargetInDoubt(f"{where}: HTTP {status} without a SOAP answer after the request was sent; the message "
                             "may have been delivered (rule: in doubt)")
    return soap_status_error(where, status)


def _fault(where: str, fault: etree._Element) -> Exception:
    application = fault.find(f"detail/{{{COMMON_V3}}}applicationFault")
    if application is None:
        application = fault.find(f"{{{SOAP_ENV}}}detail/{{{COMMON_V3}}}applicationFault")
    if application is not None:
        code = (application.findtext("c3:ErrorCode", namespaces=READ) or "").strip() or "unknown"
        call_id = (application.findtext("c3:CallId", namespaces=READ) or "").strip()
        words = redaction.redact(application.findtext("c3:Description", namespaces=READ) or "", _DESCRIPTION_LIMIT)
        call = f", CallId {redaction.redact(call_id, 60)}" if call_id else ""
        return TargetRejected(f"{where} refused: {words or 'no description'} (applicationFault ErrorCode "
                              f"{redaction.redact(code, 10)}{call})")
    # No detail of the contract's: the faultcode decides, as for every SOAP target. The prefix is dropped.
    code = (fault.findtext("faultcode") or "").strip().rpartition(":")[2] or "unknown"
    return soap_fault_error(where, zeep_errors.Fault(fault.findtext("faultstring") or "no faultstring", code=code))


def payload(status: int, content: bytes, where: str, *, changes_state: bool = False) -> etree._Element:
    """The one element in the answer's SOAP Body, or the Brygga error the answer amounts to. ``changes_state``
    (deliverSecure): a bare 5xx other than 503 is in doubt."""
    if not is_soap_envelope(content):
        if status == 200:
            raise not_soap(where)
        raise _by_status(where, status, changes_state)
    try:
        envelope = parse_xml(content, max_bytes=MAX_REPLY_BYTES, source=f"{where} answer")
    except UnsafeOrMalformedXml:
        if status != 200:
            raise _by_status(where, status, changes_state) from None
        raise TargetRejected(f"{where}: unsafe or malformed XML in the answer") from None
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    fault = body.find(f"{{{SOAP_ENV}}}Fault") if body is not None else None
    if fault is not None:
        raise _fault(where, fault)
    if status != 200 or body is None:
        raise _by_status(where, status, changes_state)
    elements = [child for child in body if isinstance(child.tag, str)]
    if len(elements) != 1:
        raise TargetRejected(f"{where}: the answer's SOAP Body holds {len(elements)} elements, expected 1")
    return elements[0]


@dataclass(frozen=True)
class Reachability:
    reachable: bool
    service_address: str | None  # the mailbox operator's ServiceAdress, when reachable


def reachability(answer: etree._Element, recipient: str, where: str) -> Reachability:
    """isReachableResponse for one recipient: reachable when it has a mailbox with a service supplier (with a
    ServiceAdress), its account is not pending, its type is not 'Not', and it accepts this sender."""
    if etree.QName(answer).localname != "isReachableResponse":
        raise TargetRejected(f"{where}: the answer is not an isReachableResponse")
    for status in answer.findall("r3:return", READ):
        account = status.find("r:AccountStatus", READ)
        if account is None or (account.findtext("r:RecipientId", namespaces=READ) or "").strip() != recipient:
            continue
        address = (account.findtext("r:ServiceSupplier/r:ServiceAdress", namespaces=READ) or "").strip()
        reachable = (
            _true(status.findtext("r:SenderAccepted", namespaces=READ))
            and not _true(account.findtext("r:Pending", namespaces=READ))
            and (account.findtext("r:Type", namespaces=READ) or "").strip() != "Not"
            and bool(address)
        )
        return Reachability(reachable, address if reachable else None)
    return Reachability(False, None)  # the service says nothing of this recipient: no mailbox to reach


def delivery_reference(answer: etree._Element, where: str) -> str:
    """deliverSecureResponse's TransId, once every Status says Delivered."""
    if etree.QName(answer).localname != "deliverSecureResponse":
        raise TargetRejected(f"{where}: the answer is not a deliverSecureResponse")
    trans_id = (answer.findtext("svc3:return/svc:TransId", namespaces=READ) or "").strip()
    statuses = answer.findall("svc3:return/svc:Status", READ)
    if not trans_id:
        raise TargetRejected(f"{where}: the answer has no TransId")
    if not statuses or not all(_true(s.findtext("svc:Delivered", namespaces=READ)) for s in statuses):
        raise TargetRejected(f"{where}: the service answered that the message was not delivered (Delivered false)")
    return trans_id


def _true(value: str | None) -> bool:
    return (value or "").strip() in ("true", "1")
