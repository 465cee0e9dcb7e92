"""The administrator's commands: `brygga list`, `find`, `trace`, `quarantine list|show|replay|discard`, `health`.

Each answers through the admin API (brygga.admin) on the ledger of ``BRYGGA_HOME`` (or ``brygga --home DIR``), and
refuses a ledger that does not exist instead of creating an empty one. Tables and the progress bar are rich's; they
are plain text, without colour, when the output is not a terminal. Personal data stays masked unless
``trace --reveal`` asks for it, which is audited. Exit codes (docs/cli.md): 0 ok, 1 nothing found or refused,
2 usage, 3 ledger or configuration missing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from brygga.errors import BryggaError
from brygga.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from brygga.admin import QuarantineFilter, SearchQuery, SubmissionRow, Trace
    from brygga.ledger import Ledger

OK, NOTHING, USAGE, MISSING = 0, 1, 2, 3

STATES = ("landed", "translated", "delivered", "archived", "completed", "quarantined", "duplicate", "superseded",
          "discarded")
STEPS = ("intake", "translate", "route", "deliver", "archive", "notify")
DEFAULT_LIMIT = 50
NONE = "-"


class LedgerMissing(BryggaError):
    """The ledger the settings name does not exist or cannot be opened: exit 3, and nothing is created."""


def os_user() -> str:
    """Who acts, for the audit: the OS user running the command."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry or LOGNAME
        return "unknown"


def open_ledger() -> Ledger:
    """The ledger of the current settings. A SQLite file that does not exist is refused (opening it would create
    an empty ledger, and a folder, wherever BRYGGA_HOME happened to point); other databases are opened as they are."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from brygga.ledger import Ledger

    url = Settings.from_env().database_url
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerMissing("BRYGGA_DATABASE_URL is not a database URL") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_file():
            raise LedgerMissing(
                f"no ledger at {path}; set BRYGGA_HOME, or pass --home DIR, to the Brygga home the workers use "
                "(the demo's is var/demo: brygga --home var/demo …), or BRYGGA_DATABASE_URL to its database")
    shown = parsed.render_as_string(hide_password=True)
    try:
        return Ledger(url)
    except SQLAlchemyError as exc:
        raise LedgerMissing(f"cannot open the ledger at {shown}: {exc.__class__.__name__}") from None
    except ImportError as exc:  # the URL names a database driver that is not installed
        raise LedgerMissing(f"cannot open the ledger at {shown}: its driver {exc.name} is not installed") from None


# --- times -----------------------------------------------------------------------------------------------------

_AGE = re.compile(r"(\d+)\s*(s|m|min|h|d|w)", re.IGNORECASE)
_AGE_UNITS = {"s": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """``2d``, ``12h``, ``30m`` (that long ago), ``today``, ``yesterday``, or an ISO date or time. A time without
    an offset is local time."""
    now = now or datetime.now().astimezone()
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


def shown_rate(rate: float) -> str:
    return f"{rate:.0%}"


# --- output ------------------------------------------------------------------------------------------------------

def console(stream: TextIO | None = None) -> Console:
    """A rich console on stdout (or ``stream``). Off a terminal it is plain text, and wide enough that no table row
    wraps: a pipe into grep or head sees one line per row."""
    from rich.console import Console

    file = stream or sys.stdout
    terminal = bool(getattr(file, "isatty", lambda: False)())
    # markup off: ids, reasons and file names come from outside and may hold [brackets].
    return Console(file=file, highlight=False, markup=False, emoji=False, width=None if terminal else 4000)


def emit(*renderables: Any) -> None:
    """Print tables and text on stdout; off a terminal without the cells' trailing padding."""
    out = console()
    if out.is_terminal:
        for renderable in renderables:
            out.print(renderable)
        return
    with out.capture() as captured:
        for renderable in renderables:
            out.print(renderable)
    for line in captured.get().splitlines():  # line by line: a reader that went away is noticed (BrokenPipeError)
        sys.stdout.write(line.rstrip() + "\n")


def table(*columns: str, title: str | None = None) -> Table:
    from rich import box
    from rich.table import Table

    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=title, title_justify="left")
    for name in columns:
        grid.add_column(name, no_wrap=name in ("id", "submission"), min_width=36 if name == "id" else None)
    return grid


