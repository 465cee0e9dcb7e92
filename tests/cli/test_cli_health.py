"""`brygga health`: per route and per target, over a window."""

from __future__ import annotations

import json
from datetime import timedelta

from cli_ledger import NOW, delivered, land, quarantined

from brygga.ledger import State


def test_health_per_route_and_target(brygga, ledger):
    done = delivered(ledger, "2001.xml", "BN 2026-000001", ago=timedelta(hours=2))
    ledger.claim_delivery(submission_id=done, target="byggr", idempotency_key=f"{done}:byggr", owner="w")
    ledger.complete_delivery(f"{done}:byggr", "BN 2026-000001")
    quarantined(ledger, "2004.xml", "translate", ["bad"], ago=timedelta(hours=1))
    waiting = land(ledger, "2009.xml", ago=timedelta(minutes=30), state=State.TRANSLATED)
    failing = ledger.claim_delivery(submission_id=waiting, target="byggr", idempotency_key=f"{waiting}:byggr",
                                    owner="w")
    ledger.fail_delivery(f"{waiting}:byggr", failing.token, "HTTP 503", next_attempt_at=NOW + timedelta(minutes=5))
    land(ledger, "old.xml", ago=timedelta(days=3), state=State.COMPLETED)  # outside the default 24 hours

    ran = brygga("health")
    assert ran.code == 0, ran.err
    route = next(line for line in ran.out.splitlines() if line.startswith("kumla-bygglov "))
    assert route.split()[1:5] == ["3", "1", "1", "33%"], "received, completed, quarantined, error rate"
    assert waiting in route, "the oldest unfinished submission"
    target = next(line for line in ran.out.splitlines() if line.startswith("kumla-bygglov") and " byggr " in line)
    assert target.split()[2:6] == ["1", "1", "2", "50%"], "delivered, failing now, attempts, error rate"

    week = json.loads(brygga("health", "--since", "7d", "--json").out)
    (bygglov,) = week["routes"]
    assert bygglov["received"] == 4 and bygglov["targets"][0]["target"] == "byggr"


def test_health_of_an_empty_ledger(brygga, ledger):
    ran = brygga("health")
    assert ran.code == 0 and "no submissions yet" in ran.out
