"""`brygga status run CONNECTION`, `brygga status events` and `brygga status retry EVENT_ID`: the status feed from
the command line. ``events`` and ``retry`` look at the ledger the workers wrote and refuse one that does not exist
(exit 3); ``run`` does a worker's job, and starts a ledger as a worker would."""

from __future__ import annotations

import argparse
import json
import sys

from brygga.cli_ledger import open_ledger, os_user
from brygga.cli_parsers import add_command, add_group
from brygga.errors import BryggaError


def cmd_run(args: argparse.Namespace) -> int:
    from brygga.status.run import run_status

    try:
        result = run_status(args.connection)
    except BryggaError as exc:
        print(f"brygga status run: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"poll": {"read": result.poll.read, "recorded": result.poll.recorded,
                                   "states": result.poll.states, "until": result.poll.until.isoformat()},
                          "tell": {"outcomes": result.tell.outcomes, "digital_mail": result.tell.digital_mail,
                                   "failed": result.tell.failed}}, ensure_ascii=False, indent=2))
    else:
        print(f"poll: {result.poll.summary()}")
        print(f"tell: {result.tell.summary()}")
        for failure in result.tell.failed:
            print(f"  failed: {failure}")
    return 0 if result.ok else 1


def cmd_events(args: argparse.Namespace) -> int:
    events = open_ledger().status_events(submission_id=args.submission, connection=args.connection, case_ref=args.case)
    rows = [{"event_id": e.event_id, "connection": e.connection, "diarienummer": e.case_ref, "kind": e.kind,
             "state": e.state, "occurred_at": e.occurred_at.isoformat(), "submission_id": e.submission_id,
             "change": e.change_id, "detail": e.detail} for e in events]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        detail = f"  {row['detail']}" if row["detail"] else ""
        print(f"{row['occurred_at'][:19]}  {row['diarienummer']:<18} {row['kind'] or '-':<22} {row['state']:<9}"
              f"{row['change']}{detail}")
    if not rows:
        print("no status events recorded")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from brygga.status.tell import retry_failed

    ledger = open_ledger()
    if not retry_failed(ledger, args.event_id):
        print(f"brygga status retry: no failed status event {args.event_id}", file=sys.stderr)
        return 1
    ledger.audit(args.actor or os_user(), "status-retry", detail=f"status event {args.event_id} pending again")
    print(f"status event {args.event_id} is pending again; the next status run tells it")
    return 0


def add_status(sub: argparse._SubParsersAction) -> None:
    actions = add_group(
        sub, "status", help="the resident follows the case: poll a case system's changes, list status events",
        description="Status feeds are configured under status: in the routes file (docs/status.md). Their DAGs "
                    "(brygga_status_<connection>) run them in Airflow; these commands run or inspect them here.",
        examples=["brygga status run byggr_kumla", "brygga status events --case \"BN 2026-000001\"",
                  "brygga status retry EVENT_ID --actor ops-anna"])
    run = add_command(
        actions, "run", func=cmd_run, help="poll one connection's changes and tell the residents, once, here",
        description="What the status DAG does, once, outside Airflow: reads the changes since the watermark, "
                    "records them, and tells the residents. Connections come from BRYGGA_CONN_<ID>. Exit 1 when an "
                    "event could not be told, 2 when the connection or the configuration is not usable.",
        examples=["brygga status run byggr_kumla", "brygga status run byggr_kumla --json"])
    run.add_argument("connection", help="a connection under status: in the routes file, e.g. byggr_kumla")
    run.add_argument("--json", action="store_true", help="print JSON instead of text")
    events = add_command(
        actions, "events", func=cmd_events, help="list recorded status events and what became of each",
        description="Every change a status feed read, oldest first: its kind, its state (pending, sent, failed, "
                    "foreign, unmapped, ignored, skipped) and why. Exit 3 when there is no ledger.",
        examples=["brygga status events", "brygga status events --connection byggr_kumla --json",
                  'brygga status events --case "BN 2026-000001"', "brygga status events --submission ID"])
    events.add_argument("--connection", help="only this connection's")
    events.add_argument("--case", metavar="DIARIENUMMER", help="only this case's")
    events.add_argument("--submission", metavar="ID", help="only the case this submission created")
    events.add_argument("--json", action="store_true", help="print JSON instead of text")
    retry = add_command(
        actions, "retry", func=cmd_retry, help="give a failed status event another go, after the cause is fixed",
        description="A failed event (refused, or over its retry budget) becomes pending again with a fresh retry "
                    "budget; it is told after whatever its case was told meanwhile. Audited. Exit 1 when there is "
                    "no failed event with that id, 3 when there is no ledger.",
        examples=["brygga status retry EVENT_ID", "brygga status retry EVENT_ID --actor ops-anna"])
    retry.add_argument("event_id", help="the event's id, from `brygga status events`")
    retry.add_argument("--actor", help="who retries it, for the audit log (default: BRYGGA_ACTOR, else the OS "
                                       "user)")
