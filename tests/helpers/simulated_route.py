"""A bundled route run in this process on local simulators, for tests that need a ledger of real submissions
(the admin view's tests): files dropped into the route's inbox, the pipeline's steps as the DAG runs them.

The caller owns the environment: ``BRYGGA_HOME`` (and ``BRYGGA_MAPPINGS`` for a changed mappings folder) set, and
the connections of ``simulated_connections`` put into it, before ``run``.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from brygga.ledger import Submission
from brygga.pipeline import PipelineContext, run_route
from brygga.routes import load_routes
from brygga.settings import REPO_ROOT, Settings
from brygga_airflow.run import remote_refs
from brygga_simulators.connections import simulate

SAMPLES = REPO_ROOT / "samples" / "open-eplatform"


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
class LocalRoute:
    route_id: str

    @staticmethod
    def settings() -> Settings:
        return Settings.from_env()

    def context(self) -> PipelineContext:
        return PipelineContext.for_route(self.route_id, settings=self.settings())

    def drop(self, sample: str, *, data: bytes | None = None, as_name: str | None = None) -> bytes:
        """A sample (or bytes) into the route's inbox, as the e-service platform would leave it."""
        inbox = self.settings().home / "inbox" / self.route_id
        inbox.mkdir(parents=True, exist_ok=True)
        target = inbox / (as_name or sample)
        if data is None:
            shutil.copyfile(SAMPLES / sample, target)
        else:
            target.write_bytes(data)
        return target.read_bytes()

    def run(self) -> list[str]:
        return run_route(self.context())

    def submission(self, raw: bytes) -> Submission:
        found = self.context().ledger.by_content(self.route_id, hashlib.sha256(raw).hexdigest())
        assert found is not None, "no submission holds those bytes"
        return found
