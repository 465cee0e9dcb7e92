"""A Mina meddelanden stand-in: the Recipient service's isReachable and a service supplier's deliverSecure (v3),
SOAP 1.1 over real HTTP, behind mutual TLS when served with ``start_secure`` (secure.py).

Two ports on one server, as the contract's two WSDLs: ``/Recipient/v3`` (Recipient.wsdl) and ``/Service/v3``
(Service.wsdl); each serves its WSDL at ``?wsdl`` and validates requests and answers against it. Every call needs a
client certificate (the organisation's): a caller without one gets HTTP 403, as a TLS-terminating proxy answers
(behind ``start_secure`` the TLS handshake already refuses it).

A sender acts only as itself, as on the real service: isReachable's ``senderOrgNr`` must be the organisationsnummer
of the TLS client certificate, and a delivery's ``Sender/Id`` that of the certificate its SignedDelivery is signed
with (the subject's serialNumber, or an organizationIdentifier ``NTRSE-…``; certificates.py); anything else is
refused with an application fault. A call without a client certificate (``require_client_certificate`` false)
has nothing to compare senderOrgNr with.

isReachable answers, per recipient: a mailbox with the simulator's service supplier and the sender accepted (the
default for every valid personnummer), no mailbox (``unreachable``), an account still pending (``pending``), or a
mailbox that does not accept this sender (``blocked``). ServiceAdress is this server's ``/Service/v3``.

deliverSecure takes a SealedDelivery: it verifies both enveloped signatures (SignedDelivery's, the sender's, then
the seal's) with signxml against the trusted CA, the pinned sender certificate, or else the TLS client
certificate; checks that the sender is the signer's organisation, that the recipient is reachable and every
attachment's Checksum is the MD5 of its Body; keeps the delivery and answers with a TransId. Refusals are SOAP
faults with an ``applicationFault`` detail (ErrorCode, Description, CallId) as the contract declares; a schema
violation is a plain Client fault. The ErrorCodes are the simulator's own (the published contract defines the
fault's shape, not its codes).

The same Reference sent twice is two deliveries, as a mailbox would show them; ``/_sim/counts`` counts them.
``/_sim/deliveries``, ``/_sim/calls`` and ``/_sim/counts`` carry no personnummer and no message text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from cryptography import x509
from lxml import etree
from werkzeug.wrappers import Request, Response

from brygga.canonical.formats import is_personnummer
from brygga_simulators.mina_meddelanden.certificates import as_organisationsnummer, organisation_number
from brygga_simulators.mina_meddelanden.records import AttachmentRecord, DeliveryRecord, sha256_hex
from brygga_simulators.mina_meddelanden.signatures import SignatureRefused, Trust, verify_enveloped
from brygga_simulators.mina_meddelanden.xml import (
    COMMON_V3,
    MESSAGE,
    MESSAGE_V2,
    MESSAGE_V3,
    RECIPIENT,
    RECIPIENT_V3,
    REPLY_NSMAP,
    SENDER,
    SERVICE,
    SERVICE_V3,
    add,
    q,
    text,
)
from brygga_simulators.soap_server import SoapFault, SoapSimulator

HERE = Path(__file__).parent
SUPPLIER_ID = "165599999990"  # OrganizationNumber: 16 and ten digits
SUPPLIER_NAME = "Brygga testbrevlåda"
CALLS_KEPT = 2000
NS = {"m3": MESSAGE_V3, "m2": MESSAGE_V2, "m": MESSAGE, "s": SENDER, "svc3": SERVICE_V3, "r3": RECIPIENT_V3}

# The simulator's ErrorCodes (ExceptionInformation/ErrorCode: 1-9998).
SIGNATURE_INVALID = 1001
SEAL_INVALID = 1002
SENDER_NOT_CERTIFIED = 1003  # the sender named in the request is not the organisation of the certificate
NO_MAILBOX = 2001
ACCOUNT_PENDING = 2002
SENDER_NOT_ACCEPTED = 2003
CHECKSUM_MISMATCH = 3001
CONTENT_INVALID = 3002

REACHABLE, NOT_REACHABLE, PENDING, BLOCKED = "reachable", "no_mailbox", "pending", "sender_not_accepted"


def _numbers(value: Iterable[str] | str | None) -> frozenset[str]:
    """A set of personnummer from a list, or from comma-separated text (``--option unreachable=a,b``)."""
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(item.strip() for item in items if item.strip())


def _flag(value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError("require_client_certificate must be true or false")
    return lowered in ("true", "1", "yes")


def application_fault(code: int, description: str) -> SoapFault:
    """A fault as the contract declares it: faultcode Server (a declared service exception), an applicationFault
    detail with the ErrorCode, the Description and a CallId to quote to the service's support."""
    detail = etree.Element(q(COMMON_V3, "applicationFault"), nsmap={"c3": COMMON_V3})
    add(detail, COMMON_V3, "ErrorCode", code)
    add(detail, COMMON_V3, "Description", description)
    add(detail, COMMON_V3, "CallId", uuid.uuid4().hex)
    return SoapFault(description, faultcode="Server", detail=detail)


