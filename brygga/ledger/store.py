"""The ledger: every submission, every step with its timing, every delivery and every quarantine.

SQLite by default; any SQLAlchemy URL (PostgreSQL for scale-out) works the same way. The
delivery claim is the idempotent-consumer pattern backed by a unique constraint, plus a lease so
that two workers never call the same target for the same submission at the same time.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, delete, event, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from brygga.errors import ConfigError
from brygga.ledger import outbox
from brygga.ledger import writes as writes_module
from brygga.ledger.models import (
    AuditEntry,
    Base,
    Delivery,
    Lease,
    OutboxMessage,
    PersonKey,
    Quarantine,
    StatusEventRecord,
    Step,
    Submission,
    Watermark,
    utcnow,
)
from brygga.ledger.states import State
from brygga.ledger.upgrade import upgrade
from brygga.ledger.workers import Liveness, liveness, worker_id
from brygga.ledger.writes import StepRecord, Write
from brygga.redact import redact
from brygga.timeutil import as_utc

__all__ = ["FAILING_DELIVERY", "Claim", "Landing", "Ledger", "NewStatusEvent", "State", "StepRecord", "Write"]

# ``IN (...)`` lists are cut to this many values: within every database's limit of bound parameters.
_IN_CHUNK = 5000

# A call site's row in these states has not got through yet: it is tried again while its submission is unfinished.
FAILING_DELIVERY = ("failed", "in_doubt")


@dataclass(frozen=True)
class Landing:
    submission_id: str
    created: bool  # False when the same bytes were already landed for this route


@dataclass(frozen=True)
class Claim:
    """The outcome of asking to call a target: ``go``, ``done``, ``busy`` (leased elsewhere) or ``wait`` (backoff).

    ``token`` is the fencing token of a ``go``: only its holder may record a failure.
    """

    outcome: str
    external_ref: str | None = None
    attempts: int = 0
    token: int = 0
    first_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    in_doubt: bool = False


DEFAULT_LEASE = timedelta(minutes=5)


def _still_held(row: Delivery, now: datetime) -> bool:
    """A worker on this host holds its lease while it lives, however long its call takes; one elsewhere, until the
    lease runs out (docs/reliability.md, "Leases")."""
    alive = liveness(row.lease_owner)
    return alive is Liveness.ALIVE or (alive is Liveness.UNKNOWN and row.lease_until is not None
                                          and as_utc(row.lease_until) > now)


def _busy_timeout_ms() -> int:
    value = os.environ.get("BRYGGA_SQLITE_BUSY_TIMEOUT_MS", "30000")
    if not value.isdigit():
        raise ConfigError(f"BRYGGA_SQLITE_BUSY_TIMEOUT_MS must be a whole number of milliseconds, not {value!r}")
    return int(value)


def _sqlite_synchronous() -> str:
    value = os.environ.get("BRYGGA_SQLITE_SYNCHRONOUS", "NORMAL").upper()
    if value not in ("NORMAL", "FULL"):
        raise ConfigError(f"BRYGGA_SQLITE_SYNCHRONOUS must be NORMAL or FULL, not {value!r}")
    return value


def _sqlite_pragmas(busy_timeout_ms: int, synchronous: str):  # type: ignore[no-untyped-def]
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # WAL plus a busy timeout lets the scheduler's workers and the CLI share one file safely.
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")  # first: switching to WAL may have to wait too
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit appends its frames to the -wal file with write(2) and returns; the fsync waits
        # for the next checkpoint. A killed process loses nothing it committed: its writes are in the kernel's page
        # cache, which outlives the process, and the next connection replays the WAL. Only the operating system
        # going down (a crash, a power loss) can drop the last transactions before a checkpoint, and even then the
        # database stays consistent (tests/ledger_lean/test_sqlite_durability.py kills a writer mid-commit; the fault
        # suite's kill scenarios find every committed row). FULL would fsync the WAL on every commit: the ledger's
        # largest cost per submission. BRYGGA_SQLITE_SYNCHRONOUS=FULL buys that for a kommun that needs it.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return on_connect


def _private_sqlite_file(path: Path) -> None:
    """The ledger holds canonical cases: its folder is 0700 and its file 0600, like the landing store."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Never open and close a ledger file that exists: closing any descriptor of it drops the POSIX locks SQLite
    # holds through another one in this process, and another process may then remove its WAL under it.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        _private_sqlite_file(Path(url.removeprefix("sqlite:///")))
    # hide_parameters: a failing statement's message must not print the values it carried.
    # Deliver runs up to 32 calls at once (pipeline.deliver.MAX_WORKERS), each with its own session: the pool
    # keeps a few connections and opens more on demand rather than making threads wait for one.
    pooling = {} if url == "sqlite:///:memory:" else {"pool_size": 4, "max_overflow": 36}
    engine = create_engine(url, future=True, hide_parameters=True, **pooling)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(_busy_timeout_ms(), _sqlite_synchronous()))
    return engine


