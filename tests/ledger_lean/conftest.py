"""The bundled kumla-bygglov route in-process against the simulators (tests/helpers/simulator_fixtures.py)."""

from __future__ import annotations

from simulator_fixtures import byggr, callback, ecos, mailbox, register, route, workorder

__all__ = ["byggr", "callback", "ecos", "mailbox", "register", "route", "workorder"]
