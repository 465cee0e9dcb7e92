"""The markers Brygga leaves in a handelse's ``anteckning``, so a retry can see what a lost reply already did.

``brygga-ref:<extern_ref>`` marks the handelse that carries a submission's documents (on the v4 contract it is
also the only way to find the case again). ``brygga-ref:<extern_ref>#<revision>`` marks an amendment's
handelse. A marker is one whitespace-free token and is matched as a whole token: ``brygga-ref:X`` must not
match ``brygga-ref:X#2`` or ``brygga-ref:X2``. The text before an amendment's marker is
``brygga_adapters.documents.amendment_note``.
"""

from __future__ import annotations

import re

from brygga_adapters.byggr.replies import ArendeSummary

MARKER_PREFIX = "brygga-ref:"
_WHITESPACE = re.compile(r"\s")


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
