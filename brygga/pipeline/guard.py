"""One submission's failure never stops the batch, and never leaves it unaccounted for."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from brygga.faults import Fault, classify
from brygga.ledger import Ledger, StepRecord, Write
from brygga.observability import metrics
from brygga.provenance import correlation
from brygga.redact import redact

log = logging.getLogger(__name__)


@dataclass
class StepHandle:
    """One step of one submission, as the step's body sees it: what it notes, and its ledger writes.

    A handle that ``records`` (``per_submission``'s) folds the step's own results into one transaction where it
    can: its Step record goes with the state change (``advance``) or the quarantine, and what the step noted on the
    way (``later``: a target's answer, the source reference) rides in its next write. A handle made by hand (a unit
    test's) records no Step and writes each thing at once, as the ledger's own methods do.
    """

    ledger: Ledger
    submission_id: str
    step: str
    result: dict[str, str | None]
    records: bool = False
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    t0: float = field(default_factory=time.perf_counter)
    _written: StepRecord | None = field(default=None, repr=False)
    _writes: list[Write] = field(default_factory=list, repr=False)

    def note(self, outcome: str, detail: str | None = None) -> None:
        self.result["outcome"], self.result["detail"] = outcome, detail

    @property
    def quarantined(self) -> bool:
        return self.result.get("outcome") == "quarantined"

    def later(self, write: Write) -> None:
        """A result of this step, committed with its next write (a claim, its move, its quarantine or its record,
        whichever comes first); by a handle that does not record, at once."""
        if self.records:
            self._writes.append(write)
        else:
            self.ledger.write([write])

    def take_writes(self) -> list[Write]:
        """What waits to be written, for a transaction that takes it (``give_back`` if that transaction fails)."""
        taken, self._writes = self._writes, []
        return taken

    def give_back(self, writes: list[Write]) -> None:
        self._writes[:0] = writes

    def advance(self, from_state: str, **fields: object) -> bool:
        """Move the submission on from ``from_state`` (``Ledger.advance``), with this step's record (the outcome
        and detail noted so far, timed until now) and what it noted on the way, in one transaction. False when
        another run moved it first or a unique key refused the change: then nothing is written, and the step's
        record follows at its end as usual. Note the outcome before: a note after this updates the row again."""
        if not self.records:
            return self.ledger.advance(self.submission_id, from_state, **fields)
        record, writes = self._record(), self.take_writes()
        try:
            row_id = self.ledger.advance_step(record, from_state, fields, writes)
        except BaseException:
            self.give_back(writes)
            raise
        if row_id is None:
            self.give_back(writes)
            return False
        self._written = record.written(row_id)
        return True

    def quarantine(self, reasons: list[str], *, outcome: str = "quarantined", detail: str | None = None) -> None:
        """Quarantine the submission with ``reasons`` (redacted where stored), recording the step as ``outcome``
        (with ``detail``, else the number of reasons) in the same transaction."""
        detail = detail if detail is not None else f"{len(reasons)} reason(s)"
        if self.records:
            record, writes = replace(self._record(), outcome=outcome, detail=detail), self.take_writes()
            try:
                stored, row_id = self.ledger.quarantine_step(record, reasons, writes)
            except BaseException:
                self.give_back(writes)
                raise
            self._written = record.written(row_id)
        else:
            stored = self.ledger.quarantine(self.submission_id, self.step, reasons)  # redacted there
        self.note(outcome, detail)
        log.warning("submission %s quarantined at %s: %s", self.submission_id, self.step, " | ".join(stored))

    def close(self) -> None:
        """The step's end: its record with what waits to be written, in one transaction; nothing at all when its
        move or quarantine wrote the record as it stands."""
        if not self.records:
            return
        record, writes = self._record(), self.take_writes()
        written = self._written
        if written is not None and not writes and (written.outcome, written.detail) == (record.outcome,
                                                                                          record.detail):
            return
        try:
            self._written = record.written(self.ledger.finish_step(record, writes))
        except BaseException:
            self.give_back(writes)
            raise

    def _record(self) -> StepRecord:
        return StepRecord(self.submission_id, self.step, self.result.get("outcome") or "ok", self.started_at,
                          (time.perf_counter() - self.t0) * 1000, self.result.get("detail"),
                          row_id=self._written.row_id if self._written is not None else None)


@contextmanager
def per_submission(ctx, submission_id: str, step: str) -> Iterator[StepHandle]:  # type: ignore[no-untyped-def]
    """Time and record one step for one submission; a fault is handled by its kind (``brygga.faults``).

    An infrastructure fault (a connection that cannot be resolved, a configuration error, the ledger or a disk
    failing) is not the submission's: it propagates, the task fails and Airflow retries it. A transient or
    permanent fault that reached this far is retried next run or quarantined with its redacted message. Of an
    unexpected error only the type is recorded: its message may carry personal data from the payload. An exception
    escaping the body is recorded as ``error`` with its type only.

    The step's record is written once: with its state change (``StepHandle.advance``) or quarantine, else at the
    end. The body runs under the submission's correlation id (``brygga.provenance``): its log records, outbound
    calls and events carry it. Each step is counted and timed in the metrics by route, step and outcome.
    """
    handle = StepHandle(ctx.ledger, submission_id, step, {"outcome": "ok", "detail": None}, records=True)
    try:
        with correlation(submission_id):
            try:
                try:
                    yield handle
                except Exception as exc:
                    _handle_fault(handle, submission_id, step, exc)
            except Exception as exc:
                handle.note("error", type(exc).__name__)
                raise
            finally:
                handle.close()
    finally:
        metrics.record_step(route_id_of(ctx), step, handle.result.get("outcome") or "ok",
                            (time.perf_counter() - handle.t0) * 1000)


def _handle_fault(handle: StepHandle, submission_id: str, step: str, exc: Exception) -> None:
    """A fault of the step's body, by its kind; an infrastructure fault is raised again."""
    kind = classify(exc)
    if kind is Fault.INFRASTRUCTURE:
        log.warning("submission %s: infrastructure fault in step %s (%s): %s; nothing quarantined, "
                    "the task fails and is retried", submission_id, step, type(exc).__name__, redact(str(exc)))
        raise exc
    if kind is Fault.TRANSIENT:
        message = redact(str(exc))
        handle.note("retry", f"{type(exc).__name__}: {message}; retried next run")
        log.warning("submission %s: transient fault in step %s: %s", submission_id, step, message)
        return
    if kind is Fault.PERMANENT:
        handle.quarantine([f"{step}: {exc}"])
        return
    _unexpected(handle, submission_id, step, exc)


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
    handle.quarantine([f"unexpected error in step {step}: {kind}; see the worker log, then replay"],
                      outcome="error", detail=kind)
