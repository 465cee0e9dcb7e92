"""Tell the resident: each pending status event to Mina sidor (setStatus, addMessage) and, where the route asks for
it, to Mina meddelanden, exactly once as the resident sees it, and in order per case.

Each call site of an event is claimed like a delivery (``deliveries``, keyed by the event's identity): two runs at once
never both send it, a transient fault is retried by time within the route's budget, and a call recorded as done is
never made again. A case whose earliest pending event cannot be told yet keeps its later events back; one event's
trouble never stops the other cases. What remains is the one-call window of docs/reliability.md section 10: a worker
killed between the callback's answer and the ledger write sends that one call again; the ledger then notes it.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any, TypeVar

import orjson

from brygga.connections import ConnectionNotFound
from brygga.errors import ConfigError, TargetInDoubt, TargetRejected, TargetUnavailable
from brygga.ledger import Ledger, State, StatusEventRecord, Submission
from brygga.ledger.models import utcnow
from brygga.pipeline.attempts import retry_delay
from brygga.plugins import Attachment, DigitalMail, StatusUpdate
from brygga.provenance import correlation
from brygga.redact import redact
from brygga.retry import RetryPolicy
from brygga.routes import Route
from brygga.status.changes import DocumentRef
from brygga.status.context import StatusContext
from brygga.status.recipient import PURGED, resident_personnummer

log = logging.getLogger(__name__)

T = TypeVar("T")
# A call that failed for good is not taken up again by another run; `brygga status retry` resets it.
FOREVER = timedelta(days=3650)
TOO_LARGE = "Beslutshandlingen är för stor för att skickas här; kontakta kommunen så får du den."


@dataclass(frozen=True)
class TellResult:
    outcomes: dict[str, int]  # sent, waiting, failed, skipped
    digital_mail: dict[str, int]  # delivered, unreachable, no_personnummer, purged
    failed: list[str]  # "event <id> (case <diarienummer>, <kind>): reason", for the run's check

    def summary(self) -> str:
        told = ", ".join(f"{n} {k}" for k, n in sorted(self.outcomes.items())) or "nothing pending"
        mail = ", ".join(f"{n} {k}" for k, n in sorted(self.digital_mail.items()))
        return told + (f"; digital mail: {mail}" if mail else "")


class _Wait(Exception):
    """Not now (backoff, another worker, a registration not told yet): the event stays pending, its case waits."""


class _Failed(Exception):
    """The call will not succeed (refused, or over its retry budget): the event is failed, visible to the admin."""


class _Skipped(Exception):
    """Nothing to tell any more (the route is gone or tells nothing)."""


SITES = ("mina-sidor", "mina-meddelanden")


def _key(event_id: str, site: str) -> str:
    return hashlib.sha256(f"{event_id}|{site}".encode()).hexdigest()


def retry_failed(ledger: Ledger, event_id: str) -> bool:
    """`brygga status retry`: a failed event pending again, its calls with a fresh budget. It is told after the
    events of its case that were told meanwhile. False when the event is not failed."""
    return ledger.retry_status_event(event_id, [_key(event_id, site) for site in SITES])


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


@dataclass
class _Telling:
    """One event being told: its notes go to the ledger as they are made, so a run that dies keeps them."""

    ctx: StatusContext
    record: StatusEventRecord
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.ctx.ledger.note_status_event(self.record.event_id, text)


def tell(ctx: StatusContext) -> TellResult:
    outcomes: Counter[str] = Counter()
    mail: Counter[str] = Counter()
    failed: list[str] = []
    held_back: set[str] = set()
    for record in ctx.ledger.status_events_to_tell(ctx.feed.connection):
        if record.case_ref in held_back:
            outcomes["waiting"] += 1
            continue
        telling = _Telling(ctx, record)
        try:
            # Only matched events are pending, so each has its submission: its id goes with every call and log line.
            with correlation(record.submission_id or record.event_id):
                _tell_one(telling, mail)
        except _Wait:
            held_back.add(record.case_ref)
            outcomes["waiting"] += 1
            continue
        except _Skipped as exc:
            ctx.ledger.finish_status_event(record.event_id, "skipped", str(exc))
            outcomes["skipped"] += 1
            continue
        except _Failed as exc:
            ctx.ledger.finish_status_event(record.event_id, "failed", str(exc))
            failed.append(f"event {record.event_id} (case {record.case_ref}, {record.kind}): {redact(str(exc))}")
            outcomes["failed"] += 1
            continue
        except (ConfigError, ConnectionNotFound):
            raise  # the feed's configuration: every event would fail the same way; the task fails
        except Exception as exc:  # one event's surprise must not stop the other cases
            log.error("status event %s: unexpected %s; its case waits and is tried again next run",
                      record.event_id, type(exc).__name__)
            held_back.add(record.case_ref)
            outcomes["waiting"] += 1
            continue
        ctx.ledger.finish_status_event(record.event_id, "sent")
        outcomes["sent"] += 1
    result = TellResult(dict(outcomes), dict(mail), failed)
    log.info("status %s: %s", ctx.feed.connection, result.summary())
    return result


def _tell_one(telling: _Telling, mail: Counter[str]) -> None:
    ctx, record = telling.ctx, telling.record
    if ctx.ledger.status_event_state(record.event_id) != "pending":
        raise _Wait  # another run finished it since this run listed it
    assert record.submission_id is not None and record.route_id is not None  # only matched events are pending
    submission = ctx.ledger.get(record.submission_id)
    if submission.state != State.COMPLETED:
        raise _Wait  # the resident hears of the registration first (a replay after a quarantine included)
    route = ctx.routes.get(record.route_id)
    if route is None:
        raise _Skipped(f"route {record.route_id} no longer registers cases on {ctx.feed.connection}")
    mails = route.digital_mail is not None and record.kind in route.digital_mail.kinds
    if route.notify is None and not mails:
        raise _Skipped("the route tells the resident nothing now (no notify, no digital_mail for this kind)")
    event: dict[str, Any] = orjson.loads(record.event_json)
    attachments = _documents(telling, event, route)
    if route.notify is not None:
        notifier = ctx.adapter(route.notify)
        update = StatusUpdate(source_reference=submission.source_reference or "", status=event.get("status") or
                              event["kind"], message=_text(event, telling.notes), attachments=attachments)
        progress = EventProgress(ctx, submission.id, record.event_id)
        _once(telling, submission, "mina-sidor", route.notify.retry, "the status callback",
              lambda: notifier.notify(update, progress))
    if mails:
        assert route.digital_mail is not None
        outcome = _once(telling, submission, "mina-meddelanden", route.digital_mail.retry, "Mina meddelanden",
                        lambda: _digital_mail(ctx, route, submission, event, attachments),
                        resend_in_doubt=False)  # a second letter in the mailbox is worse than a late one
        if outcome in DIGITAL_MAIL_NOTES:
            mail[outcome] += 1
            telling.note(DIGITAL_MAIL_NOTES[outcome])


DIGITAL_MAIL_NOTES = {
    "delivered": "digital mail: delivered to the resident's mailbox",
    "unreachable": "digital mail: the resident has no reachable mailbox; told through Mina sidor only",
    "no_personnummer": "digital mail: the applicant has no personnummer; told through Mina sidor only",
    PURGED: "digital mail: the case's personal data is purged (retention); told through Mina sidor only",
}


def _text(event: dict[str, Any], notes: list[str]) -> str:
    text = event.get("text") or ""
    return f"{text} {TOO_LARGE}".strip() if any("over max_document_bytes" in n for n in notes) else text


def _documents(telling: _Telling, event: dict[str, Any], route: Route) -> tuple[Attachment, ...]:
    """A decision's documents from the case system, within the size limit. A case system that cannot give them
    holds the case back within the notify retry budget (from when the event was recorded), then the decision is
    told without them."""
    ctx = telling.ctx
    if event["kind"] != "decision_made" or not ctx.feed.decision_documents:
        return ()
    budget = route.notify.retry.budget if route.notify is not None else timedelta(hours=24)
    found: list[Attachment] = []
    for document in event.get("documents", []):
        try:
            fetched = ctx.source.fetch_document(DocumentRef(document["id"], document.get("name")))
        except TargetUnavailable as exc:
            recorded = telling.record.recorded_at
            if utcnow() - (recorded if recorded.tzinfo else recorded.replace(tzinfo=UTC)) < budget:
                log.warning("status event %s: document %s cannot be fetched yet (%s); the case waits",
                            telling.record.event_id, document["id"], redact(str(exc)))
                raise _Wait from None
            telling.note(f"document {document['id']} not attached: unavailable over the retry budget")
            continue
        except TargetRejected as exc:
            telling.note(f"document {document['id']} not attached: {redact(str(exc), 200)}")
            continue
        if len(fetched.content) > ctx.feed.max_document_bytes:
            telling.note(f"document {document['id']} not attached: over max_document_bytes")
            continue
        found.append(Attachment(fetched.name, fetched.media_type, fetched.content))
    return tuple(found)


def _digital_mail(ctx: StatusContext, route: Route, submission: Submission, event: dict[str, Any],
                  attachments: tuple[Attachment, ...]) -> str:
    assert route.digital_mail is not None
    recipient = resident_personnummer(submission)
    if recipient is None or recipient == PURGED:
        return recipient or "no_personnummer"
    mailbox = ctx.adapter(route.digital_mail)
    if not mailbox.reachable(recipient):
        return "unreachable"
    subject = route.digital_mail.subject.format(diarienummer=event["case"]["diarienummer"])
    mailbox.send(DigitalMail(recipient=recipient, subject=subject, body=event.get("text") or subject,
                             reference=event["eventId"], attachments=attachments))
    return "delivered"


def _once(telling: _Telling, submission: Submission, site: str, policy: RetryPolicy, what: str,
          call: Callable[[], T], *, resend_in_doubt: bool = True) -> T | None:
    """Make ``call`` once for this event and site; when it was made before, what that call gave. Raises _Wait or
    _Failed.

    The call's result (a short outcome word) is kept on the call's row, so a run that dies after the call and
    before the event is finished still knows it. Without ``resend_in_doubt`` a call that may have gone through (its
    answer lost, its worker killed) is not made again by itself: the event fails, and an admin who has checked
    retries it."""
    ledger, key = telling.ctx.ledger, _key(telling.record.event_id, site)
    claim = ledger.claim_delivery(submission_id=submission.id, target=f"@status.{site}", idempotency_key=key,
                                  settle=policy.in_doubt_delay)
    if claim.outcome == "done":
        return claim.external_ref  # type: ignore[return-value]  # what the earlier run's call gave, if anything
    if claim.outcome in ("busy", "wait"):
        raise _Wait
    first = claim.first_attempt_at or utcnow()
    if utcnow() - first >= policy.budget:  # e.g. an unexpected error every time: the budget ends it too
        ledger.fail_delivery(key, claim.token, "over the retry budget", next_attempt_at=utcnow() + FOREVER)
        raise _Failed(f"{what}: not through within the retry budget (retry.budget)")
    if claim.in_doubt and not resend_in_doubt:
        ledger.fail_delivery(key, claim.token, "outcome unknown", next_attempt_at=utcnow() + FOREVER, in_doubt=True)
        raise _Failed(f"{what}: the last attempt may have gone through (its worker died); not sent again by itself: "
                      "check with the service, then `brygga status retry`")
    if claim.in_doubt:
        telling.note(f"{what}: the last attempt's outcome was unknown (its worker died or its answer was lost), so "
                     "its last call may have reached the resident twice")
    try:
        result = call()
    except TargetUnavailable as exc:
        in_doubt = isinstance(exc, TargetInDoubt)
        if in_doubt and not resend_in_doubt:
            ledger.fail_delivery(key, claim.token, str(exc), next_attempt_at=utcnow() + FOREVER, in_doubt=True)
            raise _Failed(f"{what}: the answer was lost after sending, so it may have been delivered; not sent "
                          "again by itself: check with the service, then `brygga status retry`") from None
        if utcnow() - first >= policy.budget:
            ledger.fail_delivery(key, claim.token, str(exc), next_attempt_at=utcnow() + FOREVER, in_doubt=in_doubt)
            raise _Failed(f"{what} unavailable over the retry budget (retry.budget): {exc}") from None
        next_at = utcnow() + retry_delay(policy, claim.attempts, exc)
        ledger.fail_delivery(key, claim.token, str(exc), next_attempt_at=next_at, in_doubt=in_doubt)
        log.warning("status event %s: %s failed (attempt %d), retried after %s: %s", telling.record.event_id, what,
                    claim.attempts, f"{next_at:%H:%M:%S} UTC", redact(str(exc)))
        raise _Wait from None
    except TargetRejected as exc:
        # Far in the future: a refusal is final for this event; `brygga status retry` gives it another go.
        ledger.fail_delivery(key, claim.token, str(exc), next_attempt_at=utcnow() + FOREVER)
        raise _Failed(f"{what} refused: {exc}") from None
    except (ConfigError, ConnectionNotFound):
        ledger.release_delivery(key, claim.token)
        raise
    except BaseException:
        ledger.release_delivery(key, claim.token, settle_until=utcnow() + policy.in_doubt_delay)
        raise
    ledger.complete_delivery(key, result if isinstance(result, str) else None)
    return result
