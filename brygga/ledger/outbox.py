"""Writes into the transactional outbox, always inside the caller's ledger transaction (docs/events.md).

A submission's state change and a recorded status event each add one CloudEvent. Rolled back with the change, never
published without it; the relay publishes what committed.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from brygga.bus.cloudevent import CASE_TYPE, SUBMISSION_TYPE, routing_key, to_cloudevent
from brygga.ledger.models import OutboxMessage, Submission, utcnow


def add(session: Session, *, event_id: str, type: str, source: str, subject: str | None, kommunkod: str | None,
        data: dict[str, Any]) -> None:
    now = utcnow()
    body = to_cloudevent(event_id=event_id, type=type, source=source, subject=subject, time=now, data=data)
    session.add(OutboxMessage(event_id=event_id, type=type, routing_key=routing_key(type, kommunkod), body=body,
                              created_at=now))


def submission_changed(session: Session, submission_id: str, state: str) -> None:
    """``se.brygga.submission.<state>``: references only (ids, route, kommun, case type), never the case."""
    row = session.execute(select(Submission.route_id, Submission.tenant, Submission.case_type,
                                 Submission.source_reference, Submission.external_ref, Submission.revision)
                          .where(Submission.id == submission_id)).one_or_none()
    if row is None:
        return
    data: dict[str, Any] = {"submissionId": submission_id, "state": state, "route": row.route_id,
                            "kommunkod": row.tenant}
    optional = {"caseType": row.case_type, "sourceReference": row.source_reference,
                "diarienummer": row.external_ref, "revision": row.revision}
    data.update({key: value for key, value in optional.items() if value is not None})
    add(session, event_id=str(uuid.uuid4()), type=SUBMISSION_TYPE.format(state=state),
        source=f"/brygga/routes/{row.route_id}", subject=submission_id, kommunkod=row.tenant, data=data)


def status_recorded(session: Session, event: dict[str, Any], bus_data: dict[str, Any]) -> None:
    """``se.brygga.case.<kind>``, with the status event's own id: a consumer sees one id per change."""
    case = event["case"]
    add(session, event_id=event["eventId"], type=CASE_TYPE.format(kind=event["kind"]),
        source=f"/brygga/connections/{event['connection']}", subject=case["diarienummer"],
        kommunkod=case.get("kommunkod"), data=bus_data)
