"""Counters and histograms per route, step, target and outcome, through the OpenTelemetry API.

Without a configured MeterProvider every call is a no-op. ``configure_metrics`` sets an SDK provider exporting over
OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``) is set; Airflow task
setup calls it once per process. Recording never raises into the pipeline: a metric lost is better than a
submission stopped.

Every Airflow task is a process of its own with a provider of its own, so counters and histograms are exported as
deltas (unless ``OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`` says otherwise), and each process is told
apart by ``service.instance.id``: cumulative sums from many short processes under one identity would look to a
collector like one counter that keeps resetting.

Instruments (durations in milliseconds):

- ``brygga.steps`` (counter) and ``brygga.step.duration`` (histogram): attributes ``route``, ``step``, ``outcome``
- ``brygga.calls`` (counter) and ``brygga.call.duration`` (histogram): attributes ``route``, ``target``, ``outcome``
- ``brygga.submissions`` (counter of state changes): attributes ``route``, ``state``
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import metrics

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider

log = logging.getLogger(__name__)

METER_NAME = "brygga"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
TEMPORALITY_VARIABLE = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"


@dataclass(frozen=True)
class _Instruments:
    source: metrics.MeterProvider  # the provider they were made from
    steps: metrics.Counter
    step_duration: metrics.Histogram
    calls: metrics.Counter
    call_duration: metrics.Histogram
    submissions: metrics.Counter


_lock = threading.Lock()
_provider: metrics.MeterProvider | None = None  # injected (tests); None: the global one
_instruments: _Instruments | None = None
_configured = False


def use_meter_provider(provider: metrics.MeterProvider | None) -> None:
    """Record into ``provider`` from now on (None: OpenTelemetry's global provider); instruments are made anew.

    OpenTelemetry's global provider can be set once per process, so tests inject theirs here instead.
    """
    global _provider, _instruments
    with _lock:
        _provider, _instruments = provider, None


def _get() -> _Instruments:
    """The instruments of the current provider: Airflow's OpenTelemetry metrics set a new global provider in each
    forked task process, and instruments of the parent's provider would record into a dead one."""
    global _instruments
    provider = _current_provider()
    instruments = _instruments
    if instruments is not None and instruments.source is provider:
        return instruments
    with _lock:
        provider = _current_provider()
        if _instruments is None or _instruments.source is not provider:
            _instruments = _make_instruments(provider)
        return _instruments


def _current_provider() -> metrics.MeterProvider:
    return _provider if _provider is not None else metrics.get_meter_provider()


def _make_instruments(provider: metrics.MeterProvider) -> _Instruments:
    meter = provider.get_meter(METER_NAME)
    return _Instruments(
        source=provider,
        steps=meter.create_counter("brygga.steps", unit="{step}",
                                   description="Pipeline steps run for one submission"),
        step_duration=meter.create_histogram("brygga.step.duration", unit="ms",
                                             description="Duration of one pipeline step for one submission"),
        calls=meter.create_counter("brygga.calls", unit="{call}",
                                   description="Delivery attempts to a target system"),
        call_duration=meter.create_histogram("brygga.call.duration", unit="ms",
                                             description="Duration of one delivery attempt"),
        submissions=meter.create_counter("brygga.submissions", unit="{change}",
                                         description="Submissions entering a state"),
    )


def record_step(route_id: str, step: str, outcome: str, duration_ms: float) -> None:
    """One step of one submission ended with ``outcome`` (ok, quarantined, retry, error, …)."""
    try:
        instruments = _get()
        attributes = {"route": route_id, "step": step, "outcome": outcome}
        instruments.steps.add(1, attributes)
        instruments.step_duration.record(max(float(duration_ms), 0.0), attributes)
    except Exception:  # never into the pipeline
        log.debug("metric brygga.steps not recorded", exc_info=True)


def record_call(route_id: str, target: str, outcome: str, duration_ms: float) -> None:
    """One delivery attempt to ``target`` (a delivery site) ended with ``outcome`` (delivered, failed, in_doubt, …)."""
    try:
        instruments = _get()
        attributes = {"route": route_id, "target": target, "outcome": outcome}
        instruments.calls.add(1, attributes)
        instruments.call_duration.record(max(float(duration_ms), 0.0), attributes)
    except Exception:
        log.debug("metric brygga.calls not recorded", exc_info=True)


def record_submission_state(route_id: str, state: str) -> None:
    """A submission of ``route_id`` entered ``state``."""
    try:
        _get().submissions.add(1, {"route": route_id, "state": state})
    except Exception:
        log.debug("metric brygga.submissions not recorded", exc_info=True)


def configure_metrics(env: Mapping[str, str] | None = None) -> bool:
    """Export over OTLP/HTTP when an OTLP endpoint is set; True when Brygga's metrics are exported from now on.

    Idempotent. Leaves a provider someone else set (Airflow's own OpenTelemetry metrics) in place and records into
    it. Without an endpoint the API's no-op provider stays: nothing is collected, nothing is sent. ``env`` chooses
    the endpoint (default os.environ); the exporter reads its other ``OTEL_*`` settings from the process environment.
    """
    global _configured
    env = os.environ if env is None else env
    endpoint_variable = next((name for name in ENDPOINT_VARIABLES if env.get(name)), None)
    if endpoint_variable is None:
        return False
    with _lock:
        if _configured:
            return True
        current = metrics.get_meter_provider()
        if type(current).__name__ not in ("_ProxyMeterProvider", "NoOpMeterProvider"):
            log.info("OpenTelemetry metrics: a meter provider is already set (%s); Brygga records into it",
                     type(current).__name__)
            _configured = True
            return True
        endpoint = env[endpoint_variable]
        if endpoint_variable == "OTEL_EXPORTER_OTLP_ENDPOINT":  # the base URL; the signal's path is added
            endpoint = endpoint.rstrip("/") + "/v1/metrics"
        try:
            provider = exporting_provider(endpoint, env)
        except ImportError as exc:
            log.warning("OpenTelemetry metrics not exported: %s is set but the OTLP/HTTP exporter is not installed "
                        "(%s); install opentelemetry-exporter-otlp-proto-http", endpoint_variable, exc.name)
            return False
        metrics.set_meter_provider(provider)
        _configured = True
    log.info("OpenTelemetry metrics exported over OTLP/HTTP to %s", endpoint)
    return True


def exporting_provider(endpoint: str, env: Mapping[str, str]) -> MeterProvider:
    """An SDK MeterProvider exporting to ``endpoint`` (the full metrics URL), as deltas unless the user chose.

    Raises ImportError without the OTLP/HTTP exporter. It shuts down, and so exports what is left, at exit: Airflow's
    task process runs the exit handlers registered after its fork.
    """
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
    from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import HOST_NAME, SERVICE_INSTANCE_ID, SERVICE_NAME, Resource

    # Set by the user, the exporter follows the variable itself (it reads the process environment).
    temporality = None if env.get(TEMPORALITY_VARIABLE) else {
        Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA}
    exporter = OTLPMetricExporter(endpoint=endpoint, preferred_temporality=temporality)
    resource = Resource.create({
        SERVICE_NAME: env.get("OTEL_SERVICE_NAME") or "brygga",
        SERVICE_INSTANCE_ID: str(uuid.uuid4()),  # this process: its deltas are a stream of their own
        HOST_NAME: socket.gethostname(),
    })
    return MeterProvider(resource=resource, metric_readers=[PeriodicExportingMetricReader(exporter)])