def cells(*values: object) -> list[Any]:
    """Table cells as plain text: never read as markup."""
    from rich.text import Text

    return [Text(NONE if value is None or value == "" else str(value)) for value in values]


def print_json(value: Any) -> None:
    def plain(item: Any) -> Any:
        if isinstance(item, datetime):
            return item.isoformat()
        raise TypeError(f"{type(item).__name__} is not JSON")

    print(json.dumps(value, ensure_ascii=False, indent=2, default=plain))


def as_dict(row: Any, *, reveal: bool = False) -> dict[str, Any]:
    """A row as JSON data. A file name may carry a personnummer (docs/retention.md): masked by shape, as the
    quarantine reasons are, unless revealed."""
    data = dataclasses.asdict(row)
    return data if reveal else _masked_names(data)


def _masked_names(value: Any) -> Any:
    from brygga.redact import redact

    if isinstance(value, dict):
        return {key: redact(item) if key == "source_name" and isinstance(item, str) else _masked_names(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_masked_names(item) for item in value]
    return value


def fail(command: str, message: str, code: int = NOTHING) -> int:
    print(f"brygga {command}: {message}", file=sys.stderr)
    return code


def hint(text: str) -> None:
    """A next step for a person at a terminal; scripts reading the output do not get it."""
    if sys.stdout.isatty():
        print(text, file=sys.stderr)


# --- list and find -----------------------------------------------------------------------------------------------

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


def _print_submissions(command: str, ledger: Ledger, query: SearchQuery, args: argparse.Namespace,
                       nothing: str) -> int:
    from brygga.admin import count, search

    rows = search(ledger, query, limit=args.limit)
    if args.json:
        print_json([as_dict(row) for row in rows])
        return OK if rows else NOTHING
    if not rows:
        return fail(command, nothing)
    emit(_submission_table(rows, versions=command == "find"))
    total = count(ledger, query) if len(rows) == args.limit else len(rows)
    if total > len(rows):
        print(f"{len(rows)} of {total} shown, newest first; --limit N shows more", file=sys.stderr)
    hint("brygga trace ID tells one submission's whole story")
    return OK


def cmd_list(args: argparse.Namespace) -> int:
    return _print_submissions("list", open_ledger(), _query(args), args, "no submission matches")


def _read_personnummer() -> str:
    """From the terminal without echo, or one line of stdin: never from the command line, where shell history and
    ps would keep it."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("personnummer (not shown): ", stream=sys.stderr)
    return sys.stdin.readline().strip()


def _is_personnummer(text: str) -> bool:
    from brygga.canonical import normalise_personnummer

    try:
        normalise_personnummer(text.strip())
    except ValueError:
        return False
    return True


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
    elif _is_personnummer(args.text):
        return fail("find", "TEXT looks like a personnummer: the ledger does not hold it in clear. Use brygga find "
                            "--personnummer, which asks for it (and keep it out of the shell history)", USAGE)
    else:
        query = _query(args, text=args.text)
        nothing = (f"no submission matches {args.text!r} (id, source reference, file name, sha256 or a prefix of "
                   "8+, diarienummer)")
    return _print_submissions("find", open_ledger(), query, args, nothing)


# --- trace -------------------------------------------------------------------------------------------------------

def _airflow_link(run: Any) -> str:
    if run is None:
        return NONE
    base = os.environ.get("AIRFLOW__API__BASE_URL", "").rstrip("/")
    tried = f" (try {run.try_number})" if run.try_number else ""
    return f"{base}{run.ui_path()}{tried}"


def _party_line(party: Any) -> str:
    if not isinstance(party, dict):
        return str(party)
    roles = party.get("roles")
    head = f"{party.get('kind', 'party')}" + (f" ({', '.join(map(str, roles))})" if isinstance(roles, list) else "")

    def flat(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(flat(v) for v in value.values() if v not in (None, ""))
        if isinstance(value, list):
            return ", ".join(flat(v) for v in value)
        return str(value)

    fields = [f"{key} {flat(value)}" for key, value in party.items() if key not in ("kind", "roles")]
    return f"{head}: {'; '.join(fields)}" if fields else head


def _parties(ledger: Ledger, trace: Trace, *, reveal: bool) -> tuple[list[Any] | None, str]:
    """The case's parties, masked, or in clear after an audited reveal; and what the section says about them."""
    from brygga.admin import masked_case
    from brygga.admin import reveal as reveal_case
    from brygga.canonical.serialize import loads_case

    if reveal:
        case = reveal_case(ledger, trace.submission.id, actor=os_user())
        note = "in clear; this reveal is in the audit log"
    else:
        stored = ledger.get(trace.submission.id).canonical_json
        case = masked_case(loads_case(stored)) if stored else {}
        note = "masked; brygga trace ID --reveal shows them in clear, and audits it"
    if not case:
        return None, "none kept: purged by retention" if trace.purged else "none: not translated"
    return list(case.get("parties") or []), note


def _trace_header(trace: Trace, *, reveal: bool = False) -> Table:
    from rich.table import Table

    from brygga.redact import redact

    s = trace.submission
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    rows = [("submission", s.id), ("route", f"{s.route_id} (kommun {s.tenant})"), ("state", s.state),
            ("reference", s.source_reference), ("revision", s.revision), ("case type", s.case_type),
            ("diarienummer", s.external_ref), ("file", s.source_name if reveal else redact(s.source_name)),
            ("sha256", s.content_sha256),
            ("received", shown_time(s.received_at)), ("updated", shown_time(s.updated_at)),
            ("archive package", trace.archive_location)]
    if trace.purged:
        rows.append(("purged", "personal data removed by retention"))
    for key, value in rows:
        grid.add_row(*cells(key, value))
    return grid


def _trace_sections(trace: Trace) -> dict[str, Table | None]:
    steps = table("started", "step", "outcome", "took", "detail", "airflow task instance")
    for step in trace.steps:
        steps.add_row(*cells(shown_time(step.started_at), step.step, step.outcome, shown_duration(step.duration_ms),
                             step.detail, _airflow_link(step.airflow)))
    deliveries = table("target", "state", "reference", "attempts", "first attempt", "last attempt", "next attempt",
                       "last error")
    for d in trace.deliveries:
        deliveries.add_row(*cells(d.target, d.state, d.external_ref, d.attempts, shown_time(d.first_attempt_at),
                                  shown_time(d.last_attempt_at), shown_time(d.next_attempt_at), d.last_error))
    quarantine = _quarantine_history(trace)
    status = table("occurred", "diarienummer", "kind", "state", "event", "detail")
    for e in trace.status_events:
        status.add_row(*cells(shown_time(e.occurred_at), e.case_ref, e.kind, e.state, e.event_id, e.detail))
    audit = table("at", "who", "action", "detail")
    for a in trace.audit:
        audit.add_row(*cells(shown_time(a.at), a.actor, a.action, a.detail))
    versions = table("id", "received", "state", "rev", "diarienummer")
    for v in trace.other_versions:
        versions.add_row(*cells(v.id, shown_time(v.received_at), v.state, v.revision, v.external_ref))
    return {"Steps": steps if trace.steps else None,
            "Deliveries": deliveries if trace.deliveries else None,
            "Quarantine": quarantine if trace.quarantines else None,
            "Status messages to the resident": status if trace.status_events else None,
            "Audit": audit if trace.audit else None,
            "Other versions of this reference": versions if trace.other_versions else None}


def _quarantine_history(trace: Trace) -> Table:
    history = table("since", "step", "reasons", "ended", "how", "by", "note")
    for q in trace.quarantines:
        how = q.resolution or ("open" if q.released_at is None else "ended")
        history.add_row(*cells(shown_time(q.created_at), q.step, "\n".join(q.reasons), shown_time(q.released_at),
                               how, q.resolved_by, q.resolution_note))
    return history


def _sections(sections: dict[str, Table | None]) -> list[Any]:
    """Each section under its title, after a blank line; an empty one as "title: none"."""
    from rich.text import Text

    shown: list[Any] = []
    for title, section in sections.items():
        shown += [Text(""), Text(f"{title}: none" if section is None else title, style="bold")]
        if section is not None:
            shown.append(section)
    return shown


def _load_trace(command: str, ledger: Ledger, submission_id: str) -> Trace | int:
    from brygga.admin import trace

    try:
        return trace(ledger, submission_id)
    except LookupError:
        return fail(command, f"no submission with id {submission_id!r}; brygga find TEXT finds its id")


def cmd_trace(args: argparse.Namespace) -> int:
    ledger = open_ledger()
    found = _load_trace("trace", ledger, args.submission_id)
    if isinstance(found, int):
        return found
    parties, note = _parties(ledger, found, reveal=args.reveal)
    if args.json:
        print_json({**as_dict(found, reveal=args.reveal), "parties": parties, "parties_note": note})
        return OK
    from rich.text import Text

    lines = [Text(f"  {_party_line(party)}") for party in parties or []]
    emit(_trace_header(found, reveal=args.reveal), *_sections(_trace_sections(found)), Text(""),
         Text(f"Parties: {note}", style="bold"), *lines)
    return OK


# --- quarantine --------------------------------------------------------------------------------------------------

def _filter(args: argparse.Namespace) -> QuarantineFilter:
    from brygga.admin import QuarantineFilter

    return QuarantineFilter(route=args.route, step=args.step, reason=args.reason, tenant=args.tenant)


def _described(flt: QuarantineFilter) -> str:
    parts = [f"{name} {value!r}" for name, value in (("route", flt.route), ("step", flt.step),
                                                      ("reason containing", flt.reason), ("kommun", flt.tenant))
             if value]
    return ", ".join(parts) or "every quarantined submission"


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from brygga.admin import quarantine_groups, quarantined

    ledger, flt = open_ledger(), _filter(args)
    if args.all:
        rows = quarantined(ledger, flt)
        if args.json:
            print_json([as_dict(row) for row in rows])
        elif rows:
            grid = table("id", "since", "route", "step", "reference", "reasons")
            for row in rows:
                grid.add_row(*cells(row.submission.id, shown_time(row.since), row.submission.route_id, row.step,
                                    row.submission.source_reference, "\n".join(row.reasons)))
            emit(grid)
        found = len(rows)
    else:
        groups = quarantine_groups(ledger, flt)
        if args.json:
            print_json([as_dict(group) for group in groups])
        elif groups:
            grid = table("count", "route", "step", "reason (of the oldest)", "oldest", "first submission")
            for group in groups:
                grid.add_row(*cells(group.count, group.route_id, group.step, group.reason, shown_time(group.oldest),
                                    group.submission_ids[0]))
            emit(grid)
            hint("brygga quarantine list --all lists every submission; brygga quarantine replay --route R --step S "
                 "--reason TEXT replays a group after the fix")
        found = sum(group.count for group in groups)
    if not found and not args.json:
        print(f"nothing in quarantine ({_described(flt)})")
    return OK


def cmd_quarantine_show(args: argparse.Namespace) -> int:
    ledger = open_ledger()
    found = _load_trace("quarantine show", ledger, args.submission_id)
    if isinstance(found, int):
        return found
    if not found.quarantines:
        return fail("quarantine show", f"submission {args.submission_id} has never been in quarantine "
                                        f"(it is {found.submission.state}); brygga trace ID shows its story")
    if args.json:
        print_json({"submission": as_dict(found.submission), "quarantines": [as_dict(q) for q in found.quarantines],
                    "steps": [as_dict(s) for s in found.steps]})
        return OK
    from rich.text import Text

    sections = _trace_sections(found)
    shown = [_trace_header(found), *_sections({key: sections[key] for key in ("Quarantine", "Steps", "Deliveries")})]
    if found.submission.state == "quarantined":
        shown += [Text(""), Text(f"after the fix: brygga quarantine replay {found.submission.id}"),
                  Text(f"or let it go:  brygga quarantine discard {found.submission.id} --reason TEXT")]
    emit(*shown)
    return OK


def _confirm(question: str) -> bool:
    """Ask at the terminal; without one there is nobody to ask, and --yes must say it."""
    if not sys.stdin.isatty():
        return False
    from rich.prompt import Confirm

    try:
        return Confirm.ask(question, console=console(sys.stderr), default=False)
    except EOFError:  # the terminal closed its input: no answer is no
        return False


def _replay_ids(ledger: Ledger, ids: list[str], actor: str) -> int:
    from brygga.admin import replay

    failed = 0
    for submission_id in ids:
        try:
            done = replay(ledger, submission_id, actor=actor)
        except (LookupError, ValueError) as exc:
            failed += 1
            print(f"brygga quarantine replay: {_lookup_message(exc, submission_id)}", file=sys.stderr)
            continue
        print(f"submission {done.submission_id} released from quarantine as {done.from_state}; "
              "the route's next run takes it")
    return NOTHING if failed else OK


def _lookup_message(exc: Exception, submission_id: str) -> str:
    return f"no submission with id {submission_id!r}" if isinstance(exc, LookupError) else str(exc)


def _replay_filtered(ledger: Ledger, flt: QuarantineFilter, *, yes: bool, actor: str) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from brygga.admin import Replayed, quarantined, replay_many

    matching = quarantined(ledger, flt)
    if not matching:
        return fail("quarantine replay", f"nothing in quarantine matches ({_described(flt)})")
    routes = sorted({row.submission.route_id for row in matching})
    question = f"Replay {len(matching)} quarantined submission(s) ({_described(flt)}; routes {', '.join(routes)})?"
    if not yes and not _confirm(question):
        why = "not confirmed" if sys.stdin.isatty() else "no terminal to ask on: add --yes to replay them"
        return fail("quarantine replay", f"{len(matching)} submission(s) match; {why}; nothing replayed")
    problems: list[str] = []
    with Progress(TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console(sys.stderr)) as progress:
        task = progress.add_task("replay", total=len(matching))

        def on_each(submission_id: str, result: Replayed | Exception) -> None:
            progress.advance(task)
            if isinstance(result, Exception):
                problems.append(f"{submission_id}: {_lookup_message(result, submission_id)}")

        done = replay_many(ledger, flt, actor=actor, on_each=on_each)
    for problem in problems:
        print(f"brygga quarantine replay: {problem}", file=sys.stderr)
    print(f"replayed {len(done)} submission(s) ({_described(flt)}); the routes' next runs take them")
    return OK if done and not problems else NOTHING


def cmd_replay(args: argparse.Namespace) -> int:
    flt = _filter(args)
    selects = any((flt.route, flt.step, flt.reason, flt.tenant))
    if args.submission_ids and (selects or args.all):
        return fail("quarantine replay", "name submissions, or select them by --route/--step/--reason/--tenant or "
                                         "--all; not both", USAGE)
    if not args.submission_ids and not selects and not args.all:
        return fail("quarantine replay", "name the submissions to replay, or select them by --route, --step, "
                                         "--reason, --tenant, or --all", USAGE)
    ledger = open_ledger()
    if args.submission_ids:
        return _replay_ids(ledger, args.submission_ids, os_user())
    return _replay_filtered(ledger, flt, yes=args.yes, actor=os_user())


def cmd_discard(args: argparse.Namespace) -> int:
    from brygga.admin import discard

    if not args.reason.strip():
        return fail("quarantine discard", "--reason must say why (it is kept, redacted, in the audit)", USAGE)
    try:
        discard(open_ledger(), args.submission_id, actor=os_user(), reason=args.reason)
    except (LookupError, ValueError) as exc:
        return fail("quarantine discard", _lookup_message(exc, args.submission_id))
    print(f"submission {args.submission_id} discarded: no run takes it up again; the reason is in the audit")
    return OK


# --- health ------------------------------------------------------------------------------------------------------

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
    from rich.text import Text

    emit(grid, *([Text(""), targets] if any(route.targets for route in routes) else []))
    return OK


# --- parsers -----------------------------------------------------------------------------------------------------

def examples(*lines: str) -> str:
    return "Examples:\n" + "\n".join(f"  {line}" for line in lines)


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", choices=STATES, metavar="STATE",
                   help=f"only submissions in this state: {', '.join(STATES)}")
    p.add_argument("--route", metavar="ID", help="only this route's (see brygga routes list)")
    p.add_argument("--tenant", metavar="KOMMUNKOD", help="only this kommun's, by its four-digit kommunkod")
    p.add_argument("--since", metavar="WHEN", type=parse_when,
                   help="received at or after WHEN: an age (2d, 12h, 30m), today, yesterday, or an ISO date or "
                        "time (2026-01-20, 2026-01-20T14:05; local time unless it has an offset)")
    p.add_argument("--until", metavar="WHEN", type=parse_when, help="received before WHEN (the same forms)")
    p.add_argument("--limit", metavar="N", type=_positive, default=DEFAULT_LIMIT,
                   help=f"at most N rows, newest first (default {DEFAULT_LIMIT})")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return int(text)


