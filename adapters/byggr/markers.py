"""The markers Brygga leaves in a handelse's ``anteckning``, so a retry can see what a lost reply already did.

``brygga-ref:<extern_ref>`` marks the handelse that carries a submission's documents (on the v4 contract it is
also the only way to find the case again). ``brygga-ref:<extern_ref>#<revision>`` marks an amendment's
handelse. A marker is one whitespace-free token and is matched as a whole token: ``brygga-ref:X`` must not
match ``brygga-ref:X#2`` or ``brygga-ref:X2``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from brygga_adapters.byggr.replies import ArendeSummary

MARKER_PREFIX = "brygga-ref:"
_WHITESPACE = re.compile(r"\s")

# Canonical field names in an amendment, as the case officer reads them in ByggR; unknown names are shown as they are.
_FIELD_LABELS = {
    "parties": "parter",
    "properties": "fastigheter",
    "attachments": "bilagor",
    "title": "rubrik",
    "details": "ärendeuppgifter",
    "details.bygglov": "uppgifter om åtgärden",
}


def _token(extern_ref: str) -> str:
    # extern_refs are whitespace-free in practice; escaping keeps a marker one token whatever the e-service sends.
    return _WHITESPACE.sub(lambda match: f"%{ord(match.group()):02X}", extern_ref)


def creation_marker(extern_ref: str) -> str:
    return MARKER_PREFIX + _token(extern_ref)


def amendment_marker(extern_ref: str, revision: int) -> str:
    return f"{MARKER_PREFIX}{_token(extern_ref)}#{revision}"


def carries_marker(anteckning: str | None, marker: str) -> bool:
    return marker in (anteckning or "").split()


def marked_handelse_exists(arende: ArendeSummary, marker: str) -> bool:
    return any(carries_marker(handelse.anteckning, marker) for handelse in arende.handelser)


def amendment_note(marker: str, revision: int, changed_fields: Iterable[str]) -> str:
    """The anteckning of an amendment's handelse: what changed (names, never values), then the marker."""
    # The Swedish label for the case officer, the canonical name for whoever traces it back to the form.
    labels = [f"{_FIELD_LABELS[name]} ({name})" if name in _FIELD_LABELS else name for name in changed_fields]
    changed = f" Ändrade uppgifter: {', '.join(labels)}." if labels else ""
    return f"Komplettering via e-tjänst, version {revision}.{changed}\n{marker}"
