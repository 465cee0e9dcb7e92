"""Fixtures of the observability tests: an in-memory metric reader, the log correlation, and simulators
(tests/helpers/simulator_fixtures.py) whose requests are noted (observed.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from observed import Route, record_headers
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from routing import local
from simulator_fixtures import byggr, callback, register

from brygga.observability import metrics
from brygga.observability.logs import install_log_correlation, uninstall_log_correlation
from brygga_simulators import RunningSimulator
from brygga_simulators.connections import simulate

__all__ = ["bygglov", "byggr", "callback", "felanmalan", "log_correlation", "metric_reader", "register"]


@pytest.fixture
def metric_reader() -> Iterator[InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    metrics.use_meter_provider(provider)
    yield reader
    metrics.use_meter_provider(None)
    provider.shutdown()


@pytest.fixture
def log_correlation() -> Iterator[None]:
    install_log_correlation()
    yield
    uninstall_log_correlation()


@pytest.fixture
def bygglov(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, byggr: RunningSimulator, callback: RunningSimulator,
            register: RunningSimulator) -> Route:
    """kumla-bygglov: ByggR and the status callback over SOAP, the property register over REST."""
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    route = Route(tmp_path, monkeypatch, "kumla-bygglov")
    for conn_id, sim, name in (("byggr_kumla", byggr, "byggr"), ("oep_kumla", callback, "callback"),
                               ("fastighetsregister_kumla", register, "register")):
        route.connect(conn_id, local(sim))
        route.recorders[name] = record_headers(sim)
    return route


@pytest.fixture
def felanmalan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, callback: RunningSimulator) -> Iterator[Route]:
    """kumla-felanmalan: the work-order system over REST with OAuth2, then the status callback over SOAP."""
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    route = Route(tmp_path, monkeypatch, "kumla-felanmalan")
    with simulate("rest", tmp_path / "workorder") as workorder:
        route.connect("workorder_kumla", workorder.uri)
        route.connect("oep_kumla", local(callback))
        route.recorders["workorder"] = record_headers(workorder.running)
        route.recorders["callback"] = record_headers(callback)
        yield route