def _create_or_upgrade(engine: Engine) -> None:
    for attempt in range(len(Base.metadata.tables)):
        try:
            upgrade(engine)
            return
        except DBAPIError:
            # Two workers starting on a fresh ledger: the other created a table (SQLite: OperationalError;
            # PostgreSQL: a duplicate table or type) between check and create. Each retry finds more made.
            if attempt == len(Base.metadata.tables) - 1:
                raise


class Ledger:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        _create_or_upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # --- submissions -------------------------------------------------------------------------

    def land(self, *, route_id: str, tenant: str, content_sha256: str, raw_path: str, source_name: str,
             quarantine_reasons: list[str] | None = None, submission_id: str | None = None,
             source_reference: str | None = None, record: StepRecord | None = None) -> Landing:
        """Record landed bytes; with ``quarantine_reasons``, quarantined at intake in the same transaction.

        A new submission gets ``submission_id`` (a fresh one without), its ``source_reference`` and the step
        ``record`` (the intake step, for that id) in the same transaction too: one write per item taken in. The
        same bytes landed before keep their submission, and nothing is written.
        """
        new_id = submission_id or str(uuid.uuid4())
        state = State.QUARANTINED if quarantine_reasons else State.LANDED
        try:
            with self.session() as s:
                s.add(Submission(id=new_id, route_id=route_id, tenant=tenant, content_sha256=content_sha256,
                                 raw_path=raw_path, source_name=source_name, source_reference=source_reference,
                                 state=state))
                s.flush()  # the submission row first: the quarantine row, the step and the event refer to it
                if quarantine_reasons:
                    s.add(Quarantine(submission_id=new_id, step="intake", reasons=list(quarantine_reasons)))
                outbox.submission_changed(s, new_id, state, outbox.References(
                    route_id=route_id, tenant=tenant, source_reference=source_reference))
                if record is not None:
                    self.record_step(new_id, record.step, record.outcome, started_at=record.started_at,
                                     duration_ms=record.duration_ms, detail=record.detail, session=s)
            return Landing(new_id, created=True)
        except IntegrityError:
            with self.session() as s:
                existing = s.scalars(select(Submission.id).where(
                    Submission.route_id == route_id, Submission.content_sha256 == content_sha256)).one()
            return Landing(existing, created=False)

    def get(self, submission_id: str) -> Submission:
        with self.session() as s:
            found = s.get(Submission, submission_id)
            if found is None:
                raise LookupError(f"no submission with id {submission_id}")
            return found

    def load(self, ids: list[str], state: str) -> list[Submission]:
        """The submissions among ``ids`` that are in ``state``, whole, in the order of ``ids``: a step reads its
        batch in one query instead of a check and a read per submission. A row may have moved on by the time the
        step gets to it: the step's conditional move (``advance``) is what decides."""
        if not ids:
            return []
        found: dict[str, Submission] = {}
        with self.session() as s:
            for start in range(0, len(ids), _IN_CHUNK):
                found.update((row.id, row) for row in s.scalars(select(Submission).where(
                    Submission.id.in_(ids[start:start + _IN_CHUNK]), Submission.state == state)))
        return [found[i] for i in dict.fromkeys(ids) if i in found]

    def update(self, submission_id: str, **fields: object) -> None:
        with self.session() as s:
            s.execute(update(Submission).where(Submission.id == submission_id).values(**fields))

    def advance(self, submission_id: str, from_state: str, **fields: object) -> bool:
        """Update the submission only if it is still in ``from_state``: of two runs at once, one moves it on.

        False when another run got there first (the caller leaves it to that run).
        """
        try:
            with self.session() as s:
                return self._move(s, submission_id, from_state, fields)
        except IntegrityError:  # e.g. the revision number another run's version took meanwhile
            return False

    def advance_step(self, record: StepRecord, from_state: str, fields: dict[str, object],
                     writes: Sequence[Write] = ()) -> int | None:
        """``advance`` with the step's own results in the same transaction: ``writes`` (a delivery's answer, ...)
        and the step's row (``record``). The step row's id when the submission moved; None, with nothing written,
        when another run got there first or a unique key refused the change."""
        try:
            with self.session() as s:
                if not self._move(s, record.submission_id, from_state, fields):
                    return None
                writes_module.apply(s, writes)
                return self._step_row(s, record)
        except IntegrityError:
            return None

    def finish_step(self, record: StepRecord, writes: Sequence[Write] = ()) -> int:
        """Record a step that did not move its submission (or update its row), with ``writes``: one transaction."""
        with self.session() as s:
            writes_module.apply(s, writes)
            return self._step_row(s, record)

    def write(self, writes: Sequence[Write]) -> None:
        """``writes`` in one transaction of their own."""
        if writes:
            with self.session() as s:
                writes_module.apply(s, writes)

    def _move(self, s: Session, submission_id: str, from_state: str, fields: dict[str, object]) -> bool:
        """The conditional update, and its event when the state changes: with ``RETURNING`` one statement reads
        what the event tells, so the event is an insert only."""
        statement = update(Submission).where(Submission.id == submission_id, Submission.state == from_state) \
            .values(**fields, updated_at=utcnow()).execution_options(synchronize_session=False)
        if "state" not in fields:
            return s.execute(statement).rowcount == 1
        if not self.engine.dialect.update_returning:
            if s.execute(statement).rowcount != 1:
                return False
            outbox.submission_changed(s, submission_id, str(fields["state"]))
            return True
        row = s.execute(statement.returning(*outbox.REFERENCES)).one_or_none()
        if row is None:
            return False
        outbox.submission_changed(s, submission_id, str(fields["state"]), row)
        return True

    def _step_row(self, s: Session, record: StepRecord) -> int:
        if record.row_id is not None:
            return writes_module.write_step(s, record)
        return self.record_step(record.submission_id, record.step, record.outcome, started_at=record.started_at,
                                duration_ms=record.duration_ms, detail=record.detail, session=s)

    def in_state(self, ids: list[str], state: str) -> list[str]:
        """The subset of ``ids`` that is in ``state``, keeping their order: steps only touch their own work."""
        if not ids:
            return []
        with self.session() as s:
            found = set(s.scalars(select(Submission.id).where(Submission.id.in_(ids), Submission.state == state)))
        return [i for i in ids if i in found]

    def source_references(self, ids: list[str]) -> dict[str, str | None]:
        """Each submission's e-service reference (None until intake or translate read it), in one query."""
        if not ids:
            return {}
        with self.session() as s:
            rows = s.execute(select(Submission.id, Submission.source_reference).where(Submission.id.in_(ids)))
            return {sid: reference for sid, reference in rows}

    def pending(self, route_id: str, state: str) -> list[str]:
        with self.session() as s:
            return list(s.scalars(select(Submission.id).where(
                Submission.route_id == route_id, Submission.state == state).order_by(Submission.received_at)))

    def by_content(self, route_id: str, content_sha256: str) -> Submission | None:
        with self.session() as s:
            return s.scalars(select(Submission).where(
                Submission.route_id == route_id, Submission.content_sha256 == content_sha256)).one_or_none()

    def unfinished(self, route_id: str, limit: int | None = None) -> list[str]:
        """Submissions neither completed nor quarantined: the backlog a run picks up, oldest first."""
        with self.session() as s:
            return list(s.scalars(select(Submission.id).where(
                Submission.route_id == route_id,
                Submission.state.not_in(State.DONE),
            ).order_by(Submission.received_at).limit(limit)))

    def versions(self, route_id: str, source_reference: str, *, besides: str) -> list[Submission]:
        """Every translated submission of one e-service reference on a route but ``besides``, oldest first
        (duplicates too). ``besides`` may have been translated meanwhile by another run: it is no version of itself."""
        with self.session() as s:
            return list(s.scalars(select(Submission).where(
                Submission.route_id == route_id, Submission.source_reference == source_reference,
                Submission.content_fingerprint.is_not(None), Submission.id != besides,
            ).order_by(Submission.received_at, Submission.id)))

    def earlier_versions(self, submission: Submission) -> list[Submission]:
        """The versions of the submission's reference with a lower revision, by revision."""
        if submission.revision is None or submission.revision <= 1:
            return []  # revisions start at 1: the first version has none before it, and is not asked about
        with self.session() as s:
            return list(s.scalars(select(Submission).where(
                Submission.route_id == submission.route_id,
                Submission.source_reference == submission.source_reference,
                Submission.revision < submission.revision,
            ).order_by(Submission.revision)))

    def supersede(self, submission_id: str, by: str) -> bool:
        """A quarantined version that never reached a target is replaced by the later version ``by``. False when it
        was not quarantined any more (an operator replayed or discarded it meanwhile): then nothing changes.

        The submission row is locked first, its quarantine rows after it, as ``release`` and ``discard`` do: on
        PostgreSQL two transactions taking the same rows in opposite orders deadlock.
        """
        with self.session() as s:
            if s.execute(update(Submission).where(Submission.id == submission_id,
                                                  Submission.state == State.QUARANTINED)
                         .values(state=State.SUPERSEDED, updated_at=utcnow())).rowcount != 1:
                return False
            s.execute(update(Quarantine).where(Quarantine.submission_id == submission_id,
                                               Quarantine.released_at.is_(None)).values(released_at=utcnow()))
            outbox.submission_changed(s, submission_id, State.SUPERSEDED)
            s.add(Step(submission_id=submission_id, step="deliver", outcome="superseded", started_at=utcnow(),
                       duration_ms=0.0, detail=f"replaced by the later version {by}, which went on"))
        return True

    def delivered_anywhere(self, submission_id: str) -> bool:
        """Whether the submission reached a target (a case system); Brygga's own call sites (``@...``) do not count."""
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.submission_id == submission_id, Delivery.state == "delivered",
                Delivery.target.not_like("@%"))) > 0

    def delivered_ref(self, submission_id: str, target: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(Delivery.external_ref).where(
                Delivery.submission_id == submission_id, Delivery.target == target, Delivery.state == "delivered"))

    # --- provenance ----------------------------------------------------------------------------

    def record_step(self, submission_id: str, step: str, outcome: str, *, started_at: datetime,
                    duration_ms: float, detail: str | None = None, session: Session | None = None) -> int:
        """Add a step's row; in ``session``'s transaction when given (a step folded into its state change), else in
        one of its own. The row's id."""
        record = StepRecord(submission_id, step, outcome, started_at, duration_ms, detail)
        if session is not None:
            return writes_module.write_step(session, record)
        with self.session() as s:
            return writes_module.write_step(s, record)

    @contextmanager
    def timed_step(self, submission_id: str, step: str) -> Iterator[dict[str, str | None]]:
        """Time a step and record it. The body may set ``result['outcome']`` and ``result['detail']``.

        An exception escaping the body is recorded as ``error`` with its type only, then re-raised.
        """
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        result: dict[str, str | None] = {"outcome": "ok", "detail": None}
        try:
            yield result
        except Exception as exc:
            result["outcome"], result["detail"] = "error", type(exc).__name__
            raise
        finally:
            self.record_step(submission_id, step, result["outcome"] or "ok", started_at=started,
                             duration_ms=(time.perf_counter() - t0) * 1000, detail=result["detail"])

    def steps(self, submission_id: str) -> list[Step]:
        with self.session() as s:
            return list(s.scalars(select(Step).where(Step.submission_id == submission_id).order_by(Step.id)))

    # --- quarantine (dead letter channel) ---------------------------------------------------------

    def quarantine(self, submission_id: str, step: str, reasons: list[str]) -> list[str]:
        """Quarantine with ``reasons``, redacted here, where they are stored; the reasons as stored."""
        stored = [redact(r, 500) for r in reasons]
        with self.session() as s:
            self._quarantine(s, submission_id, step, stored)
        return stored

    def quarantine_step(self, record: StepRecord, reasons: list[str],
                        writes: Sequence[Write] = ()) -> tuple[list[str], int]:
        """``quarantine`` with the step's own results (``writes``) and its row (``record``) in the same transaction;
        the reasons as stored and the step row's id."""
        stored = [redact(r, 500) for r in reasons]
        with self.session() as s:
            writes_module.apply(s, writes)
            self._quarantine(s, record.submission_id, record.step, stored)
            return stored, self._step_row(s, record)

    def _quarantine(self, s: Session, submission_id: str, step: str, stored: list[str]) -> None:
        s.add(Quarantine(submission_id=submission_id, step=step, reasons=stored))
        statement = update(Submission).where(Submission.id == submission_id) \
            .values(state=State.QUARANTINED, updated_at=utcnow()).execution_options(synchronize_session=False)
        refs = s.execute(statement.returning(*outbox.REFERENCES)).one_or_none() \
            if self.engine.dialect.update_returning else None
        outbox.submission_changed(s, submission_id, State.QUARANTINED, refs)

    def quarantine_reasons(self, submission_id: str) -> list[str]:
        with self.session() as s:
            rows = s.scalars(select(Quarantine).where(Quarantine.submission_id == submission_id,
                                                      Quarantine.released_at.is_(None)))
            return [reason for row in rows for reason in row.reasons]

    def release(self, submission_id: str, to_state: str, *, actor: str | None = None) -> bool:
        """Take a quarantined submission out of quarantine so the next run picks it up again (replay). False when it
        was not quarantined (any more): of two replays at once, one releases it.

        With ``actor`` (an operator's replay, ``brygga.admin.replay``) its quarantine rows keep
        ``resolution="replayed"`` and who did it, and the audit row is written in the same transaction. Without
        one (Brygga's own tests) nothing is audited. The submission row is locked before its quarantine rows, as
        in ``discard`` and ``supersede``.
        """
        with self.session() as s:
            if s.execute(update(Submission).where(Submission.id == submission_id,
                                                  Submission.state == State.QUARANTINED)
                         .values(state=to_state, updated_at=utcnow())).rowcount != 1:
                return False
            resolved = {"resolution": "replayed", "resolved_by": actor} if actor is not None else {}
            s.execute(update(Quarantine).where(Quarantine.submission_id == submission_id,
                                               Quarantine.released_at.is_(None))
                      .values(released_at=utcnow(), **resolved))
            outbox.submission_changed(s, submission_id, "released")
            # A replay gets a fresh retry budget at every call site it has not got through yet; an in-doubt
            # call keeps its settle delay, and a call under way keeps its lease.
            s.execute(update(Delivery).where(Delivery.submission_id == submission_id,
                                             Delivery.state.in_(FAILING_DELIVERY))
                      .values(first_attempt_at=None, attempts=0))
            s.execute(update(Delivery).where(Delivery.submission_id == submission_id, Delivery.state == "failed")
                      .values(next_attempt_at=None))
            if actor is not None:
                s.add(AuditEntry(actor=actor, action="replay", submission_id=submission_id,
                                 detail=f"released from quarantine as {to_state}"))
        return True

    def discard(self, submission_id: str, *, actor: str, note: str) -> bool:
        """Take a quarantined submission out of quarantine for good (state ``discarded``), with the operator's
        reason (redacted here) on its quarantine rows and in the audit, in one transaction. No run picks it up
        again. False when it was not quarantined (any more)."""
        note = redact(note, 500)
        with self.session() as s:
            if s.execute(update(Submission).where(Submission.id == submission_id,
                                                  Submission.state == State.QUARANTINED)
                         .values(state=State.DISCARDED, updated_at=utcnow())).rowcount != 1:
                return False
            s.execute(update(Quarantine).where(Quarantine.submission_id == submission_id,
                                               Quarantine.released_at.is_(None))
                      .values(released_at=utcnow(), resolution="discarded", resolved_by=actor,
                              resolution_note=note))
            outbox.submission_changed(s, submission_id, State.DISCARDED)
            s.add(AuditEntry(actor=actor, action="discard", submission_id=submission_id, detail=note))
        return True

    def note_reference(self, submission_id: str, reference: str) -> bool:
        """Record the source's reference of a submission not yet translated, so an administrator finds it by that
        reference if it stops before translate stores it with the case. Only while nothing else has: a reference
        already noted (intake's) stays, and a submission another run moved on is that run's. ``updated_at`` keeps
        the time it reached its state. False when nothing was noted."""
        with self.session() as s:
            return bool(writes_module.note_reference(submission_id, reference)(s))

    def quarantines(self, submission_id: str) -> list[Quarantine]:
        """Every quarantine of a submission, open and ended, oldest first: its history stays after a replay."""
        with self.session() as s:
            return list(s.scalars(select(Quarantine).where(Quarantine.submission_id == submission_id)
                                  .order_by(Quarantine.id)))

    def open_quarantines(self, submission_ids: list[str] | None = None) -> list[Quarantine]:
        """The quarantine rows not yet ended (of ``submission_ids``, else of every submission), oldest first."""
        with self.session() as s:
            query = select(Quarantine).where(Quarantine.released_at.is_(None)).order_by(Quarantine.id)
            if submission_ids is not None:
                query = query.where(Quarantine.submission_id.in_(submission_ids))
            return list(s.scalars(query))

    # --- person keys (search by personnummer without storing it) --------------------------------------

    def add_person_keys(self, submission_id: str, keys: list[str] | set[str]) -> int:
        """Store keyed hashes of the personnummer in a submission, each once; the number newly stored."""
        with self.session() as s:
            return int(writes_module.person_keys(submission_id, keys)(s) or 0)

    def person_keys(self, submission_id: str) -> list[str]:
        with self.session() as s:
            return list(s.scalars(select(PersonKey.key).where(PersonKey.submission_id == submission_id)
                                  .order_by(PersonKey.key)))

    # --- audit ------------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, submission_id: str | None = None, detail: str | None = None) -> None:
        """Record an operator's action (replay, purge). ``detail`` must carry no personal data."""
        with self.session() as s:
            s.add(AuditEntry(actor=actor, action=action, submission_id=submission_id, detail=detail))

    def audit_log(self, submission_id: str | None = None) -> list[AuditEntry]:
        with self.session() as s:
            query = select(AuditEntry).order_by(AuditEntry.id)
            if submission_id is not None:
                query = query.where(AuditEntry.submission_id == submission_id)
            return list(s.scalars(query))

    # --- deliveries (idempotent consumer) --------------------------------------------------------

    def claim_delivery(self, *, submission_id: str, target: str, idempotency_key: str,
                       owner: str | None = None, lease: timedelta = DEFAULT_LEASE,
                       settle: timedelta = timedelta(0), now: datetime | None = None,
                       writes: Sequence[Write] = ()) -> Claim:
        """Claim the right to call ``target`` for this key.

        The first claim inserts the row; the unique key makes a concurrent second insert fail. Afterwards a row
        is taken in one conditional UPDATE on its fencing token, so exactly one worker at a time goes to the
        target, and only when its backoff (``next_attempt_at``) has passed. A lease whose worker has died on this
        host is taken back at once; its call's outcome is unknown, so the row is in doubt and the next call waits
        ``settle`` after that worker's attempt. Elsewhere a lease runs out after ``lease``.

        ``writes`` (what the step noted before this call: an earlier target's answer, say) are committed with the
        claim, whatever its outcome: before the call goes out, in the transaction the claim needs anyway.
        """
        now = now or utcnow()
        owner = owner or worker_id()
        for _ in range(5):
            try:
                with self.session() as s:
                    s.add(Delivery(idempotency_key=idempotency_key, submission_id=submission_id, target=target,
                                   state="pending", attempts=1, lease_owner=owner, lease_until=now + lease,
                                   lease_token=1, first_attempt_at=now, last_attempt_at=now))
                    s.flush()  # the unique key speaks here, before the writes: they roll back with the insert
                    writes_module.apply(s, writes)
                return Claim("go", attempts=1, token=1, first_attempt_at=now)
            except IntegrityError:
                pass
            with self.session() as s:
                row = s.scalars(select(Delivery).where(Delivery.idempotency_key == idempotency_key)).one_or_none()
                if row is None:
                    continue  # the other worker's call site was done and forgotten (a lookup) meanwhile: insert again
                writes_module.apply(s, writes)
                return self._claim_existing(s, row, owner=owner, lease=lease, settle=settle, now=now)
        self.write(writes)
        return Claim("busy")  # other workers keep taking and finishing it: leave it to them this run

    @staticmethod
    def _claim_existing(s: Session, row: Delivery, *, owner: str, lease: timedelta, settle: timedelta,
                        now: datetime) -> Claim:
        idempotency_key = row.idempotency_key
        if row.state == "delivered":
            return Claim("done", external_ref=row.external_ref, attempts=row.attempts, token=row.lease_token)
        in_doubt = row.state == "in_doubt"
        if row.state == "pending" and _still_held(row, now):
            return Claim("busy", attempts=row.attempts, token=row.lease_token)
        if row.state == "pending":  # its worker died or its lease ran out mid-call: the outcome is unknown
            in_doubt = True
            not_before = as_utc(row.last_attempt_at) + settle if row.last_attempt_at else now
        else:
            not_before = as_utc(row.next_attempt_at) if row.next_attempt_at else now
        first = as_utc(row.first_attempt_at) if row.first_attempt_at else now
        if not_before > now:
            return Claim("wait", attempts=row.attempts, token=row.lease_token, next_attempt_at=not_before,
                         first_attempt_at=first, in_doubt=in_doubt)
        taken = s.execute(
            update(Delivery)
            .where(Delivery.idempotency_key == idempotency_key, Delivery.lease_token == row.lease_token,
                   Delivery.state != "delivered")  # another worker may have finished it since the read
            .values(lease_owner=owner, lease_until=now + lease, attempts=Delivery.attempts + 1,
                    lease_token=Delivery.lease_token + 1, state="pending", last_attempt_at=now,
                    first_attempt_at=first)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            return Claim("busy", attempts=row.attempts, token=row.lease_token)
        return Claim("go", attempts=row.attempts + 1, token=row.lease_token + 1, first_attempt_at=first,
                     in_doubt=in_doubt)

    def complete_delivery(self, idempotency_key: str, external_ref: str | None) -> None:
        """Record the target's answer. Not fenced: a case that exists is a fact, whoever saw it first."""
        with self.session() as s:
            writes_module.complete_delivery(idempotency_key, external_ref)(s)

    def fail_delivery(self, idempotency_key: str, token: int, error: str, *, next_attempt_at: datetime | None = None,
                      in_doubt: bool = False) -> bool:
        """Release the lease after a failed call; the next attempt not before ``next_attempt_at``.

        ``error`` must carry no personal data. False when another worker has taken the row since (fenced out).
        """
        with self.session() as s:
            return s.execute(update(Delivery).where(
                Delivery.idempotency_key == idempotency_key, Delivery.lease_token == token,
                Delivery.state != "delivered",
            ).values(state="in_doubt" if in_doubt else "failed", lease_owner=None, lease_until=None,
                     last_error=redact(error, 500), next_attempt_at=next_attempt_at)).rowcount == 1

    def release_delivery(self, idempotency_key: str, token: int, *, settle_until: datetime | None = None) -> None:
        """Give the lease back after a call that ended without an answer or a fault (a configuration error, a task
        timeout, a shutdown). With ``settle_until`` the call may have gone out: in doubt until then."""
        with self.session() as s:
            s.execute(update(Delivery).where(
                Delivery.idempotency_key == idempotency_key, Delivery.lease_token == token,
                Delivery.state == "pending",
            ).values(state="in_doubt" if settle_until else "failed", lease_owner=None, lease_until=None,
                     next_attempt_at=settle_until))

    def forget_delivery(self, idempotency_key: str) -> None:
        """Drop a call site's row (a lookup that succeeded: its retries are done, and it may run again later)."""
        with self.session() as s:
            writes_module.forget_delivery(idempotency_key)(s)

    def mark_sent(self, *, submission_id: str, target: str, idempotency_key: str) -> None:
        """Record one call that must not be repeated (e.g. a message to the resident) as done."""
        try:
            with self.session() as s:
                s.add(Delivery(idempotency_key=idempotency_key, submission_id=submission_id, target=target,
                               state="delivered", attempts=1, last_attempt_at=utcnow()))
        except IntegrityError:
            self.complete_delivery(idempotency_key, None)

    def delivered_keys(self, submission_id: str) -> set[str]:
        """The idempotency keys of every call made for a submission that got through, in one read."""
        with self.session() as s:
            return set(s.scalars(select(Delivery.idempotency_key).where(Delivery.submission_id == submission_id,
                                                                        Delivery.state == "delivered")))

    def is_sent(self, idempotency_key: str) -> bool:
        with self.session() as s:
            return s.scalar(select(Delivery.state).where(Delivery.idempotency_key == idempotency_key)) == "delivered"

    def failing_since(self, ids: list[str]) -> list[tuple[str, str, datetime]]:
        """(submission, call site, first attempt) of every call not yet through, for the run's health check."""
        if not ids:
            return []
        with self.session() as s:
            rows = s.execute(select(Delivery.submission_id, Delivery.target, Delivery.first_attempt_at).where(
                Delivery.submission_id.in_(ids), Delivery.state.in_(FAILING_DELIVERY),
                Delivery.first_attempt_at.is_not(None)))
            return [(sid, target, as_utc(first)) for sid, target, first in rows]

    def deliveries(self, submission_id: str) -> list[Delivery]:
        with self.session() as s:
            return list(s.scalars(select(Delivery).where(Delivery.submission_id == submission_id)
                                  .order_by(Delivery.id)))

    # --- status events (the resident follows the case) -------------------------------------------------

    def watermark(self, name: str) -> datetime | None:
        with self.session() as s:
            value = s.scalar(select(Watermark.value).where(Watermark.name == name))
        return as_utc(value) if value is not None else None

    def record_status_events(self, events: list[NewStatusEvent], *, watermark: str, until: datetime) -> int:
        """Record every event not recorded yet, each with its outbox message, and move ``watermark`` on to ``until``
        (never back), all in one transaction: a crash before the commit leaves both as they were, and the next poll
        reads the same changes again. An event already recorded (read twice, or by a poll running at the same
        time) is left as it is. The number newly recorded."""
        until = until.astimezone(UTC)  # SQLite keeps no offset: everything Brygga writes is UTC
        for attempt in range(3):
            try:
                with self.session() as s:
                    ids = [e.event["eventId"] for e in events]
                    known = set(s.scalars(select(StatusEventRecord.event_id)
                                          .where(StatusEventRecord.event_id.in_(ids)))) if ids else set()
                    new = [e for e in events if e.event["eventId"] not in known]
                    for item in new:
                        s.add(item.record())
                        if item.publish:
                            outbox.status_recorded(s, item.event, item.bus_data)
                    if s.get(Watermark, watermark) is None:
                        s.add(Watermark(name=watermark, value=until))
                    else:  # conditional: of two polls at once, the later moment stays
                        s.execute(update(Watermark).where(Watermark.name == watermark, Watermark.value < until)
                                  .values(value=until, updated_at=utcnow()))
                return len(new)
            except IntegrityError:  # another poll recorded some of them (or the watermark) first: look again
                if attempt == 2:
                    raise
        return 0

    def status_events_to_tell(self, connection: str) -> list[StatusEventRecord]:
        """Pending events of one connection, in recording order (per case, the order to tell them in)."""
        with self.session() as s:
            return list(s.scalars(select(StatusEventRecord).where(
                StatusEventRecord.connection == connection, StatusEventRecord.state == "pending",
            ).order_by(StatusEventRecord.id)))

    def status_event_state(self, event_id: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(StatusEventRecord.state).where(StatusEventRecord.event_id == event_id))

    def finish_status_event(self, event_id: str, state: str, detail: str | None = None) -> bool:
        """A pending event told, failed or skipped; ``detail`` is added to what is noted already. False when it was
        not pending any more (another run finished it)."""
        with self.session() as s:
            row = s.scalars(select(StatusEventRecord).where(StatusEventRecord.event_id == event_id,
                                                            StatusEventRecord.state == "pending")).one_or_none()
            if row is None:
                return False
            row.state, row.detail = state, _noted(row.detail, detail)
        return True

    def note_status_event(self, event_id: str, detail: str) -> None:
        """Keep what happened so far (the digital mail's outcome, an in-doubt call) while the event is pending."""
        with self.session() as s:
            row = s.scalars(select(StatusEventRecord).where(StatusEventRecord.event_id == event_id)).one_or_none()
            if row is not None:
                row.detail = _noted(row.detail, detail)

    def retry_status_event(self, event_id: str, call_keys: list[str]) -> bool:
        """A failed event pending again, with a fresh retry budget for its calls (``call_keys``)."""
        with self.session() as s:
            if s.execute(update(StatusEventRecord).where(StatusEventRecord.event_id == event_id,
                                                         StatusEventRecord.state == "failed")
                         .values(state="pending")).rowcount != 1:
                return False
            s.execute(update(Delivery).where(Delivery.idempotency_key.in_(call_keys), Delivery.state != "delivered")
                      .values(state="failed", attempts=0, first_attempt_at=None, next_attempt_at=None))
        return True

    def status_events(self, *, submission_id: str | None = None, connection: str | None = None,
                      case_ref: str | None = None) -> list[StatusEventRecord]:
        with self.session() as s:
            query = select(StatusEventRecord).order_by(StatusEventRecord.id)
            if submission_id is not None:
                query = query.where(StatusEventRecord.submission_id == submission_id)
            if connection is not None:
                query = query.where(StatusEventRecord.connection == connection)
            if case_ref is not None:
                query = query.where(StatusEventRecord.case_ref == case_ref)
            return list(s.scalars(query))

    def created_case(self, target_ids: list[tuple[str, str]], case_ref: str) -> Submission | None:
        """The submission whose delivery to one of ``target_ids`` ((route, target) pairs) created the case
        ``case_ref``: the first version (not an amendment) that holds it."""
        if not target_ids:
            return None
        pairs = or_(*[(Submission.route_id == route) & (Delivery.target == target) for route, target in target_ids])
        with self.session() as s:
            return s.scalars(select(Submission).join(Delivery, Delivery.submission_id == Submission.id).where(
                Delivery.external_ref == case_ref, Delivery.state == "delivered", pairs,
            ).order_by(Submission.amends.is_not(None), Submission.received_at).limit(1)).one_or_none()

    def first_version(self, route_ids: list[str], tenant: str, source_reference: str) -> Submission | None:
        """The version that created the case of this e-service reference, on one of ``route_ids``."""
        with self.session() as s:
            return s.scalars(select(Submission).where(
                Submission.route_id.in_(route_ids), Submission.tenant == tenant,
                Submission.source_reference == source_reference, Submission.amends.is_(None),
                Submission.revision.is_not(None)).order_by(Submission.revision).limit(1)).one_or_none()

    # --- outbox (the relay's side) -------------------------------------------------------------------------

    def unpublished(self, limit: int = 500) -> list[OutboxMessage]:
        with self.session() as s:
            return list(s.scalars(select(OutboxMessage).where(OutboxMessage.published_at.is_(None))
                                  .order_by(OutboxMessage.id).limit(limit)))

    def mark_published(self, ids: list[int]) -> None:
        if not ids:
            return
        with self.session() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(published_at=utcnow()))

    def prune_outbox(self, published_before: datetime) -> int:
        """Forget events published before then: consumers have had them; the number forgotten."""
        with self.session() as s:
            return s.execute(delete(OutboxMessage).where(OutboxMessage.published_at.is_not(None),
                                                         OutboxMessage.published_at < published_before)).rowcount

    # --- leases ----------------------------------------------------------------------------------------------

    def take_lease(self, name: str, owner: str, ttl: timedelta, now: datetime | None = None) -> bool:
        """Hold ``name`` for ``ttl``: True when ``owner`` holds it now. A lease whose time ran out, or whose owner
        died on this host, is taken over."""
        now = now or utcnow()
        try:
            with self.session() as s:
                row = s.get(Lease, name)
                if row is None:
                    s.add(Lease(name=name, owner=owner, until=now + ttl))
                    return True
                if row.owner != owner and liveness(row.owner) is Liveness.ALIVE:
                    return False
                if row.owner != owner and liveness(row.owner) is Liveness.UNKNOWN and as_utc(row.until) > now:
                    return False
                taken = s.execute(update(Lease).where(Lease.name == name, Lease.owner == row.owner,
                                                      Lease.until == row.until)
                                  .values(owner=owner, until=now + ttl)).rowcount
                return taken == 1
        except IntegrityError:  # another took it first
            return False

    def release_lease(self, name: str, owner: str) -> None:
        with self.session() as s:
            s.execute(delete(Lease).where(Lease.name == name, Lease.owner == owner))

    def outbox_backlog(self) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.published_at.is_(None))) or 0


