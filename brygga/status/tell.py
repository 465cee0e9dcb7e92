"""Tell the resident: each pending status event to Mina sidor (setStatus, addMessage) and, where the route asks for
it, to Mina meddelanden, exactly once as the resident sees it, and in order per case.

Each call site of an event is claimed like a delivery (``deliveries``, keyed by the event's identity): two runs at once
never both send it, a transient fault is retried by time within the route's budget, and a call recorded as done is
never made again. A case whose earliest pending event cannot be told yet keeps its later events back. What remains
is the one-call window of docs/reliability.md section 10: a worker killed between the callback's answer and the
ledger write sends that one call again; the ledger then notes it on the event.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from brygga.connections import ConnectionNotFound
from brygga.errors import ConfigError, TargetRejected, TargetUnavailable
from brygga.ledger import State, StatusEventRecord, Submission
from brygga.ledger.models import utcnow
from brygga.plugins import Attachment, DigitalMail, StatusUpdate
from brygga.redact import redact
from brygga.retry import RetryPolicy
from brygga.routes import Route
from brygga.status.changes import DocumentRef
from brygga.status.context import StatusContext
from brygga.status.recipient import resident_personnummer

log = logging.getLogger(__name__)

T = TypeVar("T")
# Not told until the submission's own notify step has told the registration: the resident hears of it first.
BEFORE_REGISTRATION_TOLD = (State.LANDED, State.TRANSLATED, State.DELIVERED, State.ARCHIVED)


@dataclass(frozen=True)
class TellResult:
    outcomes: dict[str, int]  # sent, waiting, failed
    digital_mail: dict[str, int]  # delivered, unreachable, no_personnummer
    failed: list[str]  # "event <id> (case <diarienummer>): reason", for the run's check

    def summary(self) -> str:
        told = ", ".join(f"{n} {k}" for k, n in sorted(self.outcomes.items())) or "nothing pending"
        mail = ", ".join(f"{n} {k}" for k, n in sorted(self.digital_mail.items()))
        return told + (f"; digital mail: {mail}" if mail else "")


class _Wait(Exception):
    """The call may not be made now (backoff, another worker): the event stays pending, its case waits."""


class _Failed(Exception):
    """The call will not succeed (refused, or over its retry budget): the event is failed, visible to the admin."""


def _key(event_id: str, site: str) -> str:
    return hashlib.sha256(f"{event_id}|{site}".encode()).hexdigest()


@dataclass(frozen=True)
class EventProgress:
    """``CallProgress`` for one event: each callback call recorded as it returns."""

    ctx: StatusContext
    submission_id: str
    event_id: str

    def sent(self, call: str) -> bool:
        return self.ctx.ledger.is_sent(_key(self.event_id, f"mina-sidor.{call}"))

    def record(self, call: str) -> None:
        self.ctx.ledger.mark_sent(submission_id=self.submission_id, target=f"@status.{call}",
                                  idempotency_key=_key(self.event_id, f"mina-sidor.{call}"))


def tell(ctx: StatusContext) -> TellResult:
    outcomes: Counter[str] = Counter()
    mail: Counter[str] = Counter()
    failed: list[str] = []
    held_back: set[str] = set()
    for record in ctx.ledger.status_events_to_tell(ctx.feed.connection):
        if record.case_ref in held_back:
            outcomes["waiting"] += 1
            continue
        try:
            notes = _tell_one(ctx, record, mail)
        except _Wait:
            held_back.add(record.case_ref)
            outcomes["waiting"] += 1
            continue
        except _Failed as exc:
            ctx.ledger.finish_status_event(record.event_id, "failed", str(exc))
            failed.append(f"event {record.event_id} (case {record.case_ref}, {record.kind}): {redact(str(exc))}")
            outcomes["failed"] += 1
            continue
        ctx.ledger.finish_status_event(record.event_id, "sent", "; ".join(notes) or None)
        outcomes["sent"] += 1
    result = TellResult(dict(outcomes), dict(mail), failed)
    log.info("status %s: %s", ctx.feed.connection, result.summary())
    return result


def _tell_one(ctx: StatusContext, record: StatusEventRecord, mail: Counter[str]) -> list[str]:
    event: dict[str, Any] = orjson.loads(record.event_json)
    assert record.submission_id is not None and record.route_id is not None  # only matched events are pending
    submission = ctx.ledger.get(record.submission_id)
    if submission.state in BEFORE_REGISTRATION_TOLD:
        raise _Wait
    route = ctx.routes[record.route_id]
    notes: list[str] = []
    attachments = _documents(ctx, event, notes)
    if route.notify is not None:
        notifier = ctx.adapter(route.notify)
        update = StatusUpdate(source_reference=submission.source_reference or "", status=event.get("status") or
                              event["kind"], message=event.get("text") or "", attachments=attachments)
        progress = EventProgress(ctx, submission.id, record.event_id)
        _once(ctx, submission, record, "mina-sidor", route.notify.retry, "the status callback", notes,
              lambda: notifier.notify(update, progress))
    if route.digital_mail is not None and record.kind in route.digital_mail.kinds:
        outcome = _once(ctx, submission, record, "mina-meddelanden", route.digital_mail.retry, "Mina meddelanden",
                        notes, lambda: _digital_mail(ctx, route, submission, event, attachments))
        if outcome is not None:
            mail[outcome] += 1
            notes.append(DIGITAL_MAIL_NOTES[outcome])
        else:
            notes.append("digital mail: sent before")
    return notes


DIGITAL_MAIL_NOTES = {
    "delivered": "digital mail: delivered to the resident's mailbox",
    "unreachable": "digital mail: the resident has no reachable mailbox; told through Mina sidor only",
    "no_personnummer": "digital mail: the applicant has no personnummer; told through Mina sidor only",
}


def _documents(ctx: StatusContext, event: dict[str, Any], notes: list[str]) -> tuple[Attachment, ...]:
    """A decision's documents from the case system, within the size limit."""
    if event["kind"] != "decision_made" or not ctx.feed.decision_documents:
        return ()
    found: list[Attachment] = []
    for document in event.get("documents", []):
        try:
            fetched = ctx.source.fetch_document(DocumentRef(document["id"], document.get("name")))
        except TargetUnavailable:
            raise _Wait from None  # the case waits for its decision's document
        except TargetRejected as exc:
            notes.append(f"document {document['id']} not attached: {redact(str(exc), 200)}")
            continue
        if len(fetched.content) > ctx.feed.max_document_bytes:
            notes.append(f"document {document['id']} not attached: over max_document_bytes")
            continue
        found.append(Attachment(fetched.name, fetched.media_type, fetched.content))
    return tuple(found)