def _add_list(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "list", help="list submissions, newest first, by state, route, kommun and time",
        description="Lists the submissions in the ledger, newest first: id, when received, route, state, the "
                    "e-service's reference (e.g. the FlowInstanceID) and the diarienummer. Every filter narrows the "
                    "list. Exit 1 when nothing matches.",
        epilog=examples("brygga list --state quarantined", "brygga list --route kumla-bygglov --since 2d",
                        "brygga list --since 2026-01-20 --until 2026-01-21 --limit 500",
                        "brygga --home var/demo list"))
    _add_filters(p)
    p.set_defaults(func=cmd_list)


def _add_find(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "find", help="find a submission by any reference you hold, or by personnummer",
        description="Searches from intake on, so a file that never translated is found too: TEXT is a submission "
                    "id, the e-service's reference (Open ePlatform's FlowInstanceID), a file name or part of one, "
                    "a sha256 or a prefix of at least 8 hex digits, or a diarienummer. With --personnummer the "
                    "number is asked for (or read from stdin), never taken from the command line where shell "
                    "history and ps would keep it; the ledger is searched by its keyed hash (connection "
                    "brygga_person_key, BRYGGA_CONN_BRYGGA_PERSON_KEY). The list filters narrow it. Exit 1 when "
                    "nothing matches, 3 when personnummer search is not configured.",
        epilog=examples("brygga find 4711", 'brygga find "BN 2026-000001"', "brygga find 9f86d081",
                        "brygga find --personnummer", "brygga find --personnummer --route kumla-bygglov < number.txt",
                        "brygga find 4711 | head -1"))
    p.add_argument("text", nargs="?", metavar="TEXT", help="id, reference, file name, sha256 prefix or diarienummer")
    p.add_argument("--personnummer", action="store_true",
                   help="search by a personnummer typed at the prompt (not shown) or piped to stdin")
    _add_filters(p)
    p.set_defaults(func=cmd_find)


