"""The ``brygga-ref:`` markers a case target leaves in the case system, so a retry can see what a lost reply did.

``brygga-ref:<extern_ref>`` marks what a submission created; ``brygga-ref:<extern_ref>#<revision>`` what an
amendment added. Where a marker is written is the target's business (ByggR: a handelse's anteckning; Ecos: the
case subtitle and document notes). A marker is one whitespace-free token matched as a whole token, so
``brygga-ref:X`` never matches ``brygga-ref:X#2`` or ``brygga-ref:X2``.
"""

from __future__ import annotations

import re

MARKER_PREFIX = "brygga-ref:"
# '%' is escaped as well as whitespace, so "a b" (-> a%20b) and "a%20b" (-> a%2520b) stay apart. A reference
# without '%' or whitespace is its own token, as in every earlier version: markers already written stay findable.
_ESCAPED = re.compile(r"[\s%]")


def _token(extern_ref: str) -> str:
    return _ESCAPED.sub(lambda match: f"%{ord(match.group()):02X}", extern_ref)


def creation_marker(extern_ref: str) -> str:
    return MARKER_PREFIX + _token(extern_ref)


def amendment_marker(extern_ref: str, revision: int) -> str:
    return f"{MARKER_PREFIX}{_token(extern_ref)}#{revision}"


def carries_marker(text: str | None, marker: str) -> bool:
    return marker in (text or "").split()