class RecipientPort(SoapSimulator):
    """``/Recipient/v3``: isReachable. Shares the lock, fault plan and captured requests of its simulator."""

    name: ClassVar[str] = "mina-meddelanden-recipient"
    wsdl_file: ClassVar[Path] = HERE / "Recipient.wsdl"
    path: ClassVar[str] = "/Recipient/v3"
    target_namespace: ClassVar[str] = RECIPIENT_V3

    def __init__(self, owner: MinaMeddelandenSimulator) -> None:
        super().__init__()
        self.owner = owner
        self.lock = owner.lock
        self.faults = owner.faults
        self.captured_requests = owner.captured_requests
        self.auth_users = owner.auth_users

    def perform(self, payload: etree._Element, operation: str) -> etree._Element:
        try:
            answer = super().perform(payload, operation)
        except SoapFault as fault:
            self.owner.record_call(operation, fault)
            raise
        self.owner.record_call(operation, None)
        return answer

    def on_isReachable(self, request: etree._Element) -> etree._Element:
        return self.owner.answer_is_reachable(request)


class MinaMeddelandenSimulator(SoapSimulator):
    """Mina meddelanden's Recipient service and a service supplier's Service port, in memory.

    ``unreachable``: personnummer without a mailbox (default none: every valid personnummer is reachable);
    ``pending``: accounts still being opened; ``blocked``: mailboxes that do not accept the sender.
    ``trusted_ca``: PEM file of the CA signing certificates must chain to; ``sender_certificate``: PEM file of the one
    certificate signatures must be made with; with neither, the TLS client certificate is the one.
    ``require_client_certificate``: refuse (HTTP 403) every call without a TLS client certificate (default true).
    The sender of every call must be the organisation of its certificate (the module's docstring).
    """

    name: ClassVar[str] = "mina-meddelanden"
    wsdl_file: ClassVar[Path] = HERE / "Service.wsdl"
    path: ClassVar[str] = "/Service/v3"
    target_namespace: ClassVar[str] = SERVICE_V3

    def __init__(
        self,
        unreachable: Iterable[str] | str | None = None,
        pending: Iterable[str] | str | None = None,
        blocked: Iterable[str] | str | None = None,
        trusted_ca: str | Path | None = None,
        sender_certificate: str | Path | None = None,
        require_client_certificate: bool | str = True,
    ) -> None:
        super().__init__()
        self.unreachable = _numbers(unreachable)
        self.pending = _numbers(pending)
        self.blocked = _numbers(blocked)
        self.trusted_ca = Path(trusted_ca) if trusted_ca else None
        self.sender_certificate = Path(sender_certificate).read_text() if sender_certificate else None
        self.require_client_certificate = _flag(require_client_certificate)
        self.recipient = RecipientPort(self)
        self._deliveries: list[DeliveryRecord] = []
        self._calls: list[dict[str, Any]] = []
        # Subjects of the client certificates calls came with (organisation certificates, no personal data).
        self.client_subjects: list[str] = []
        # What the handlers need of the HTTP request they serve: where the client reached us, its certificate.
        self._request = threading.local()

    # --- HTTP -------------------------------------------------------------------------------------

    def _respond(self, request: Request) -> Response:
        if request.path.startswith("/_sim/"):
            return super()._respond(request)
        port: SoapSimulator = self.recipient if _same_path(request.path, RecipientPort.path) else self
        certificate = request.environ.get("SSL_CLIENT_CERT")
        if self.require_client_certificate and not certificate:
            return Response("403 Forbidden: a client certificate (the organisation's) is required", status=403,
                            mimetype="text/plain")
        if certificate:
            with self.lock:
                self.client_subjects.append(x509.load_pem_x509_certificate(certificate.encode())
                                            .subject.rfc4514_string())
        self._request.host_url = request.host_url.rstrip("/")
        self._request.client_certificate = certificate
        if port is self.recipient:
            return self.recipient._respond(request)
        return super()._respond(request)

    def perform(self, payload: etree._Element, operation: str) -> etree._Element:
        try:
            answer = super().perform(payload, operation)
        except SoapFault as fault:
            self.record_call(operation, fault)
            raise
        self.record_call(operation, None)
        return answer

    def record_call(self, operation: str, fault: SoapFault | None) -> None:
        code = fault.detail.findtext(q(COMMON_V3, "ErrorCode")) if fault is not None and fault.detail is not None \
            else None
        with self.lock:
            self._calls.append({"operation": operation, "at": datetime.now().astimezone().isoformat(),
                                "fault": fault.faultstring if fault else None, "error_code": code})
            del self._calls[:-CALLS_KEPT]

    # --- isReachable ------------------------------------------------------------------------------

    def reachability(self, personnummer: str) -> str:
        if not is_personnummer(personnummer) or personnummer in self.unreachable:
            return NOT_REACHABLE
        if personnummer in self.pending:
            return PENDING
        if personnummer in self.blocked:
            return BLOCKED
        return REACHABLE

    def answer_is_reachable(self, request: etree._Element) -> etree._Element:
        pem = getattr(self._request, "client_certificate", None)
        if pem:  # without one (require_client_certificate false) there is nothing to compare with
            _check_sender("isReachable", "senderOrgNr", text(request, "r3:senderOrgNr", NS),
                          x509.load_pem_x509_certificate(pem.encode()), "TLS client")
        response = etree.Element(q(RECIPIENT_V3, "isReachableResponse"), nsmap=REPLY_NSMAP)
        for recipient_id in request.findall("r3:recipientId", NS):
            recipient = (recipient_id.text or "").strip()
            state = self.reachability(recipient)
            status = add(response, RECIPIENT_V3, "return")
            account = add(status, RECIPIENT, "AccountStatus")
            add(account, RECIPIENT, "RecipientId", recipient)
            add(account, RECIPIENT, "Type", "Not" if state == NOT_REACHABLE else "Secure")
            add(account, RECIPIENT, "Pending", state == PENDING)
            if state != NOT_REACHABLE:
                supplier = add(account, RECIPIENT, "ServiceSupplier")
                add(supplier, RECIPIENT, "Id", SUPPLIER_ID)
                add(supplier, RECIPIENT, "Name", SUPPLIER_NAME)
                address = getattr(self._request, "host_url", "https://localhost") + self.path
                add(supplier, RECIPIENT, "ServiceAdress", address)
                add(supplier, RECIPIENT, "InternalServiceAdress", address)
            add(status, RECIPIENT, "SenderAccepted", state in (REACHABLE, PENDING))
        return response

    # --- deliverSecure ----------------------------------------------------------------------------

    def _trust(self) -> Trust:
        if self.sender_certificate is not None:
            return Trust(certificate_pem=self.sender_certificate)
        if self.trusted_ca is not None:
            return Trust(ca_file=self.trusted_ca)
        return Trust(certificate_pem=getattr(self._request, "client_certificate", None))

    def on_deliverSecure(self, request: etree._Element) -> etree._Element:
        sealed = request.find("svc3:deliverSecure", NS)
        signed = sealed.find("m3:SignedDelivery", NS) if sealed is not None else None
        if sealed is None or signed is None:  # the schema has required both already
            raise application_fault(CONTENT_INVALID, "deliverSecure: the SealedDelivery has no SignedDelivery")
        trust = self._trust()
        try:
            verified = verify_enveloped(signed, trust)
        except SignatureRefused as refused:
            raise application_fault(SIGNATURE_INVALID, f"deliverSecure: the signature of SignedDelivery does not "
                                                       f"verify: {refused}") from None
        try:
            verify_enveloped(sealed, trust)
        except SignatureRefused as refused:
            raise application_fault(SEAL_INVALID, f"deliverSecure: the signature of the seal (SealedDelivery) does "
                                                  f"not verify: {refused}") from None
        # Only what the sender's signature covers is read ("see what is signed").
        delivery = verified.signed.find("m3:Delivery", NS)
        if delivery is None:
            raise application_fault(CONTENT_INVALID, "deliverSecure: the signed content holds no Delivery")
        _check_sender("deliverSecure", "Sender/Id", text(delivery, "m3:Header/m2:Sender/s:Id", NS),
                      verified.certificate, "SignedDelivery's signing")
        recipient = text(delivery, "m3:Header/m2:Recipient", NS) or ""
        self._check_reachable(recipient)
        records = [self._record(delivery, message, recipient, verified.signer)
                   for message in delivery.findall("m3:Message", NS)]
        with self.lock:
            self._deliveries.extend(records)
        response = etree.Element(q(SERVICE_V3, "deliverSecureResponse"), nsmap=REPLY_NSMAP)
        result = add(response, SERVICE_V3, "return")
        add(result, SERVICE, "TransId", records[0].trans_id)
        status = add(result, SERVICE, "Status")
        add(status, SERVICE, "RecipientId", recipient)
        add(status, SERVICE, "Delivered", True)
        return response

    def _check_reachable(self, recipient: str) -> None:
        state = self.reachability(recipient)
        if state == NOT_REACHABLE:
            raise application_fault(NO_MAILBOX, "deliverSecure: the recipient has no mailbox with this service "
                                                "supplier")
        if state == PENDING:
            raise application_fault(ACCOUNT_PENDING, "deliverSecure: the recipient's mailbox is not open yet "
                                                     "(account pending)")
        if state == BLOCKED:
            raise application_fault(SENDER_NOT_ACCEPTED, "deliverSecure: the recipient does not accept messages "
                                                         "from this sender")

    def _record(self, delivery: etree._Element, message: etree._Element, recipient: str,
                signer: str) -> DeliveryRecord:
        attachments = []
        for index, attachment in enumerate(message.findall("m3:Attachment", NS), start=1):
            content = _base64(attachment.findtext("m:Body", "", NS), f"Attachment {index}: Body")
            checksum = (attachment.findtext("m:Checksum", "", NS) or "").strip().lower()
            if checksum != hashlib.md5(content, usedforsecurity=False).hexdigest():
                raise application_fault(CHECKSUM_MISMATCH, f"deliverSecure: Attachment {index}: Checksum is not the "
                                                           "MD5 (hex) of its Body")
            attachments.append(AttachmentRecord(
                filename=text(attachment, "m:Filename", NS) or "",
                content_type=text(attachment, "m:ContentType", NS) or "",
                content=content,
            ))
        return DeliveryRecord(
            trans_id=str(uuid.uuid4()),
            reference=text(delivery, "m3:Header/m2:Reference", NS),
            message_id=text(message, "m3:Header/m3:Id", NS) or "",
            recipient_sha256=sha256_hex(recipient),
            sender_id=text(delivery, "m3:Header/m2:Sender/s:Id", NS) or "",
            sender_name=text(delivery, "m3:Header/m2:Sender/s:Name", NS) or "",
            subject=text(message, "m3:Header/m3:Subject", NS) or "",
            content_type=text(message, "m3:Body/m:ContentType", NS) or "",
            body=_base64(message.findtext("m3:Body/m:Body", "", NS), "Body"),
            attachments=tuple(attachments),
            signer=signer,
            received_at=datetime.now().astimezone(),
        )

    # --- inspection -------------------------------------------------------------------------------

    @property
    def deliveries(self) -> list[DeliveryRecord]:
        with self.lock:
            return list(self._deliveries)

    def inspect(self, what: str) -> Any:
        with self.lock:
            if what == "deliveries":
                return [delivery.summary() for delivery in self._deliveries]
            if what == "calls":
                return list(self._calls)
            if what == "counts":
                per_reference = Counter(d.reference for d in self._deliveries if d.reference)
                return {"deliveries": len(self._deliveries), "deliveries_per_reference": dict(per_reference),
                        "duplicate_deliveries": sum(n - 1 for n in per_reference.values())}
            if what == "clients":
                return list(self.client_subjects)
        raise KeyError(what)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self._deliveries.clear()
            self._calls.clear()
            self.client_subjects.clear()


def _check_sender(operation: str, field: str, sender: str | None, certificate: x509.Certificate, whose: str) -> None:
    """Refuse a request whose sender is not the organisation ``certificate`` is issued to. The numbers are not
    quoted: a sole trader's organisationsnummer is a personnummer."""
    own = organisation_number(certificate)
    if own is None:
        raise application_fault(SENDER_NOT_CERTIFIED, f"{operation}: the {whose} certificate names no organisation "
                                                      "(no organisationsnummer in its subject's serialNumber or "
                                                      "organizationIdentifier)")
    if as_organisationsnummer(sender or "") != own:
        raise application_fault(SENDER_NOT_CERTIFIED, f"{operation}: {field} is not the organisationsnummer of the "
                                                      f"{whose} certificate (rule: a sender acts only as itself)")


def _same_path(path: str, expected: str) -> bool:
    return path.rstrip("/") == expected.rstrip("/")


def _base64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise application_fault(CONTENT_INVALID, f"deliverSecure: {what} is not valid base64") from None
