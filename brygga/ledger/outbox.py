"""Writes into the transactional outbox, always inside the caller's ledger transaction (docs/events.md).

A submission's state change and a recorded status event each add one CloudEvent. Rolled back with the change, never
published without it; the relay publishes what committed. Every event about a submission carries its id as the
``correlationid`` extension attribute. Each state change is counted in the metrics (``brygga.submissions``) once
its transaction commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from brygga.bus.cloudevent import CASE_TYPE, SUBMISSION_TYPE, routing_key, to_cloudevent
from brygga.ledger.models import OutboxMessage, Submission, utcnow
from brygga.observability.metrics import record_submission_state
from brygga.provenance import correlation_id

_PENDING_STATES = "brygga_pending_state_metrics"  # in Session.info: state changes counted when they commit


def add(session: Session, *, event_id: str, type: str, source: str, subject: str | None, kommunkod: str | None,
        data: dict[str, Any], correlation: str | None = None) -> None:
    now = utcnow()
    body = to_cloudevent(event_id=event_id, type=type, source=source, subject=subject, time=now, data=data,
                         correlation_id=correlation)
    session.add(OutboxMessage(event_id=event_id, type=type, routing_key=routing_key(type, kommunkod), body=body,
                              created_at=now))


# What a submission's event tells of it besides its id and state: read in the statement that changes the state
# (``UPDATE ... RETURNING``), or known to the caller, so an event is one insert.
REFERENCES = (Submission.route_id, Submission.tenant, Submission.case_type, Submission.source_reference,
              Submission.external_ref, Submission.revision)


@dataclass(frozen=True)
class References:
    """``REFERENCES`` of a submission, as the caller knows them (a new one)."""

    route_id: str
    tenant: str
    case_type: str | None = None
    source_reference: str | None = None
    external_ref: str | None = None
    revision: int | None = None


def submission_changed(session: Session, submission_id: str, state: str, refs: Any = None) -> None:
    """``se.brygga.submission.<state>``: references only (ids, route, kommun, case type), never the case.

    ``refs`` holds ``REFERENCES`` (a row of them, or ``References``); without it they are read here.
    """
    row = refs if refs is not None else session.execute(select(*REFERENCES)
                                                        .where(Submission.id == submission_id)).one_or_none()
    if row is None:
        return
    data: dict[str, Any] = {"submissionId": submission_id, "state": state, "route": row.route_id,
                            "kommunkod": row.tenant}
    optional = {"caseType": row.case_type, "sourceReference": row.source_reference,
                "diarienummer": row.external_ref, "revision": row.revision}
    data.update({key: value for key, value in optional.items() if value is not None})
    add(session, event_id=str(uuid.uuid4()), type=SUBMISSION_TYPE.format(state=state),
        source=f"/brygga/routes/{row.route_id}", subject=submission_id, kommunkod=row.tenant, data=data,
        correlation=submission_id)
    _count_on_commit(session, row.route_id, state)


def status_recorded(session: Session, event: dict[str, Any], bus_data: dict[str, Any]) -> None:
    """``se.brygga.case.<kind>``, with the status event's own id: a consumer sees one id per change.

    Its correlation id is the submission that made the case, when Brygga knows it.
    """
    case = event["case"]
    add(session, event_id=event["eventId"], type=CASE_TYPE.format(kind=event["kind"]),
        source=f"/brygga/connections/{event['connection']}", subject=case["diarienummer"],
        kommunkod=case.get("kommunkod"), data=bus_data, correlation=case.get("submissionId") or correlation_id())


def _count_on_commit(session: Session, route_id: str, state: str) -> None:
    """Count the state change once it is committed: a rolled-back change never happened."""
    pending: list[tuple[str, str]] | None = session.info.get(_PENDING_STATES)
    if pending is None:
        # Listeners for the session's life (one transaction in the ledger): removing them while SQLAlchemy
        # dispatches the event would change the list it walks.
        pending = session.info[_PENDING_STATES] = []
        orm_event.listen(session, "after_commit", _record_pending)
        orm_event.listen(session, "after_rollback", _drop_pending)
    pending.append((route_id, state))


def _record_pending(session: Session) -> None:
    pending = session.info.get(_PENDING_STATES) or []
    for route_id, state in pending:
        record_submission_state(route_id, state)
    pending.clear()


def _drop_pending(session: Session) -> None:
    (session.info.get(_PENDING_STATES) or []).clear()
