"""The namespaces of Mina meddelanden's v3 contract: one per schema, as the published XSDs split them.

Elements are qualified (every schema has ``elementFormDefault="qualified"``), so a child element is in the
namespace of the schema that declares its parent's type: a SecureDelivery's Header is Message/v3, its children
(a SecureDeliveryHeader) Message/v2, the Sender's Id and Name Sender.
"""

from __future__ import annotations

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
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

# Prefixes for what Brygga writes; readers go by namespace, never by prefix.
NSMAP = {"rcp3": RECIPIENT_V3, "rcp": RECIPIENT, "snd": SENDER, "svc3": SERVICE_V3, "msg3": MESSAGE_V3,
         "msg2": MESSAGE_V2, "msg": MESSAGE}
READ = {"r3": RECIPIENT_V3, "r": RECIPIENT, "svc3": SERVICE_V3, "svc": SERVICE, "c3": COMMON_V3}


def q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"
