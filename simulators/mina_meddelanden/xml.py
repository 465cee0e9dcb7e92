"""Names for the Mina meddelanden XML: one namespace per schema, as the published contract splits them."""

from __future__ import annotations

from lxml import etree

RECIPIENT_V3 = "http://minameddelanden.gov.se/schema/Recipient/v3"
RECIPIENT = "http://minameddelanden.gov.se/schema/Recipient"
SENDER = "http://minameddelanden.gov.se/schema/Sender"
SERVICE_V3 = "http://minameddelanden.gov.se/schema/Service/v3"
SERVICE = "http://minameddelanden.gov.se/schema/Service"
MESSAGE_V3 = "http://minameddelanden.gov.se/schema/Message/v3"
MESSAGE_V2 = "http://minameddelanden.gov.se/schema/Message/v2"
MESSAGE = "http://minameddelanden.gov.se/schema/Message"
COMMON_V3 = "http://minameddelanden.gov.se/schema/Common/v3"
DS = "http://www.w3.org/2000/09/xmldsig#"

REPLY_NSMAP = {"rcp3": RECIPIENT_V3, "rcp": RECIPIENT, "svc3": SERVICE_V3, "svc": SERVICE, "c3": COMMON_V3}


def q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def add(parent: etree._Element, namespace: str, name: str, value: object | None = None) -> etree._Element:
    """Append child ``name``; its text is ``value`` (booleans as XML booleans) unless None."""
    element = etree.SubElement(parent, q(namespace, name))
    if isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def text(parent: etree._Element | None, path: str, namespaces: dict[str, str]) -> str | None:
    """The stripped text at ``path`` (prefixes from ``namespaces``); None when absent or blank."""
    if parent is None:
        return None
    value = (parent.findtext(path, namespaces=namespaces) or "").strip()
    return value or None
