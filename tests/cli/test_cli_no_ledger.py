"""The commands refuse a ledger that does not exist instead of creating one (and a folder) wherever BRYGGA_HOME
points: exit 3 and a message naming the place and the demo's home."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from brygga.ledger import Ledger
from brygga.settings import REPO_ROOT, Settings

BRYGGA = REPO_ROOT / ".venv" / "bin" / "brygga"
SID = "0b8e3c1e-5a8f-4f53-9d1c-3f7a2c9e4b10"


@pytest.mark.parametrize("argv", [
    ["list"], ["find", "2001"], ["trace", SID], ["quarantine", "list"], ["quarantine", "show", SID],
    ["quarantine", "replay", SID], ["quarantine", "replay", "--all", "--yes"], ["replay", SID],
    ["quarantine", "discard", SID, "--reason", "x"], ["health"], ["purge"],
    ["status", "events"], ["status", "retry", "event-1"], ["bus", "relay"],
])
def test_every_ledger_command_refuses_a_missing_ledger(brygga, home, argv):
    ran = brygga(*argv)
    assert ran.code == 3, ran.err
    assert f"no ledger at {home / 'ledger.sqlite'}" in ran.err and "var/demo" in ran.err and "--home" in ran.err
    assert "Traceback" not in ran.err and ran.out == ""
    assert not home.exists(), "nothing was created"


def test_home_option_points_one_command_elsewhere(brygga, home, tmp_path, ledger):
    elsewhere = tmp_path / "nowhere"
    ran = brygga("--home", str(elsewhere), "list")
    assert ran.code == 3 and str(elsewhere / "ledger.sqlite") in ran.err and not elsewhere.exists()
    assert os.environ["BRYGGA_HOME"] == str(home), "only for that command"
    assert brygga("--home", str(home), "list").code == 1  # a ledger, with nothing in it


def test_nonexistent_home_from_the_shell(tmp_path):
    nowhere = Path("/nonexistent") if not Path("/nonexistent").exists() else tmp_path / "nonexistent"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRYGGA")}
    done = subprocess.run([str(BRYGGA), "find", "x"], env={**env, "BRYGGA_HOME": str(nowhere)},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith(f"brygga find: no ledger at {nowhere}/ledger.sqlite; set BRYGGA_HOME")
    assert "var/demo" in done.stderr and "Traceback" not in done.stderr
    assert not nowhere.exists()


def test_a_database_url_that_cannot_be_opened(brygga, home, monkeypatch):
    monkeypatch.setenv("BRYGGA_DATABASE_URL", "postgresql://brygga:secret@127.0.0.1:1/brygga")  # nobody there
    ran = brygga("list")
    assert ran.code == 3 and "cannot open the ledger at postgresql://brygga:***@127.0.0.1:1/brygga" in ran.err
    assert "secret" not in ran.err
    monkeypatch.setenv("BRYGGA_DATABASE_URL", "postgresql+nosuchdriver://brygga@db/brygga")
    assert brygga("list").code == 3
    monkeypatch.setenv("BRYGGA_DATABASE_URL", "mysql+mysqldb://brygga@db/brygga")  # Brygga never installs it
    missing = brygga("list")
    assert missing.code == 3 and "its driver MySQLdb is not installed" in missing.err
    monkeypatch.setenv("BRYGGA_DATABASE_URL", "not a url")
    assert brygga("list").code == 3


def test_the_admin_view_refuses_a_missing_ledger_with_its_own_hint(home):
    """The view inside Airflow opens the ledger through the same check; its hint is for whoever runs Airflow."""
    from brygga_airflow.admin_view.ledgers import Ledgers, NoLedger

    ledgers = Ledgers(Settings.from_env)
    with pytest.raises(NoLedger) as refused:
        ledgers.get()
    assert refused.value.status == 503
    assert str(refused.value).startswith(f"no ledger at {home / 'ledger.sqlite'}; no route has run with this "
                                         "BRYGGA_HOME yet")
    assert not home.exists()
    Ledger(Settings.from_env().database_url)  # a worker's first run makes it
    assert ledgers.get().url == Settings.from_env().database_url
