"""Event triggers that start a route's run when work arrives, run by Airflow's triggerer for an ``AssetWatcher``.

``InboxArrivalTrigger`` watches an inbox folder and fires when a file appears that the route's intake would take in.
It never touches the files (Airflow's own ``FileDeleteTrigger`` deletes what it finds; intake needs them, lands their
bytes and only then removes them).

It keeps running and fires once per scan that finds new files, so a burst of drops is one or a few events, and the
scheduler folds every event that arrives while a run is busy into one next run (``max_active_runs=1``: the
asset-triggered run waits in ``asset_dag_run_queue``, one row per asset and DAG, until the busy run ends). A fire for
files already taken in is harmless (intake is idempotent and an empty batch is a short green run); it happens only
when the trigger (re)starts while files wait, e.g. after a triggerer restart, which is also when a fire is owed for
files that arrived while it was down.

Events carry counts only: file names can name a person.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

POKE_SECONDS = 0.5  # a directory listing per half second: cheap, and a small part of the latency budget

Seen = frozenset[tuple[str, int, int]]


def _scan(directory: str, pattern: str) -> Seen:
    """What waits now: name, inode and mtime, so a new file under a name just taken in counts as new."""
    from brygga_adapters.file.inbox import waiting_files  # the rule the inbox source takes files by

    seen = set()
    for path in waiting_files(Path(directory), pattern):
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            continue  # taken in between the listing and the stat
        seen.add((path.name, stat.st_ino, stat.st_mtime_ns))
    return frozenset(seen)


def new_arrivals(before: Seen | None, now: Seen) -> Seen:
    """Files in ``now`` not in ``before``; everything waiting when there is no earlier scan (a (re)start)."""
    return now if before is None else now - before


class InboxArrivalTrigger(BaseEventTrigger):
    """Fire when files the inbox source would take in appear in ``directory``. Leaves every file where it is."""

    def __init__(self, directory: str, pattern: str = "*.xml", poke_interval: float = POKE_SECONDS) -> None:
        super().__init__()
        self.directory = directory
        self.pattern = pattern
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("brygga_airflow.triggers.InboxArrivalTrigger",
                {"directory": self.directory, "pattern": self.pattern, "poke_interval": self.poke_interval})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        before: Seen | None = None
        while True:
            now = await asyncio.to_thread(_scan, self.directory, self.pattern)
            arrived = new_arrivals(before, now)
            before = now
            if arrived:
                self.log.info("inbox %s: %d new file(s), %d waiting", self.directory, len(arrived), len(now))
                yield TriggerEvent({"new_files": len(arrived), "waiting": len(now)})
            await asyncio.sleep(self.poke_interval)
