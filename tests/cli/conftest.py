"""Fixtures of the command-line tests: a Brygga home of their own with a ledger in it, and `brygga` run in-process
the way the console script runs it (`main(argv)`), with what it printed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from brygga.cli import main
from brygga.ledger import Ledger
from brygga.provenance import bind_airflow_run
from brygga.settings import Settings


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """BRYGGA_HOME for the test; nothing else of the shell's Brygga settings leaks in."""
    home = tmp_path / "home"
    monkeypatch.setenv("BRYGGA_HOME", str(home))
    for name in ("BRYGGA_DATABASE_URL", "BRYGGA_CONN_BRYGGA_PERSON_KEY", "BRYGGA_CONFIG", "BRYGGA_ROUTES",
                 "BRYGGA_MAPPINGS", "AIRFLOW__API__BASE_URL", "BRYGGA_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "ops-anna")  # the OS user the audit names
    return home


@pytest.fixture
def ledger(home: Path) -> Iterator[Ledger]:
    ledger = Ledger(Settings.from_env().database_url)
    yield ledger
    ledger.engine.dispose()
    bind_airflow_run(None)


@pytest.fixture
def brygga(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """``brygga("list", "--state", "quarantined")``: the exit code and the output. A usage error, which argparse
    ends with SystemExit, comes back as its code too."""

    def run(*argv: str) -> Ran:
        try:
            code = main(list(argv))
        except SystemExit as exited:
            code = int(exited.code or 0)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run
