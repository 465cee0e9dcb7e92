"""The second line of defence against personal data in a report: every finding and note is scrubbed of the run's own
sample values before it is recorded.

The first line is that findings quote references, element names, codes, sizes and sha256 sums, never a value, and
that an endpoint's fault is quoted by its faultcode, never its faultstring (wording.py). But an endpoint's answer may
reach a finding in ways no profile foresaw (an exception's text); what it can quote of the samples is known, so it
is masked wherever it appears: every string of the samples' parties and properties, and the documents' names. Left
out, as they are no personal data and findings name them: the case schema's own words (``person``, ``applicant``),
strings shorter than three characters, and numbers shorter than six digits (a postnummer or a house number would
mask sizes and counts). A personnummer is masked in each way it is written (with or without century and hyphen).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from brygga.canonical import load_case_schema
from brygga.redact import MASK
from brygga_conformance.samples import DRAWING_SOURCE_ID, Sample

MIN_LENGTH = 3
MIN_DIGITS = 6
_ID_NUMBER = re.compile(r"(\d{2})?(\d{6})[-+]?(\d{4})")


class Scrubber:
    """Masks the given values wherever they stand as whole words in a text."""

    def __init__(self, values: Iterable[str]) -> None:
        kept = sorted({value for value in values if value}, key=len, reverse=True)  # the longest first
        alternatives = "|".join(re.escape(value) for value in kept)
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if kept else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern is not None else text

    @classmethod
    def of(cls, samples: Iterable[Sample]) -> Scrubber:
        """A scrubber of the values the samples' cases hold about people and places (see the module docstring)."""
        return cls(value for sample in samples for value in sample_values(sample))


def sample_values(sample: Sample) -> Iterator[str]:
    case = sample.case
    found = [*_strings(case.get("parties")), *_strings(case.get("properties")),
             *(a["name"] for a in case.get("attachments") or [] if a.get("sourceId") != DRAWING_SOURCE_ID)]
    for value in found:
        value = value.strip()
        if len(value) < MIN_LENGTH or value in schema_words():
            continue
        if value.isdigit() and len(value) < MIN_DIGITS:
            continue
        yield value
        yield from _written_otherwise(value)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _written_otherwise(value: str) -> list[str]:
    """A personnummer (or organisationsnummer) as it may be written elsewhere: with or without century and hyphen."""
    matched = _ID_NUMBER.fullmatch(value)
    if matched is None:
        return []
    century, date, tail = matched.group(1) or "", matched.group(2), matched.group(3)
    forms = {f"{date}{tail}", f"{date}-{tail}"}
    if century:
        forms |= {f"{century}{date}{tail}", f"{century}{date}-{tail}"}
    return sorted(forms - {value})


@cache
def schema_words() -> frozenset[str]:
    """Every enum value and const string of the case schema: the schema's words, not a person's."""
    words: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "enum" and isinstance(value, list):
                    words.update(item for item in value if isinstance(item, str))
                elif key == "const" and isinstance(value, str):
                    words.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(load_case_schema())
    return frozenset(words)
