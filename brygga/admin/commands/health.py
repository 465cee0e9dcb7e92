"""`brygga health`: per route and per target (call site), from the ledger: throughput, error rate, the oldest
unfinished submission and the next retry."""

from __future__ import annotations

import argparse

from brygga.admin.commands.output import as_dict, blank, cells, emit, print_json, shown_rate, table
from brygga.admin.commands.times import parse_when, shown_time
from brygga.cli_exits import OK
from brygga.cli_ledger import open_ledger
from brygga.cli_parsers import add_command


def cmd_health(args: argparse.Namespace) -> int:
    from brygga.admin import health

    routes = health(open_ledger(), since=args.since)
    if args.json:
        print_json({"since": args.since, "routes": [as_dict(route) for route in routes]})
        return OK
    if not routes:
        print("the ledger holds no submissions yet")
        return OK
    grid = table("route", "received", "completed", "quarantined", "error rate", "oldest unfinished", "submission",
                 "next retry", title=f"Routes since {shown_time(args.since)}")
    targets = table("route", "call site", "delivered", "failing now", "attempts", "error rate", "next retry",
                    title="Targets")
    for route in routes:
        grid.add_row(*cells(route.route_id, route.received, route.completed, route.quarantined,
                            shown_rate(route.error_rate), shown_time(route.oldest_unfinished_at),
                            route.oldest_unfinished_id, shown_time(route.next_retry_at)))
        for t in route.targets:
            targets.add_row(*cells(route.route_id, t.target, t.delivered, t.failing, t.attempts,
                                   shown_rate(t.error_rate), shown_time(t.next_retry_at)))
    emit(grid, *([blank(), targets] if any(route.targets for route in routes) else []))
    return OK


def add_health(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "health", func=cmd_health,
        help="per route and target: throughput, error rate, oldest unfinished, next retry",
        description="Counts from the ledger, so every worker's work is in it: per route the submissions received "
                    "since WHEN, how many completed and how many are in quarantine (the error rate), the oldest "
                    "unfinished submission and the next retry; per target (call site) the deliveries, the calls "
                    "failing now, the attempts and their error rate.",
        examples=["brygga health", "brygga health --since 7d", "brygga health --since today --json"])
    p.add_argument("--since", metavar="WHEN", type=parse_when, default="24h",
                   help="the window's start: an age (24h, 7d), today, or an ISO date or time (default 24h)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
