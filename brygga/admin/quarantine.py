"""The quarantine (dead letter channel) as an operator works it: list and group by reason, replay after a fix,
discard with a reason. Every action is audited, and the quarantine rows stay with how they ended."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import load_only

from brygga.admin.query import ROW_COLUMNS, SubmissionRow, row_of
from brygga.ledger import Ledger, Quarantine, State, Submission
from brygga.redact import redact
from brygga.timeutil import as_utc

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
    """The step that stopped a submission, from its steps: for one quarantined without a quarantine row (a ledger
    from before every quarantine had one)."""
    steps = [s for s in ledger.steps(submission_id) if s.outcome in ("quarantined", "error")]
    return steps[-1].step if steps else "translate"


def _stopped_at(ledger: Ledger, submission_id: str) -> str:
    """The step a quarantined submission stopped at: its latest open quarantine row says, else its steps."""
    rows = ledger.open_quarantines([submission_id])
    return rows[-1].step if rows else _last_failed_step(ledger, submission_id)


def quarantined(ledger: Ledger, flt: QuarantineFilter = QuarantineFilter()) -> list[QuarantinedRow]:
    """Every submission in quarantine matching ``flt``, the longest waiting first."""
    which = select(Submission.id).where(Submission.state == State.QUARANTINED)
    if flt.route:
        which = which.where(Submission.route_id == flt.route)
    if flt.tenant:
        which = which.where(Submission.tenant == flt.tenant)
    open_rows: dict[str, list[Quarantine]] = {}
    with ledger.session() as s:
        # The rows' columns only (never the canonical case), and the open quarantine rows of just these
        # submissions, through the index on their submission id.
        submissions = list(s.scalars(select(Submission).options(load_only(*ROW_COLUMNS))
                                     .where(Submission.id.in_(which))))
        for row in s.scalars(select(Quarantine).where(Quarantine.released_at.is_(None),
                                                      Quarantine.submission_id.in_(which))
                             .order_by(Quarantine.id)):
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


_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_LONG_HEX = re.compile(r"\b[0-9a-fA-F]{16,}\b")
# A file name standing alone (not the last part of a path, such as a mapping's mappings/x/bygglov.yaml).
_FILE_NAME = re.compile(r"(?<![\w/.-])[\w.-]*\w\.[A-Za-z][A-Za-z0-9]{1,4}(?![\w.])")
# Numbers with what joins them into one value: sizes (600,000), dates (2026-05-01 12:00), references (BN 2026-1);
# not the digits of a name (sha256, ns2).
_NUMBER = re.compile(r"(?<!\w)\d(?:[\d,.:/ -]*\d)?")
REASON_KEY_LIMIT = 200


def reason_key(reason: str, source_name: str = "") -> str:
    """What stays of a reason when the parts that differ per submission go: the submission's file name
    (``source_name``) and any other file name standing alone, ids, hashes and numbers; redacted, at most
    REASON_KEY_LIMIT long. "line 12" and "line 40" of the same rule, in files of any name, are one fault. The CLI,
    the admin page and the alerts group quarantines by this key, so they group alike."""
    text = redact(reason, REASON_KEY_LIMIT * 2)
    for name in dict.fromkeys((source_name, redact(source_name))):  # the name as it was, and as stored reasons hold it
        if name:
            text = text.replace(name, "<file>")
    text = _UUID.sub("<id>", text)
    text = _LONG_HEX.sub("<hex>", text)
    text = _FILE_NAME.sub("<file>", text)
    text = _NUMBER.sub("#", text)
    return text if len(text) <= REASON_KEY_LIMIT else text[: REASON_KEY_LIMIT - 1] + "…"


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


def replay(ledger: Ledger, submission_id: str, *, actor: str) -> Replayed:
    """Take a quarantined submission out of quarantine so the route's next run handles it again.

    The quarantine rows keep their reasons with ``resolution="replayed"`` and ``actor``; the audit says who. A
    replay cannot make a second case: each target's delivery is claimed once per submission (the idempotency key),
    and a case created before the quarantine is found again, not created again.
    """
    return _replay(ledger, submission_id, None, actor=actor)


def _replay(ledger: Ledger, submission_id: str, step: str | None, *, actor: str) -> Replayed:
    """``replay``, with the step it stopped at when the caller has read it already (``None``: read it here)."""
    submission = ledger.get(submission_id)
    if submission.state != State.QUARANTINED:
        raise ValueError(f"submission {submission_id} is {submission.state}, not quarantined: nothing to replay")
    from_state = REPLAY_FROM.get(step or _stopped_at(ledger, submission_id), State.LANDED)
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
            result = _replay(ledger, row.submission.id, row.step, actor=actor)  # the listing read its step
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
