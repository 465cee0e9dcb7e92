"""The exit codes of every `brygga` command (docs/cli.md), and how `brygga --help` explains them."""

from __future__ import annotations

OK, NOTHING, USAGE, MISSING = 0, 1, 2, 3

EXIT_CODES = """Exit codes:
  0  done
  1  nothing found, a check found problems, or refused (not quarantined, not confirmed)
  2  usage: an unknown option, a wrong value
  3  the ledger or configuration is missing: no ledger at BRYGGA_HOME, a connection not set
  130  interrupted (Ctrl-C)"""
