"""Ledger tables. The ledger is the system of record for where every submission is.

Nothing personal is stored in free-text columns (``detail``, ``reasons``): only paths, rules and ids.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Submission(Base):
    __tablename__ = "submissions"
    # One submission per distinct raw content per route: the same bytes fed twice are one submission. And one
    # submission per revision of one e-service reference, so two runs at once cannot both claim revision 2.
    __table_args__ = (UniqueConstraint("route_id", "content_sha256", name="uq_submission_content"),
                      UniqueConstraint("route_id", "source_reference", "revision", name="uq_submission_revision"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    route_id: Mapped[str] = mapped_column(String(100), index=True)
    tenant: Mapped[str] = mapped_column(String(4))
    # Indexed on its own too (the unique key above leads with the route): search by a sha256 or a prefix of one.
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    raw_path: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(Text)
    source_reference: Mapped[str | None] = mapped_column(String(200), index=True)
    case_type: Mapped[str | None] = mapped_column(String(50))
    state: Mapped[str] = mapped_column(String(20), index=True)
    canonical_json: Mapped[str | None] = mapped_column(Text)
    # Versions of one e-service reference (a re-export with other content is an amendment, a komplettering):
    # 1 for the first, 2 for the first amendment; None until translated, and for a duplicate of an earlier one.
    revision: Mapped[int | None] = mapped_column(Integer)
    content_fingerprint: Mapped[str | None] = mapped_column(String(64))  # sha256 of the case as the form gave it
    # The version whose case this one was added to, as an amendment; None for the version that created the case.
    amends: Mapped[str | None] = mapped_column(String(36))
    # The first routed target's reference (for a case system, the diarienummer), kept here for search.
    external_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    archive_location: Mapped[str | None] = mapped_column(Text)
    # Set by retention (gallring): raw bytes, attachments and canonical_json are gone, the facts remain.
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Indexed: lists are newest first, and searches and health read a time range.
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Step(Base):
    """Provenance: one row per step per submission attempt, with its timing and outcome."""

    __tablename__ = "steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    step: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[float] = mapped_column(Float)
    # The Airflow task instance that ran the step (brygga.provenance), for a link from the trace; None outside Airflow.
    dag_id: Mapped[str | None] = mapped_column(String(250))
    run_id: Mapped[str | None] = mapped_column(String(250))
    task_id: Mapped[str | None] = mapped_column(String(250))
    try_number: Mapped[int | None] = mapped_column(Integer)


class Delivery(Base):
    """One row per submission and remote call site: each target, the status callback, the property lookup.

    The unique idempotency key is what stops a second case. ``lease_token`` is a fencing token: every claim
    raises it, and only the holder of the current token may record the outcome.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    target: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed | in_doubt
    external_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_token: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)  # health's window
    # Not before this time: backoff after a transient fault, the settle delay after an in-doubt outcome.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Quarantine(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    step: Mapped[str] = mapped_column(String(30))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How the quarantine ended and by whom, kept after it ended: "replayed" or "discarded", with the operator's
    # reason for a discard. The row stays, so the trace shows why it was quarantined long after the replay.
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution_note: Mapped[str | None] = mapped_column(Text)


class PersonKey(Base):
    """A keyed hash (HMAC-SHA256, secret from a Connection) of a personnummer in a submission: search by a
    resident's personnummer without storing it. One row per distinct person per submission."""

    __tablename__ = "person_keys"
    # The unique key leads with submission_id, so it serves lookups by submission too; ``key`` has its own index.
    __table_args__ = (UniqueConstraint("submission_id", "key", name="uq_person_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    key: Mapped[str] = mapped_column(String(64), index=True)


class AlertRecord(Base):
    """An open or resolved alert, one per group (``key``, e.g. ``delivery:<connection>``): an outage of one target
    is one alert while it lasts, then one recovery notice."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_kind_route_sent", "kind", "route_id", "last_sent_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # delivery_failing | quarantine
    route_id: Mapped[str | None] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str | None] = mapped_column(Text)  # ids, sites and counts; never personal data


class AuditEntry(Base):
    """Who did what to which submissions outside the pipeline: replay, purge. Never personal data."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    submission_id: Mapped[str | None] = mapped_column(String(36), index=True)
    detail: Mapped[str | None] = mapped_column(Text)


class StatusEventRecord(Base):
    """One change a case system reported, once by its identity (``event_id``), and what was done with it.

    ``state``: ``pending`` (to be told to the resident), ``sent``, ``foreign`` (a case Brygga did not create),
    ``unmapped`` (no vocabulary rule matched), ``ignored`` (a rule said so), ``skipped`` (nothing to tell: no notify
    target, or the resident was told at registration). ``id`` is the recording order, and per case the telling order.
    ``text`` is the resident's text, made from the vocabulary's template and the case system's codes.
    """

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    connection: Mapped[str] = mapped_column(String(100), index=True)
    case_ref: Mapped[str] = mapped_column(String(100), index=True)  # the diarienummer
    change_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(30))
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    route_id: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), index=True)
    event_json: Mapped[str] = mapped_column(Text)  # the canonical status event
    detail: Mapped[str | None] = mapped_column(Text)  # what happened to it; never personal data
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Watermark(Base):
    """How far a poll has read a feed, e.g. ``status:byggr_kumla``. Moved in the transaction that records what it
    read, so a crash between reading and recording reads it again."""

    __tablename__ = "watermarks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class OutboxMessage(Base):
    """Transactional outbox: a CloudEvent written in the same transaction as the change it tells of, published later
    by the relay (brygga/bus/relay.py). ``id`` is the publishing order; ``event_id`` the CloudEvents id."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    routing_key: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class Lease(Base):
    """One holder at a time for a job that must not run twice at once (the outbox relay)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
