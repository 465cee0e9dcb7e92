"""Swedish identity numbers as Ecos checks them: personnummer (and samordningsnummer), organisationsnummer.

The functions answer yes or no, or a normalised form; they never put the number in a message.
"""

from __future__ import annotations

import re

from personnummer import personnummer

_ORGNR = re.compile(r"^(?:16)?(\d{6})-?(\d{4})$")


def normalised_personnummer(text: str | None) -> str | None:
    """The 12-digit form of a valid personnummer or samordningsnummer, else None."""
    if not text or not personnummer.valid(text.strip()):
        return None
    return personnummer.Personnummer(text.strip()).format(True)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(digits):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def normalised_organisationsnummer(text: str | None) -> str | None:
    """The 10-digit form of a valid organisationsnummer (optionally ``16``-prefixed, with or without hyphen).

    Legal entities have 2 or more as third digit (sole traders use their personnummer, a person party).
    """
    match = _ORGNR.match((text or "").strip())
    if match is None:
        return None
    digits = match.group(1) + match.group(2)
    if int(digits[2]) < 2 or not _luhn_ok(digits):
        return None
    return digits
