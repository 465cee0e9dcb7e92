"""The requests, built with lxml: isReachable, and deliverSecure's SealedDelivery around a SignedDelivery.

deliverSecure (Service.xsd v3) carries a SealedDelivery: the sender's SignedDelivery (a SecureDelivery and the
sender's signature), a Seal (ReceivedTime, SignaturesOK) and a second signature over both, as the mediator that
hands the delivery to the mailbox signs it. Sending straight to the service, the organisation is that mediator too
and signs the seal with the same certificate, as Mina meddelanden's reference client does.

What the schema limits is checked here, before anything is signed or sent, so a mail the service would refuse is
refused with a rule instead (``TargetRejected``): never with the values, which are the resident's.
"""

from __future__ import annotations

import base64
import datetime
import hashlib

from lxml import etree

from brygga.canonical.formats import is_personnummer
from brygga.errors import TargetRejected
from brygga_adapters.mina_meddelanden.config import Settings
from brygga_adapters.mina_meddelanden.contract import DigitalMail
from brygga_adapters.mina_meddelanden.names import (
    MESSAGE,
    MESSAGE_V2,
    MESSAGE_V3,
    NSMAP,
    RECIPIENT_V3,
    SENDER,
    SERVICE_V3,
    SOAP_ENV,
    q,
)

# Where the signed content goes in deliverSecure's envelope; nothing else in the envelope is free text.
_SLOT = "brygga-signed-sealed-delivery-goes-here"
SUBJECT_MAX = 255  # MessageHeader/Subject maxLength
BODY_CONTENT_TYPE = "text/plain"


def _add(parent: etree._Element, namespace: str, name: str, value: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, q(namespace, name))
    if value is not None:
        element.text = value
    return element


def check_recipient(recipient: object, where: str) -> str:
    """The recipient as sent: a valid 12-digit personnummer (or samordningsnummer); refused without the value."""
    if not isinstance(recipient, str) or not is_personnummer(recipient):
        raise TargetRejected(f"{where}: the recipient is not a valid 12-digit personnummer (rule: RecipientId, "
                             "YYYYMMDDNNNC with a valid check digit)")
    return recipient


def is_reachable_request(sender_id: str, recipient: str) -> etree._Element:
    request = etree.Element(q(RECIPIENT_V3, "isReachable"), nsmap={"rcp3": RECIPIENT_V3})
    _add(request, RECIPIENT_V3, "senderOrgNr", sender_id)
    _add(request, RECIPIENT_V3, "recipientId", recipient)
    return request


def _check_mail(mail: DigitalMail, settings: Settings, where: str) -> None:
    check_recipient(mail.recipient, where)
    if not mail.reference.strip():
        raise TargetRejected(f"{where}: the mail has no reference (rule: a stable reference per message)")
    if not mail.subject.strip():
        raise TargetRejected(f"{where}: the subject is empty (rule: MessageHeader/Subject is required)")
    if len(mail.subject) > SUBJECT_MAX:
        raise TargetRejected(f"{where}: the subject is {len(mail.subject)} characters (rule: MessageHeader/Subject, "
                             f"at most {SUBJECT_MAX})")
    for index, attachment in enumerate(mail.attachments, start=1):
        if not attachment.name.strip() or not attachment.media_type.strip():
            raise TargetRejected(f"{where}: attachment {index} has no file name or media type (rule: Attachment/"
                                 "Filename and ContentType are required)")
    size = len(mail.body.encode()) + sum(len(attachment.content) for attachment in mail.attachments)
    if size > settings.max_message_bytes:
        raise TargetRejected(f"{where}: the message is {size} bytes with its attachments (rule: config "
                             f"max_message_bytes, {settings.max_message_bytes})")


