"""The digital-mailbox contract as `brygga.plugins` defines it, re-exported beside the adapter."""

from __future__ import annotations

from brygga.plugins import Attachment, DigitalMail, DigitalMailbox

__all__ = ["Attachment", "DigitalMail", "DigitalMailbox"]