def _noted(before: str | None, note: str | None) -> str | None:
    """Notes on an event, each once, in the order made; redacted, as every text column is."""
    notes = [n for n in (before or "").split("; ") if n]
    for part in (note or "").split("; "):
        if part and part not in notes:
            notes.append(redact(part, 500))
    return "; ".join(notes) or None


@dataclass(frozen=True)
class NewStatusEvent:
    """A status event as the poll made it, with what the ledger records beside it."""

    event: dict[str, Any]  # the canonical status event (schemas/canonical/status-event.v1.schema.json)
    bus_data: dict[str, Any]  # what goes on the bus: the event without free text
    state: str  # pending | foreign | unmapped | ignored | skipped
    detail: str | None = None
    publish: bool = True  # unmapped changes are kept for the admin but are no canonical event

    def record(self) -> StatusEventRecord:
        case = self.event["case"]
        return StatusEventRecord(
            event_id=self.event["eventId"], connection=self.event["connection"], case_ref=case["diarienummer"],
            change_id=self.event["change"]["id"], kind=self.event.get("kind"), submission_id=case.get("submissionId"),
            route_id=case.get("route"), occurred_at=datetime.fromisoformat(self.event["occurredAt"]).astimezone(UTC),
            state=self.state, event_json=orjson.dumps(self.event).decode(), detail=self.detail)
