"""The run's check: problems that must show where admins look, as a failed (red) last task in Airflow.

A run is unhealthy when it quarantined submissions, or when a call to a remote system has been failing for half
its retry budget or more: an outage that will soon quarantine is worth an alert before it does. Transient faults
inside the first half of the budget keep the run green: they heal themselves. Messages carry ids, call sites and
counts, never values.

The check also sends the alerts the routes file's ``alerts:`` section asks for (brygga.alerts): a quarantine, a
call site failing for over half its budget, and the end of such an outage. Alerts never change the verdict, and a
notifier that fails never fails the check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from brygga.alerts import raise_alerts
from brygga.ledger import State
from brygga.ledger.models import utcnow
from brygga.pipeline.context import PipelineContext
from brygga.retry import RetryPolicy


@dataclass(frozen=True)
class Failing:
    submission_id: str
    site: str
    failing_for: timedelta
    budget: timedelta


@dataclass(frozen=True)
class RunHealth:
    route_id: str
    batch: int
    quarantined: list[str]
    failing: list[Failing]
    alerts: tuple[str, ...] = ()  # what this check sent: kind, site, notifier

    @property
    def ok(self) -> bool:
        return not self.quarantined and not self.failing

    def summary(self) -> str:
        lines = [f"route {self.route_id}: {len(self.quarantined)} of a batch of {self.batch} quarantined, "
                 f"{len(self.failing)} call(s) failing for over half their retry budget"]
        lines += [f"  quarantined: {sid} (brygga find {sid})" for sid in self.quarantined]
        lines += [f"  failing: submission {f.submission_id} at {f.site} for {f.failing_for} of {f.budget}"
                  for f in self.failing]
        lines += [f"  alert sent: {sent}" for sent in self.alerts]
        return "\n".join(lines)


def _policy(ctx: PipelineContext, site: str) -> RetryPolicy:
    route = ctx.route
    if site.startswith("@notify") and route.notify is not None:
        return route.notify.retry
    if site == "@property_lookup" and route.property_lookup is not None:
        return route.property_lookup.retry
    return next((t.retry for t in route.targets if t.id == site), RetryPolicy())


def check(ctx: PipelineContext, ids: list[str]) -> RunHealth:
    """Of a run's batch: what was quarantined, and which calls are over half their budget; then the alerts due."""
    now = utcnow()
    failing = []
    for sid, site, first in ctx.ledger.failing_since(ids):
        policy = _policy(ctx, site)
        if policy.over_half(now - first):
            failing.append(Failing(sid, site, now - first, policy.budget))
    health = RunHealth(ctx.route.id, len(ids), ctx.ledger.in_state(ids, State.QUARANTINED), failing)
    return replace(health, alerts=tuple(raise_alerts(ctx, health, now=now)))
