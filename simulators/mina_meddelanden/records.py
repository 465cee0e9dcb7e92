"""What the Mina meddelanden simulator keeps of each delivery it took.

The recipient is kept as a sha256 of the personnummer only, so no view can show who got what; attachments are kept
with their sha256 (tests prove a document arrived intact). The Python record holds the decoded body and attachment
bytes as well; the JSON view never does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


@dataclass(frozen=True)
class AttachmentRecord:
    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return sha256_hex(self.content)


@dataclass(frozen=True)
class DeliveryRecord:
    trans_id: str  # the service's delivery reference, as deliverSecureResponse/return/TransId
    reference: str | None  # the sender's Header/Reference
    message_id: str  # the message's Header/Id
    recipient_sha256: str
    sender_id: str  # the sending organisation's 16-prefixed number (no personal data)
    sender_name: str
    subject: str
    content_type: str
    body: bytes
    attachments: tuple[AttachmentRecord, ...]
    signer: str  # the signing certificate's subject (an organisation's certificate)
    received_at: datetime
    signature_valid: bool = True  # only deliveries whose signatures verified are kept

    def summary(self) -> dict[str, Any]:
        """The ``/_sim/deliveries`` view: fingerprints and names, never the personnummer or the text."""
        return {
            "trans_id": self.trans_id,
            "reference": self.reference,
            "recipient_sha256": self.recipient_sha256,
            "sender_id": self.sender_id,
            "subject": self.subject,
            "content_type": self.content_type,
            "body_sha256": sha256_hex(self.body),
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type, "size": len(a.content), "sha256": a.sha256}
                for a in self.attachments
            ],
            "signature_valid": self.signature_valid,
            "signer": self.signer,
            "received_at": self.received_at.isoformat(),
        }
