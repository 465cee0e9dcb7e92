"""Running the case-rest profile against the work-order simulator (as it is, or with flaws) and reading its results."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from brygga_conformance.endpoint import LOGIN_ENV, PASSWORD_ENV, Endpoint
from brygga_conformance.model import CaseResult
from brygga_conformance.runner import RunReport, run_profile
from brygga_simulators import RunningSimulator, start_simulator

CLIENT = "brygga"
FELANMALAN = ("felanmalan-gatlykta", "webhook-felanmalan-gatlykta")
PER_SAMPLE = ("case-reference", "documents-intact", "idempotent-repeat", "reply-shape")
# The simulator's "now": order numbers carry its year (AO-2026-00001), whatever year the tests run in.
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@contextmanager
def work_order(*flaws: str) -> Iterator[tuple[RunningSimulator, str]]:
    """The work-order simulator with ``flaws``, and the client secret it takes (made up per start)."""
    secret = secrets.token_urlsafe(16)
    with start_simulator("work-order", clients=f"{CLIENT}:{secret}", flaws=list(flaws), clock=lambda: NOW) as sim:
        yield sim, secret


def run_kit(sim: RunningSimulator, secret: str, workdir: Path, monkeypatch: pytest.MonkeyPatch, *,
            samples: Sequence[str] | None = None, run_id: str = "t1", **options: str) -> RunReport:
    """The kit as a vendor runs it: the endpoint's URL, the OAuth2 client's id and secret in the environment."""
    monkeypatch.setenv(LOGIN_ENV, CLIENT)
    monkeypatch.setenv(PASSWORD_ENV, secret)
    return run_profile("case-rest", Endpoint(sim.url, options), workdir=workdir, samples=samples, run_id=run_id)


def outcomes(report: RunReport) -> dict[tuple[str, str | None], str]:
    found: dict[tuple[str, str | None], str] = {}
    for result in report.results:
        key = (result.check.id, result.sample)
        assert key not in found, f"{key} recorded twice"
        found[key] = result.outcome
    return found


def result(report: RunReport, check: str, sample: str | None) -> CaseResult:
    (found,) = [r for r in report.results if r.check.id == check and r.sample == sample]
    return found


def expected(sample: str, **differing: str) -> dict[tuple[str, str | None], str]:
    """Every check of one sample run passed, but those named (check id with _ for -), plus fault-on-invalid."""
    outcome = {check: differing.pop(check.replace("-", "_"), "passed") for check in PER_SAMPLE}
    fault = differing.pop("fault_on_invalid", "passed")
    assert not differing, differing
    return {**{(check, sample): value for check, value in outcome.items()}, ("fault-on-invalid", None): fault}
