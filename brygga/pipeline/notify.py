"""Notify: status and a message back to the resident's "Mina sidor" through the e-service platform.

Claimed like a delivery: two runs at once never both call the callback for one submission, and a failure is
retried by time within the notify target's budget. Each call the notifier makes is recorded as it returns, so a
retry repeats at most the one that was under way (docs/reliability.md, "Status to the resident").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from brygga.ledger import Ledger, State
from brygga.pipeline.attempts import CallSite, attempt, call_site_key
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.guard import per_submission
from brygga.plugins import StatusUpdate

NOTIFY = "@notify"


@dataclass(frozen=True)
class LedgerProgress:
    """``CallProgress`` in the ledger: one delivered row per call sent."""

    ledger: Ledger
    submission_id: str

    def _site(self, call: str) -> str:
        return f"{NOTIFY}.{call}"

    def sent(self, call: str) -> bool:
        return self.ledger.is_sent(call_site_key(self.submission_id, self._site(call)))

    def record(self, call: str) -> None:
        site = self._site(call)
        self.ledger.mark_sent(submission_id=self.submission_id, target=site,
                              idempotency_key=call_site_key(self.submission_id, site))


def _notify_call(notifier: Any, update: StatusUpdate, progress: LedgerProgress) -> Callable[[], None]:
    # A third-party notifier written before CallProgress takes the update only; its calls are not recorded.
    if "progress" in inspect.signature(notifier.notify).parameters:
        return partial(notifier.notify, update, progress)
    return partial(notifier.notify, update)


def notify(ctx: PipelineContext, ids: list[str]) -> list[str]:
    done: list[str] = []
    spec = ctx.route.notify
    for sid in ctx.ledger.in_state(ids, State.ARCHIVED):
        with per_submission(ctx, sid, "notify") as step:
            if spec is None:
                step.note("skipped", "route has no notify target")
            else:
                submission = ctx.ledger.get(sid)
                reference = submission.external_ref
                amended = submission.amends is not None  # a komplettering: the resident hears of it once
                texts = spec.texts(submission.case_type)
                status = texts["amendment_status" if amended else "status"]
                message = texts["amendment_message" if amended else "message"].format(diarienummer=reference)
                update = StatusUpdate(source_reference=submission.source_reference or "", status=status,
                                      message=message, external_ref=reference)
                site = CallSite(sid, NOTIFY, call_site_key(sid, NOTIFY), spec.retry, "the status callback")
                call = _notify_call(ctx.adapter(spec), update, LedgerProgress(ctx.ledger, sid))
                if attempt(ctx, step, site, call) is None:
                    continue
            if ctx.ledger.advance(sid, State.ARCHIVED, state=State.COMPLETED):
                done.append(sid)
    return done
