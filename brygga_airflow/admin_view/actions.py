"""Replay and discard, many submissions at a time, for the page and the API alike: each id once and in order, one
that cannot be acted on (unknown, or no longer in quarantine) reported rather than raised, and after a replay a run
of each route concerned queued in Airflow."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from brygga.admin import QuarantineFilter, discard, quarantined, replay
from brygga_airflow.admin_view.ledgers import Ledgers

log = logging.getLogger("brygga.airflow.admin")

# Queue a run of the route's DAG after a replay: (route id, who replayed) -> whether a run is queued.
Trigger = Callable[[str, str], bool]


@dataclass(frozen=True)
class Outcome:
    done: list[str]
    failed: dict[str, str]  # id -> why not (names ids and states only)
    runs_queued_for: list[str] = field(default_factory=list)  # route ids


def act_on_each(ids: Iterable[str], act: Callable[[str], object]) -> Outcome:
    done: list[str] = []
    failed: dict[str, str] = {}
    for submission_id in dict.fromkeys(ids):
        try:
            act(submission_id)
        except (LookupError, ValueError) as exc:
            log.info("admin: %s", exc)
            failed[submission_id] = str(exc)
        else:
            done.append(submission_id)
    return Outcome(done, failed)


class Actions:
    def __init__(self, ledgers: Ledgers, trigger: Trigger | None) -> None:
        self._ledgers = ledgers
        self._trigger = trigger

    def replay(self, ids: Iterable[str], *, actor: str) -> Outcome:
        ledger = self._ledgers.get()
        outcome = act_on_each(ids, lambda one: replay(ledger, one, actor=actor))
        routes = sorted({ledger.get(submission_id).route_id for submission_id in outcome.done})
        return Outcome(outcome.done, outcome.failed, [r for r in routes if self._queue_run(r, actor)])

    def replay_matching(self, flt: QuarantineFilter, *, actor: str) -> Outcome:
        """Every quarantined submission matching ``flt`` (the caller makes sure it names a route)."""
        return self.replay([row.submission.id for row in quarantined(self._ledgers.get(), flt)], actor=actor)

    def discard(self, ids: Iterable[str], *, actor: str, reason: str) -> Outcome:
        ledger = self._ledgers.get()
        return act_on_each(ids, lambda one: discard(ledger, one, actor=actor, reason=reason))

    def _queue_run(self, route_id: str, actor: str) -> bool:
        """A run that cannot be queued is not an error of the replay: the route's schedule takes the submission."""
        if self._trigger is None:
            return False
        try:
            return self._trigger(route_id, actor)
        except Exception as exc:  # e.g. the DAG is not in Airflow's database yet
            log.warning("admin: could not queue a run of route %s after a replay (%s: %s); its schedule will take "
                        "it", route_id, type(exc).__name__, exc)
            return False
