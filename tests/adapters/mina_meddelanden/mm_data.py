"""What the Mina meddelanden adapter tests share: made-up residents and the route config."""

from __future__ import annotations

from typing import Any

# Luhn-valid personnummer, made up for the tests.
RESIDENT = "198005122380"
NO_MAILBOX = "199001012385"
PENDING = "198503154570"
BLOCKED = "197506203319"

CONFIG: dict[str, Any] = {
    "sender_organisationsnummer": "212000-1819",
    "sender_name": "Kumla kommun",
    "support_text": "Frågor om beslutet? Ring Kumla kommuns kontaktcenter.",
    "support_url": "https://www.kumla.se/kontakt",
    "support_email": "kontaktcenter@kumla.se",
}
