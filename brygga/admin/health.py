"""Health per route and call site over a time window: throughput, error rate, the oldest unfinished submission and
the next retry. Counted from the ledger, so every worker's work is in it.

Every query is bounded by an index: the window by ``received_at`` (submissions) and ``last_attempt_at`` (calls),
what is unfinished or failing now by the state index (the unfinished submissions, then their calls). Nothing reads
the whole history on each page load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select

from brygga.admin.query import route_ids
from brygga.ledger import Ledger, State, Submission
from brygga.ledger.models import Delivery, utcnow
from brygga.ledger.store import FAILING_DELIVERY
from brygga.timeutil import as_utc, optional_utc

# Call sites whose row is deleted once they succeed (translate's property lookup, ``attempt(..., forget=True)``,
# brygga.pipeline.translate.LOOKUP): what stays of them is their failures only, so their delivered count, attempts
# and error rate would read as nothing but failure. They are left out of the targets; while one fails, its next
# retry still shows as the route's, and the run's health check alerts on it (brygga.pipeline.health).
FORGOTTEN_ON_SUCCESS = frozenset({"@property_lookup"})


@dataclass(frozen=True)
class TargetHealth:
    target: str  # the call site: a target id, or one of Brygga's own (``@status_callback``)
    delivered: int  # delivered in the window
    failing: int  # failed or in doubt now, of submissions still on their way
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


# A call is failing, and a submission unfinished, by one rule everywhere here: the submission is not done (a
# quarantined, discarded or superseded one's calls are not tried again until someone replays it).
_UNFINISHED = Submission.state.in_(State.UNFINISHED)


def _targets(session, since: datetime, now: datetime) -> dict[str, list[TargetHealth]]:  # type: ignore[no-untyped-def]
    in_window = (select(Submission.route_id, Delivery.target,
                        func.count(case((Delivery.state == "delivered", 1))), func.sum(Delivery.attempts))
                 .join(Submission, Submission.id == Delivery.submission_id)
                 .where(Delivery.last_attempt_at >= since, Delivery.last_attempt_at < now)
                 .group_by(Submission.route_id, Delivery.target))
    failing_now = (select(Submission.route_id, Delivery.target, func.count(), func.min(Delivery.next_attempt_at))
                   .join(Delivery, Delivery.submission_id == Submission.id)
                   .where(_UNFINISHED, Delivery.state.in_(FAILING_DELIVERY))
                   .group_by(Submission.route_id, Delivery.target))
    window = {(route_id, target): (int(delivered), int(attempts or 0))
              for route_id, target, delivered, attempts in session.execute(in_window)}
    failing = {(route_id, target): (int(count), next_retry)
               for route_id, target, count, next_retry in session.execute(failing_now)}
    found: dict[str, list[TargetHealth]] = {}
    for route_id, target in sorted(window.keys() | failing.keys()):
        if target in FORGOTTEN_ON_SUCCESS:
            continue
        delivered, attempts = window.get((route_id, target), (0, 0))
        failing_count, next_retry = failing.get((route_id, target), (0, None))
        # The ledger keeps a call site's attempt count, not each attempt: every attempt but the one that
        # delivered failed (an in-doubt one is counted as failed).
        failed_attempts = max(attempts - delivered, 0)
        found.setdefault(route_id, []).append(TargetHealth(
            target=target, delivered=delivered, failing=failing_count, attempts=attempts,
            error_rate=_rate(failed_attempts, attempts), next_retry_at=optional_utc(next_retry)))
    return found


def health(ledger: Ledger, *, since: datetime, now: datetime | None = None) -> list[RouteHealth]:
    """Every route in the ledger, by route id. The window is ``since`` up to ``now``; what is unfinished and the
    next retry are as they are now, whenever the submission came."""
    since, now = as_utc(since), as_utc(now or utcnow())
    received = (select(Submission.route_id, func.count(),
                       func.count(case((Submission.state == State.COMPLETED, 1))),
                       func.count(case((Submission.state == State.QUARANTINED, 1))))
                .where(Submission.received_at >= since, Submission.received_at < now)
                .group_by(Submission.route_id))
    oldest = select(Submission.route_id, func.min(Submission.received_at)).where(_UNFINISHED).group_by(
        Submission.route_id)
    retries = (select(Submission.route_id, func.min(Delivery.next_attempt_at))
               .join(Delivery, Delivery.submission_id == Submission.id)
               .where(_UNFINISHED, Delivery.state.in_(FAILING_DELIVERY), Delivery.next_attempt_at.is_not(None))
               .group_by(Submission.route_id))
    with ledger.session() as s:
        routes = list(route_ids(s))
        counts = {route_id: (int(n), int(done), int(stuck)) for route_id, n, done, stuck in s.execute(received)}
        oldest_at = {route_id: moment for route_id, moment in s.execute(oldest)}
        next_retry = {route_id: moment for route_id, moment in s.execute(retries)}
        oldest_ids = {route_id: s.scalar(select(Submission.id).where(
            Submission.route_id == route_id, _UNFINISHED, Submission.received_at == moment)
            .order_by(Submission.id).limit(1)) for route_id, moment in oldest_at.items()}
        targets = _targets(s, since, now)
    found = []
    for route_id in routes:
        n, completed, quarantined = counts.get(route_id, (0, 0, 0))
        found.append(RouteHealth(
            route_id=route_id, received=n, completed=completed, quarantined=quarantined,
            error_rate=_rate(quarantined, n), oldest_unfinished_at=optional_utc(oldest_at.get(route_id)),
            oldest_unfinished_id=oldest_ids.get(route_id), next_retry_at=optional_utc(next_retry.get(route_id)),
            targets=targets.get(route_id, [])))
    return found
