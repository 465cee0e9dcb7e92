"""SQLite in WAL mode with synchronous=NORMAL: a killed process loses nothing it committed.

A child process lands submissions one transaction at a time and reports each id once its commit has returned; it is
SIGKILLed in the middle of that. Every id it reported is in the ledger afterwards (the kernel holds the WAL's
writes, and the next connection replays them). Only an operating system crash could drop the last ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from brygga.errors import ConfigError
from brygga.ledger import Ledger

CHILD = textwrap.dedent("""
    import sys
    from brygga.ledger import Ledger

    ledger = Ledger(sys.argv[1])
    n = 0
    while True:
        landed = ledger.land(route_id="r", tenant="1881", content_sha256=f"{n:064x}", raw_path="/x",
                             source_name=f"{n}.xml")
        print(landed.submission_id, flush=True)  # after the commit returned
        n += 1
""")


def test_the_ledger_runs_sqlite_in_wal_with_synchronous_normal(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    with ledger.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL (FULL is 2)


def test_a_kommun_that_needs_every_commit_on_disk_sets_synchronous_full(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BRYGGA_SQLITE_SYNCHRONOUS", "full")
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    with ledger.engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2


def test_an_unknown_synchronous_setting_is_refused_by_name(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BRYGGA_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(ConfigError, match="BRYGGA_SQLITE_SYNCHRONOUS must be NORMAL or FULL, not 'OFF'"):
        Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def test_a_process_killed_mid_commit_loses_none_of_the_transactions_it_committed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    Ledger(url)  # made here, so the child only writes
    child = subprocess.Popen([sys.executable, "-c", CHILD, url], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    reported: list[str] = []
    deadline = time.monotonic() + 120
    try:
        while len(reported) < 200 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            reported.append(line.strip())
        os.kill(child.pid, signal.SIGKILL)  # mid-way through its next transaction, or between two
    finally:
        child.kill()
        child.wait(timeout=30)
    assert len(reported) >= 200, "the child did not get going"
    found = {s.id for s in Ledger(url).load(reported, "landed")}
    assert found == set(reported)
