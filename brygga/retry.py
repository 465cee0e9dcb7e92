"""Retry by time: a budget per remote system, exponential backoff with jitter, and a settle delay for in-doubt calls.

A route's ``retry`` block sets the defaults; a target, the status callback and the property lookup may each
override them. The budget counts from the first failed attempt, not in schedule ticks: a case system that is
down for an evening is waited out, however often the route runs.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

_DURATION = re.compile(r"^([0-9]+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: int | str) -> timedelta:
    """``30`` or ``"30s"``, ``"15m"``, ``"24h"``, ``"90d"``; the routes schema has already checked the form."""
    if isinstance(value, int):
        return timedelta(seconds=value)
    matched = _DURATION.match(value)
    if matched is None:
        raise ValueError(f"not a duration: {value!r} (a number of seconds, or a number with s, m, h or d)")
    return timedelta(seconds=int(matched.group(1)) * _UNIT_SECONDS[matched.group(2)])


# In the reason of a quarantine because a call site's retry budget was spent: such a quarantine is part of its
# site's outage (brygga.alerts counts it in the outage's notices), not news of its own.
BUDGET_SPENT = "(retry.budget)"

@dataclass(frozen=True)
class RetryPolicy:
    budget: timedelta = timedelta(hours=24)
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=30)
    # Twice the default read timeout (30 s): a create that timed out may still commit on the target's side.
    in_doubt_delay: timedelta = timedelta(seconds=60)

    def merged(self, raw: dict[str, Any] | None) -> RetryPolicy:
        """This policy with the keys ``raw`` sets (a route's, then a target's ``retry`` block)."""
        if not raw:
            return self
        return RetryPolicy(**{**self.__dict__, **{k: parse_duration(v) for k, v in raw.items()}})

    def backoff(self, failures: int, *, rng: random.Random | None = None) -> timedelta:
        """The wait after ``failures`` failed attempts in a row: doubling, capped, with full jitter on its upper half.

        Half of the delay is fixed so a retry never comes at once; the other half is random so that many
        submissions that failed together do not all come back at the same moment.
        """
        exponent = min(max(failures - 1, 0), 32)
        ceiling = min(self.first_delay * (2 ** exponent), self.max_delay)
        return ceiling / 2 + ceiling / 2 * (rng or random).random()

    def over_half(self, failing_for: timedelta) -> bool:
        return failing_for * 2 >= self.budget
