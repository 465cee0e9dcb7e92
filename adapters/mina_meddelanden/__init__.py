"""Mina meddelanden, the national digital mailbox (isReachable, deliverSecure v3), as an adapter. See README.md."""

from brygga_adapters.mina_meddelanden.config import CONFIG_SPEC
from brygga_adapters.mina_meddelanden.contract import Attachment, DigitalMail, DigitalMailbox
from brygga_adapters.mina_meddelanden.mailbox import MinaMeddelandenMailbox

__all__ = ["CONFIG_SPEC", "Attachment", "DigitalMail", "DigitalMailbox", "MinaMeddelandenMailbox"]
