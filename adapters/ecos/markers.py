"""Where the Ecos adapter writes its markers (``brygga_adapters.markers``), so a retry finds what it did.

``brygga-ref:<extern_ref>`` ends the case's free-text subtitle (CaseSubtitleFree), which SearchCase and GetCase
both return: check-before-create finds the case by it. ``brygga-ref:<extern_ref>#<revision>`` is the note of
each document an amendment adds, which GetCase lists.
"""

from __future__ import annotations

SUBTITLE_TEXT_LIMIT = 200  # the subtitle's own text; the marker always follows it whole


def marked_subtitle(subtitle: str, marker: str) -> str:
    text = subtitle.strip()
    if len(text) > SUBTITLE_TEXT_LIMIT:
        text = text[: SUBTITLE_TEXT_LIMIT - 1].rstrip() + "…"
    return f"{text} {marker}" if text else marker
