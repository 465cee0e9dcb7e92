"""`brygga demo` ends with the exact commands that inspect its results, on its own home: each one works."""

from __future__ import annotations

import shlex
from pathlib import Path
from types import SimpleNamespace

from cli_ledger import delivered, quarantined

from brygga_airflow.demo import inspect_commands, print_inspect


def _runs(ledger, home: Path):  # type: ignore[no-untyped-def]
    """What two route runs of the tour report: a delivered submission, and a quarantined one."""
    done = delivered(ledger, "bygglov-person.xml", "BN 2026-000001", reference="2001")
    stuck = quarantined(ledger, "bygglov-malformed.xml", "translate", ["not well-formed XML"], reference="2007")
    results = [{"file": "bygglov-person.xml", "state": "delivered", "diarienummer": "BN 2026-000001",
                "submission_id": done},
               {"file": "bygglov-malformed.xml", "state": "quarantined", "diarienummer": None,
                "submission_id": stuck}]
    return [SimpleNamespace(results=results[:1]), SimpleNamespace(results=results[1:])], done, stuck


def test_the_printed_commands_find_the_demo_results(brygga, ledger, home, monkeypatch, capsys):
    runs, done, stuck = _runs(ledger, home)
    monkeypatch.chdir(home.parent)
    monkeypatch.setenv("BRYGGA_HOME", str(home.parent / "somewhere-else"))  # the shell's own home
    print_inspect(runs, home)
    printed = capsys.readouterr().out
    commands = inspect_commands(runs, home)
    assert commands[0].endswith("--home home find 'BN 2026-000001'"), "relative to where the demo ran"
    assert all(f"  {command}" in printed for command in commands)
    outputs = []
    for command in commands:
        argv = shlex.split(command)[1:]  # without the executable
        ran = brygga(*argv)
        assert ran.code == 0, (command, ran.err)
        outputs.append(ran.out)
    find, trace, quarantine, listing = outputs
    assert done in find and f"submission       {stuck}" in trace and stuck in quarantine and done in listing
