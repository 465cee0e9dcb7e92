"""Alert state in the ledger (table ``alerts``), so that two workers or two runs never send the same alert twice.

Each group of alerts has one row: ``delivery:<connection>`` (or ``delivery:<route>:<site>`` for a call site without
a connection) for an outage (brygga.alerts.sites), ``quarantine:<route>:<id>`` for one quarantine. Its ``detail``
(JSON) holds the message still due and to which notifiers, so an alert is marked sent per notifier only after that
notifier took it: a failing one gets it next run, the others not twice.

Whoever sends for a group first claims it: the row ``claim:<group>``, inserted only if absent (a primary key, so one
insert wins on SQLite and PostgreSQL alike). A claim older than ``LEASE`` belongs to a sender that died; one
conditional UPDATE takes it over. The claim is dropped after the send. Sends happen outside any transaction, so the
ledger is never held while a mail server answers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, delete, exists, false, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from brygga.alerts.alert import DELIVERY_FAILING, QUARANTINE
from brygga.ledger import Delivery, Ledger, Quarantine, State, Submission
from brygga.ledger.models import AlertRecord, utcnow
from brygga.ledger.store import FAILING_DELIVERY
from brygga.retry import BUDGET_SPENT
from brygga.timeutil import as_utc

CLAIM = "claim"
# Longer than any notifier takes (each has a timeout of its own, 30 s by default).
LEASE = timedelta(minutes=5)
KEY_LIMIT = 200  # AlertRecord.key's length
# A submission in one of these did not get through the site: it is no sign that the site delivers again.
NOT_THROUGH = (State.QUARANTINED, State.DISCARDED, State.SUPERSEDED)


def record_key(*parts: str) -> str:
    """``a:b:c``, shortened with a hash of its tail when it would not fit the key column."""
    key = ":".join(parts)
    if len(key) <= KEY_LIMIT:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{key[: KEY_LIMIT - 33]}#{digest}"


def detail(record: AlertRecord | None) -> dict[str, Any]:
    return json.loads(record.detail) if record is not None and record.detail else {}


def insert_ignore(session: Session, **values: Any) -> bool:
    """Insert an alerts row unless its key exists; True when this call inserted it."""
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        statement = insert(AlertRecord).values(**values).on_conflict_do_nothing(index_elements=["key"])
        return bool(session.execute(statement).rowcount == 1)
    try:  # any other database: a savepoint around a plain insert
        with session.begin_nested():
            session.add(AlertRecord(**values))
        return True
    except IntegrityError:
        return False


@contextmanager
def claimed(ledger: Ledger, group: str, route_id: str) -> Iterator[bool]:
    """Claim the right to send for ``group``; yields False when another sender holds it (it sends, not us)."""
    key, token, now = record_key(CLAIM, group), uuid.uuid4().hex, utcnow()
    with ledger.session() as s:
        won = insert_ignore(s, key=key, kind=CLAIM, route_id=route_id, opened_at=now, detail=token)
        if not won:  # a claim left by a sender that died is taken over, by one worker only
            won = s.execute(update(AlertRecord).where(AlertRecord.key == key, AlertRecord.opened_at < now - LEASE)
                            .values(opened_at=now, detail=token)).rowcount == 1
    try:
        yield won
    finally:
        if won:
            with ledger.session() as s:
                s.execute(delete(AlertRecord).where(AlertRecord.key == key, AlertRecord.detail == token))


Members = Sequence[tuple[str, str]]  # (route id, call site): the calls of one outage (brygga.alerts.sites)


def _calls_of(members: Members) -> ColumnElement[bool]:
    """Delivery rows (joined to their submission) of the outage's calls."""
    return or_(false(), *(and_(Submission.route_id == route, Delivery.target == site) for route, site in members))


@dataclass(frozen=True)
class SiteFacts:
    """An outage's calls as the ledger has them now."""

    waiting: tuple[str, ...]  # unfinished submissions whose call is failing, longest first
    first_failure: datetime | None  # the first failed attempt among them


def site_facts(ledger: Ledger, members: Members) -> SiteFacts:
    with ledger.session() as s:
        rows = s.execute(
            select(Delivery.submission_id, Delivery.first_attempt_at)
            .join(Submission, Submission.id == Delivery.submission_id)
            .where(_calls_of(members), Submission.state.not_in(State.DONE), Delivery.state.in_(FAILING_DELIVERY))
            .order_by(Delivery.first_attempt_at, Delivery.id)).all()
    firsts = [as_utc(first) for _, first in rows if first is not None]
    return SiteFacts(tuple(dict.fromkeys(sid for sid, _ in rows)), min(firsts) if firsts else None)


