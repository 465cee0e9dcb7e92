"""brygga.observability.metrics: instruments, attributes, units, and that recording never stops the pipeline."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from observed import by_attributes, points
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from brygga.observability import metrics


def test_a_step_is_counted_and_timed_by_route_step_and_outcome(metric_reader):
    metrics.record_step("kumla-bygglov", "deliver", "ok", 12.5)
    metrics.record_step("kumla-bygglov", "deliver", "ok", 7.5)
    metrics.record_step("kumla-bygglov", "deliver", "retry", 3.0)
    key = frozenset({"route": "kumla-bygglov", "step": "deliver", "outcome": "ok"}.items())
    assert by_attributes(metric_reader, "brygga.steps")[key].value == 2
    histogram = by_attributes(metric_reader, "brygga.step.duration")[key]
    assert histogram.count == 2 and histogram.sum == 20.0 and histogram.max == 12.5
    retried = frozenset({"route": "kumla-bygglov", "step": "deliver", "outcome": "retry"}.items())
    assert by_attributes(metric_reader, "brygga.steps")[retried].value == 1


def test_a_call_is_counted_and_timed_by_route_target_and_outcome(metric_reader):
    metrics.record_call("kumla-bygglov", "byggr", "in_doubt", 30000.0)
    key = frozenset({"route": "kumla-bygglov", "target": "byggr", "outcome": "in_doubt"}.items())
    assert by_attributes(metric_reader, "brygga.calls")[key].value == 1
    assert by_attributes(metric_reader, "brygga.call.duration")[key].sum == 30000.0


def test_submission_states_are_counted_by_route_and_state(metric_reader):
    for state in ("landed", "translated", "translated"):
        metrics.record_submission_state("kumla-felanmalan", state)
    counted = {dict(point.attributes)["state"]: point.value for point in points(metric_reader, "brygga.submissions")}
    assert counted == {"landed": 1, "translated": 2}


def test_durations_are_in_milliseconds(metric_reader):
    metrics.record_step("r", "translate", "ok", 1.0)
    metrics.record_call("r", "t", "delivered", 1.0)
    data = metric_reader.get_metrics_data()
    units = {metric.name: metric.unit for resource in data.resource_metrics for scope in resource.scope_metrics
             for metric in scope.metrics}
    assert units["brygga.step.duration"] == units["brygga.call.duration"] == "ms"


def test_a_failing_meter_never_reaches_the_pipeline(caplog):
    class Broken(MeterProvider):
        def get_meter(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            raise RuntimeError("meter provider broken")

    metrics.use_meter_provider(Broken())
    try:
        with caplog.at_level(logging.DEBUG, logger="brygga.observability.metrics"):
            metrics.record_step("r", "deliver", "ok", 1.0)
            metrics.record_call("r", "byggr", "delivered", 1.0)
            metrics.record_submission_state("r", "delivered")
    finally:
        metrics.use_meter_provider(None)
    assert [record.getMessage() for record in caplog.records] == [
        "metric brygga.steps not recorded", "metric brygga.calls not recorded",
        "metric brygga.submissions not recorded"]


def test_instruments_follow_a_global_provider_replaced_after_a_fork(monkeypatch):
    """Airflow's own OpenTelemetry metrics set a new global provider in each forked task process: what Brygga records
    from then on goes there, not to the provider its instruments were first made from."""
    parents, childs = InMemoryMetricReader(), InMemoryMetricReader()
    parent, child = MeterProvider(metric_readers=[parents]), MeterProvider(metric_readers=[childs])
    current = [parent]
    monkeypatch.setattr(metrics.metrics, "get_meter_provider", lambda: current[0])
    metrics.use_meter_provider(None)
    try:
        metrics.record_step("r", "deliver", "ok", 1.0)
        current[0] = child
        metrics.record_step("r", "deliver", "ok", 2.0)
        metrics.record_step("r", "deliver", "ok", 3.0)
    finally:
        metrics.use_meter_provider(None)
    key = frozenset({"route": "r", "step": "deliver", "outcome": "ok"}.items())
    assert by_attributes(parents, "brygga.steps")[key].value == 1
    assert by_attributes(childs, "brygga.steps")[key].value == 2
    assert by_attributes(childs, "brygga.step.duration")[key].sum == 5.0
    parent.shutdown()
    child.shutdown()


def test_without_an_endpoint_nothing_is_configured():
    assert metrics.configure_metrics({}) is False


def test_a_missing_exporter_is_said_plainly(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.metric_exporter", None)
    monkeypatch.setattr(metrics, "_configured", False)
    monkeypatch.setattr(metrics.metrics, "get_meter_provider", lambda: metrics.metrics.NoOpMeterProvider())
    with caplog.at_level(logging.WARNING, logger="brygga.observability.metrics"):
        assert metrics.configure_metrics({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}) is False
    (message,) = caplog.messages
    assert "OTEL_EXPORTER_OTLP_ENDPOINT is set but the OTLP/HTTP exporter is not installed" in message
    assert "opentelemetry-exporter-otlp-proto-http" in message


@pytest.fixture
def collector():  # type: ignore[no-untyped-def]
    """An OTLP/HTTP receiver on a real socket: what each POST was sent to, as which type, and its body."""
    received: list[tuple[str, str, bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append((self.path, self.headers.get("Content-Type", ""), body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def exported(received: list[tuple[str, str, bytes]]) -> list[ExportMetricsServiceRequest]:
    return [ExportMetricsServiceRequest.FromString(body) for _, _, body in received]


def sums(request: ExportMetricsServiceRequest, name: str) -> list[tuple[int, int]]:
    """(aggregation temporality, value) of each data point of counter ``name``."""
    return [(metric.sum.aggregation_temporality, point.as_int) for resource in request.resource_metrics
            for scope in resource.scope_metrics for metric in scope.metrics if metric.name == name
            for point in metric.sum.data_points]


def resource_attributes(request: ExportMetricsServiceRequest) -> dict[str, str]:
    (resource,) = request.resource_metrics
    return {attribute.key: attribute.value.string_value for attribute in resource.resource.attributes}


@pytest.mark.parametrize(("preference", "expected"), [
    (None, [(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA, 1)] * 2),
    ("cumulative", [(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, value) for value in (1, 2)]),
], ids=["delta-by-default", "the-users-choice-wins"])
def test_counters_are_exported_as_deltas_unless_the_user_chose(collector, monkeypatch, preference, expected):
    """Each Airflow task is a process with a provider of its own: cumulative sums from many of them would look like
    one counter that keeps resetting. OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, when set, is followed."""
    url, received = collector
    if preference is None:
        monkeypatch.delenv(metrics.TEMPORALITY_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(metrics.TEMPORALITY_VARIABLE, preference)
    env = {"OTEL_SERVICE_NAME": "brygga-test", **({metrics.TEMPORALITY_VARIABLE: preference} if preference else {})}
    provider = metrics.exporting_provider(f"{url}/v1/metrics", env)
    try:
        counter = provider.get_meter("test").create_counter("brygga.test.count")
        for _ in range(2):
            counter.add(1, {"route": "r"})
            assert provider.force_flush(timeout_millis=10_000)
    finally:
        provider.shutdown(timeout_millis=10_000)
    requests = exported(received)
    assert [point for request in requests for point in sums(request, "brygga.test.count")][:2] == expected


def test_each_process_is_told_apart_by_its_resource(collector):
    url, received = collector
    for _ in range(2):
        provider = metrics.exporting_provider(f"{url}/v1/metrics", {"OTEL_SERVICE_NAME": "brygga-test"})
        provider.get_meter("test").create_counter("brygga.test.count").add(1)
        provider.shutdown(timeout_millis=10_000)
    resources = [resource_attributes(request) for request in exported(received)]
    assert len(resources) == 2
    for resource in resources:
        assert resource["service.name"] == "brygga-test" and resource["host.name"] == socket.gethostname()
        assert uuid.UUID(resource["service.instance.id"])
    assert resources[0]["service.instance.id"] != resources[1]["service.instance.id"]


SEND = """
import json, sys
from opentelemetry import metrics as api
from brygga.observability import metrics
configured = metrics.configure_metrics()
metrics.record_step("kumla-bygglov", "deliver", "ok", 42.0)
metrics.record_call("kumla-bygglov", "byggr", "delivered", 40.0)
api.get_meter_provider().force_flush()
print(json.dumps(configured))
"""


def test_with_an_endpoint_metrics_go_out_over_otlp_http(collector, tmp_path):
    """In a process of its own: OpenTelemetry's global provider can be set once per process."""
    url, received = collector
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SERVICE_NAME": "brygga-test", "PATH": "/usr/bin:/bin",
           "BRYGGA_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SEND], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) is True
    assert received, "nothing reached the collector"
    path, content_type, body = received[0]
    assert path == "/v1/metrics" and content_type == "application/x-protobuf"
    for expected in (b"brygga-test", b"brygga.step.duration", b"brygga.calls", b"kumla-bygglov", b"byggr"):
        assert expected in body
    (request,) = exported(received[:1])
    assert sums(request, "brygga.calls") == [(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA, 1)]
    assert uuid.UUID(resource_attributes(request)["service.instance.id"])