def _add_trace(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "trace", help="one submission's whole story: steps, deliveries, archive, quarantine, status, audit",
        description="Everything the ledger knows about one submission: each step with its time, duration, outcome "
                    "and the Airflow task instance that ran it (its path in Airflow's UI; with "
                    "AIRFLOW__API__BASE_URL set, the whole link), each delivery with its attempts and the target's "
                    "last (redacted) answer, the archive package, the status messages sent to the resident, every "
                    "quarantine with how it ended and who ended it, the audit, and the other versions of the same "
                    "reference. The parties are masked; --reveal shows them in clear and writes an audit row "
                    "(who, when, which submission). Exit 1 when there is no such submission.",
        epilog=examples("brygga trace 0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10",
                        "brygga trace 0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10 --reveal",
                        "brygga --home var/demo trace ID --json"))
    p.add_argument("submission_id", metavar="ID", help="the submission id (brygga find shows it)")
    p.add_argument("--reveal", action="store_true",
                   help="show the parties' personal data in clear; audited with your OS user")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_trace)


def _add_quarantine_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--route", metavar="ID", help="only this route's")
    p.add_argument("--step", choices=STEPS, metavar="STEP", help=f"only those stopped at this step: {', '.join(STEPS)}")
    p.add_argument("--reason", metavar="TEXT", help="only those with a reason containing TEXT (any case)")
    p.add_argument("--tenant", metavar="KOMMUNKOD", help="only this kommun's")