def signed_delivery(mail: DigitalMail, settings: Settings, where: str) -> etree._Element:
    """The SignedDelivery to sign, as the root of its own document: one SecureDelivery with one message."""
    _check_mail(mail, settings, where)
    root = etree.Element(q(MESSAGE_V3, "SignedDelivery"), nsmap=NSMAP)
    delivery = _add(root, MESSAGE_V3, "Delivery")
    header = _add(delivery, MESSAGE_V3, "Header")  # a SecureDeliveryHeader (Message/v2)
    sender = _add(header, MESSAGE_V2, "Sender")
    _add(sender, SENDER, "Id", settings.sender_id)
    _add(sender, SENDER, "Name", settings.sender_name)
    _add(header, MESSAGE_V2, "Recipient", mail.recipient)
    _add(header, MESSAGE_V2, "Reference", mail.reference)
    message = _add(delivery, MESSAGE_V3, "Message")
    message_header = _add(message, MESSAGE_V3, "Header")
    _add(message_header, MESSAGE_V3, "Id", mail.reference)  # the same reference is the same message
    try:
        _add(message_header, MESSAGE_V3, "Subject", mail.subject)
    except ValueError:  # lxml refuses control characters and the like
        raise TargetRejected(f"{where}: the subject holds characters XML cannot carry (rule: XML 1.0 "
                             "characters)") from None
    support = _add(message_header, MESSAGE_V3, "Supportinfo")
    _add(support, MESSAGE_V3, "Text", settings.support_text)
    if settings.support_url:
        _add(support, MESSAGE_V3, "URL", settings.support_url)
    if settings.support_phone:
        _add(support, MESSAGE_V3, "PhoneNumber", settings.support_phone)
    if settings.support_email:
        _add(support, MESSAGE_V3, "EmailAdress", settings.support_email)
    _add(message_header, MESSAGE_V3, "Language", settings.language)
    body = _add(message, MESSAGE_V3, "Body")
    _add(body, MESSAGE, "ContentType", BODY_CONTENT_TYPE)
    _add(body, MESSAGE, "Body", base64.b64encode(mail.body.encode()).decode("ascii"))
    for index, attachment in enumerate(mail.attachments, start=1):
        element = _add(message, MESSAGE_V3, "Attachment")
        _add(element, MESSAGE, "ContentType", attachment.media_type)
        _add(element, MESSAGE, "Body", base64.b64encode(attachment.content).decode("ascii"))
        # Attachment/Checksum: the MD5 of the content, upper-case hex, as the reference client writes it.
        _add(element, MESSAGE, "Checksum", hashlib.md5(attachment.content, usedforsecurity=False).hexdigest().upper())
        try:
            _add(element, MESSAGE, "Filename", attachment.name)
        except ValueError:
            raise TargetRejected(f"{where}: attachment {index}'s file name holds characters XML cannot carry "
                                 "(rule: XML 1.0 characters)") from None
    return root


def sealed_delivery(signed: etree._Element, received: datetime.date) -> etree._Element:
    """The SealedDelivery to sign: deliverSecure's inner ``deliverSecure`` element, as the root of its own document,
    holding the signed SignedDelivery and a Seal saying its signature was checked."""
    # The same prefixes as the SignedDelivery's: moving it in then renames none (a renamed prefix would change the
    # canonical form its signature covers).
    root = etree.Element(q(SERVICE_V3, "deliverSecure"), nsmap=NSMAP)
    root.append(signed)
    seal = _add(root, MESSAGE_V3, "Seal")
    _add(seal, MESSAGE, "ReceivedTime", received.isoformat())
    _add(seal, MESSAGE, "SignaturesOK", "true")
    return root


def envelope(payload: etree._Element) -> bytes:
    """A SOAP 1.1 envelope around ``payload``."""
    root = etree.Element(q(SOAP_ENV, "Envelope"), nsmap={"soapenv": SOAP_ENV})
    etree.SubElement(root, q(SOAP_ENV, "Header"))
    etree.SubElement(root, q(SOAP_ENV, "Body")).append(payload)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def deliver_secure_envelope(sealed: etree._Element) -> bytes:
    """deliverSecure's envelope with the signed SealedDelivery in it byte for byte as it was signed.

    Appending a signed element to another tree lets lxml drop or rename namespace declarations it finds redundant
    there, and a renamed prefix changes the canonical form a signature covers. So the envelope is built around a
    marker and the signed element's own serialisation put in its place; ``sealed`` is left as it was.
    """
    request = etree.Element(q(SERVICE_V3, "deliverSecure"), nsmap={"svc3": SERVICE_V3})
    request.text = _SLOT
    outer = envelope(request)
    return outer.replace(_SLOT.encode(), etree.tostring(sealed), 1)
