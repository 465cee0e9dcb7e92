"""The adapter's route config: who sends, the support text every message carries, where the two ports are.

Checked before anything runs (``brygga.plugins.configure``). Certificates and keys are not here: they are the
connection's (extras ``cert_file``, ``key_file``, ``signing_cert_file``, ``signing_key_file``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brygga.canonical.formats import InvalidIdentifier, normalise_organisationsnummer
from brygga.errors import ConfigError
from brygga.plugins import configure

ADAPTER = "mina-meddelanden"
_PATH = "^(?!.*\\.\\.)/[A-Za-z0-9._~%/-]*$"  # appended to the connection's URL: no query, host or parent steps
DEFAULT_MAX_MESSAGE_BYTES = 20 * 1024 * 1024

CONFIG_SPEC: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Mina meddelanden (digital mailbox), v3",
    "description": "Sends a message with documents to a resident's digital mailbox: isReachable on the Recipient "
    "service, then deliverSecure with a signed and sealed delivery, over SOAP with the organisation's certificate "
    "(mutual TLS).",
    "type": "object",
    "additionalProperties": False,
    "required": ["sender_organisationsnummer", "sender_name", "support_text"],
    "properties": {
        "sender_organisationsnummer": {
            "type": "string",
            "pattern": "^(16)?[0-9]{6}-?[0-9]{4}$",
            "description": "The sending organisation's organisationsnummer (the kommun's), as registered with Mina "
            "meddelanden and written in its organisation certificate (the service refuses any other); sent as "
            "isReachable's senderOrgNr and the delivery's Sender/Id, 16-prefixed.",
        },
        "sender_name": {
            "type": "string",
            "minLength": 2,
            "maxLength": 256,
            "description": "The sender's name as the resident sees it (Sender/Name), e.g. 'Kumla kommun'.",
        },
        "support_text": {
            "type": "string",
            "minLength": 1,
            "maxLength": 1024,
            "description": "Supportinfo/Text of every message: whom the resident asks about it.",
        },
        "support_url": {
            "type": ["string", "null"],
            "maxLength": 255,
            "pattern": "^https?://",
            "default": None,
            "description": "Supportinfo/URL: a page about the messages, optional.",
        },
        "support_phone": {
            "type": ["string", "null"],
            "maxLength": 255,
            "default": None,
            "description": "Supportinfo/PhoneNumber: the kommun's contact centre, optional.",
        },
        "support_email": {
            "type": ["string", "null"],
            "minLength": 5,
            "maxLength": 256,
            "pattern": "^.+@.+\\..+$",
            "default": None,
            "description": "Supportinfo/EmailAdress: a functional mailbox, never a person's, optional.",
        },
        "language": {
            "type": "string",
            "pattern": "^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$",
            "default": "svSE",
            "description": "The message header's Language (xs:language); 'svSE' as Mina meddelanden's reference "
            "clients send.",
        },
        "recipient_path": {
            "type": "string",
            "pattern": _PATH,
            "default": "/Recipient/v3",
            "description": "The Recipient service (isReachable), relative to the connection's URL.",
        },
        "service_path": {
            "type": "string",
            "pattern": _PATH,
            "default": "/Service/v3",
            "description": "The Service port (deliverSecure), relative to the connection's URL; used with "
            "deliver_to 'service_path'.",
        },
        "deliver_to": {
            "enum": ["service_path", "service_supplier"],
            "default": "service_path",
            "description": "Where deliverSecure goes: 'service_path' (the connection's URL and service_path) or "
            "'service_supplier' (the ServiceAdress isReachable names for the recipient's mailbox operator; asks "
            "isReachable first, and the address's host must be the connection's or in its allowed_hosts extra).",
        },
        "max_message_bytes": {
            "type": "integer",
            "minimum": 1024,
            "maximum": 200 * 1024 * 1024,
            "default": DEFAULT_MAX_MESSAGE_BYTES,
            "description": "Brygga's cap on a message's body and attachments together, in bytes, before base64; a "
            "larger message is refused before anything is sent.",
        },
    },
}


@dataclass(frozen=True)
class Settings:
    sender_id: str  # 16 and the ten-digit organisationsnummer: OrganizationNumber and Sender/Id
    sender_name: str
    support_text: str
    support_url: str | None
    support_phone: str | None
    support_email: str | None
    language: str
    recipient_path: str
    service_path: str
    deliver_to: str
    max_message_bytes: int


def read_settings(config: dict[str, Any]) -> Settings:
    filled = configure(ADAPTER, CONFIG_SPEC, config)
    try:
        number = normalise_organisationsnummer(filled["sender_organisationsnummer"])
    except InvalidIdentifier as exc:
        raise ConfigError(f"config/sender_organisationsnummer: not a valid organisationsnummer (rule: {exc.rule}, "
                          f"adapter {ADAPTER!r})") from None
    return Settings(
        sender_id=f"16{number}",
        sender_name=filled["sender_name"],
        support_text=filled["support_text"],
        support_url=filled["support_url"],
        support_phone=filled["support_phone"],
        support_email=filled["support_email"],
        language=filled["language"],
        recipient_path=filled["recipient_path"],
        service_path=filled["service_path"],
        deliver_to=filled["deliver_to"],
        max_message_bytes=filled["max_message_bytes"],
    )
