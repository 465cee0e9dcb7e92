"""Fixtures for the conformance kit's tests: the simulators each profile is run against, on real sockets."""

from __future__ import annotations

from simulator_fixtures import byggr, callback, ecos, workorder

__all__ = ["byggr", "callback", "ecos", "workorder"]
