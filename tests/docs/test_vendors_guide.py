"""docs/vendors.md stays true: every `brygga` command in its shell blocks parses with today's `brygga`, every
simulator and flaw it names exists, and the schema pages it promises are the ones `brygga docs` writes. (What the
commands do is tested where they live; tests/packaging/test_wheel.py runs them from an installed wheel.)"""

from __future__ import annotations

import re
import shlex
from itertools import pairwise

import pytest

from brygga.catalog import schema_catalog
from brygga.cli import build_parser
from brygga.settings import REPO_ROOT
from brygga_simulators import simulator_class

GUIDE = (REPO_ROOT / "docs" / "vendors.md").read_text(encoding="utf-8")
SH_BLOCK = re.compile(r"^```sh\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)


def _command_lines() -> list[list[str]]:
    lines = [line.split("#", 1)[0].rstrip(" &") for block in SH_BLOCK.finditer(GUIDE)
             for line in block["body"].replace("\\\n", " ").splitlines()]
    return [shlex.split(line) for line in lines if line.strip()]


def _brygga_commands() -> list[list[str]]:
    found = []
    for words in _command_lines():
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # VAR=value before the command
            words = words[1:]
        if words[:1] == ["brygga"] and words[1:] != ["--version"]:
            found.append(words[1:])
    return found


def test_the_guide_shows_each_vendor_command() -> None:
    used = {words[0] for words in _brygga_commands()}
    assert {"docs", "validate", "validation-api", "conformance"} <= used


@pytest.mark.parametrize("argv", _brygga_commands(), ids=" ".join)
def test_each_brygga_command_in_the_guide_parses(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)  # argparse exits 2 on an unknown command or option
    assert callable(args.func)


def test_each_simulator_and_flaw_in_the_guide_exists() -> None:
    runs = [words for words in _command_lines() if words[:3] == ["python", "-m", "brygga_simulators"]]
    assert runs
    for words in runs:
        flaws = [value.removeprefix("flaws=") for key, value in pairwise(words)
                 if key == "--option" and value.startswith("flaws=")]
        simulator_class(words[3])(**({"flaws": flaws[0]} if flaws else {}))  # an unknown flaw is a ValueError


def test_the_schemas_the_guide_names_are_in_the_catalog() -> None:
    names = {entry.name for entry in schema_catalog()}
    for name in ("case", "bygglov", "attefall", "felanmalan", "varmepump", "fardtjanst", "bygglovsbeslut",
                 "status-event"):
        assert name in names and f"`{name}`" in GUIDE
