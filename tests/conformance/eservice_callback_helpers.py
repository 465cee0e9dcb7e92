"""Running the eservice-callback profile against the IntegrationCallback simulator, and reading what it recorded."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from brygga_adapters.soap import clear_soap_cache
from brygga_conformance.endpoint import Endpoint
from brygga_conformance.model import CaseResult
from brygga_conformance.runner import RunReport, run_profile
from brygga_simulators import RunningSimulator, start_simulator

PROFILE = "eservice-callback"
RUN_ID = "r1"
# A bygglov (told a decision with its document) and a felanmälan (whose case system tells no decision).
SAMPLES = ("bygglov-person", "felanmalan-gatlykta")
# The samples' FlowInstanceIDs: the flow instances the simulated platform has, as a vendor's test platform would.
FLOW_INSTANCES = {"bygglov-person": 2001, "felanmalan-gatlykta": 4711}
UNKNOWN = 2147483647  # the profile's default unknown flowInstanceID


@contextmanager
def platform(flaws: Collection[str] = (), variant: str = "upstream",
             known: Collection[int] = tuple(FLOW_INSTANCES.values())) -> Iterator[RunningSimulator]:
    """The callback simulator as a platform that knows the samples' flow instances (and no others)."""
    clear_soap_cache()
    with start_simulator("oep-callback", flaws=list(flaws), variant=variant, known_flow_instances=list(known)) as sim:
        yield sim


def run_kit(sim: RunningSimulator, workdir: Path, samples: Collection[str] | None = SAMPLES, url: str | None = None,
            **options: str) -> RunReport:
    return run_profile(PROFILE, Endpoint(url or sim.url, options), workdir=workdir,
                       samples=list(samples) if samples is not None else None, run_id=RUN_ID)


def result(report: RunReport, check: str, sample: str | None = None) -> CaseResult:
    (found,) = [r for r in report.results if r.check.id == check and r.sample == sample]
    return found


def not_passing(report: RunReport) -> dict[tuple[str, str | None], str]:
    """(check, sample) -> outcome, for every result that neither passed nor was skipped."""
    return {(r.check.id, r.sample): r.outcome for r in report.results if r.outcome not in ("passed", "skipped")}


def skipped(report: RunReport) -> dict[tuple[str, str | None], str]:
    """(check, sample) -> the reason, for every skipped result."""
    return {(r.check.id, r.sample): r.findings[0] for r in report.results if r.outcome == "skipped"}
