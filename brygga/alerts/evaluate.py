"""After a run's check: which alerts are due, sent once each, through every configured notifier.

- ``quarantine``: the route's submissions in quarantine not alerted yet, one alert per route and check, by step and
  reason (brygga.alerts.quarantines). Each quarantine is alerted once; one still due (a notifier was down) goes with
  the next check's alert.
- ``delivery_failing``: the calls through one connection failing for over half their retry budget, one alert for
  every route that calls through it; then ``delivery_recovered`` when they get through again
  (brygga.alerts.outages). A quarantine because the budget ran out during it is counted there, not alerted apart.

A notifier that fails is logged (redacted) and never fails the run; what it did not send stays due for it. Alert
rows sent long ago whose matter is over are dropped here too, a bounded batch per check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from brygga.alerts import state
from brygga.alerts.config import AlertsConfig, load_alerts
from brygga.alerts.notifiers import Notifiers
from brygga.alerts.outages import outage_alerts, outages_to_check
from brygga.alerts.quarantines import quarantine_alerts
from brygga.ledger.models import utcnow
from brygga.routes import Route, load_routes

if TYPE_CHECKING:
    from brygga.pipeline.context import PipelineContext
    from brygga.pipeline.health import RunHealth


def raise_alerts(ctx: PipelineContext, health: RunHealth, *, config: AlertsConfig | None = None,
                 routes: Sequence[Route] | None = None, now: datetime | None = None) -> list[str]:
    """Send the alerts the route's state calls for; one line per alert sent (for the check's log).

    ``routes`` (default: the routes file's) tell which routes share a connection, so share an outage."""
    config = config if config is not None else load_alerts(ctx.settings.routes_file)
    if not config.enabled:
        return []
    if routes is None:
        routes = _routes(ctx.settings.routes_file, ctx.settings.mappings_dir)
    notifiers = Notifiers(config, ctx.connections)
    now = now or utcnow()
    route_id, ledger = ctx.route.id, ctx.ledger
    state.prune(ledger, route_id, now)
    sent = []
    # Outages first: a submission whose budget ran out in the run that opened its outage is part of it.
    failing = ((f.site, f.budget, now - f.failing_for) for f in health.failing)
    for checked in outages_to_check(ledger, routes, route_id, failing):
        sent += outage_alerts(ledger, checked, notifiers, now)
    return sent + quarantine_alerts(ledger, routes, route_id, notifiers, now)


def _routes(routes_file: Path, mappings_dir: Path) -> tuple[Route, ...]:
    """The routes file's routes, read again only when the file changed: a check runs every few minutes per route."""
    stat = routes_file.stat()
    return _routes_as_of(routes_file, mappings_dir, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _routes_as_of(routes_file: Path, mappings_dir: Path, mtime_ns: int, size: int) -> tuple[Route, ...]:
    return tuple(load_routes(routes_file, mappings_dir))
