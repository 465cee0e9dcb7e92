"""Quarantines grouped by step and reason, so that one fault is one line of an alert however many it hit.

A reason is the ledger's (redacted when it was stored), keyed as the CLI and the admin page key it
(``brygga.admin.quarantine.reason_key``): redacted again, its numbers, dates, ids and file names (a resident may
name a file after themselves) taken out. What is left is the rule: the same fault on many submissions reads the same,
and groups the same in an alert as in ``brygga quarantine list``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from brygga.admin.quarantine import reason_key
from brygga.alerts.alert import MAX_GROUPS, MAX_IDS, ReasonGroup


@dataclass(frozen=True)
class Quarantined:
    """One open quarantine as an alert sees it: whose, at which step, why."""

    submission_id: str
    step: str
    reasons: tuple[str, ...]
    source_name: str = ""  # the file's name, taken out of its reasons


def group_reasons(quarantined: Iterable[Quarantined]) -> tuple[ReasonGroup, ...]:
    """By step and first reason, biggest group first (then by step and reason, so the order is stable); at most
    MAX_GROUPS of them (the alert counts the rest)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for item in quarantined:
        reason = reason_key(item.reasons[0], item.source_name) if item.reasons else "(no reason recorded)"
        if len(item.reasons) > 1:
            reason += f" (and {len(item.reasons) - 1} more)"
        groups.setdefault((item.step, reason), []).append(item.submission_id)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return tuple(ReasonGroup(step, reason, len(ids), tuple(ids[:MAX_IDS]))
                 for (step, reason), ids in ordered[:MAX_GROUPS])
