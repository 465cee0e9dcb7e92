"""Notify: status and a message back to the resident's "Mina sidor" through the e-service platform.

Claimed like a delivery: two runs at once never both call the callback for one submission, and a failure is
retried by time within the notify target's budget. Each call the notifier makes is recorded as it returns, so a
retry repeats at most the one that was under way (docs/reliability.md, "Status to the resident").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from brygga.ledger import Ledger, State
from brygga.pipeline.attempts import CallSite, attempt, call_site_key
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.guard import per_submission
from brygga.plugins import StatusUpdate

NOTIFY = "@notify"


@dataclass
class LedgerProgress:
    """``CallProgress`` in the ledger: one delivered row per call sent, committed as the call returns.

    What was sent before is read once, at the first question: the notify claim keeps every other worker off this
    submission's calls while this one makes them, so only this one adds to it meanwhile.
    """

    ledger: Ledger
    submission_id: str
    _sent: set[str] | None = field(default=None, repr=False)

    def _key(self, call: str) -> str:
        return call_site_key(self.submission_id, f"{NOTIFY}.{call}")

    def sent(self, call: str) -> bool:
        if self._sent is None:
            self._sent = self.ledger.delivered_keys(self.submission_id)
        return self._key(call) in self._sent

    def record(self, call: str) -> None:
        key = self._key(call)
        self.ledger.mark_sent(submission_id=self.submission_id, target=f"{NOTIFY}.{call}", idempotency_key=key)
        if self._sent is not None:
            self._sent.add(key)


def _notify_call(notifier: Any, update: StatusUpdate, progress: LedgerProgress) -> Callable[[], None]:
    # A third-party notifier written before CallProgress takes the update only; its calls are not recorded.
    if "progress" in inspect.signature(notifier.notify).parameters:
        return partial(notifier.notify, update, progress)
    return partial(notifier.notify, update)


def notify(ctx: PipelineContext, ids: list[str]) -> list[str]:
    done: list[str] = []
    spec = ctx.route.notify
    for submission in ctx.ledger.load(ids, State.ARCHIVED):
        sid = submission.id
        with per_submission(ctx, sid, "notify") as step:
            if spec is None:
                step.note("skipped", "route has no notify target")
            else:
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
            if step.advance(State.ARCHIVED, state=State.COMPLETED):
                done.append(sid)
    return done
