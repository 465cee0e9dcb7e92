"""The administrator's commands: `brygga list`, `find`, `trace`, `quarantine list|show|replay|discard`, `replay`,
`health` (one module each under brygga.admin.commands; this registers them in the `brygga` command).

Each answers through the admin API (brygga.admin) on the ledger of ``BRYGGA_HOME`` (or ``brygga --home DIR``), and
refuses a ledger that does not exist instead of creating an empty one. Tables and the progress bar are rich's; they
are plain text, without colour, when the output is not a terminal. Personal data stays masked unless
``trace --reveal`` asks for it, which is audited, as a search by personnummer is. Exit codes (brygga.cli_exits,
docs/cli.md): 0 ok, 1 nothing found or refused, 2 usage, 3 ledger or configuration missing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from brygga.admin.commands.health import add_health
from brygga.admin.commands.quarantine import add_quarantine, add_replay_shortcut
from brygga.admin.commands.search import STATES, add_find, add_list
from brygga.admin.commands.trace import add_trace

ADMIN_COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    add_list, add_find, add_trace, add_quarantine, add_replay_shortcut, add_health)

__all__ = ["ADMIN_COMMANDS", "STATES", "add_admin"]


def add_admin(sub: argparse._SubParsersAction) -> None:
    for add in ADMIN_COMMANDS:
        add(sub)
