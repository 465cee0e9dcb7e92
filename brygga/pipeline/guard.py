"""One submission's failure never stops the batch, and never leaves it unaccounted for."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from brygga.connections import ConnectionNotFound
from brygga.errors import ConfigError
from brygga.ledger import Ledger

log = logging.getLogger(__name__)


@dataclass
class StepHandle:
    ledger: Ledger
    submission_id: str
    step: str
    result: dict[str, str | None]

    def quarantine(self, reasons: list[str]) -> None:
        self.ledger.quarantine(self.submission_id, self.step, reasons)
        self.result["outcome"] = "quarantined"
        self.result["detail"] = f"{len(reasons)} reason(s)"
        log.info("submission %s quarantined at %s (%d reasons)", self.submission_id, self.step, len(reasons))

    def note(self, outcome: str, detail: str | None = None) -> None:
        self.result["outcome"], self.result["detail"] = outcome, detail


@contextmanager
def per_submission(ctx, submission_id: str, step: str) -> Iterator[StepHandle]:  # type: ignore[no-untyped-def]
    """Time and record one step for one submission; an error quarantines it instead of crashing the batch.

    A configuration problem (a route, an adapter's config, a connection that is missing or not allowed) is
    quarantined with its message, which names files, keys and rules only: fix it, then replay. Of anything else
    only the type is recorded: its message may carry personal data from the payload.
    """
    with ctx.ledger.timed_step(submission_id, step) as result:
        handle = StepHandle(ctx.ledger, submission_id, step, result)
        try:
            yield handle
        except (ConfigError, ConnectionNotFound) as exc:
            handle.quarantine([f"{step}: {str(exc)[:500]}"])
            handle.note("quarantined", type(exc).__name__)
        except Exception as exc:  # the dead letter channel for bugs and surprises
            kind = type(exc).__name__
            # The stack without the message: code locations help, the message may hold payload values.
            stack = "".join(traceback.format_tb(exc.__traceback__))
            log.error("submission %s: unexpected %s in step %s; quarantined\n%s", submission_id, kind, step, stack)
            handle.quarantine([f"unexpected error in step {step}: {kind}; see the worker log, then replay"])
            handle.note("error", kind)