def delivers_again(ledger: Ledger, members: Members, since: datetime, waited: list[str]) -> bool:
    """Whether the outage's calls get through again since ``since``: a delivery there since then, or a submission
    that waited on it and went on (a property lookup's row is dropped when it succeeds, so only that shows).
    Submissions that went to quarantine instead are no sign: the site may still be down."""
    sites = {site for _, site in members}
    with ledger.session() as s:
        delivered = s.scalar(
            select(Delivery.id).join(Submission, Submission.id == Delivery.submission_id)
            .where(_calls_of(members), Delivery.state == "delivered", Delivery.updated_at >= since).limit(1))
        if delivered is not None:
            return True
        if not waited:
            return False
        went_on = set(s.scalars(select(Submission.id).where(Submission.id.in_(waited),
                                                            Submission.state.not_in(NOT_THROUGH))))
        stuck = set(s.scalars(select(Delivery.submission_id).where(
            Delivery.submission_id.in_(went_on), Delivery.target.in_(sites), Delivery.state != "delivered")))
    return bool(went_on - stuck)


def budget_spent(reasons: Iterable[str] | None) -> bool:
    return any(BUDGET_SPENT in reason for reason in reasons or ())


@dataclass(frozen=True)
class SpentQuarantine:
    """An open quarantine because a call's retry budget ran out: whose, where."""

    quarantine_id: int
    submission_id: str
    route_id: str
    step: str
    site: str
    created_at: datetime


def spent_quarantines(session: Session, *conditions: ColumnElement[bool]) -> list[SpentQuarantine]:
    """Open quarantines whose retry budget at a call site ran out (that call still failing), matching
    ``conditions`` on Quarantine, Submission and Delivery; oldest first."""
    rows = session.execute(
        select(Quarantine.id, Quarantine.submission_id, Submission.route_id, Quarantine.step, Delivery.target,
               Quarantine.created_at, Quarantine.reasons)
        .join(Submission, Submission.id == Quarantine.submission_id)
        .join(Delivery, Delivery.submission_id == Quarantine.submission_id)
        .where(Quarantine.released_at.is_(None), Submission.state == State.QUARANTINED,
               Delivery.state.in_(FAILING_DELIVERY), *conditions)
        .order_by(Quarantine.created_at, Quarantine.id)).all()
    return [SpentQuarantine(qid, sid, route, step, site, as_utc(created))
            for qid, sid, route, step, site, created, reasons in rows if budget_spent(reasons)]


def quarantined_during(ledger: Ledger, members: Members, since: datetime, until: datetime | None
                       ) -> list[SpentQuarantine]:
    """The outage's submissions that went to quarantine between ``since`` and ``until`` (None: now), their retry
    budget spent, and are there still."""
    window = [Quarantine.created_at >= since] + ([Quarantine.created_at <= until] if until is not None else [])
    with ledger.session() as s:
        return spent_quarantines(s, _calls_of(members), *window)


# --- keys and pruning ---------------------------------------------------------------------------------------------

# Sent alerts are kept this long, then dropped by the next check of their route (a bounded batch at a time).
KEEP = timedelta(days=30)
PRUNE_BATCH = 500


def quarantine_key(route_id: str, quarantine_id: int) -> str:
    """A quarantine's row. A route id has at most 63 characters, so the key always fits: never shortened, which
    ``quarantine_key_of`` relies on."""
    return f"{QUARANTINE}:{route_id}:{quarantine_id}"


def quarantine_key_of(route_id: str) -> ColumnElement[str]:
    """``quarantine_key`` in SQL, of the Quarantine row in the query."""
    return literal(f"{QUARANTINE}:{route_id}:") + cast(Quarantine.id, String)


def prune(ledger: Ledger, route_id: str, now: datetime) -> int:
    """Drop the route's alert rows sent over KEEP ago whose matter is over: an outage that ended, a quarantine
    replayed or discarded. One of a quarantine still open stays, or it would be alerted again. At most PRUNE_BATCH
    rows a call; the number dropped."""
    cutoff = now - KEEP
    still_open = exists().where(Quarantine.released_at.is_(None), AlertRecord.key == quarantine_key_of(route_id))
    with ledger.session() as s:
        keys = list(s.scalars(select(AlertRecord.key).where(
            AlertRecord.kind.in_((QUARANTINE, DELIVERY_FAILING)), AlertRecord.route_id == route_id,
            AlertRecord.last_sent_at < cutoff,
            or_(and_(AlertRecord.kind == QUARANTINE, ~still_open),
                and_(AlertRecord.kind == DELIVERY_FAILING, AlertRecord.resolved_at < cutoff)))
            .limit(PRUNE_BATCH)))
        if keys:
            s.execute(delete(AlertRecord).where(AlertRecord.key.in_(keys)))
    return len(keys)
