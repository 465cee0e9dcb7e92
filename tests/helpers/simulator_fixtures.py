"""Simulator fixtures several test folders share: ByggR, Open ePlatform's status callback and the property
register, each on a real socket (port 0) for one test. A conftest takes the ones it needs by importing them (and
naming them in its ``__all__``); a folder that wants something else (ByggR in both reply styles) defines its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brygga_adapters.property_register import clear_caches
from brygga_simulators import RunningSimulator, start_simulator


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
