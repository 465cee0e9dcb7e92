"""Search the ledger the way an administrator asks: by any id they hold, by route, kommun, state, time or person.

Rows carry references only (ids, file name, sha256, diarienummer), never the canonical case or personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from brygga.ledger import Ledger, Submission
from brygga.ledger.models import Delivery, PersonKey

# A sha256 prefix shorter than this would match too much to mean anything.
MIN_SHA256_PREFIX = 8
_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None  # id, source reference, file name, sha256 (or a prefix), diarienummer / target's ref
    route: str | None = None
    tenant: str | None = None  # kommunkod
    state: str | None = None
    since: datetime | None = None  # received_at >= since
    until: datetime | None = None  # received_at < until
    person_key: str | None = None  # brygga.admin.personal.person_key(personnummer, secret)


@dataclass(frozen=True)
class SubmissionRow:
    """One submission as lists show it: references and state, never personal data."""

    id: str
    route_id: str
    tenant: str
    state: str
    source_reference: str | None
    source_name: str  # the landed file's name
    content_sha256: str
    external_ref: str | None
    case_type: str | None
    revision: int | None
    received_at: datetime
    updated_at: datetime


def as_utc(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back (everything Brygga writes is UTC); a naive bound is taken as UTC too."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def optional_utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


def row_of(submission: Submission) -> SubmissionRow:
    return SubmissionRow(
        id=submission.id, route_id=submission.route_id, tenant=submission.tenant, state=submission.state,
        source_reference=submission.source_reference, source_name=submission.source_name,
        content_sha256=submission.content_sha256, external_ref=submission.external_ref,
        case_type=submission.case_type, revision=submission.revision,
        received_at=as_utc(submission.received_at), updated_at=as_utc(submission.updated_at))


def _text_matches(text: str) -> ColumnElement[bool]:
    by_delivery = select(Delivery.submission_id).where(Delivery.external_ref == text)
    matches: list[ColumnElement[bool]] = [
        Submission.id == text, Submission.source_reference == text, Submission.external_ref == text,
        Submission.id.in_(by_delivery),
        Submission.source_name == text,  # exact, for names SQL's lower() does not fold (SQLite: ASCII only)
        func.lower(Submission.source_name).contains(text.lower(), autoescape=True),
    ]
    if _HEX.fullmatch(text) and len(text) >= MIN_SHA256_PREFIX:
        matches.append(Submission.content_sha256.startswith(text.lower(), autoescape=True))
    return or_(*matches)


def conditions(query: SearchQuery) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a query, on ``submissions``; plain SQL that SQLite and PostgreSQL both run."""
    found: list[ColumnElement[bool]] = []
    text = (query.text or "").strip()
    if text:
        found.append(_text_matches(text))
    for column, value in ((Submission.route_id, query.route), (Submission.tenant, query.tenant),
                          (Submission.state, query.state)):
        if value:
            found.append(column == value)
    # Compared in UTC: SQLite stores the time without its offset.
    if query.since is not None:
        found.append(Submission.received_at >= as_utc(query.since))
    if query.until is not None:
        found.append(Submission.received_at < as_utc(query.until))
    if query.person_key:
        found.append(Submission.id.in_(select(PersonKey.submission_id).where(PersonKey.key == query.person_key)))
    return found


def search(ledger: Ledger, query: SearchQuery, *, limit: int = 100, offset: int = 0) -> list[SubmissionRow]:
    """The submissions matching every criterion given, newest first."""
    statement: Any = (select(Submission).where(*conditions(query))
                      .order_by(Submission.received_at.desc(), Submission.id.desc()).limit(limit).offset(offset))
    with ledger.session() as s:
        return [row_of(found) for found in s.scalars(statement)]


def count(ledger: Ledger, query: SearchQuery) -> int:
    with ledger.session() as s:
        return s.scalar(select(func.count()).select_from(Submission).where(*conditions(query))) or 0
