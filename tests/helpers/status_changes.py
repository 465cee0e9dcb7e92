"""Reading a status feed's changes in tests: by id, and in the feed's order."""

from __future__ import annotations

from datetime import datetime

from brygga.status.changes import CaseChange


def time_and_id(change: CaseChange) -> tuple[datetime, str, int, str]:
    """The feed's order: time, then the id's kind and number (numerically, where it is one), then the rest."""
    kind, _, rest = change.change_id.partition(":")
    number = rest.split(":")[0]
    return change.occurred_at, kind, int(number) if number.isdigit() else 0, rest


def by_id(changes: list[CaseChange]) -> dict[str, CaseChange]:
    return {change.change_id: change for change in changes}
