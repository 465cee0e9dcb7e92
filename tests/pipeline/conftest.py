"""The bundled route run in-process over real HTTP to the simulators: what the DAG does, without Airflow.

``route`` (a ``routing.RouteRun``) drops files into the route's inbox, runs the steps and finds submissions;
``byggr`` answers in both reply styles (our contract, and the shapes real ByggR replies have), so every route
test runs against both. ``callback`` and ``register`` are tests/helpers/simulator_fixtures.py's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from routing import RouteRun, local
from simulator_fixtures import callback, register

from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator
from brygga_simulators.connections import Simulated, simulate

__all__ = ["byggr", "callback", "ecos", "mailbox", "register", "route", "workorder"]


@pytest.fixture(params=["contract", "real"], ids=["byggr-contract-replies", "byggr-real-replies"])
def byggr(request: pytest.FixtureRequest) -> Iterator[RunningSimulator]:
    with start_simulator(ByggrSimulator(reply_style=request.param)) as sim:
        yield sim


@pytest.fixture
def workorder(tmp_path: Path) -> Iterator[Simulated]:
    """The work-order system behind kumla-felanmalan: its URI carries OAuth2 client credentials."""
    with simulate("rest", tmp_path / "workorder") as system:
        yield system


@pytest.fixture
def ecos(tmp_path: Path) -> Iterator[Simulated]:
    with simulate("ecos", tmp_path / "ecos") as system:
        yield system


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Simulated]:
    """Mina meddelanden over mutual TLS: the URI carries the organisation's certificate, key and the test CA."""
    with simulate("mina-meddelanden", tmp_path / "mina-meddelanden") as system:
        yield system


@pytest.fixture
def route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, byggr: RunningSimulator, callback: RunningSimulator,
          register: RunningSimulator, workorder: Simulated, ecos: Simulated, mailbox: Simulated) -> RouteRun:
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    run = RouteRun(tmp_path, monkeypatch)
    run.connect("byggr_kumla", local(byggr))
    run.connect("oep_kumla", local(callback))
    run.connect("fastighetsregister_kumla", local(register))
    run.connect("workorder_kumla", workorder.uri)
    run.connect("ecos_kumla", ecos.uri)
    run.connect("mina_meddelanden_kumla", mailbox.uri)
    return run
