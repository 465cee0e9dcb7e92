"""Fixtures of the admin tests: a ledger of their own, and the bundled route over the simulators from
tests/helpers/simulator_fixtures.py (ByggR in its contract reply style only: the route tests cover both styles)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres import throwaway_database
from simulator_fixtures import callback, ecos, mailbox, register, route, workorder

from brygga.ledger import Ledger
from brygga.provenance import bind_airflow_run
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator

__all__ = ["byggr", "callback", "ecos", "ledger", "mailbox", "register", "route", "sql_ledger", "workorder"]


@pytest.fixture
def byggr() -> Iterator[RunningSimulator]:
    with start_simulator(ByggrSimulator(reply_style="contract")) as sim:
        yield sim


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    yield ledger
    ledger.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """A ledger on SQLite and on a throwaway PostgreSQL database: the queries must mean the same on both."""
    if request.param == "sqlite":
        url_context: contextlib.AbstractContextManager[str] = contextlib.nullcontext(
            f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    else:
        url_context = throwaway_database("brygga_admin")
    with url_context as url:
        ledger = Ledger(url)
        yield ledger
        ledger.engine.dispose()


@pytest.fixture(autouse=True)
def _no_airflow_run() -> Iterator[None]:
    """A test that binds an Airflow task instance leaves none bound for the next."""
    yield
    bind_airflow_run(None)
