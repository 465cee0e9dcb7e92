"""Search the ledger the way an administrator asks: by any id they hold, by route, kommun, state, time or person.

Rows carry references only (ids, file name, sha256, diarienummer), never the canonical case or personal data.

A text is looked up by what it is exactly first (a submission id, the source's reference, a diarienummer, a sha256
or a prefix of one), each through its index; only when nothing matches exactly is it looked for inside the file
names, which reads every row. The substring search is the slow one, and the rare one. A text that may be part of a
personnummer (six digits or more) or other personal data finds a file name only whole, never as a part.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, load_only

from brygga.ledger import Ledger, Submission
from brygga.ledger.models import Delivery, PersonKey
from brygga.redact import MASK, redact
from brygga.timeutil import as_utc

__all__ = ["MIN_SHA256_PREFIX", "ROW_COLUMNS", "SearchQuery", "SubmissionRow", "conditions", "count",
           "may_be_personal", "row_of", "search"]

# A sha256 prefix shorter than this would match too much to mean anything.
MIN_SHA256_PREFIX = 8
_HEX = re.compile(r"[0-9a-fA-F]+")
# A piece of a personnummer: six digits in a row, or two runs of digits split by one separator as a personnummer
# is ("0314-2385"), read at every position so the runs may overlap.
_SIX_DIGITS = re.compile(r"\d{6}")
_SPLIT_DIGITS = re.compile(r"(?=(\d+)[-+ \u2010-\u2015\u2212](\d+))")


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
    # The landed file's name with personnummer, e-mail addresses and phone numbers masked (brygga.redact). A bare
    # name in it ("Anna Svensson ansökan.pdf") cannot be told from other words by its shape, and stays.
    source_name: str
    content_sha256: str
    external_ref: str | None
    case_type: str | None
    revision: int | None
    received_at: datetime
    updated_at: datetime


# What a row is made of: queries for rows load these columns only, never the canonical case.
ROW_COLUMNS = (Submission.id, Submission.route_id, Submission.tenant, Submission.state, Submission.source_reference,
               Submission.source_name, Submission.content_sha256, Submission.external_ref, Submission.case_type,
               Submission.revision, Submission.received_at, Submission.updated_at)


def row_of(submission: Submission) -> SubmissionRow:
    return SubmissionRow(
        id=submission.id, route_id=submission.route_id, tenant=submission.tenant, state=submission.state,
        source_reference=submission.source_reference, source_name=redact(submission.source_name),
        content_sha256=submission.content_sha256, external_ref=submission.external_ref,
        case_type=submission.case_type, revision=submission.revision,
        received_at=as_utc(submission.received_at), updated_at=as_utc(submission.updated_at))


def _sha256_matches(text: str) -> ColumnElement[bool] | None:
    """A whole sha256, or a prefix of one as a range (``>= prefix`` and ``< prefix + "g"``: every lower-case hex
    string that starts with it), which an ordinary index answers on SQLite and PostgreSQL alike; LIKE would
    need ``text_pattern_ops`` on PostgreSQL."""
    if not _HEX.fullmatch(text) or not MIN_SHA256_PREFIX <= len(text) <= 64:
        return None
    prefix = text.lower()
    if len(prefix) == 64:
        return Submission.content_sha256 == prefix
    return and_(Submission.content_sha256 >= prefix, Submission.content_sha256 < prefix + "g")


def _exact_matches(text: str) -> ColumnElement[bool]:
    """Every column that holds the text whole, each with its index."""
    by_delivery = select(Delivery.submission_id).where(Delivery.external_ref == text)
    matches: list[ColumnElement[bool]] = [
        Submission.id == text, Submission.source_reference == text, Submission.external_ref == text,
        Submission.id.in_(by_delivery)]
    sha256 = _sha256_matches(text)
    if sha256 is not None:
        matches.append(sha256)
    return or_(*matches)


def looks_personal(text: str) -> bool:
    """A personnummer, phone number or e-mail address typed as the search text, by its shape (what brygga.redact
    masks): the page and the command refuse it rather than search file names for it unaudited, or echo it back."""
    return bool(text) and MASK not in text and MASK in redact(text)


def may_be_personal(text: str) -> bool:
    """Whether a text could be a piece of a personnummer (or another number of that shape, an e-mail address, a
    phone number): six digits or more, in a row or split once as a personnummer is ("0314-2385"), or anything
    brygga.redact masks."""
    if _SIX_DIGITS.search(text) or redact(text) != text:
        return True
    return any(len(before) + len(after) >= 6 for before, after in _SPLIT_DIGITS.findall(text))


def _name_matches(text: str) -> ColumnElement[bool]:
    """The file name, whole or a part of it, in any case: read row by row. A text that may be a piece of personal
    data matches a whole name only: a file named after a resident's personnummer is not found, unaudited, by
    part of the number (brygga find --personnummer is the audited way to search by one)."""
    exact = Submission.source_name == text  # also for names SQL's lower() does not fold (SQLite: ASCII only)
    if may_be_personal(text):
        return exact
    return or_(exact, func.lower(Submission.source_name).contains(text.lower(), autoescape=True))


def _filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
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


def conditions(session: Session, query: SearchQuery) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a query, on ``submissions``; plain SQL that SQLite and PostgreSQL both run. The text
    matches exactly when any submission (that the other criteria let through) has it whole, else as part of a
    file name: one question to the indexes decides which."""
    found = _filters(query)
    text = (query.text or "").strip()
    if text:
        exact = _exact_matches(text)
        if session.scalar(select(Submission.id).where(exact, *found).limit(1)) is not None:
            found.append(exact)
        else:
            found.append(_name_matches(text))
    return found


def search(ledger: Ledger, query: SearchQuery, *, limit: int = 100, offset: int = 0) -> list[SubmissionRow]:
    """The submissions matching every criterion given, newest first."""
    with ledger.session() as s:
        statement: Any = (select(Submission).options(load_only(*ROW_COLUMNS)).where(*conditions(s, query))
                          .order_by(Submission.received_at.desc(), Submission.id.desc()).limit(limit).offset(offset))
        return [row_of(found) for found in s.scalars(statement)]


def count(ledger: Ledger, query: SearchQuery) -> int:
    with ledger.session() as s:
        return s.scalar(select(func.count()).select_from(Submission).where(*conditions(s, query))) or 0


def route_ids(session) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Every route in the ledger, one index seek per route (a loose index scan: SQLite and PostgreSQL would
    otherwise read every row's route for a DISTINCT)."""
    routes = select(func.min(Submission.route_id).label("route_id")).cte("routes", recursive=True)
    following = select(func.min(Submission.route_id)).where(Submission.route_id > routes.c.route_id)
    routes = routes.union_all(select(following.scalar_subquery()).where(routes.c.route_id.is_not(None)))
    yield from session.scalars(select(routes.c.route_id).where(routes.c.route_id.is_not(None)))
