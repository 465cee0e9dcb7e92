"""Alert state in the ledger (table ``alerts``), so that two workers or two runs never send the same alert twice.

Each group of alerts has one row: ``delivery:<route>:<site>`` for a call site's outage, ``quarantine:<route>:<id>``
for one quarantine. Its ``detail`` (JSON) holds the message still due and to which notifiers, so an alert is marked
sent per notifier only after that notifier took it: a failing one gets it next run, the others not twice.

Whoever sends for a group first claims it: the row ``claim:<group>``, inserted only if absent (a primary key, so one
insert wins on SQLite and PostgreSQL alike). A claim older than ``LEASE`` belongs to a sender that died; one
conditional UPDATE takes it over. The claim is dropped after the send. Sends happen outside any transaction, so the
ledger is never held while a mail server answers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from brygga.ledger import Delivery, Ledger, State, Submission
from brygga.ledger.models import AlertRecord, utcnow

CLAIM = "claim"
# Longer than any notifier takes (each has a timeout of its own, 30 s by default).
LEASE = timedelta(minutes=5)
KEY_LIMIT = 200  # AlertRecord.key's length
FAILING_STATES = ("failed", "in_doubt")
# A submission in one of these did not get through the site: it is no sign that the site delivers again.
NOT_THROUGH = (State.QUARANTINED, State.DISCARDED, State.SUPERSEDED)


def aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything Brygga writes is UTC."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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


@dataclass(frozen=True)
class SiteFacts:
    """A call site of a route as the ledger has it now."""

    waiting: tuple[str, ...]  # unfinished submissions whose call to the site is failing, longest first
    first_failure: datetime | None  # the first failed attempt among them


def site_facts(ledger: Ledger, route_id: str, site: str) -> SiteFacts:
    with ledger.session() as s:
        rows = s.execute(
            select(Delivery.submission_id, Delivery.first_attempt_at)
            .join(Submission, Submission.id == Delivery.submission_id)
            .where(Submission.route_id == route_id, Submission.state.not_in(State.DONE), Delivery.target == site,
                   Delivery.state.in_(FAILING_STATES))
            .order_by(Delivery.first_attempt_at, Delivery.id)).all()
    firsts = [aware(first) for _, first in rows if first is not None]
    return SiteFacts(tuple(dict.fromkeys(sid for sid, _ in rows)), min(firsts) if firsts else None)


def delivers_again(ledger: Ledger, route_id: str, site: str, since: datetime, waited: list[str]) -> bool:
    """Whether the site has got a call through since ``since``: a delivery there since then, or a submission that
    waited on it and went on (a property lookup's row is dropped when it succeeds, so only that shows). Submissions
    that went to quarantine instead are no sign: the site may still be down."""
    with ledger.session() as s:
        delivered = s.scalar(
            select(Delivery.id).join(Submission, Submission.id == Delivery.submission_id)
            .where(Submission.route_id == route_id, Delivery.target == site, Delivery.state == "delivered",
                   Delivery.updated_at >= since).limit(1))
        if delivered is not None:
            return True
        if not waited:
            return False
        went_on = set(s.scalars(select(Submission.id).where(Submission.id.in_(waited),
                                                            Submission.state.not_in(NOT_THROUGH))))
        stuck = set(s.scalars(select(Delivery.submission_id).where(
            Delivery.submission_id.in_(went_on), Delivery.target == site, Delivery.state != "delivered")))
    return bool(went_on - stuck)
