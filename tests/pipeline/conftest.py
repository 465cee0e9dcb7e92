"""The bundled route run in-process over real HTTP to the simulators: what the DAG does, without Airflow.

``route`` (a ``routing.RouteRun``) drops files into the route's inbox, runs the steps and finds submissions;
``byggr`` answers in both reply styles (our contract, and the shapes real ByggR replies have), so every route
test runs against both. The other systems and ``route`` itself are tests/helpers/simulator_fixtures.py's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simulator_fixtures import callback, ecos, mailbox, register, route, workorder

from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator

__all__ = ["byggr", "callback", "ecos", "mailbox", "register", "route", "workorder"]


@pytest.fixture(params=["contract", "real"], ids=["byggr-contract-replies", "byggr-real-replies"])
def byggr(request: pytest.FixtureRequest) -> Iterator[RunningSimulator]:
    with start_simulator(ByggrSimulator(reply_style=request.param)) as sim:
        yield sim
