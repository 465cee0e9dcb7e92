"""When an inbox folder has work for its route's intake: what ``triggers.InboxArrivalTrigger`` fires on.

Kept apart from the trigger so the rule is plain Python (no Airflow import), tested on its own.
"""

from __future__ import annotations

import os
from pathlib import Path

# Files still waiting with no fire for this long fire again: what a run could not take (its batch was full, a
# transient fault) is not left for the cron safety net.
REFIRE_SECONDS = 60.0

Seen = frozenset[tuple[str, int, int]]


def scan(directory: str, pattern: str) -> Seen:
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


def fire_reason(before: Seen | None, now: Seen, since_fired: float, refire_after: float = REFIRE_SECONDS) -> str | None:
    """Why a run is owed now, or None.

    - new files arrived (or the watcher (re)started with files waiting);
    - a run took some files and left others: its batch was full, so the rest needs the next run at once;
    - files have waited ``refire_after`` seconds since the last fire (a run that could not take them).
    """
    if not now:
        return None
    arrived = new_arrivals(before, now)
    if arrived:
        return f"{len(arrived)} new file(s)"
    if before is not None and before - now:
        return f"{len(before - now)} taken in, the rest still waiting"
    if since_fired >= refire_after:
        return f"files waiting for {since_fired:.0f} s"
    return None
