"""`brygga quarantine list|show|replay|discard` (and `brygga replay`, the same as `quarantine replay`): the
quarantine grouped by reason, one submission's quarantine, replay by id or by filter with a progress bar, discard
with a reason. Every action is audited with BRYGGA_ACTOR, else the OS user."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from brygga.admin.commands.output import as_dict, blank, console, emit, fail, hint, lines, print_json, print_rows
from brygga.admin.commands.times import shown_time
from brygga.admin.commands.trace import load_trace, titled, trace_header, trace_sections
from brygga.admin.quarantine import REPLAY_FROM
from brygga.cli_exits import NOTHING, OK, USAGE
from brygga.cli_ledger import open_ledger, os_user
from brygga.cli_parsers import add_command, add_group

if TYPE_CHECKING:
    from brygga.admin import QuarantineFilter
    from brygga.ledger import Ledger

STEPS = ("intake", *REPLAY_FROM)


def _filter(args: argparse.Namespace) -> QuarantineFilter:
    from brygga.admin import QuarantineFilter

    return QuarantineFilter(route=args.route, step=args.step, reason=args.reason, tenant=args.tenant)


def _described(flt: QuarantineFilter) -> str:
    parts = [f"{name} {value!r}" for name, value in (("route", flt.route), ("step", flt.step),
                                                      ("reason containing", flt.reason), ("kommun", flt.tenant))
             if value]
    return ", ".join(parts) or "every quarantined submission"


def _lookup_message(exc: Exception, submission_id: str) -> str:
    return f"no submission with id {submission_id!r}" if isinstance(exc, LookupError) else str(exc)


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from brygga.admin import quarantine_groups, quarantined

    ledger, flt = open_ledger(), _filter(args)
    if args.all:
        rows = quarantined(ledger, flt)
        print_rows(rows, as_json=args.json, columns=("id", "since", "route", "step", "reference", "reasons"),
                   row=lambda r: (r.submission.id, shown_time(r.since), r.submission.route_id, r.step,
                                  r.submission.source_reference, lines(r.reasons)))
        found = len(rows)
    else:
        groups = quarantine_groups(ledger, flt)
        print_rows(groups, as_json=args.json,
                   columns=("count", "route", "step", "reason (of the oldest)", "oldest", "first submission"),
                   row=lambda g: (g.count, g.route_id, g.step, g.reason, shown_time(g.oldest), g.submission_ids[0]))
        if groups and not args.json:
            hint("brygga quarantine list --all lists every submission; brygga quarantine replay --route R --step S "
                 "--reason TEXT replays a group after the fix")
        found = sum(group.count for group in groups)
    if not found and not args.json:
        print(f"nothing in quarantine ({_described(flt)})")
    return OK


def cmd_quarantine_show(args: argparse.Namespace) -> int:
    ledger = open_ledger()
    found = load_trace("quarantine show", ledger, args.submission_id)
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

    sections = trace_sections(found)
    shown = [trace_header(found), *titled({key: sections[key] for key in ("Quarantine", "Steps", "Deliveries")})]
    if found.submission.state == "quarantined":
        shown += [blank(), Text(f"after the fix: brygga quarantine replay {found.submission.id}"),
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


def _replay_ids(command: str, ledger: Ledger, ids: list[str], actor: str) -> int:
    from brygga.admin import replay

    failed = 0
    for submission_id in ids:
        try:
            done = replay(ledger, submission_id, actor=actor)
        except (LookupError, ValueError) as exc:
            failed += 1
            fail(command, _lookup_message(exc, submission_id))
            continue
        print(f"submission {done.submission_id} released from quarantine as {done.from_state}; "
              "the route's next run takes it")
    return NOTHING if failed else OK


def _replay_filtered(command: str, ledger: Ledger, flt: QuarantineFilter, *, yes: bool, actor: str) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from brygga.admin import Replayed, quarantined, replay_many

    matching = quarantined(ledger, flt)
    if not matching:
        return fail(command, f"nothing in quarantine matches ({_described(flt)})")
    routes = sorted({row.submission.route_id for row in matching})
    question = f"Replay {len(matching)} quarantined submission(s) ({_described(flt)}; routes {', '.join(routes)})?"
    if not yes and not _confirm(question):
        why = "not confirmed" if sys.stdin.isatty() else "no terminal to ask on: add --yes to replay them"
        return fail(command, f"{len(matching)} submission(s) match; {why}; nothing replayed")
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
        fail(command, problem)
    print(f"replayed {len(done)} submission(s) ({_described(flt)}); the routes' next runs take them")
    return OK if done and not problems else NOTHING


def cmd_replay(args: argparse.Namespace) -> int:
    command = args.replay_command  # as typed: "quarantine replay", or the shortcut "replay"
    flt = _filter(args)
    selects = any((flt.route, flt.step, flt.reason, flt.tenant))
    if args.submission_ids and (selects or args.all):
        return fail(command, "name submissions, or select them by --route/--step/--reason/--tenant or --all; not "
                             "both", USAGE)
    if not args.submission_ids and not selects and not args.all:
        return fail(command, "name the submissions to replay, or select them by --route, --step, --reason, "
                             "--tenant, or --all", USAGE)
    ledger = open_ledger()
    if args.submission_ids:
        return _replay_ids(command, ledger, args.submission_ids, os_user())
    return _replay_filtered(command, ledger, flt, yes=args.yes, actor=os_user())


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


# --- parsers -----------------------------------------------------------------------------------------------------

def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--route", metavar="ID", help="only this route's")
    p.add_argument("--step", choices=STEPS, metavar="STEP", help=f"only those stopped at this step: {', '.join(STEPS)}")
    p.add_argument("--reason", metavar="TEXT", help="only those with a reason containing TEXT (any case)")
    p.add_argument("--tenant", metavar="KOMMUNKOD", help="only this kommun's")


def add_replay(sub: argparse._SubParsersAction, command: str = "quarantine replay",
               help: str = "release submissions so the next run handles them again") -> None:
    """``brygga quarantine replay``, and ``brygga replay`` (the same command under a shorter name): ``command``
    is the one the user types, named in its examples and messages."""
    p = add_command(
        sub, command.split()[-1], func=cmd_replay, help=help,
        description="Takes submissions out of quarantine so the route's next run handles them again, from the step "
                    "that stopped them: fix the mapping or the route first. Name them by id, or select them by "
                    "--route, --step, --reason and --tenant (or --all): a selection is shown and confirmed first "
                    "(--yes skips that; without a terminal it is required), then replayed with a progress bar. A "
                    "replay never makes a second case: each target is called once per submission. The "
                    "quarantine's reasons stay in its history with who replayed it, and the audit says so "
                    "(BRYGGA_ACTOR, else your OS user). Exit 1 when nothing matched, one could not be replayed, or "
                    "it was not confirmed.",
        examples=[f"brygga {command} 0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10",
                  f"brygga {command} --route kumla-bygglov --step translate --reason personnummer",
                  f"brygga {command} --all --yes"])
    p.set_defaults(replay_command=command)
    p.add_argument("submission_ids", nargs="*", metavar="ID", help="the submissions to replay")
    _add_filters(p)
    p.add_argument("--all", action="store_true", help="every quarantined submission")
    p.add_argument("--yes", "-y", action="store_true", help="replay a selection without asking first")


def add_quarantine(sub: argparse._SubParsersAction) -> None:
    actions = add_group(
        sub, "quarantine", help="work the quarantine: list by reason, show, replay after a fix, discard with a reason",
        description="A submission Brygga cannot handle (a mapping problem, a refusal, an outage past its retry "
                    "budget) waits in quarantine with its reasons. List it grouped by reason, look at one, replay "
                    "one or a selection after the fix, or discard one with a reason. Every action is audited.",
        examples=["brygga quarantine list", "brygga quarantine list --all --route kumla-bygglov",
                  "brygga quarantine show ID", "brygga quarantine replay --reason personnummer --yes",
                  'brygga quarantine discard ID --reason "test submission, sent twice"'])
    listing = add_command(
        actions, "list", func=cmd_quarantine_list, help="the quarantine grouped by reason (--all: each submission)",
        description="Groups the quarantined submissions by route, step and reason (ids and numbers in the reason "
                    "left out, so one fault is one group), the biggest group first, with its oldest submission. "
                    "--all lists each submission with its reasons instead, the longest waiting first. Exit 0 even "
                    "when the quarantine is empty.",
        examples=["brygga quarantine list", "brygga quarantine list --step deliver",
                  "brygga quarantine list --all --reason personnummer --json"])
    _add_filters(listing)
    listing.add_argument("--all", action="store_true", help="each quarantined submission, not groups")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show = add_command(
        actions, "show", func=cmd_quarantine_show,
        help="one submission's quarantine: its reasons, history, steps and deliveries",
        description="What stopped one submission: every quarantine it has been in with its reasons and how it "
                    "ended (replayed or discarded, by whom), its steps and deliveries, and the commands to replay "
                    "or discard it. Exit 1 when it does not exist or was never quarantined.",
        examples=["brygga quarantine show 0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10"])
    show.add_argument("submission_id", metavar="ID", help="the submission id")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_replay(actions)
    discard = add_command(
        actions, "discard", func=cmd_discard, help="end a submission's quarantine for good, with a reason",
        description="The submission becomes discarded: no run takes it up again. The reason is kept (redacted) on "
                    "its quarantine and in the audit, with BRYGGA_ACTOR (else your OS user). Exit 1 when it is not "
                    "quarantined.",
        examples=['brygga quarantine discard 0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10 --reason "sent twice; the '
                  'resident sent it again"'])
    discard.add_argument("submission_id", metavar="ID", help="the submission id")
    discard.add_argument("--reason", required=True, metavar="TEXT", help="why (required; kept in the audit)")


def add_replay_shortcut(sub: argparse._SubParsersAction) -> None:
    add_replay(sub, "replay", help="the same as brygga quarantine replay")
