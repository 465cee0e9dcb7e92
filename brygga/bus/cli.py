"""`brygga bus relay`: publish the ledger's outbox once, here (what the brygga_bus_relay DAG does every minute).

It relays the outbox of the ledger the workers wrote: a ledger that does not exist is refused (exit 3), not created
with an empty outbox."""

from __future__ import annotations

import argparse
import json
import sys

from brygga.cli_ledger import open_ledger
from brygga.cli_parsers import add_command, add_group
from brygga.errors import BryggaError
from brygga.ledger.open import LedgerMissing


def relay_once() -> dict[str, int | bool]:
    from brygga.bus.relay import relay
    from brygga.bus.topology import subscriptions_from_routes
    from brygga.bus.transport import bus_url
    from brygga.routes import load_routes
    from brygga.settings import Settings

    settings = Settings.from_env()
    routes = load_routes(settings.routes_file, settings.mappings_dir)
    result = relay(open_ledger(), bus_url(settings), subscriptions_from_routes(routes))
    return {"published": result.published, "backlog": result.backlog, "another_running": result.another_running}


def cmd_relay(args: argparse.Namespace) -> int:
    try:
        result = relay_once()
    except LedgerMissing:
        raise  # exit 3, as for every command that reads the ledger (brygga.cli.main)
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
    actions = add_group(
        sub, "bus", help="canonical events on the message bus (docs/events.md)",
        description="Every submission state change and status event is written to the ledger's outbox as a "
                    "CloudEvent; the relay publishes it to the bus: BRYGGA_BUS_URL (e.g. amqp://…), or the embedded "
                    "bus in the ledger's own database.",
        examples=["brygga bus relay", "BRYGGA_BUS_URL=amqp://brygga@rabbitmq/brygga brygga bus relay --json"])
    relay = add_command(
        actions, "relay", func=cmd_relay, help="publish what the outbox holds, once",
        description="Publishes every unpublished outbox event in order, with publisher confirms on AMQP, and marks "
                    "what the broker took. Exit 2 when the bus cannot be reached: nothing is lost, the next relay "
                    "sends it. Exit 3 when there is no ledger.",
        examples=["brygga bus relay", "brygga bus relay --json", "brygga --home var/demo bus relay"])
    relay.add_argument("--json", action="store_true", help="print JSON instead of text")
