"""A bundled route run in this process on local simulators, for tests that need a ledger of real submissions
(the admin view's tests): files dropped into the route's inbox, the pipeline's steps as the DAG runs them
(routing.InboxRoute).

The caller owns the environment: ``BRYGGA_HOME`` (and ``BRYGGA_MAPPINGS`` for a changed mappings folder) set, and
the connections of ``simulated_connections`` put into it, before ``run``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from routing import SAMPLES, InboxRoute

from brygga.routes import load_routes
from brygga.settings import Settings
from brygga_airflow.run import remote_refs
from brygga_simulators.connections import simulate

__all__ = ["SAMPLES", "LocalRoute", "simulated_connections"]


@contextlib.contextmanager
def simulated_connections(route_id: str, workdir: Path) -> Iterator[dict[str, str]]:
    """A stand-in for every system the route calls, as ``BRYGGA_CONN_<ID>`` environment values."""
    settings = Settings.from_env()
    (route,) = [r for r in load_routes(settings.routes_file, settings.mappings_dir) if r.id == route_id]
    env: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        for _, ref in remote_refs(route):
            name = f"BRYGGA_CONN_{str(ref.connection).upper()}"
            if name not in env:
                env[name] = stack.enter_context(simulate(ref.adapter, workdir / str(ref.connection))).uri
        yield env


@dataclass(frozen=True)
class LocalRoute(InboxRoute):
    """A route on the Brygga home the environment names at each step (the caller set it, with the connections)."""

    route_id: str

    @property
    def home(self) -> Path:
        return Settings.from_env().home
