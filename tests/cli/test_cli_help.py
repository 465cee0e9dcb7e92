"""Every command has real --help: a description, an example, help for each option; the exit codes are in
`brygga --help` and in docs/cli.md, which names every command."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from brygga.cli import build_parser
from brygga.settings import REPO_ROOT


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """(command path, its parser) for every command and subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(build_parser()))


def test_main_help_has_the_exit_codes_and_examples(brygga):
    ran = brygga("--help")
    assert ran.code == 0
    for code in ("0  done", "1  nothing found", "2  usage", "3  the ledger or configuration is missing"):
        assert code in ran.out
    assert "Examples:\n  brygga list --state quarantined --since 2d" in ran.out
    assert "--home DIR" in ran.out and "--version" in ran.out and "docs/cli.md" in ran.out


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_each_command_has_a_description_and_examples(brygga, path):
    ran = brygga(*path, "--help")
    assert ran.code == 0
    parser = COMMANDS[path]
    assert parser.description and len(parser.description) > 40, f"brygga {' '.join(path)} describes nothing"
    assert re.search(rf"Examples:\n  brygga .*{re.escape(path[0])}", ran.out), ran.out
    shown = ran.out.split("Examples:\n", 1)[1]
    assert re.search(rf"^  .*\bbrygga .*\b{re.escape(path[-1])}\b", shown, re.MULTILINE), f"no example runs {path}"


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_each_option_and_argument_has_help(path):
    for action in COMMANDS[path]._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        assert action.help, f"brygga {' '.join(path)}: {action.dest} has no help"


def test_help_is_plain_text_off_a_terminal(brygga):
    ran = brygga("quarantine", "replay", "--help")
    assert "\x1b[" not in ran.out, "no colour codes in a pipe"
    assert "--reason TEXT" in ran.out and "progress bar" in ran.out


def test_docs_name_every_command_and_exit_code():
    doc = (REPO_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for path in COMMANDS:
        assert f"brygga {' '.join(path)}" in doc, f"docs/cli.md does not describe brygga {' '.join(path)}"
    for code in (0, 1, 2, 3, 130):  # 130: interrupted (brygga.cli.main)
        assert re.search(rf"^\| {code} \|", doc, re.MULTILINE), f"exit code {code} is not documented"
    assert "BrokenPipe" in doc or "closes the pipe" in doc


def test_help_without_rich_argparse():
    """rich-argparse comes with Airflow; an install of the core alone still has the same help."""
    code = "import sys; sys.modules['rich_argparse'] = None; from brygga.cli import main; sys.exit(main(['--help']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Exit codes:\n  0  done\n" in done.stdout and "Examples:\n  brygga list --state quarantined" in done.stdout


def test_an_interrupt_exits_130_without_a_traceback(brygga, ledger, monkeypatch):
    def interrupted():  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr("brygga.admin.commands.search.open_ledger", interrupted)
    ran = brygga("list")
    assert (ran.code, ran.err) == (130, "brygga list: interrupted\n")
