"""Health per route and call site over a time window: throughput, error rate, the oldest unfinished submission and
the next retry. Counted from the ledger, so every worker's work is in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, select

from brygga.admin.query import as_utc, optional_utc
from brygga.ledger import Ledger, State, Submission
from brygga.ledger.models import Delivery, utcnow

FAILING = ("failed", "in_doubt")
# A failing call of a submission in one of these states will never be tried again: not the site's health any more.
_GIVEN_UP = (State.DISCARDED, State.SUPERSEDED)


@dataclass(frozen=True)
class TargetHealth:
    target: str  # the call site: a target id, or one of Brygga's own (``@property_lookup``)
    delivered: int  # delivered in the window
    failing: int  # failed or in doubt now
    attempts: int  # calls made in the window
    error_rate: float  # failed calls / calls in the window, 0..1
    next_retry_at: datetime | None


@dataclass(frozen=True)
class RouteHealth:
    route_id: str
    received: int  # submissions received in the window
    completed: int  # of those, completed now
    quarantined: int  # of those, in quarantine now
    error_rate: float  # quarantined / received
    oldest_unfinished_at: datetime | None
    oldest_unfinished_id: str | None
    next_retry_at: datetime | None
    targets: list[TargetHealth] = field(default_factory=list)


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _targets(ledger: Ledger, since: datetime, now: datetime) -> dict[str, list[TargetHealth]]:
    in_window = and_(Delivery.last_attempt_at >= since, Delivery.last_attempt_at < now)
    failing = and_(Delivery.state.in_(FAILING), Submission.state.not_in(_GIVEN_UP))
    query = (select(
        Submission.route_id, Delivery.target,
        func.count(case((and_(in_window, Delivery.state == "delivered"), 1))),
        func.count(case((failing, 1))),
        func.coalesce(func.sum(case((in_window, Delivery.attempts), else_=0)), 0),
        func.min(case((failing, Delivery.next_attempt_at))),
    ).join(Submission, Submission.id == Delivery.submission_id)
        .group_by(Submission.route_id, Delivery.target).order_by(Submission.route_id, Delivery.target))
    found: dict[str, list[TargetHealth]] = {}
    with ledger.session() as s:
        for route_id, target, delivered, failing_now, attempts, next_retry in s.execute(query):
            # The ledger keeps a call site's attempt count, not each attempt: every attempt but the one that
            # delivered failed (an in-doubt one is counted as failed).
            failed_attempts = max(int(attempts) - int(delivered), 0)
            found.setdefault(route_id, []).append(TargetHealth(
                target=target, delivered=int(delivered), failing=int(failing_now), attempts=int(attempts),
                error_rate=_rate(failed_attempts, int(attempts)), next_retry_at=optional_utc(next_retry)))
    return found


def health(ledger: Ledger, *, since: datetime, now: datetime | None = None) -> list[RouteHealth]:
    """Every route in the ledger, by route id. The window is ``since`` up to ``now``; what is unfinished and the
    next retry are as they are now, whenever the submission came."""
    since, now = as_utc(since), as_utc(now or utcnow())
    received_in_window = and_(Submission.received_at >= since, Submission.received_at < now)
    unfinished = Submission.state.not_in(State.DONE)
    counts = (select(
        Submission.route_id,
        func.count(case((received_in_window, 1))),
        func.count(case((and_(received_in_window, Submission.state == State.COMPLETED), 1))),
        func.count(case((and_(received_in_window, Submission.state == State.QUARANTINED), 1))),
        func.min(case((unfinished, Submission.received_at))),
    ).group_by(Submission.route_id).order_by(Submission.route_id))
    retries = (select(Submission.route_id, func.min(Delivery.next_attempt_at))
               .join(Submission, Submission.id == Delivery.submission_id)
               .where(unfinished, Delivery.state.in_(FAILING), Delivery.next_attempt_at.is_not(None))
               .group_by(Submission.route_id))
    with ledger.session() as s:
        rows = list(s.execute(counts))
        next_retry = {route_id: moment for route_id, moment in s.execute(retries)}
        oldest_ids = {}
        for route_id, *_, oldest in rows:
            if oldest is not None:
                oldest_ids[route_id] = s.scalar(select(Submission.id).where(
                    Submission.route_id == route_id, unfinished, Submission.received_at == oldest)
                    .order_by(Submission.id).limit(1))
    targets = _targets(ledger, since, now)
    return [RouteHealth(route_id=route_id, received=int(received), completed=int(completed),
                        quarantined=int(quarantined), error_rate=_rate(int(quarantined), int(received)),
                        oldest_unfinished_at=optional_utc(oldest), oldest_unfinished_id=oldest_ids.get(route_id),
                        next_retry_at=optional_utc(next_retry.get(route_id)), targets=targets.get(route_id, []))
            for route_id, received, completed, quarantined, oldest in rows]
