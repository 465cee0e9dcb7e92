"""After a run's check: which alerts are due, sent once each, through every configured notifier.

- ``quarantine``: the submissions of the run's batch that went to quarantine, one alert per route per run, by step
  and reason. Each quarantine is alerted once; one still due (a notifier was down) goes with the next run's alert.
- ``delivery_failing``: a call site with a call failing for over half its retry budget. One alert when it starts,
  none while it lasts (but a reminder after ``reminder_after``), and one ``delivery_recovered`` notice when the site
  has got a call through again and nothing waits on it any more.

A notifier that fails is logged (redacted) and never fails the run; what it did not send stays due for it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from brygga.alerts import state
from brygga.alerts.alert import (
    DELIVERY_FAILING,
    DELIVERY_RECOVERED,
    MAX_IDS,
    QUARANTINE,
    Alert,
)
from brygga.alerts.config import AlertsConfig, NotifierSpec, load_alerts
from brygga.alerts.grouping import Quarantined, group_reasons
from brygga.alerts.notifiers import Notifier, notifier_class
from brygga.connections import ConnectionResolver
from brygga.ledger import Ledger, Quarantine
from brygga.ledger.models import AlertRecord, utcnow
from brygga.redact import redact

if TYPE_CHECKING:
    from brygga.pipeline.context import PipelineContext
    from brygga.pipeline.health import RunHealth

log = logging.getLogger("brygga.alerts")

# Submissions remembered per outage, to tell "went on" from "went to quarantine" when the outage ends.
REMEMBERED = 50


@dataclass
class Notifiers:
    """The configured notifiers, built on first use; one that cannot be built (a missing connection) counts as a
    failed send, logged once per run."""

    config: AlertsConfig
    connections: ConnectionResolver
    _built: dict[str, Notifier | None] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [spec.id for spec in self.config.notifiers]

    def _get(self, spec: NotifierSpec) -> Notifier | None:
        if spec.id not in self._built:
            try:
                connection = self.connections.get(spec.connection) if spec.connection else None
                self._built[spec.id] = notifier_class(spec.adapter)(spec.config, connection)
            except Exception as exc:
                log.warning("alerts: notifier %s (alerts/notifiers/%d) cannot be used: %s", spec.id, spec.index,
                            redact(str(exc)))
                self._built[spec.id] = None
        return self._built[spec.id]

    def send(self, spec: NotifierSpec, alert: Alert) -> bool:
        notifier = self._get(spec)
        if notifier is None:
            return False
        try:
            notifier.send(alert)
        except Exception as exc:  # any notifier's fault, a plugin's bug too: the run goes on, the alert stays due
            log.warning("alerts: %s did not take the %s alert of route %s (sent again next run): %s", spec.id,
                        alert.kind, alert.route_id, redact(str(exc)))
            return False
        log.info("alerts: %s alert of route %s sent to %s", alert.kind, alert.route_id, spec.id)
        return True

    def send_due(self, alert: Alert, due: list[str]) -> list[str]:
        """Send to each notifier in ``due``; the ids that took it."""
        return [spec.id for spec in self.config.notifiers if spec.id in due and self.send(spec, alert)]


def raise_alerts(ctx: PipelineContext, health: RunHealth, *, config: AlertsConfig | None = None,
                 now: datetime | None = None) -> list[str]:
    """Send the alerts this run's health calls for; one line per alert sent (for the check's log)."""
    config = config if config is not None else load_alerts(ctx.settings.routes_file)
    if not config.enabled:
        return []
    notifiers = Notifiers(config, ctx.connections)
    now = now or utcnow()
    route_id = ctx.route.id
    budgets: dict[str, timedelta] = {}
    for failing in health.failing:
        budgets[failing.site] = max(budgets.get(failing.site, failing.budget), failing.budget)
    sent = _quarantine_alerts(ctx.ledger, route_id, health.quarantined, notifiers, now)
    for site in sorted(set(budgets) | _sites_alerted(ctx.ledger, route_id)):
        sent += _site_alerts(ctx.ledger, route_id, site, budgets.get(site), notifiers, now)
    return sent


# --- quarantine -------------------------------------------------------------------------------------------------


def _quarantine_alerts(ledger: Ledger, route_id: str, quarantined: list[str], notifiers: Notifiers,
                       now: datetime) -> list[str]:
    opened = ledger.open_quarantines(quarantined) if quarantined else []
    if opened:  # each quarantine once: its own row, inserted only if absent
        with ledger.session() as s:
            for q in opened:
                state.insert_ignore(s, key=state.record_key(QUARANTINE, route_id, str(q.id)), kind=QUARANTINE,
                                    route_id=route_id, opened_at=state.aware(q.created_at),
                                    detail=_json({"submission": q.submission_id, "quarantine": q.id,
                                                  "due": notifiers.ids}))
    with ledger.session() as s:  # most runs have nothing due: no claim to write then
        if s.scalar(select(AlertRecord.key).where(*_due_quarantines(route_id)).limit(1)) is None:
            return []
    with state.claimed(ledger, state.record_key(QUARANTINE, route_id), route_id) as won:
        if not won:
            return []
        with ledger.session() as s:
            records = list(s.scalars(select(AlertRecord).where(*_due_quarantines(route_id))
                                     .order_by(AlertRecord.opened_at)))
            rows = {q.id: q for q in s.scalars(select(Quarantine).where(
                Quarantine.id.in_([state.detail(r)["quarantine"] for r in records])))}
        due = {r.key: state.detail(r) for r in records}
        sent = []
        for spec in notifiers.config.notifiers:
            # Only quarantines still open: one replayed or discarded meanwhile is no news any more.
            mine = [(key, rows[d["quarantine"]]) for key, d in due.items()
                    if spec.id in d["due"] and d["quarantine"] in rows and rows[d["quarantine"]].released_at is None]
            if not mine:
                continue
            if notifiers.send(spec, _quarantine_alert(route_id, [q for _, q in mine], notifiers.config)):
                sent.append(f"{QUARANTINE} ({len(mine)}) to {spec.id}")
                for key, _ in mine:
                    due[key]["due"].remove(spec.id)
        with ledger.session() as s:
            for record in s.scalars(select(AlertRecord).where(AlertRecord.key.in_(list(due)))):
                left = [n for n in due[record.key]["due"] if n in notifiers.ids]
                quarantine = rows.get(due[record.key]["quarantine"])
                record.detail = _json({**due[record.key], "due": left})
                if not left or quarantine is None or quarantine.released_at is not None:
                    record.last_sent_at = now
        return sent


def _due_quarantines(route_id: str) -> tuple[Any, ...]:
    return (AlertRecord.kind == QUARANTINE, AlertRecord.route_id == route_id, AlertRecord.last_sent_at.is_(None))


def _quarantine_alert(route_id: str, rows: list[Quarantine], config: AlertsConfig) -> Alert:
    ids = list(dict.fromkeys(q.submission_id for q in rows))
    return Alert(kind=QUARANTINE, route_id=route_id, since=min(state.aware(q.created_at) for q in rows),
                 submissions=len(ids), submission_ids=tuple(ids[:MAX_IDS]),
                 groups=group_reasons(Quarantined(q.submission_id, q.step, tuple(q.reasons or ())) for q in rows),
                 admin_url=config.admin_url)


# --- a failing call site ----------------------------------------------------------------------------------------


def _sites_alerted(ledger: Ledger, route_id: str) -> set[str]:
    """Sites with an outage alert still open, or a message still due."""
    with ledger.session() as s:
        records = s.scalars(select(AlertRecord).where(
            AlertRecord.kind == DELIVERY_FAILING, AlertRecord.route_id == route_id,
            or_(AlertRecord.resolved_at.is_(None), AlertRecord.last_sent_at.is_(None))))
        return {state.detail(r)["site"] for r in records}


def _site_alerts(ledger: Ledger, route_id: str, site: str, budget: timedelta | None, notifiers: Notifiers,
                 now: datetime) -> list[str]:
    """``budget`` is set when a call to ``site`` is over half its budget in this run (the site is failing)."""
    key = state.record_key("delivery", route_id, site)
    with state.claimed(ledger, key, route_id) as won:
        if not won:
            return []
        facts = state.site_facts(ledger, route_id, site)
        with ledger.session() as s:
            record = s.get(AlertRecord, key)
            if record is None:
                if budget is None:
                    return []
                record = AlertRecord(key=key, kind=DELIVERY_FAILING, route_id=route_id)
                s.add(record)
            memo = _advance(ledger, record, site, budget, facts, notifiers, now)
            record.detail = _json(memo)
            if not memo.get("due"):
                return []
            alert = _site_alert(route_id, site, record, memo, facts, notifiers.config)
        took = notifiers.send_due(alert, memo["due"])
        with ledger.session() as s:
            record = s.get(AlertRecord, key)
            assert record is not None  # ours while we hold the claim
            memo = state.detail(record)
            memo["due"] = [n for n in memo["due"] if n not in took and n in notifiers.ids]
            if not memo["due"]:
                record.last_sent_at = now
            record.detail = _json(memo)
        return [f"{alert.kind}{' (reminder)' if alert.reminder else ''} {site} to {n}" for n in took]


def _advance(ledger: Ledger, record: AlertRecord, site: str, budget: timedelta | None, facts: state.SiteFacts,
             notifiers: Notifiers, now: datetime) -> dict[str, Any]:
    """Move a site's alert on by what the ledger shows now; its new ``detail``. A new message (``failing``,
    ``reminder``, ``recovered``) is due to every notifier; one still due from an earlier run stays due."""
    memo = state.detail(record)
    message = None
    if budget is not None:  # failing now
        still_due = record.resolved_at is None and record.last_sent_at is None and memo.get("due")
        if record.opened_at is None or record.resolved_at is not None:  # it starts (again)
            record.opened_at, record.resolved_at = facts.first_failure or now, None
            memo, message = {"site": site}, "failing"
        elif not still_due and _reminder_due(record, notifiers.config, now):
            message = "reminder"
        # Who waited, to tell later whether the site got them through or they went to quarantine.
        memo["waited"] = list(dict.fromkeys([*facts.waiting, *memo.get("waited", [])]))[:REMEMBERED]
        memo["most"] = max(memo.get("most", 0), len(facts.waiting))
        memo["budget"] = int(budget.total_seconds())
    elif (record.resolved_at is None and not facts.waiting
          and state.delivers_again(ledger, record.route_id or "", site, state.aware(record.opened_at),
                                   memo.get("waited", []))):
        record.resolved_at, message = now, "recovered"
    if message is not None:
        memo.update(message=message, due=notifiers.ids)
        record.last_sent_at = None
    return memo


def _reminder_due(record: AlertRecord, config: AlertsConfig, now: datetime) -> bool:
    return (config.reminder_after is not None and record.last_sent_at is not None
            and now - state.aware(record.last_sent_at) >= config.reminder_after)


def _site_alert(route_id: str, site: str, record: AlertRecord, memo: dict[str, Any], facts: state.SiteFacts,
                config: AlertsConfig) -> Alert:
    since = state.aware(record.opened_at)
    if memo["message"] == "recovered":
        return Alert(kind=DELIVERY_RECOVERED, route_id=route_id, site=site, since=since,
                     until=state.aware(record.resolved_at) if record.resolved_at else None,
                     submissions=memo.get("most", 0), admin_url=config.admin_url)
    budget = memo.get("budget")
    return Alert(kind=DELIVERY_FAILING, route_id=route_id, site=site, since=since, submissions=len(facts.waiting),
                 submission_ids=facts.waiting[:MAX_IDS], budget=timedelta(seconds=budget) if budget else None,
                 reminder=memo["message"] == "reminder", admin_url=config.admin_url)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))
