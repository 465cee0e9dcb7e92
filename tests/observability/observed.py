"""Helpers of the observability tests: simulators that note each request's correlation header, metric points read
back by name, and a bundled route run in-process as the DAG's tasks run it (routing.RouteRun) with what they saw."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from routing import RouteRun

from brygga_simulators import RunningSimulator


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    correlation: str | None


class HeaderRecorder:
    """WSGI middleware in front of a running simulator: each request's method, path and X-Correlation-ID."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[Seen] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen.append(Seen(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                              environ.get("HTTP_X_CORRELATION_ID")))
        return self.app(environ, start_response)


def record_headers(running: RunningSimulator) -> HeaderRecorder:
    recorder = HeaderRecorder(running.server.app)
    running.server.app = recorder  # werkzeug's handler calls server.app for every request
    return recorder


def points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    """The data points of metric ``name``, of every scope."""
    data = reader.get_metrics_data()
    return [point for resource in (data.resource_metrics if data else [])
            for scope in resource.scope_metrics for metric in scope.metrics if metric.name == name
            for point in metric.data.data_points]


def by_attributes(reader: InMemoryMetricReader, name: str) -> dict[frozenset[tuple[str, Any]], Any]:
    return {frozenset(point.attributes.items()): point for point in points(reader, name)}


@dataclass
class Route(RouteRun):
    """One bundled route run in-process, as the DAG's tasks run it, with the requests its simulators saw."""

    recorders: dict[str, HeaderRecorder] = field(default_factory=dict)
