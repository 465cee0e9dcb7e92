"""Writes a step makes into a transaction it shares: its Step record, and what it noted on the way (a delivery's
answer, a lookup's row forgotten, the source reference, the personnummer keys).

A step's results ride in the transaction that moves the submission on (or quarantines it, or records the step when it
stops), so one step of one submission is one transaction in the common case. Each function here runs inside the
caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from brygga.ledger.models import Delivery, PersonKey, Step, Submission
from brygga.ledger.states import State
from brygga.provenance import airflow_run

# A write into the caller's transaction.
Write = Callable[[Session], object]


@dataclass(frozen=True)
class StepRecord:
    """One step of one submission as it goes into ``steps``. With ``row_id`` it was written already, and the row is
    updated instead (the outcome noted after the state moved, a longer duration)."""

    submission_id: str
    step: str
    outcome: str
    started_at: datetime
    duration_ms: float
    detail: str | None = None
    row_id: int | None = None

    def written(self, row_id: int) -> StepRecord:
        return replace(self, row_id=row_id)


def write_step(session: Session, record: StepRecord) -> int:
    """Insert the step's row (or update the one it wrote before); its id."""
    if record.row_id is not None:
        session.execute(update(Step).where(Step.id == record.row_id).values(
            outcome=record.outcome, detail=record.detail, duration_ms=record.duration_ms))
        return record.row_id
    run = airflow_run()  # the Airflow task instance doing the step, for the trace's link; None outside Airflow
    row = Step(submission_id=record.submission_id, step=record.step, outcome=record.outcome, detail=record.detail,
               started_at=record.started_at, duration_ms=record.duration_ms,
               dag_id=run.dag_id if run else None, run_id=run.run_id if run else None,
               task_id=run.task_id if run else None, try_number=run.try_number if run else None)
    session.add(row)
    session.flush()  # the id, for a later update of this row; the insert is in this transaction either way
    return row.id


def apply(session: Session, writes: Iterable[Write]) -> None:
    for write in writes:
        write(session)


def complete_delivery(idempotency_key: str, external_ref: str | None) -> Write:
    """The target's answer. Not fenced: a case that exists is a fact, whoever saw it first."""
    def write(session: Session) -> None:
        session.execute(update(Delivery).where(Delivery.idempotency_key == idempotency_key).values(
            state="delivered", external_ref=external_ref, lease_owner=None, lease_until=None, last_error=None,
            next_attempt_at=None).execution_options(synchronize_session=False))
    return write


def forget_delivery(idempotency_key: str) -> Write:
    """Drop a call site's row (a lookup that succeeded: its retries are done, and it may run again later)."""
    def write(session: Session) -> None:
        session.execute(delete(Delivery).where(Delivery.idempotency_key == idempotency_key,
                                               Delivery.state != "delivered")
                        .execution_options(synchronize_session=False))
    return write


def note_reference(submission_id: str, reference: str) -> Write:
    """The source's reference of a submission not yet translated (see ``Ledger.note_reference``)."""
    def write(session: Session) -> bool:
        return session.execute(update(Submission).where(
            Submission.id == submission_id, Submission.source_reference.is_(None),
            Submission.state.in_((State.LANDED, State.QUARANTINED)),
        ).values(source_reference=reference, updated_at=Submission.updated_at)
            .execution_options(synchronize_session=False)).rowcount == 1
    return write


def person_keys(submission_id: str, keys: Iterable[str]) -> Write:
    """Keyed hashes of the personnummer in a submission, each once: a key stored already (by another run, or by an
    earlier attempt of this one) is left as it is, without failing the transaction it rides in."""
    wanted = sorted(set(keys))

    def write(session: Session) -> int:
        if not wanted:
            return 0
        rows = [{"submission_id": submission_id, "key": key} for key in wanted]
        dialect = session.get_bind().dialect.name
        if dialect in ("sqlite", "postgresql"):
            make = sqlite.insert if dialect == "sqlite" else postgresql.insert
            statement = make(PersonKey).values(rows).on_conflict_do_nothing(index_elements=["submission_id", "key"])
            return max(session.execute(statement).rowcount, 0)
        known = set(session.scalars(select(PersonKey.key).where(PersonKey.submission_id == submission_id,
                                                                PersonKey.key.in_(wanted))))
        new = [row for row in rows if row["key"] not in known]
        if new:
            session.execute(insert(PersonKey), new)
        return len(new)
    return write
