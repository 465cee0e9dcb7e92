"""Mask personal data in text that came from outside: a target's fault string, a library's message.

A case system may quote the request in its fault ("Personnummer 19121212-1212 finns inte"). Before such a text is
stored (quarantine reasons, ``deliveries.last_error``), logged or printed, this masks personnummer and
samordningsnummer, organisationsnummer, e-mail addresses, phone numbers, quoted values and the text of quoted
markup, and caps its length. It
masks by shape, not by checksum: a mistyped number is personal data too. A bare name in running text cannot be
told from other words; targets are asked (docs/connections.md) not to echo values. The rest stays: it is what an
admin needs.
"""

from __future__ import annotations

import html
import re

MASK = "[redacted]"
DEFAULT_LIMIT = 300

# Ten or twelve digits as a date-based number: (yy)yymmdd, an optional - or + (or a space), four digits.
# Samordningsnummer add 60 to the day, so the day field is 01-31 or 61-91; organisationsnummer have a month
# field of 20 or more. All of them share the shape, so one pattern covers them: any 6 or 8 digits, a separator
# or none, then 4 digits, standing alone.
_ID_NUMBER = re.compile(r"(?<![\w-])(?:\d{2})?\d{6}[-+ \u2010-\u2015\u2212]?\d{4}(?![\w-])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Swedish phone numbers: +46 or 0, then 7-12 more digits, optionally split by spaces or hyphens.
_PHONE = re.compile(r"(?<![\w+-])(?:\+46|0046|0)[ -]?\(?\d{1,4}\)?(?:[ -]?\d){5,10}(?![\w-])")
_SPACES = re.compile(r"\s+")
# Markup in a fault is the request quoted back, whole or cut off, maybe escaped: from its first tag on, every text
# and every attribute value goes, the tags stay.
_FIRST_TAG = re.compile(r"<[A-Za-z_!?/]")
_CDATA = re.compile(r"<!\[CDATA\[.*?(?:\]\]>|$)", re.DOTALL)
_TEXT_AFTER_TAG = re.compile(r"(?<=>)[^<>]+")
_ATTRIBUTE_VALUE = re.compile(r"""=\s*("[^"]*"|'[^']*')""")


def _mask_markup(text: str) -> str:
    text = html.unescape(text) if "&lt;" in text else text
    first = _FIRST_TAG.search(text)
    # "element <fbetNr> is missing" names an element; "</", "/>", "><" or CDATA is a document quoted back.
    if first is None or not any(sign in text for sign in ("</", "/>", "><", "<![CDATA[")):
        return text
    markup = _CDATA.sub(f"<![CDATA[{MASK}]]>", text[first.start():])
    markup = _TEXT_AFTER_TAG.sub(MASK, markup)
    markup = _ATTRIBUTE_VALUE.sub(lambda m: f"={m.group(1)[0]}{MASK}{m.group(1)[0]}", markup)
    return text[: first.start()] + markup
# A quoted value ('Anna Svensson', "Storgatan 1", 'Svensson', 'ritning.pdf') is masked unless it looks like a
# name in a schema (an element, a field, an operation: externRef, SaveNewArende, ns:fbetNr): those help an admin
# and are not personal data. A single capitalised word or a file name is taken for a value.
_QUOTED = re.compile(r"""(['"«“‘])([^'"»”’]{0,200})(['"»”’])""")
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]*")
_VALUE_SHAPED = re.compile(r"[A-Z][a-z]+|.*\.[A-Za-z0-9]{2,5}")


def _mask_quoted(matched: re.Match[str]) -> str:
    inner = matched.group(2)
    if _SCHEMA_NAME.fullmatch(inner) and not _VALUE_SHAPED.fullmatch(inner):
        return matched.group(0)
    return f"{matched.group(1)}{MASK}{matched.group(3)}"


def redact(text: str | None, limit: int = DEFAULT_LIMIT) -> str:
    """``text`` with personal numbers, e-mail addresses and phone numbers masked, on one line, at most ``limit``."""
    if not text:
        return ""
    # Cap first with room to spare, so a huge fault costs little; the cut-off last word goes too, so that no
    # half of a number escapes the masks. Then mask, then cap again.
    head = text if len(text) <= limit * 4 else text[: limit * 4].rsplit(None, 1)[0]
    cleaned = _SPACES.sub(" ", head).strip()
    cleaned = _mask_markup(cleaned)
    cleaned = _QUOTED.sub(_mask_quoted, cleaned)
    for pattern in (_EMAIL, _ID_NUMBER, _PHONE):
        cleaned = pattern.sub(MASK, cleaned)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
