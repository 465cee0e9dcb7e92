"""Everything the ledger knows about one submission: steps with the Airflow task that ran them, deliveries,
quarantines (ended ones too), the audit, status messages and the archive package. References only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import load_only

from brygga.admin.query import ROW_COLUMNS, SubmissionRow, row_of
from brygga.ledger import Ledger, Submission
from brygga.ledger.models import Step
from brygga.provenance import AirflowRun
from brygga.timeutil import as_utc, optional_utc


@dataclass(frozen=True)
class StepRow:
    step: str
    outcome: str
    detail: str | None
    started_at: datetime
    duration_ms: float
    airflow: AirflowRun | None  # the task instance that ran it; None outside Airflow


@dataclass(frozen=True)
class DeliveryRow:
    target: str
    state: str
    external_ref: str | None
    attempts: int
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None  # redacted when it was stored


@dataclass(frozen=True)
class QuarantineRow:
    step: str
    reasons: list[str]
    created_at: datetime
    released_at: datetime | None
    resolution: str | None  # replayed | discarded | None (open, or ended by a later version)
    resolved_by: str | None
    resolution_note: str | None


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    detail: str | None


@dataclass(frozen=True)
class StatusRow:
    event_id: str
    kind: str | None
    state: str
    occurred_at: datetime
    case_ref: str
    detail: str | None


@dataclass(frozen=True)
class Trace:
    submission: SubmissionRow
    steps: list[StepRow]
    deliveries: list[DeliveryRow]
    quarantines: list[QuarantineRow]
    audit: list[AuditRow]
    status_events: list[StatusRow]
    archive_location: str | None
    other_versions: list[SubmissionRow]  # other submissions of the same e-service reference on the route
    purged: bool  # retention removed its personal data


def _airflow_run(step: Step) -> AirflowRun | None:
    if step.dag_id and step.run_id and step.task_id:
        return AirflowRun(step.dag_id, step.run_id, step.task_id, step.try_number)
    return None


def _other_versions(ledger: Ledger, submission: Submission) -> list[SubmissionRow]:
    if submission.source_reference is None:
        return []
    with ledger.session() as s:
        return [row_of(found) for found in s.scalars(select(Submission).options(load_only(*ROW_COLUMNS)).where(
            Submission.route_id == submission.route_id, Submission.source_reference == submission.source_reference,
            Submission.id != submission.id).order_by(Submission.received_at, Submission.id))]


def trace(ledger: Ledger, submission_id: str) -> Trace:
    """The whole story of one submission; LookupError when the ledger has no such id."""
    submission = ledger.get(submission_id)
    return Trace(
        submission=row_of(submission),
        steps=[StepRow(s.step, s.outcome, s.detail, as_utc(s.started_at), s.duration_ms, _airflow_run(s))
               for s in ledger.steps(submission_id)],
        deliveries=[DeliveryRow(d.target, d.state, d.external_ref, d.attempts, optional_utc(d.first_attempt_at),
                                optional_utc(d.last_attempt_at), optional_utc(d.next_attempt_at), d.last_error)
                    for d in ledger.deliveries(submission_id)],
        quarantines=[QuarantineRow(q.step, list(q.reasons), as_utc(q.created_at), optional_utc(q.released_at),
                                   q.resolution, q.resolved_by, q.resolution_note)
                     for q in ledger.quarantines(submission_id)],
        audit=[AuditRow(as_utc(a.at), a.actor, a.action, a.detail) for a in ledger.audit_log(submission_id)],
        status_events=[StatusRow(e.event_id, e.kind, e.state, as_utc(e.occurred_at), e.case_ref, e.detail)
                       for e in ledger.status_events(submission_id=submission_id)],
        archive_location=submission.archive_location,
        other_versions=_other_versions(ledger, submission),
        purged=submission.purged_at is not None,
    )
