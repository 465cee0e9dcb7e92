"""A bundled route run in this process, as the DAG's tasks run it: files dropped into its inbox, the pipeline's
steps, its submissions found by their bytes; and connections to local simulators.

``RouteRun`` (the route tests' ``route`` fixture, tests/pipeline/conftest.py) owns its environment: its home and
its connections go into the environment through the test's monkeypatch, and it changes the routes file for a test.
``InboxRoute`` is what every in-process route does; ``simulated_route.LocalRoute`` is one on a home the caller set.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from brygga.ledger import Submission
from brygga.pipeline import PipelineContext, run_route
from brygga.settings import REPO_ROOT, Settings
from brygga_simulators import RunningSimulator, start_simulator

SAMPLES = REPO_ROOT / "samples" / "open-eplatform"
ROUTE = "kumla-bygglov"


def local(sim: RunningSimulator) -> str:
    """A connection URI to a local simulator, which speaks plain HTTP."""
    return f"{sim.url}?allow_http=true"


def dead_url(simulator: str) -> str:
    """The URI of a simulator that has stopped: nothing answers there."""
    with start_simulator(simulator) as doomed:
        return local(doomed)


BUNDLED_RETRY = {"budget": "24h", "first_delay": "30s", "max_delay": "30m", "in_doubt_delay": "60s"}
RETRY_LINE = "retry: {" + ", ".join(f"{k}: {v}" for k, v in BUNDLED_RETRY.items()) + "}"


class InboxRoute:
    """One route of the routes file the settings name, run here. A subclass gives ``route_id`` and ``home`` (the
    Brygga home of the environment, where the pipeline looks)."""

    route_id: str
    home: Path

    @property
    def inbox(self) -> Path:
        return self.home / "inbox" / self.route_id

    def context(self) -> PipelineContext:
        return PipelineContext.for_route(self.route_id, settings=Settings.from_env())

    def run(self) -> list[str]:
        return run_route(self.context())

    def drop(self, name: str, as_name: str | None = None, data: bytes | None = None) -> bytes:
        """A sample (by name) or bytes into the route's inbox, as the e-service platform would leave it."""
        self.inbox.mkdir(parents=True, exist_ok=True)
        target = self.inbox / (as_name or name)
        if data is None:
            shutil.copyfile(SAMPLES / name, target)
        else:
            target.write_bytes(data)
        return target.read_bytes()

    def submission(self, data: bytes | str) -> Submission:
        """The submission of a sample file (by name) or of dropped bytes."""
        raw = (SAMPLES / data).read_bytes() if isinstance(data, str) else data
        found = self.context().ledger.by_content(self.route_id, hashlib.sha256(raw).hexdigest())
        assert found is not None, "no submission holds those bytes"
        return found


@dataclass
class RouteRun(InboxRoute):
    home: Path
    monkeypatch: pytest.MonkeyPatch
    route_id: str = ROUTE

    def other(self, route_id: str) -> RouteRun:
        """Another route of the same routes file, home and connections."""
        return dataclasses.replace(self, route_id=route_id)

    def variant(self, old: str, new: str) -> Path:
        """Use a copy of the bundled routes file with one more edit (edits add up within a test)."""
        path = self.home / "routes.yaml"
        routes = (path if path.exists() else REPO_ROOT / "routes" / "routes.yaml").read_text(encoding="utf-8")
        assert old in routes
        path.write_text(routes.replace(old, new), encoding="utf-8")
        self.monkeypatch.setenv("BRYGGA_ROUTES", str(path))
        return path

    def without_work_orders(self) -> RouteRun:
        """kumla-felanmalan as it was before its work-order system: archive and Mina sidor only."""
        routes = (REPO_ROOT / "routes" / "routes.yaml").read_text(encoding="utf-8")
        start = routes.index("    targets:\n      - id: workorder\n")
        end = routes.index("    archive:", start)
        self.variant(routes[start:end], "")
        self.variant("som arbetsorder {diarienummer}.", ".")
        return self.other("kumla-felanmalan")

    def retry(self, **durations: str) -> Path:
        """Change the route's retry block, e.g. ``retry(first_delay="0s")`` so the next run retries at once."""
        policy = {**BUNDLED_RETRY, **durations}
        block = "retry: {" + ", ".join(f"{k}: {v}" for k, v in policy.items()) + "}"
        return self.variant(RETRY_LINE, block)

    def connect(self, conn_id: str, uri: str) -> None:
        self.monkeypatch.setenv(f"BRYGGA_CONN_{conn_id.upper()}", uri)
