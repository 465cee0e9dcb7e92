"""Quarantines grouped by step and reason, so that one fault is one line of an alert however many it hit.

A reason is the ledger's (redacted when it was stored); for an alert it is redacted again, and its numbers, dates,
ids and file names (a resident may name a file after themselves) are taken out. What is left is the rule: the same
fault on many submissions reads the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from brygga.alerts.alert import MAX_IDS, ReasonGroup
from brygga.redact import redact

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
# Numbers with what joins them into one value: sizes (600,000), dates (2026-05-01 12:00), references (BN 2026-1).
_NUMBER = re.compile(r"\d(?:[\d,.:/ -]*\d)?")
# A file name standing alone (not the last part of a path, such as a mapping's mappings/x/bygglov.yaml).
_FILE_NAME = re.compile(r"(?<![\w/.-])[\w.-]*\w\.[A-Za-z][A-Za-z0-9]{1,4}(?![\w.])")
PATTERN_LIMIT = 200


@dataclass(frozen=True)
class Quarantined:
    """One open quarantine as an alert sees it: whose, at which step, why."""

    submission_id: str
    step: str
    reasons: tuple[str, ...]


def reason_pattern(reason: str) -> str:
    """``reason`` without the values in it: numbers as ``#``, ids as ``<id>``, file names as ``<file>``, at most
    PATTERN_LIMIT long."""
    text = _FILE_NAME.sub("<file>", _UUID.sub("<id>", redact(reason, PATTERN_LIMIT * 2)))
    text = _NUMBER.sub("#", text)
    return text if len(text) <= PATTERN_LIMIT else text[: PATTERN_LIMIT - 1] + "…"


def group_reasons(quarantined: Iterable[Quarantined]) -> tuple[ReasonGroup, ...]:
    """By step and first reason, biggest group first (then by step and reason, so the order is stable)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for item in quarantined:
        reason = reason_pattern(item.reasons[0]) if item.reasons else "(no reason recorded)"
        if len(item.reasons) > 1:
            reason += f" (and {len(item.reasons) - 1} more)"
        groups.setdefault((item.step, reason), []).append(item.submission_id)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return tuple(ReasonGroup(step, reason, len(ids), tuple(ids[:MAX_IDS])) for (step, reason), ids in ordered)
