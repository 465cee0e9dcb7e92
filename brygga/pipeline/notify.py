"""Notify: status and a message back to the resident's "Mina sidor" through the e-service platform."""

from __future__ import annotations

from brygga.errors import TargetRejected, TargetUnavailable
from brygga.ledger import State
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.guard import per_submission
from brygga.plugins import StatusUpdate


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
                status = spec.amendment_status if amended else spec.status
                message = (spec.amendment_message if amended else spec.message).format(diarienummer=reference)
                update = StatusUpdate(source_reference=submission.source_reference or "", status=status,
                                      message=message, external_ref=reference)
                try:
                    ctx.adapter(spec).notify(update)
                except TargetRejected as exc:
                    step.quarantine([f"status callback rejected: {str(exc)[:500]}"])
                    continue
                except TargetUnavailable as exc:
                    if ctx.ledger.count_steps(sid, "notify", "retry") + 1 >= ctx.route.max_delivery_attempts:
                        step.quarantine([f"status callback unavailable after retries: {str(exc)[:300]}"])
                    else:
                        step.note("retry", "status callback unavailable; retried next run")
                    continue
            ctx.ledger.update(sid, state=State.COMPLETED)
            done.append(sid)
    return done