def add_replay_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("submission_ids", nargs="*", metavar="ID", help="the submissions to replay")
    _add_quarantine_filters(p)
    p.add_argument("--all", action="store_true", help="every quarantined submission")
    p.add_argument("--yes", "-y", action="store_true", help="replay a selection without asking first")
    p.set_defaults(func=cmd_replay)


REPLAY_DESCRIPTION = (
    "Takes submissions out of quarantine so the route's next run handles them again, from the step that stopped "
    "them: fix the mapping or the route first. Name them by id, or select them by --route, --step, --reason and "
    "--tenant (or --all): a selection is shown and confirmed first (--yes skips that; without a terminal it is "
    "required), then replayed with a progress bar. A replay never makes a second case: each target is called once "
    "per submission. The quarantine's reasons stay in its history with who replayed it, and the audit says so "
    "(your OS user). Exit 1 when nothing matched, one could not be replayed, or it was not confirmed.")
REPLAY_EXAMPLES = examples("brygga quarantine replay 0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10",
                           "brygga quarantine replay --route kumla-bygglov --step translate --reason personnummer",
                           "brygga quarantine replay --all --yes")


def _add_quarantine(sub: argparse._SubParsersAction) -> None:
    actions = sub.add_parser(
        "quarantine", help="work the quarantine: list by reason, show, replay after a fix, discard with a reason",
        description="A submission Brygga cannot handle (a mapping problem, a refusal, an outage past its retry "
                    "budget) waits in quarantine with its reasons. List it grouped by reason, look at one, replay "
                    "one or a selection after the fix, or discard one with a reason. Every action is audited.",
        epilog=examples("brygga quarantine list", "brygga quarantine list --all --route kumla-bygglov",
                        "brygga quarantine show ID", "brygga quarantine replay --reason personnummer --yes",
                        'brygga quarantine discard ID --reason "test submission, sent twice"'),
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", help="the quarantine grouped by reason (--all: each submission)",
        description="Groups the quarantined submissions by route, step and reason (ids and numbers in the reason "
                    "left out, so one fault is one group), the biggest group first, with its oldest submission. "
                    "--all lists each submission with its reasons instead, the longest waiting first. Exit 0 even "
                    "when the quarantine is empty.",
        epilog=examples("brygga quarantine list", "brygga quarantine list --step deliver",
                        "brygga quarantine list --all --reason personnummer --json"))
    _add_quarantine_filters(listing)
    listing.add_argument("--all", action="store_true", help="each quarantined submission, not groups")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=cmd_quarantine_list)
    show = actions.add_parser(
        "show", help="one submission's quarantine: its reasons, history, steps and deliveries",
        description="What stopped one submission: every quarantine it has been in with its reasons and how it "
                    "ended (replayed or discarded, by whom), its steps and deliveries, and the commands to replay "
                    "or discard it. Exit 1 when it does not exist or was never quarantined.",
        epilog=examples("brygga quarantine show 0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10"))
    show.add_argument("submission_id", metavar="ID", help="the submission id")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.set_defaults(func=cmd_quarantine_show)
    add_replay_arguments(actions.add_parser("replay", help="release submissions so the next run handles them again",
                                            description=REPLAY_DESCRIPTION, epilog=REPLAY_EXAMPLES))
    discard = actions.add_parser(
        "discard", help="end a submission's quarantine for good, with a reason",
        description="The submission becomes discarded: no run takes it up again. The reason is kept (redacted) on "
                    "its quarantine and in the audit, with your OS user. Exit 1 when it is not quarantined.",
        epilog=examples('brygga quarantine discard 0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10 --reason "sent twice; '
                        'the resident sent it again"'))
    discard.add_argument("submission_id", metavar="ID", help="the submission id")
    discard.add_argument("--reason", required=True, metavar="TEXT", help="why (required; kept in the audit)")
    discard.set_defaults(func=cmd_discard)


def _add_health(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "health", help="per route and target: throughput, error rate, oldest unfinished, next retry",
        description="Counts from the ledger, so every worker's work is in it: per route the submissions received "
                    "since WHEN, how many completed and how many are in quarantine (the error rate), the oldest "
                    "unfinished submission and the next retry; per target (call site) the deliveries, the calls "
                    "failing now, the attempts and their error rate.",
        epilog=examples("brygga health", "brygga health --since 7d", "brygga health --since today --json"))
    p.add_argument("--since", metavar="WHEN", type=parse_when, default="24h",
                   help="the window's start: an age (24h, 7d), today, or an ISO date or time (default 24h)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=cmd_health)


def _add_replay(sub: argparse._SubParsersAction) -> None:
    add_replay_arguments(sub.add_parser("replay", help="the same as brygga quarantine replay",
                                        description=REPLAY_DESCRIPTION, epilog=REPLAY_EXAMPLES))


ADMIN_COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_list, _add_find, _add_trace, _add_quarantine, _add_replay, _add_health)


def add_admin(sub: argparse._SubParsersAction) -> None:
    for add in ADMIN_COMMANDS:
        add(sub)
