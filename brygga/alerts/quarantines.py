"""Quarantine alerts: every submission of the route in quarantine is alerted once, by step and reason.

Each check picks them up from the ledger, not from its run's batch: a quarantine whose own run never got to its
check (a step task failed, the check's alerts failed) is alerted by the next check, and on a ledger that had
quarantines before alerts were configured, they all go in one alert. One alert per route and check, bounded in
length however many it is about (brygga.alerts.alert).

A quarantine because a call's retry budget ran out during an outage of that call's connection is part of the
outage: it gets no alert of its own, the outage's notices count it (brygga.alerts.outages).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from brygga.alerts import state
from brygga.alerts.alert import DELIVERY_FAILING, MAX_IDS, QUARANTINE, Alert
from brygga.alerts.config import AlertsConfig
from brygga.alerts.grouping import Quarantined, group_reasons
from brygga.alerts.notifiers import Notifiers
from brygga.alerts.sites import outage_of
from brygga.ledger import Ledger, Quarantine, State, Submission
from brygga.ledger.models import AlertRecord
from brygga.routes import Route
from brygga.timeutil import as_utc


def quarantine_alerts(ledger: Ledger, routes: Sequence[Route], route_id: str, notifiers: Notifiers,
                      now: datetime) -> list[str]:
    """Pick up the route's new quarantines, then send what is due; one line per alert sent."""
    _pick_up(ledger, routes, route_id, notifiers.ids, now)
    return _send_due(ledger, route_id, notifiers, now)


def _not_alerted(route_id: str) -> ColumnElement[bool]:
    """Of a Quarantine row in the query: it has no alerts row yet."""
    return ~exists().where(AlertRecord.key == state.quarantine_key_of(route_id))


def _pick_up(ledger: Ledger, routes: Sequence[Route], route_id: str, due: list[str], now: datetime) -> None:
    """A row for each quarantine of the route that has none yet (inserted only if absent: each is alerted once).
    One that is part of an outage is marked sent: its outage's notices tell of it."""
    mine = (Submission.route_id == route_id, Submission.state == State.QUARANTINED)
    with ledger.session() as s:
        new = s.execute(select(Quarantine.id, Quarantine.submission_id, Quarantine.created_at)
                        .join(Submission, Submission.id == Quarantine.submission_id)
                        .where(*mine, Quarantine.released_at.is_(None), _not_alerted(route_id))
                        .order_by(Quarantine.id)).all()
        if not new:
            return
        covered = _covered(s, routes, route_id, state.spent_quarantines(s, *mine, _not_alerted(route_id)))
        for quarantine_id, submission_id, created_at in new:
            outage = covered.get(quarantine_id)
            memo = {"submission": submission_id, "quarantine": quarantine_id, "due": [] if outage else due}
            if outage:
                memo["outage"] = outage
            state.insert_ignore(s, key=state.quarantine_key(route_id, quarantine_id), kind=QUARANTINE,
                                route_id=route_id, opened_at=as_utc(created_at), last_sent_at=now if outage else None,
                                detail=_json(memo))


def _covered(s: Session, routes: Sequence[Route], route_id: str, spent: list[state.SpentQuarantine]) -> dict[int, str]:
    """Of the quarantines whose retry budget ran out: the outage each is part of (by its key), where that outage's
    alert had opened when it went to quarantine and had not ended."""
    keys = {q.quarantine_id: outage_of(routes, route_id, q.site).key for q in spent}
    if not keys:
        return {}
    outages = {r.key: r for r in s.scalars(select(AlertRecord).where(
        AlertRecord.kind == DELIVERY_FAILING, AlertRecord.key.in_(set(keys.values()))))}
    covered = {}
    for q in spent:
        record = outages.get(keys[q.quarantine_id])
        if record is not None and as_utc(record.opened_at) <= q.created_at and (
                record.resolved_at is None or q.created_at <= as_utc(record.resolved_at)):
            covered[q.quarantine_id] = record.key
    return covered


def _due(route_id: str) -> tuple[ColumnElement[bool], ...]:
    # (kind, route_id, last_sent_at): the alerts index for this query
    return (AlertRecord.kind == QUARANTINE, AlertRecord.route_id == route_id, AlertRecord.last_sent_at.is_(None))


def _send_due(ledger: Ledger, route_id: str, notifiers: Notifiers, now: datetime) -> list[str]:
    with ledger.session() as s:  # most checks have nothing due: no claim to write then
        if s.scalar(select(AlertRecord.key).where(*_due(route_id)).limit(1)) is None:
            return []
    with state.claimed(ledger, state.record_key(QUARANTINE, route_id), route_id) as won:
        if not won:
            return []
        with ledger.session() as s:
            records = list(s.scalars(select(AlertRecord).where(*_due(route_id)).order_by(AlertRecord.opened_at)))
            due = {r.key: state.detail(r) for r in records}
            rows = {q.id: (q, name) for q, name in s.execute(
                select(Quarantine, Submission.source_name).join(Submission, Submission.id == Quarantine.submission_id)
                .where(Quarantine.id.in_([d["quarantine"] for d in due.values()])))}
        # Only quarantines still open: one replayed or discarded meanwhile is no news any more.
        still = {key: rows[d["quarantine"]] for key, d in due.items()
                 if d["quarantine"] in rows and rows[d["quarantine"]][0].released_at is None}
        sent = []
        for spec in notifiers.config.notifiers:
            mine = [(key, row) for key, row in still.items() if spec.id in due[key]["due"]]
            if not mine:
                continue
            if notifiers.send(spec, _alert(route_id, [row for _, row in mine], notifiers.config)):
                sent.append(f"{QUARANTINE} ({len(mine)}) to {spec.id}")
                for key, _ in mine:
                    due[key]["due"].remove(spec.id)
        with ledger.session() as s:
            for record in s.scalars(select(AlertRecord).where(AlertRecord.key.in_(list(due)))):
                left = [n for n in due[record.key]["due"] if n in notifiers.ids]
                record.detail = _json({**due[record.key], "due": left})
                if not left or record.key not in still:
                    record.last_sent_at = now
        return sent


def _alert(route_id: str, rows: list[tuple[Quarantine, str]], config: AlertsConfig) -> Alert:
    ids = list(dict.fromkeys(q.submission_id for q, _ in rows))
    return Alert(kind=QUARANTINE, route_id=route_id, since=min(as_utc(q.created_at) for q, _ in rows),
                 submissions=len(ids), submission_ids=tuple(ids[:MAX_IDS]),
                 groups=group_reasons(Quarantined(q.submission_id, q.step, tuple(q.reasons or ()), name)
                                      for q, name in rows),
                 admin_url=config.admin_url)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))
