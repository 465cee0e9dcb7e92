"""Simulator fixtures several test folders share: ByggR, Open ePlatform's status callback, the property register,
the work-order system, Ecos and Mina meddelanden, each on a real socket (port 0) for one test, and ``route``: the
bundled routes run in-process with every connection pointed at them (``routing.RouteRun``). A conftest takes the
ones it needs by importing them (and naming them in its ``__all__``); a folder that wants something else (ByggR in
both reply styles) defines its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from routing import RouteRun, local

from brygga_adapters.property_register import clear_caches
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.connections import Simulated, simulate


@pytest.fixture
def byggr() -> Iterator[RunningSimulator]:
    with start_simulator("byggr") as sim:
        yield sim


@pytest.fixture
def callback() -> Iterator[RunningSimulator]:
    """Open ePlatform's status callback, which the kumla routes share (connection oep_kumla)."""
    with start_simulator("oep-callback") as sim:
        yield sim


@pytest.fixture
def register() -> Iterator[RunningSimulator]:
    # The lookup caches answers per process, by the register's URL: a new register on a port an earlier test's
    # register had is another system, so the cache starts empty.
    clear_caches()
    with start_simulator("property-register") as sim:
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
