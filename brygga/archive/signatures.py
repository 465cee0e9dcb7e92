"""FIDO's byte-signature matching (``Fido.match_formats``), with its signatures compiled once.

FIDO walks its format XML elements for every file it identifies: ``findall`` the signatures and patterns, ``find``
each position and regex, encode it and look it up in ``re``'s cache, some 2,000 patterns a file. That walk, not
the matching, was most of an archive package's build time. ``SignatureMatcher`` reads the same elements once, in
the same order, and matches the same compiled regexes in the same way, so it returns what ``match_formats``
returns (tests/archive/test_archive_signatures.py compares the two on files of many kinds).

Most signatures begin with a BOF pattern anchored at the first byte with a literal byte (``\\A\\x25PDF``...): a
file can match such a signature only if it starts with that byte. So only the formats that could match a file
starting with its first byte are tried, in FIDO's order, and a signature whose first byte differs is passed over
without matching its patterns. Signatures with a pattern FIDO would fail on are never passed over.
"""

from __future__ import annotations

import re
from typing import Any

try:
    from re import _parser as sre_parse  # Python 3.11 and later
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse  # type: ignore[no-redef]

# A pattern FIDO would fail on when it reaches it (no position or regex, a regex that does not compile): FIDO
# then drops the rest of that format's signatures, keeping what matched before.
_BROKEN = object()


class _Broken(Exception):
    pass


_POSITIONS = ("BOF", "EOF", "VAR", "IFB")


def _pattern(pat: Any) -> tuple[str, Any]:
    """(position, compiled regex); FIDO reads both first, and compiles the regex only for a known position."""
    try:
        position, regex = pat.find("position").text, pat.find("regex").text.encode("utf8")
    except AttributeError:
        return "", _BROKEN
    if position not in _POSITIONS:
        return position, None  # never matched: FIDO passes over it
    try:
        return position, re.compile(regex)
    except re.error:
        return position, _BROKEN


def _first_byte(regex: re.Pattern[bytes]) -> int | None:
    """The byte a match must begin with, when the regex starts with a literal (after zero-width assertions)."""
    if regex.flags & re.IGNORECASE:
        return None
    try:
        parsed = sre_parse.parse(regex.pattern, regex.flags)
    except Exception:  # it compiled, so this does not happen; no gate then
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    for op, value in parsed:
        if op is sre_parse.AT:  # zero-width: \A, ^, \b... all hold at the start of the match, consume nothing
            continue
        return value if op is sre_parse.LITERAL else None  # type: ignore[no-any-return]
    return None


def _gate(patterns: list[tuple[str, Any]]) -> int | None:
    """The first byte a file must start with to match this signature; None when there is no such byte."""
    if any(regex is _BROKEN for _position, regex in patterns):
        return None  # FIDO reaches the broken pattern unless an earlier one fails: never pass it over
    for position, regex in patterns:
        if position == "BOF" and regex is not None:  # .match: anchored at the first byte
            byte = _first_byte(regex)
            if byte is not None:
                return byte
    return None


_Signature = tuple[str, list[tuple[str, Any]], "int | None"]  # (name, [(position, regex)], gate)
_Format = tuple[Any, str, list[_Signature]]  # (format element, its PUID, signatures)
_EMPTY = 256  # the "first byte" of an empty buffer


class SignatureMatcher:
    """``fido.match_formats(bof, eof)`` for one loaded ``Fido``; stateless but for a cache, so it needs no lock."""

    def __init__(self, fido: Any) -> None:
        self.priority: dict[str, frozenset[str]] = fido.puid_has_priority_over_map
        self.formats: list[_Format] = []  # in FIDO's order
        for fmt in fido.formats:
            signatures: list[_Signature] = []
            for sig in fido.get_signatures(fmt):
                patterns = [_pattern(pat) for pat in fido.get_patterns(sig)]
                signatures.append((sig.findtext("name"), patterns, _gate(patterns)))
            self.formats.append((fmt, fido.get_puid(fmt), signatures))
        self._candidates: dict[int, list[_Format]] = {}

    def _for_first_byte(self, first: int) -> list[_Format]:
        """The formats with a signature a buffer starting with ``first`` may match, in FIDO's order."""
        found = self._candidates.get(first)
        if found is None:  # a race builds the same list twice: harmless
            found = self._candidates[first] = [
                entry for entry in self.formats if any(gate is None or gate == first for _n, _p, gate in entry[2])]
        return found

    def _as_good_as_any(self, fmt: Any, puid: str, found: list[tuple[Any, str, str]]) -> bool:
        """Fido.as_good_as_any: no format found so far has priority over this one."""
        return not any(other is not fmt and puid in self.priority[other_puid] for other, other_puid, _ in found)

    def match(self, bof: bytes, eof: bytes) -> list[tuple[Any, str]]:
        first = bof[0] if bof else _EMPTY
        found: list[tuple[Any, str, str]] = []  # (format, its PUID, signature name)
        # A format left out could match nothing, and a format that matches nothing changes nothing in FIDO's loop.
        for fmt, puid, signatures in self._for_first_byte(first):
            if found and not self._as_good_as_any(fmt, puid, found):
                continue
            try:
                for name, patterns, gate in signatures:
                    if (gate is None or gate == first) and _matches(patterns, bof, eof):
                        found.append((fmt, puid, name))
            except _Broken:
                continue
        return [(fmt, name) for fmt, puid, name in found if self._as_good_as_any(fmt, puid, found)]


def _matches(patterns: list[tuple[str, Any]], bof: bytes, eof: bytes) -> bool:
    for position, regex in patterns:
        if regex is _BROKEN:
            raise _Broken
        if regex is None:
            continue
        found = regex.match(bof) if position == "BOF" else regex.search(eof if position == "EOF" else bof)
        if not found:
            return False
    return True
