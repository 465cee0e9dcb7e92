"""The markers Brygga leaves in Ecos, so a retry can see what a lost reply already did.

``brygga-ref:<extern_ref>`` ends the case's free-text subtitle (CaseSubtitleFree), which SearchCase and GetCase
both return: check-before-create finds the case by it. ``brygga-ref:<extern_ref>#<revision>`` is the note of
each document an amendment adds, which GetCase lists. A marker is one whitespace-free token matched as a whole
token, so ``brygga-ref:X`` never matches ``brygga-ref:X#2`` or ``brygga-ref:X2``.
"""

from __future__ import annotations

import re

MARKER_PREFIX = "brygga-ref:"
_WHITESPACE = re.compile(r"\s")
SUBTITLE_TEXT_LIMIT = 200  # the subtitle's own text; the marker always follows it whole


def _token(extern_ref: str) -> str:
    return _WHITESPACE.sub(lambda match: f"%{ord(match.group()):02X}", extern_ref)


def creation_marker(extern_ref: str) -> str:
    return MARKER_PREFIX + _token(extern_ref)


def amendment_marker(extern_ref: str, revision: int) -> str:
    return f"{MARKER_PREFIX}{_token(extern_ref)}#{revision}"


def carries_marker(text: str | None, marker: str) -> bool:
    return marker in (text or "").split()


def marked_subtitle(subtitle: str, marker: str) -> str:
    text = subtitle.strip()
    if len(text) > SUBTITLE_TEXT_LIMIT:
        text = text[: SUBTITLE_TEXT_LIMIT - 1].rstrip() + "…"
    return f"{text} {marker}" if text else marker


def document_note(name: str, marker: str | None) -> str:
    return f"{name}\n{marker}" if marker else name