def _digital_mail(ctx: StatusContext, route: Route, submission: Submission, event: dict[str, Any],
                  attachments: tuple[Attachment, ...]) -> str:
    assert route.digital_mail is not None
    recipient = resident_personnummer(submission)
    if recipient is None:
        return "no_personnummer"
    mailbox = ctx.adapter(route.digital_mail)
    if not mailbox.reachable(recipient):
        return "unreachable"
    subject = route.digital_mail.subject.format(diarienummer=event["case"]["diarienummer"])
    mailbox.send(DigitalMail(recipient=recipient, subject=subject, body=event.get("text") or subject,
                             reference=event["eventId"], attachments=attachments))
    return "delivered"


def _once(ctx: StatusContext, submission: Submission, record: StatusEventRecord, site: str, policy: RetryPolicy,
          what: str, notes: list[str], call: Callable[[], T]) -> T | None:
    """Make ``call`` once for this event and site. None when it was made before; raises _Wait or _Failed."""
    ledger, key = ctx.ledger, _key(record.event_id, site)
    claim = ledger.claim_delivery(submission_id=submission.id, target=f"@status.{site}", idempotency_key=key,
                                  settle=policy.in_doubt_delay)
    if claim.outcome == "done":
        return None
    if claim.outcome in ("busy", "wait"):
        raise _Wait
    if claim.in_doubt:
        notes.append(f"{what}: the last attempt's outcome was unknown (its worker died or its answer was lost), "
                     "so its last call may have reached the resident twice")
    try:
        result = call()
    except TargetUnavailable as exc:
        first = claim.first_attempt_at or utcnow()
        if utcnow() - first >= policy.budget:
            ledger.fail_delivery(key, claim.token, str(exc))
            raise _Failed(f"{what} unavailable over the retry budget (retry.budget): {exc}") from None
        ledger.fail_delivery(key, claim.token, str(exc), next_attempt_at=utcnow() + policy.backoff(claim.attempts))
        log.warning("status event %s: %s failed (attempt %d), retried later: %s", record.event_id, what,
                    claim.attempts, redact(str(exc)))
        raise _Wait from None
    except TargetRejected as exc:
        ledger.fail_delivery(key, claim.token, str(exc))
        raise _Failed(f"{what} refused: {exc}") from None
    except (ConfigError, ConnectionNotFound):
        ledger.release_delivery(key, claim.token)
        raise
    except BaseException:
        ledger.release_delivery(key, claim.token, settle_until=utcnow() + policy.in_doubt_delay)
        raise
    ledger.complete_delivery(key, None)
    return result
