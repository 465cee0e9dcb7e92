"""`brygga list` and `brygga find`: submissions newest first, by any reference an administrator holds, or by a
personnummer read from the terminal (never the command line) and searched by its keyed hash, audited."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from brygga.admin.commands.output import as_dict, cells, emit, fail, hint, print_json, table
from brygga.admin.commands.times import FORMS, parse_when, shown_time
from brygga.admin.query import looks_personal, may_be_personal
from brygga.cli_exits import MISSING, NOTHING, OK, USAGE
from brygga.cli_ledger import open_ledger, os_user
from brygga.cli_parsers import add_command
from brygga.ledger import State

if TYPE_CHECKING:
    from rich.table import Table

    from brygga.admin import SearchQuery, SubmissionRow

STATES = (*State.UNFINISHED, *State.DONE)
DEFAULT_LIMIT = 50


def _query(args: argparse.Namespace, **more: Any) -> SearchQuery:
    from brygga.admin import SearchQuery

    return SearchQuery(route=args.route, tenant=args.tenant, state=args.state, since=args.since, until=args.until,
                       **more)


def _submission_table(rows: list[SubmissionRow], *, versions: bool = False) -> Table:
    grid = table("id", "received", "route", "state", "reference", "diarienummer", *(["rev"] if versions else []))
    for row in rows:
        grid.add_row(*cells(row.id, shown_time(row.received_at), row.route_id, row.state, row.source_reference,
                            row.external_ref, *([row.revision] if versions else [])))
    return grid


def _print_submissions(command: str, query: SearchQuery, args: argparse.Namespace, nothing: str) -> int:
    from brygga.admin.audited_search import audited_search

    total, rows = audited_search(open_ledger(), query, actor=os_user(), limit=args.limit)
    if args.json:
        print_json([as_dict(row) for row in rows])
        return OK if rows else NOTHING
    if not rows:
        return fail(command, nothing)
    emit(_submission_table(rows, versions=command == "find"))
    if total > len(rows):
        print(f"{len(rows)} of {total} shown, newest first; --limit N shows more", file=sys.stderr)
    hint("brygga trace ID tells one submission's whole story")
    return OK


def cmd_list(args: argparse.Namespace) -> int:
    return _print_submissions("list", _query(args), args, "no submission matches")


def _read_personnummer() -> str:
    """From the terminal without echo, or one line of stdin: never from the command line, where shell history and
    ps would keep it."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("personnummer (not shown): ", stream=sys.stderr)
    return sys.stdin.readline().strip()


def _person_key_query(args: argparse.Namespace) -> SearchQuery | int:
    from brygga.admin import PERSON_KEY_CONNECTION, person_key, person_key_secret
    from brygga.connections import EnvConnectionResolver

    secret = person_key_secret(EnvConnectionResolver())
    if secret is None:
        env = f"BRYGGA_CONN_{PERSON_KEY_CONNECTION.upper()}"
        return fail("find", f"search by personnummer is not configured: set connection {PERSON_KEY_CONNECTION} "
                            f"({env}=https://:SECRET@brygga) to the same secret the workers use", MISSING)
    number = _read_personnummer()
    if not number:
        return fail("find", "no personnummer given (type it at the prompt, or pipe it to stdin)", USAGE)
    try:
        key = person_key(number, secret)
    except ValueError as exc:  # the message never holds the number
        return fail("find", str(exc), USAGE)
    return _query(args, text=args.text, person_key=key)


def cmd_find(args: argparse.Namespace) -> int:
    if args.personnummer:
        query = _person_key_query(args)
        if isinstance(query, int):
            return query
        nothing = "no submission with that personnummer" + (f" matches {args.text!r}" if args.text else "")
    elif not (args.text or "").strip():
        return fail("find", "give TEXT to search for, or --personnummer", USAGE)
    elif looks_personal(args.text):
        return fail("find", "TEXT looks like a personnummer (or a phone number, an e-mail address): the ledger does "
                            "not hold it in clear. Use brygga find --personnummer, which asks for it (and keep it "
                            "out of the shell history)", USAGE)
    else:
        query = _query(args, text=args.text)
        nothing = (f"no submission matches {args.text!r} (id, source reference, file name, sha256 or a prefix of "
                   "8+, diarienummer)")
        if may_be_personal(args.text.strip()):
            nothing += ("; a text that may hold a personnummer (six digits or more) or other personal data matches "
                        "a whole file name only, never a part of one")
    return _print_submissions("find", query, args, nothing)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return int(text)


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", choices=STATES, metavar="STATE",
                   help=f"only submissions in this state: {', '.join(STATES)}")
    p.add_argument("--route", metavar="ID", help="only this route's (see brygga routes list)")
    p.add_argument("--tenant", metavar="KOMMUNKOD", help="only this kommun's, by its four-digit kommunkod")
    p.add_argument("--since", metavar="WHEN", type=parse_when, help=f"received at or after WHEN: {FORMS}")
    p.add_argument("--until", metavar="WHEN", type=parse_when, help="received before WHEN (the same forms)")
    p.add_argument("--limit", metavar="N", type=_positive, default=DEFAULT_LIMIT,
                   help=f"at most N rows, newest first (default {DEFAULT_LIMIT})")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_list(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "list", func=cmd_list, help="list submissions, newest first, by state, route, kommun and time",
        description="Lists the submissions in the ledger, newest first: id, when received, route, state, the "
                    "e-service's reference (e.g. the FlowInstanceID) and the diarienummer. Every filter narrows the "
                    "list. Exit 1 when nothing matches.",
        examples=["brygga list --state quarantined", "brygga list --route kumla-bygglov --since 2d",
                  "brygga list --since 2026-01-20 --until 2026-01-21 --limit 500", "brygga --home var/demo list"])
    _add_filters(p)


def add_find(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "find", func=cmd_find, help="find a submission by any reference you hold, or by personnummer",
        description="Searches from intake on, so a file that never translated is found too: TEXT is a submission "
                    "id, the e-service's reference (Open ePlatform's FlowInstanceID), a file name or part of one, "
                    "a sha256 or a prefix of at least 8 hex digits, or a diarienummer. With --personnummer the "
                    "number is asked for (or read from stdin), never taken from the command line where shell "
                    "history and ps would keep it; the ledger is searched by its keyed hash (connection "
                    "brygga_person_key, BRYGGA_CONN_BRYGGA_PERSON_KEY), and the search is audited with "
                    "BRYGGA_ACTOR (else your OS user) and how many it found, never the number. The list filters "
                    "narrow it. Exit 1 when nothing matches, 3 when personnummer search is not configured.",
        examples=["brygga find 4711", 'brygga find "BN 2026-000001"', "brygga find 9f86d081",
                  "brygga find --personnummer", "brygga find --personnummer --route kumla-bygglov < number.txt",
                  "brygga find 4711 | head -1"])
    p.add_argument("text", nargs="?", metavar="TEXT", help="id, reference, file name, sha256 prefix or diarienummer")
    p.add_argument("--personnummer", action="store_true",
                   help="search by a personnummer typed at the prompt (not shown) or piped to stdin; audited")
    _add_filters(p)
