"""The run's check: problems that must show where admins look, as a failed (red) last task in Airflow.

A run is unhealthy when it quarantined submissions, or when a call to a remote system has been failing for half
its retry budget or more: an outage that will soon quarantine is worth an alert before it does. Transient faults
inside the first half of the budget keep the run green: they heal themselves. Messages carry ids, call sites and
counts, never values.

The check also sends the alerts the routes file's ``alerts:`` section asks for (brygga.alerts): a quarantine, a
call site failing for over half its budget, and the end of such an outage. Alerts never change the verdict: a
notifier that fails never fails the check, and neither do the alerts failing as a whole (the ledger locked, a broken
``alerts:`` section, which the DAG's import and ``brygga lint`` refuse anyway); that is logged as an error, and the
alerts still due go with the next check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from brygga.alerts import raise_alerts
from brygga.alerts.sites import retry_policy
from brygga.ledger import State
from brygga.ledger.models import utcnow
from brygga.pipeline.context import PipelineContext
from brygga.redact import redact

log = logging.getLogger(__name__)


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
        lines += [f"  quarantined: {sid} (brygga trace {sid})" for sid in self.quarantined]
        lines += [f"  failing: submission {f.submission_id} at {f.site} for {f.failing_for} of {f.budget}"
                  for f in self.failing]
        lines += [f"  alert sent: {sent}" for sent in self.alerts]
        return "\n".join(lines)


def check(ctx: PipelineContext, ids: list[str]) -> RunHealth:
    """Of a run's batch: what was quarantined, and which calls are over half their budget; then the alerts due."""
    now = utcnow()
    failing = []
    for sid, site, first in ctx.ledger.failing_since(ids):
        policy = retry_policy(ctx.route, site)
        if policy.over_half(now - first):
            failing.append(Failing(sid, site, now - first, policy.budget))
    health = RunHealth(ctx.route.id, len(ids), ctx.ledger.in_state(ids, State.QUARANTINED), failing)
    return replace(health, alerts=_alerts(ctx, health, now))


def _alerts(ctx: PipelineContext, health: RunHealth, now: datetime) -> tuple[str, ...]:
    """The alerts sent; none when sending failed as a whole, which is logged and leaves the verdict as it is."""
    try:
        return tuple(raise_alerts(ctx, health, now=now))
    except Exception as exc:  # the ledger, the routes file, a bug: never the run's verdict
        log.error("check of route %s: alerts not sent this run (%s: %s); what is due goes with the next check",
                  health.route_id, type(exc).__name__, redact(str(exc), 300))
        return ()
