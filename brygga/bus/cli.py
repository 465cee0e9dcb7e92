"""`brygga bus relay`: publish the ledger's outbox once, here (what the brygga_bus_relay DAG does every minute)."""

from __future__ import annotations

import argparse
import json
import sys

from brygga.errors import BryggaError


def relay_once() -> dict[str, int | bool]:
    from brygga.bus.relay import relay
    from brygga.bus.topology import subscriptions_from_routes
    from brygga.bus.transport import bus_url
    from brygga.ledger import Ledger
    from brygga.routes import load_routes
    from brygga.settings import Settings

    settings = Settings.from_env()
    routes = load_routes(settings.routes_file, settings.mappings_dir)
    result = relay(Ledger(settings.database_url), bus_url(settings), subscriptions_from_routes(routes))
    return {"published": result.published, "backlog": result.backlog, "another_running": result.another_running}


def cmd_relay(args: argparse.Namespace) -> int:
    try:
        result = relay_once()
    except BryggaError as exc:
        print(f"brygga bus relay: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    elif result["another_running"]:
        print(f"another relay is running; nothing published here ({result['backlog']} in the outbox)")
    else:
        print(f"published {result['published']} event(s); {result['backlog']} left in the outbox")
    return 0


def add_bus(sub: argparse._SubParsersAction) -> None:
    actions = sub.add_parser(
        "bus", help="canonical events on the message bus (docs/events.md)",
        description="Every submission state change and status event is written to the ledger's outbox as a "
                    "CloudEvent; the relay publishes it to the bus: BRYGGA_BUS_URL (e.g. amqp://…), or the embedded "
                    "bus in the ledger's own database.",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    relay = actions.add_parser("relay", help="publish what the outbox holds, once",
                               description="Publishes every unpublished outbox event in order, with publisher "
                                           "confirms on AMQP, and marks what the broker took. Exit 2 when the bus "
                                           "cannot be reached: nothing is lost, the next relay sends it.")
    relay.add_argument("--json", action="store_true", help="print JSON instead of text")
    relay.set_defaults(func=cmd_relay)
