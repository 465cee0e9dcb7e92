"""The quarantine (dead letter channel) as an operator works it: list and group by reason, replay after a fix,
discard with a reason. Every action is audited, and the quarantine rows stay with how they ended."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from brygga.admin.query import SubmissionRow, as_utc, row_of
from brygga.ledger import Ledger, Quarantine, State, Submission

# Where a replay starts: quarantine at translate means the raw bytes are mapped again; later steps
# resume from the state before them. Steps only act on their own state, so this is always safe.
REPLAY_FROM = {"translate": State.LANDED, "route": State.LANDED, "deliver": State.TRANSLATED,
               "archive": State.DELIVERED, "notify": State.ARCHIVED}


@dataclass(frozen=True)
class QuarantineFilter:
    route: str | None = None
    step: str | None = None
    reason: str | None = None  # a case-insensitive part of any of the reasons
    tenant: str | None = None


@dataclass(frozen=True)
class QuarantinedRow:
    submission: SubmissionRow
    step: str
    reasons: list[str]
    since: datetime


@dataclass(frozen=True)
class QuarantineGroup:
    route_id: str
    step: str
    reason: str  # the first reason of the group's oldest submission
    count: int
    oldest: datetime
    submission_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Replayed:
    submission_id: str
    from_state: str


def _last_failed_step(ledger: Ledger, submission_id: str) -> str:
    steps = [s for s in ledger.steps(submission_id) if s.outcome in ("quarantined", "error")]
    return steps[-1].step if steps else "translate"


def quarantined(ledger: Ledger, flt: QuarantineFilter = QuarantineFilter()) -> list[QuarantinedRow]:
    """Every submission in quarantine matching ``flt``, the longest waiting first."""
    query = select(Submission).where(Submission.state == State.QUARANTINED)
    if flt.route:
        query = query.where(Submission.route_id == flt.route)
    if flt.tenant:
        query = query.where(Submission.tenant == flt.tenant)
    with ledger.session() as s:
        submissions = list(s.scalars(query))
    open_rows: dict[str, list[Quarantine]] = {}
    for row in ledger.open_quarantines() if submissions else []:  # all of them: one query, not a long IN list
        open_rows.setdefault(row.submission_id, []).append(row)
    found: list[QuarantinedRow] = []
    for submission in submissions:
        rows = open_rows.get(submission.id, [])
        step = rows[-1].step if rows else _last_failed_step(ledger, submission.id)
        reasons = [reason for row in rows for reason in row.reasons]
        since = as_utc(rows[0].created_at) if rows else as_utc(submission.updated_at)
        if flt.step and step != flt.step:
            continue
        if flt.reason and not any(flt.reason.lower() in reason.lower() for reason in reasons):
            continue
        found.append(QuarantinedRow(row_of(submission), step, reasons, since))
    return sorted(found, key=lambda q: (q.since, q.submission.id))


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LONG_HEX = re.compile(r"\b[0-9a-fA-F]{16,}\b")
_NUMBER = re.compile(r"\d+")


def reason_key(reason: str, source_name: str = "") -> str:
    """What stays of a reason when the parts that differ per submission go: its file name, ids and numbers.
    "line 12" and "line 40" of the same rule are one fault."""
    if source_name:
        reason = reason.replace(source_name, "<file>")
    reason = _UUID.sub("<id>", reason)
    reason = _LONG_HEX.sub("<hex>", reason)
    return _NUMBER.sub("#", reason)


def quarantine_groups(ledger: Ledger, flt: QuarantineFilter = QuarantineFilter()) -> list[QuarantineGroup]:
    """The quarantined submissions grouped by route, step and first reason (normalised), biggest group first."""
    members: dict[tuple[str, str, str], list[QuarantinedRow]] = {}
    for row in quarantined(ledger, flt):
        first = row.reasons[0] if row.reasons else ""
        key = (row.submission.route_id, row.step, reason_key(first, row.submission.source_name))
        members.setdefault(key, []).append(row)  # oldest first, as quarantined() gives them
    groups = [QuarantineGroup(route_id=route_id, step=step, reason=rows[0].reasons[0] if rows[0].reasons else "",
                              count=len(rows), oldest=rows[0].since,
                              submission_ids=[r.submission.id for r in rows])
              for (route_id, step, _), rows in members.items()]
    return sorted(groups, key=lambda g: (-g.count, g.oldest, g.route_id, g.step))


def replay(ledger: Ledger, submission_id: str, *, actor: str = "cli") -> Replayed:
    """Take a quarantined submission out of quarantine so the route's next run handles it again.

    The quarantine rows keep their reasons with ``resolution="replayed"`` and ``actor``; the audit says who. A
    replay cannot make a second case: each target's delivery is claimed once per submission (the idempotency key),
    and a case created before the quarantine is found again, not created again.
    """
    submission = ledger.get(submission_id)
    if submission.state != State.QUARANTINED:
        raise ValueError(f"submission {submission_id} is {submission.state}, not quarantined: nothing to replay")
    from_state = REPLAY_FROM.get(_last_failed_step(ledger, submission_id), State.LANDED)
    if not ledger.release(submission_id, from_state, actor=actor):
        raise ValueError(f"submission {submission_id} left quarantine meanwhile: nothing to replay")
    return Replayed(submission_id, from_state)


def replay_many(ledger: Ledger, flt: QuarantineFilter, *, actor: str,
                on_each: Callable[[str, Replayed | Exception], None] | None = None) -> list[Replayed]:
    """Replay every quarantined submission matching ``flt``; ``on_each`` hears of each (a progress bar). One that
    cannot be replayed (another operator got there first) is reported to ``on_each`` and skipped."""
    done: list[Replayed] = []
    for row in quarantined(ledger, flt):
        try:
            result = replay(ledger, row.submission.id, actor=actor)
        except (LookupError, ValueError) as exc:
            if on_each is not None:
                on_each(row.submission.id, exc)
            continue
        done.append(result)
        if on_each is not None:
            on_each(row.submission.id, result)
    return done


def discard(ledger: Ledger, submission_id: str, *, actor: str, reason: str) -> None:
    """End a submission's quarantine for good (state ``discarded``): no run takes it up again. The reason is kept,
    redacted, on its quarantine rows and in the audit."""
    if not reason or not reason.strip():
        raise ValueError("a discard needs a reason")
    submission = ledger.get(submission_id)
    if submission.state != State.QUARANTINED:
        raise ValueError(f"submission {submission_id} is {submission.state}, not quarantined: nothing to discard")
    if not ledger.discard(submission_id, actor=actor, note=reason.strip()):
        raise ValueError(f"submission {submission_id} left quarantine meanwhile: nothing to discard")
