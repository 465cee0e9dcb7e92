"""One submission's failure never stops the batch, and never leaves it unaccounted for."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from brygga.faults import Fault, classify
from brygga.ledger import Ledger
from brygga.observability import metrics
from brygga.provenance import correlation
from brygga.redact import redact

log = logging.getLogger(__name__)


@dataclass
class StepHandle:
    ledger: Ledger
    submission_id: str
    step: str
    result: dict[str, str | None]

    def quarantine(self, reasons: list[str]) -> None:
        stored = self.ledger.quarantine(self.submission_id, self.step, reasons)  # redacted there
        self.result["outcome"] = "quarantined"
        self.result["detail"] = f"{len(stored)} reason(s)"
        log.warning("submission %s quarantined at %s: %s", self.submission_id, self.step, " | ".join(stored))

    @property
    def quarantined(self) -> bool:
        return self.result.get("outcome") == "quarantined"

    def note(self, outcome: str, detail: str | None = None) -> None:
        self.result["outcome"], self.result["detail"] = outcome, detail


@contextmanager
def per_submission(ctx, submission_id: str, step: str) -> Iterator[StepHandle]:  # type: ignore[no-untyped-def]
    """Time and record one step for one submission; a fault is handled by its kind (``brygga.faults``).

    An infrastructure fault (a connection that cannot be resolved, a configuration error, the ledger or a disk
    failing) is not the submission's: it propagates, the task fails and Airflow retries it. A transient or
    permanent fault that reached this far is retried next run or quarantined with its redacted message. Of an
    unexpected error only the type is recorded: its message may carry personal data from the payload.

    The body runs under the submission's correlation id (``brygga.provenance``): its log records, outbound calls
    and events carry it. Each step is counted and timed in the metrics by route, step and outcome.
    """
    started = time.perf_counter()
    result: dict[str, str | None] = {"outcome": "error"}  # until timed_step hands over its own
    try:
        with correlation(submission_id), ctx.ledger.timed_step(submission_id, step) as result:
            handle = StepHandle(ctx.ledger, submission_id, step, result)
            try:
                yield handle
            except Exception as exc:
                kind = classify(exc)
                if kind is Fault.INFRASTRUCTURE:
                    log.warning("submission %s: infrastructure fault in step %s (%s): %s; nothing quarantined, "
                                "the task fails and is retried", submission_id, step, type(exc).__name__,
                                redact(str(exc)))
                    raise
                if kind is Fault.TRANSIENT:
                    message = redact(str(exc))
                    handle.note("retry", f"{type(exc).__name__}: {message}; retried next run")
                    log.warning("submission %s: transient fault in step %s: %s", submission_id, step, message)
                    return
                if kind is Fault.PERMANENT:
                    handle.quarantine([f"{step}: {exc}"])
                    return
                _unexpected(handle, submission_id, step, exc)
    finally:
        metrics.record_step(route_id_of(ctx), step, result.get("outcome") or "ok",
                            (time.perf_counter() - started) * 1000)


def route_id_of(ctx) -> str:  # type: ignore[no-untyped-def]
    """The route a context works for, as metrics name it; a bare context (a unit test's) has none."""
    route = getattr(ctx, "route", None)
    return str(getattr(route, "id", None) or "unknown")


def _unexpected(handle: StepHandle, submission_id: str, step: str, exc: Exception) -> None:
    """The dead letter channel for bugs and surprises."""
    kind = type(exc).__name__
    # The stack without the message: code locations help, the message may hold payload values.
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("submission %s: unexpected %s in step %s; quarantined\n%s", submission_id, kind, step, stack)
    handle.quarantine([f"unexpected error in step {step}: {kind}; see the worker log, then replay"])
    handle.note("error", kind)
