"""The Ecos simulator on a real socket, with the process-wide zeep client and lookup caches cleared around it:
each test's simulator is new, so nothing bound to an earlier one may be reused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from brygga_adapters.ecos import clear_lookup_cache
from brygga_adapters.soap import clear_soap_cache
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.ecos import EcosSimulator


@contextmanager
def running_ecos() -> Iterator[RunningSimulator]:
    clear_soap_cache()
    clear_lookup_cache()
    with start_simulator(EcosSimulator) as running:
        yield running
    clear_soap_cache()
    clear_lookup_cache()
