"""Times on the command line: ``--since``/``--until`` as a person types them, and times and durations as tables
show them (local time)."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta

from brygga.admin.commands.output import NONE

_AGE = re.compile(r"(\d+)\s*(s|m|min|h|d|w)", re.IGNORECASE)
_AGE_UNITS = {"s": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
FORMS = ("an age (2d, 12h, 30m), today, yesterday, or an ISO date or time (2026-01-20, 2026-01-20T14:05; local "
         "time unless it has an offset)")


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """``2d``, ``12h``, ``30m`` (that long ago), ``today``, ``yesterday``, or an ISO date or time. A time without
    an offset is local time. An argparse ``type``: a bad value is a usage error naming the forms."""
    try:
        moment = _when(text, now or datetime.now().astimezone())
        moment.astimezone(UTC)  # the ledger compares in UTC: a time that has no UTC is out of range too
    except (OverflowError, ValueError):  # 99999999d ago, 0001-01-01 east of Greenwich: before year 1 or after 9999
        raise argparse.ArgumentTypeError(f"out of range: {text!r}; a time must fall within the years 1 to "
                                         "9999") from None
    return moment


def _when(text: str, now: datetime) -> datetime:
    value = text.strip()
    age = _AGE.fullmatch(value)
    if age:
        return now - timedelta(**{_AGE_UNITS[age.group(2).lower()]: int(age.group(1))})
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if value.lower() in ("today", "yesterday"):
        return midnight - timedelta(days=value.lower() == "yesterday")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r}; give an age (2d, 12h, 30m), today, yesterday, or an ISO date or time "
            "(2026-01-20, 2026-01-20T14:05, 2026-01-20T14:05+01:00)") from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def shown_time(moment: datetime | None) -> str:
    """A time as tables show it: local time, to the second."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment is not None else NONE


def shown_duration(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.1f} ms"
    seconds = ms / 1000
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {int(seconds % 60)} s"
