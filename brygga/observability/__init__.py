"""What Brygga tells operators besides the ledger: OpenTelemetry metrics, and the correlation id in every log record.

``configure_observability`` is called where a process starts pipeline work (``PipelineContext.for_route``, which
every route task of the DAG goes through); both parts are idempotent, so calling it again costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from brygga.observability.logs import install_log_correlation
from brygga.observability.metrics import (
    configure_metrics,
    record_call,
    record_step,
    record_submission_state,
    use_meter_provider,
)


def configure_observability(env: Mapping[str, str] | None = None) -> None:
    """Correlation ids in logs, and metrics exported when an OTLP endpoint is configured (``env``: os.environ)."""
    install_log_correlation()
    configure_metrics(env)


__all__ = [
    "configure_metrics",
    "configure_observability",
    "install_log_correlation",
    "record_call",
    "record_step",
    "record_submission_state",
    "use_meter_provider",
]
