"""Outage alerts: the calls through one connection (brygga.alerts.sites) failing for over half their retry budget.

One ``delivery_failing`` alert when it starts, none while it lasts (but a reminder after ``reminder_after``), and one
``delivery_recovered`` notice when the calls get through again and nothing waits on them any more. Submissions whose
budget runs out meanwhile go to quarantine without an alert of their own (brygga.alerts.quarantines): the outage's
notices count them and say how to replay them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from brygga.alerts import state
from brygga.alerts.alert import DELIVERY_FAILING, DELIVERY_RECOVERED, MAX_IDS, Alert, Meanwhile
from brygga.alerts.config import AlertsConfig
from brygga.alerts.notifiers import Notifiers
from brygga.alerts.sites import Outage, outage_of, outages_of_route
from brygga.ledger import Ledger
from brygga.ledger.models import AlertRecord
from brygga.routes import Route
from brygga.timeutil import as_utc, optional_utc

# Submissions remembered per outage, to tell "went on" from "went to quarantine" when the outage ends.
REMEMBERED = 50


@dataclass(frozen=True)
class Checked:
    """An outage a check looks at."""

    outage: Outage
    budget: timedelta | None = None  # the longest retry budget of its calls over half their budget in this run
    since: datetime | None = None  # the first failed attempt of those calls (some may have gone to quarantine now)


def outages_to_check(ledger: Ledger, routes: Sequence[Route], route_id: str,
                     failing: Iterable[tuple[str, timedelta, datetime]]) -> list[Checked]:
    """The outages a route's check looks at: those of its run's calls over half their budget (``failing``: call
    site, budget, first failed attempt), and every outage of the route's calls still open or with a message still
    due, whichever route opened it."""
    found: dict[str, Checked] = {}
    for site, budget, since in failing:
        outage = outage_of(routes, route_id, site)
        seen = found.get(outage.key, Checked(outage, budget, since))
        found[outage.key] = Checked(outage, max(budget, seen.budget or budget), min(since, seen.since or since))
    own = outages_of_route(routes, route_id)
    with ledger.session() as s:
        for record in s.scalars(select(AlertRecord).where(
                AlertRecord.kind == DELIVERY_FAILING,
                or_(AlertRecord.key.in_(list(own)), AlertRecord.route_id == route_id),
                or_(AlertRecord.resolved_at.is_(None), AlertRecord.last_sent_at.is_(None)))):
            if record.key not in found:
                found[record.key] = Checked(own.get(record.key)
                                            or Outage.from_memo(record.key, state.detail(record), route_id))
    return [found[key] for key in sorted(found)]


def outage_alerts(ledger: Ledger, checked: Checked, notifiers: Notifiers, now: datetime) -> list[str]:
    """Move the outage on and send what is due."""
    outage = checked.outage
    with state.claimed(ledger, outage.key, outage.routes[0]) as won:
        if not won:
            return []
        facts = state.site_facts(ledger, outage.members)
        with ledger.session() as s:
            record = s.get(AlertRecord, outage.key)
            if record is None:
                if checked.budget is None:
                    return []
                record = AlertRecord(key=outage.key, kind=DELIVERY_FAILING, route_id=outage.routes[0])
                s.add(record)
            memo = _advance(ledger, record, checked, facts, notifiers, now)
            record.detail = _json(memo)
            if not memo.get("due"):
                return []
            since, until = as_utc(record.opened_at), optional_utc(record.resolved_at)
        meanwhile = state.quarantined_during(ledger, outage.members, since, until)
        alert = _alert(outage, memo, since, until, facts, meanwhile, notifiers.config)
        took = notifiers.send_due(alert, memo["due"])
        with ledger.session() as s:
            record = s.get(AlertRecord, outage.key)
            assert record is not None  # ours while we hold the claim
            memo = state.detail(record)
            memo["due"] = [n for n in memo["due"] if n not in took and n in notifiers.ids]
            if not memo["due"]:
                record.last_sent_at = now
            record.detail = _json(memo)
        return [f"{alert.kind}{' (reminder)' if alert.reminder else ''} {outage.label} to {n}" for n in took]


def _advance(ledger: Ledger, record: AlertRecord, checked: Checked, facts: state.SiteFacts, notifiers: Notifiers,
             now: datetime) -> dict[str, Any]:
    """Move an outage's alert on by what the ledger shows now; its new ``detail``. A new message (``failing``,
    ``reminder``, ``recovered``) is due to every notifier; one still due from an earlier run stays due."""
    outage, budget = checked.outage, checked.budget
    memo = state.detail(record)
    message = None
    if budget is not None:  # failing now
        still_due = record.resolved_at is None and record.last_sent_at is None and memo.get("due")
        if record.opened_at is None or record.resolved_at is not None:  # it starts (again)
            # Since its first failed call: of one still waiting, or of one whose budget ran out in this very run.
            firsts = [moment for moment in (facts.first_failure, checked.since) if moment is not None]
            record.opened_at, record.resolved_at = min(firsts, default=now), None
            memo, message = {}, "failing"
        elif not still_due and _reminder_due(record, notifiers.config, now):
            message = "reminder"
        # Who waited, to tell later whether the calls got them through or they went to quarantine.
        memo["waited"] = list(dict.fromkeys([*facts.waiting, *memo.get("waited", [])]))[:REMEMBERED]
        memo["most"] = max(memo.get("most", 0), len(facts.waiting))
        memo["budget"] = int(budget.total_seconds())
    elif (record.resolved_at is None and not facts.waiting
          and state.delivers_again(ledger, outage.members, as_utc(record.opened_at), memo.get("waited", []))):
        record.resolved_at, message = now, "recovered"
    memo.update(site=outage.label, **outage.as_memo())  # as the routes file has it now
    if message is not None:
        memo.update(message=message, due=notifiers.ids)
        record.last_sent_at = None
    return memo


def _reminder_due(record: AlertRecord, config: AlertsConfig, now: datetime) -> bool:
    return (config.reminder_after is not None and record.last_sent_at is not None
            and now - as_utc(record.last_sent_at) >= config.reminder_after)


def _meanwhile(outage: Outage, spent: list[state.SpentQuarantine]) -> tuple[Meanwhile, ...]:
    """By route (in the routes file's order) and step: how many submissions."""
    counted: dict[tuple[str, str], set[str]] = {}
    for q in spent:
        counted.setdefault((q.route_id, q.step), set()).add(q.submission_id)
    order = {route: i for i, route in enumerate(outage.routes)}
    return tuple(Meanwhile(route, step, len(ids)) for (route, step), ids
                 in sorted(counted.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0])))


def _alert(outage: Outage, memo: dict[str, Any], since: datetime, until: datetime | None, facts: state.SiteFacts,
           spent: list[state.SpentQuarantine], config: AlertsConfig) -> Alert:
    common: dict[str, Any] = {"route_id": outage.routes[0], "routes": outage.routes, "connection": outage.connection,
                              "site": outage.label, "since": since, "quarantined": _meanwhile(outage, spent),
                              "admin_url": config.admin_url}
    if memo["message"] == "recovered":
        return Alert(kind=DELIVERY_RECOVERED, until=until, submissions=memo.get("most", 0), **common)
    budget = memo.get("budget")
    return Alert(kind=DELIVERY_FAILING, submissions=len(facts.waiting), submission_ids=facts.waiting[:MAX_IDS],
                 budget=timedelta(seconds=budget) if budget else None, reminder=memo["message"] == "reminder",
                 **common)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))
