"""Poll one case system for changes since the watermark, and record each as a status event, once.

The watermark moves in the transaction that records the events (``Ledger.record_status_events``): a poll that dies
before its commit leaves both as they were. Each poll reads ``overlap`` further back than the watermark, so a change
the system committed late is not missed; a change read again has the same identity and is not recorded twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from brygga.ledger import NewStatusEvent, Submission
from brygga.ledger.models import utcnow
from brygga.routes import Route
from brygga.status.changes import CaseChange
from brygga.status.context import StatusContext
from brygga.status.event import build_status_event, event_id, for_bus

log = logging.getLogger(__name__)

# Kinds the resident heard of when the submission was registered (the route's own notify step).
TOLD_AT_REGISTRATION = ("received", "registered")
CLOSING = ("closed", "withdrawn")


@dataclass(frozen=True)
class PollResult:
    since: datetime
    until: datetime
    read: int
    recorded: int
    states: dict[str, int]  # of the events read this poll, by what they became

    def summary(self) -> str:
        states = ", ".join(f"{n} {state}" for state, n in sorted(self.states.items())) or "none"
        return (f"read {self.read} change(s) after {self.since:%Y-%m-%d %H:%M:%S} UTC up to "
                f"{self.until:%Y-%m-%d %H:%M:%S} UTC, {self.recorded} new ({states})")


def poll(ctx: StatusContext) -> PollResult:
    feed, ledger = ctx.feed, ctx.ledger
    mark = ledger.watermark(feed.watermark)
    since = mark - feed.overlap if mark is not None else utcnow() - feed.first_poll
    batch = ctx.source.changes(since)
    if batch.facts_seen.get("unreadable"):
        log.warning("status %s: %d change(s) could not be read and were skipped (the feed's log names them)",
                    feed.connection, batch.facts_seen["unreadable"])
    cases: dict[str, Submission | None] = {}
    events = []
    for change in batch.changes:
        if change.case_ref not in cases:
            cases[change.case_ref] = _creator(ctx, change)
        events.append(_event(ctx, change, cases[change.case_ref]))
    recorded = ledger.record_status_events(_in_telling_order(events), watermark=feed.watermark, until=batch.until)
    result = PollResult(since, batch.until, len(events), recorded, dict(Counter(e.state for e in events)))
    log.info("status %s: %s", feed.connection, result.summary())
    return result


def _creator(ctx: StatusContext, change: CaseChange) -> Submission | None:
    """The submission that created the case: by the delivery that holds its reference, or, while that delivery's
    outcome is still unknown (a lost answer), by the extern ref the case system keeps (``kommunkod:system:ref``)."""
    pairs = [(route.id, target.id) for route, target in ctx.feed.targets]
    found = ctx.ledger.created_case(pairs, change.case_ref)
    if found is None and change.extern_ref and change.extern_ref.count(":") >= 2:
        kommunkod, _, reference = change.extern_ref.split(":", 2)
        found = ctx.ledger.first_version(sorted(ctx.routes), kommunkod, reference)
    return found


# Facts kept for a change told to nobody: the codes a vocabulary matches on, not an officer's free text.
FREE_TEXT_FACTS = ("rubrik",)


def _in_telling_order(events: list[NewStatusEvent]) -> list[NewStatusEvent]:
    """Per case oldest first, and a closing last: ByggR dates a closing by its day only (00:00), which would put it
    before that day's decision. Cases keep the order the feed gave them."""
    first_seen = {e.event["case"]["diarienummer"]: i for i, e in reversed(list(enumerate(events)))}

    def order(e: NewStatusEvent) -> tuple[int, bool, datetime, tuple[str, int, int, str]]:
        return (first_seen[e.event["case"]["diarienummer"]], e.event.get("kind") in CLOSING,
                datetime.fromisoformat(e.event["occurredAt"]), _id_order(e.event["change"]["id"]))

    return sorted(events, key=order)


def _id_order(change_id: str) -> tuple[str, int, int, str]:
    """``handelse:99999`` before ``handelse:100000``: numbers compare as numbers."""
    kind, _, rest = change_id.partition(":")
    number, _, suffix = rest.partition(":")
    return (kind, 0, int(number), suffix) if number.isdigit() else (kind, 1, 0, rest)


def _event(ctx: StatusContext, change: CaseChange, submission: Submission | None) -> NewStatusEvent:
    vocabulary, connection = ctx.vocabulary, ctx.feed.connection
    identity = event_id(connection, change.case_ref, change.change_id)
    codes = {k: v for k, v in change.facts.items() if k not in FREE_TEXT_FACTS}
    seen = {"eventId": identity, "connection": connection, "sourceSystem": vocabulary.system,
            "occurredAt": change.occurred_at.isoformat(), "case": {"diarienummer": change.case_ref},
            "change": {"id": change.change_id, "facts": codes}}
    classification = vocabulary.classify(change)
    if classification is None:
        return NewStatusEvent(seen, {}, "unmapped", f"no rule in {ctx.settings.shown(ctx.feed.vocabulary)} matches "
                              "this change; it is kept, and told to nobody", publish=False)
    if classification.kind is None:
        return NewStatusEvent(seen, {}, "ignored", f"rule {classification.rule} ignores it", publish=False)
    if submission is None:
        return NewStatusEvent(seen, {}, "foreign", "a case Brygga did not create", publish=False)
    route = ctx.routes.get(submission.route_id)
    event = build_status_event(
        kind=classification.kind, occurred_at=change.occurred_at, source_system=vocabulary.system,
        connection=connection, diarienummer=change.case_ref, change_id=change.change_id, facts=change.facts,
        extern_ref=change.extern_ref, submission_id=submission.id, source_reference=submission.source_reference,
        route=submission.route_id, kommunkod=submission.tenant, status=classification.status,
        text=classification.text, documents=change.documents)
    state, detail = "pending", None
    if route is None:
        state, detail = "skipped", f"route {submission.route_id} is no longer in the routes file"
    elif classification.kind in TOLD_AT_REGISTRATION:  # the route's notify step tells it, once
        state, detail = "skipped", "the resident is told at registration"
    elif not _has_listener(route, classification.kind):
        state, detail = "skipped", "the route tells the resident nothing (no notify, no digital_mail for this kind)"
    return NewStatusEvent(event, for_bus(event), state, detail)


def _has_listener(route: Route, kind: str) -> bool:
    return route.notify is not None or (route.digital_mail is not None and kind in route.digital_mail.kinds)
