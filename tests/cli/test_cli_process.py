"""The installed `brygga` as a shell runs it: a reader that closes the pipe early, and --version."""

from __future__ import annotations

import fcntl
import os
import subprocess
from importlib.metadata import version

from cli_ledger import NOW

from brygga.ledger import Submission
from brygga.settings import REPO_ROOT

BRYGGA = REPO_ROOT / ".venv" / "bin" / "brygga"
ROWS = 1500


def _env(home) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**{k: v for k, v in os.environ.items() if not k.startswith("BRYGGA")}, "BRYGGA_HOME": str(home)}


def _bulk(ledger) -> None:  # type: ignore[no-untyped-def]
    with ledger.session() as s:
        s.add_all(Submission(id=f"00000000-0000-4000-8000-{i:012d}", route_id="kumla-bygglov", tenant="1881",
                             content_sha256=f"{i:064x}", raw_path="/x", source_name=f"bulk-{i}.xml",
                             state="completed", received_at=NOW, updated_at=NOW) for i in range(ROWS))


def test_find_into_a_reader_that_stops_after_one_line(ledger, home):
    """`brygga find bulk | head -1`. The pipe is one page, so brygga is still writing when the reader goes,
    whatever size this system gives a pipe."""
    _bulk(ledger)
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    writer = subprocess.Popen([str(BRYGGA), "find", "bulk", "--limit", str(ROWS)], stdout=write_end,
                              stderr=subprocess.PIPE, env=_env(home))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = reader.readline()
    code = writer.wait(timeout=120)
    assert writer.stderr is not None
    err = writer.stderr.read().decode()
    writer.stderr.close()
    assert first.split() == [b"id", b"received", b"route", b"state", b"reference", b"diarienummer", b"rev"]
    assert code == 0, err
    assert err == "", "no BrokenPipeError, no traceback, no 'Exception ignored'"


def test_the_whole_table_when_the_reader_reads_it(ledger, home):
    _bulk(ledger)
    done = subprocess.run([str(BRYGGA), "list", "--limit", str(ROWS)], capture_output=True, text=True,
                          env=_env(home), timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == ROWS + 2  # the header, its rule, one line per row: nothing wraps


def test_version():
    done = subprocess.run([str(BRYGGA), "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, f"brygga {version('brygga')}")
