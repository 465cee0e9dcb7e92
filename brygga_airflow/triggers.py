"""Event triggers that start a route's run when work arrives, run by Airflow's triggerer for an ``AssetWatcher``.

``InboxArrivalTrigger`` watches an inbox folder and fires when the route's intake has work there
(``inbox_watch.fire_reason``). It never touches the files (Airflow's own ``FileDeleteTrigger`` deletes what it finds;
intake needs them, lands their bytes and only then removes them).

It keeps running and fires once per scan with a reason, so a burst of drops is one or a few events, and the scheduler
folds every event that arrives while a run is busy into one next run (``max_active_runs=1``: the asset-triggered run
waits in ``asset_dag_run_queue``, one row per asset and DAG, until the busy run ends). A fire with nothing left to
take is harmless: intake is idempotent and an empty batch is a short green run.

Events carry counts only: file names can name a person.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from brygga_airflow.inbox_watch import REFIRE_SECONDS, Seen, fire_reason, scan

POKE_SECONDS = 0.5  # a directory listing per half second: cheap, and a small part of the latency budget


class InboxArrivalTrigger(BaseEventTrigger):
    """Fire when files the inbox source would take in appear in ``directory``. Leaves every file where it is."""

    def __init__(self, directory: str, pattern: str = "*.xml", poke_interval: float = POKE_SECONDS,
                 refire_after: float = REFIRE_SECONDS) -> None:
        super().__init__()
        self.directory = directory
        self.pattern = pattern
        self.poke_interval = poke_interval
        self.refire_after = refire_after

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("brygga_airflow.triggers.InboxArrivalTrigger",
                {"directory": self.directory, "pattern": self.pattern, "poke_interval": self.poke_interval,
                 "refire_after": self.refire_after})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        before: Seen | None = None
        fired_at = time.monotonic()
        while True:
            now = await asyncio.to_thread(scan, self.directory, self.pattern)
            reason = fire_reason(before, now, time.monotonic() - fired_at, self.refire_after)
            if reason is not None:
                fired_at = time.monotonic()
                self.log.info("inbox %s: %s, %d waiting", self.directory, reason, len(now))
                yield TriggerEvent({"reason": reason, "waiting": len(now)})
            before = now
            await asyncio.sleep(self.poke_interval)
