from __future__ import annotations

import random
from datetime import timedelta

import pytest

from brygga.retry import RetryPolicy, parse_duration


@pytest.mark.parametrize("given, seconds", [(30, 30), ("30s", 30), ("15m", 900), ("24h", 86400), ("90d", 7776000),
                                            ("0s", 0)])
def test_durations(given, seconds):
    assert parse_duration(given) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["24", "1w", "-5s", "1.5h", ""])
def test_a_duration_without_a_known_unit_is_refused(bad):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(bad)


def test_backoff_doubles_up_to_the_cap_and_jitters_in_its_upper_half():
    policy = RetryPolicy(first_delay=timedelta(seconds=30), max_delay=timedelta(minutes=4))
    rng = random.Random(7)
    for failures, ceiling in [(1, 30), (2, 60), (3, 120), (4, 240), (5, 240), (60, 240)]:
        waits = [policy.backoff(failures, rng=rng).total_seconds() for _ in range(200)]
        assert ceiling / 2 <= min(waits) and max(waits) <= ceiling
        assert max(waits) - min(waits) > ceiling / 4, "jitter spreads retries that failed together"


def test_a_target_overrides_only_what_it_sets():
    route = RetryPolicy().merged({"budget": "48h"})
    target = route.merged({"first_delay": "5s"})
    assert target.budget == timedelta(hours=48) and target.first_delay == timedelta(seconds=5)
    assert target.max_delay == RetryPolicy().max_delay and route.merged(None) is route


def test_over_half_the_budget():
    policy = RetryPolicy(budget=timedelta(hours=24))
    assert not policy.over_half(timedelta(hours=11, minutes=59))
    assert policy.over_half(timedelta(hours=12))
