"""`brygga trace ID`: one submission's whole story (steps with their Airflow task instances, deliveries, archive
package, quarantines, status messages, audit, other versions), its parties masked unless an audited ``--reveal``.
Its sections are shown by `brygga quarantine show` too."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from brygga.admin.commands.output import NONE, as_dict, blank, cells, emit, fail, lines, print_json, table
from brygga.admin.commands.times import shown_duration, shown_time
from brygga.cli_exits import OK
from brygga.cli_ledger import open_ledger, os_user
from brygga.cli_parsers import add_command

if TYPE_CHECKING:
    from rich.table import Table

    from brygga.admin import Trace
    from brygga.ledger import Ledger


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


def trace_header(trace: Trace, *, reveal: bool = False) -> Table:
    """The submission's facts, one per line; its file name masked by shape unless revealed."""
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


def trace_sections(trace: Trace) -> dict[str, Table | None]:
    """Each section's table by its title; None for a section with nothing in it."""
    steps = table("started", "step", "outcome", "took", "detail", "airflow task instance")
    for step in trace.steps:
        steps.add_row(*cells(shown_time(step.started_at), step.step, step.outcome, shown_duration(step.duration_ms),
                             step.detail, _airflow_link(step.airflow)))
    deliveries = table("target", "state", "reference", "attempts", "first attempt", "last attempt", "next attempt",
                       "last error")
    for d in trace.deliveries:
        deliveries.add_row(*cells(d.target, d.state, d.external_ref, d.attempts, shown_time(d.first_attempt_at),
                                  shown_time(d.last_attempt_at), shown_time(d.next_attempt_at), d.last_error))
    quarantine = table("since", "step", "reasons", "ended", "how", "by", "note")
    for q in trace.quarantines:
        how = q.resolution or ("open" if q.released_at is None else "ended")
        quarantine.add_row(*cells(shown_time(q.created_at), q.step, lines(q.reasons), shown_time(q.released_at),
                                  how, q.resolved_by, q.resolution_note))
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


def titled(sections: dict[str, Table | None]) -> list[Any]:
    """Each section under its title, after a blank line; an empty one as "title: none"."""
    from rich.text import Text

    shown: list[Any] = []
    for title, section in sections.items():
        shown += [blank(), Text(f"{title}: none" if section is None else title, style="bold")]
        if section is not None:
            shown.append(section)
    return shown


def load_trace(command: str, ledger: Ledger, submission_id: str) -> Trace | int:
    """The submission's trace, or the exit code after saying there is no such submission."""
    from brygga.admin import trace

    try:
        return trace(ledger, submission_id)
    except LookupError:
        return fail(command, f"no submission with id {submission_id!r}; brygga find TEXT finds its id")


def cmd_trace(args: argparse.Namespace) -> int:
    ledger = open_ledger()
    found = load_trace("trace", ledger, args.submission_id)
    if isinstance(found, int):
        return found
    parties, note = _parties(ledger, found, reveal=args.reveal)
    if args.json:
        print_json({**as_dict(found, reveal=args.reveal), "parties": parties, "parties_note": note})
        return OK
    from rich.text import Text

    lines = [Text(f"  {_party_line(party)}") for party in parties or []]
    emit(trace_header(found, reveal=args.reveal), *titled(trace_sections(found)), blank(),
         Text(f"Parties: {note}", style="bold"), *lines)
    return OK


def add_trace(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "trace", func=cmd_trace,
        help="one submission's whole story: steps, deliveries, archive, quarantine, status, audit",
        description="Everything the ledger knows about one submission: each step with its time, duration, outcome "
                    "and the Airflow task instance that ran it (its path in Airflow's UI; with "
                    "AIRFLOW__API__BASE_URL set, the whole link), each delivery with its attempts and the target's "
                    "last (redacted) answer, the archive package, the status messages sent to the resident, every "
                    "quarantine with how it ended and who ended it, the audit, and the other versions of the same "
                    "reference. The parties are masked; --reveal shows them in clear and writes an audit row "
                    "(who, when, which submission). Exit 1 when there is no such submission.",
        examples=["brygga trace 0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10",
                  "brygga trace 0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10 --reveal",
                  "brygga --home var/demo trace ID --json"])
    p.add_argument("submission_id", metavar="ID", help="the submission id (brygga find shows it)")
    p.add_argument("--reveal", action="store_true",
                   help="show the parties' personal data in clear; audited with BRYGGA_ACTOR, else your OS user")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
