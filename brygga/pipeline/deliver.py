"""Deliver: for each routed target, run the outbound mapping and call the adapter, at least once and idempotently.

Two guards at once: the ledger's unique idempotency key (with a lease) decides who may call the
target, and the adapter checks the target for the extern ref before it creates anything.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from brygga.errors import TargetRejected, TargetUnavailable
from brygga.ledger import State
from brygga.mapping import MappingFailed
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.guard import StepHandle, per_submission
from brygga.pipeline.keys import extern_ref, idempotency_key
from brygga.plugins import DeliveryRequest, StoredDocument
from brygga.routes import TargetSpec

log = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def stored_documents(ctx: PipelineContext, case: dict[str, Any]) -> list[StoredDocument]:
    return [StoredDocument(name=a["name"], media_type=a["mediaType"], size=a["size"], sha256=a["sha256"],
                           path=ctx.content.path_for(a["sha256"])) for a in case.get("attachments", [])]


def _deliver_one(ctx: PipelineContext, step: StepHandle, sid: str, case: dict[str, Any],
                 target: TargetSpec) -> str | None:
    """Deliver to one target. Returns the external reference, or None when the submission must wait or stop."""
    tenant = ctx.route.tenant.kommunkod
    key = idempotency_key(case, tenant, target.id)
    claim = ctx.ledger.claim_delivery(submission_id=sid, target=target.id, idempotency_key=key, owner=WORKER_ID)
    if claim.outcome == "done":
        return claim.external_ref
    if claim.outcome == "busy":
        step.note("deferred", f"target {target.id}: another worker holds the delivery")
        return None
    try:
        payload = ctx.mapping(target.mapping).run(case, context=ctx.route.mapping_context)
        receipt = ctx.adapter(target).deliver(DeliveryRequest(
            submission_id=sid, idempotency_key=key, extern_ref=extern_ref(case, tenant), payload=payload, case=case,
            documents=stored_documents(ctx, case)))
    except MappingFailed as failed:
        ctx.ledger.fail_delivery(key, "outbound mapping failed")
        step.quarantine([f"target {target.id}: {p}" for p in failed.problems])
        return None
    except TargetRejected as exc:
        ctx.ledger.fail_delivery(key, str(exc)[:500])
        step.quarantine([f"target {target.id} rejected the case: {str(exc)[:500]}"])
        return None
    except TargetUnavailable as exc:
        ctx.ledger.fail_delivery(key, str(exc)[:500])
        if claim.attempts >= ctx.route.max_delivery_attempts:
            step.quarantine([f"target {target.id} unavailable after {claim.attempts} attempts: {str(exc)[:300]}"])
        else:
            step.note("retry", f"target {target.id} unavailable (attempt {claim.attempts}); retried next run")
        return None
    ctx.ledger.complete_delivery(key, receipt.external_ref)
    log.info("submission %s delivered to %s (created=%s)", sid, target.id, receipt.created)
    return receipt.external_ref


def deliver(ctx: PipelineContext, ids: list[str]) -> list[str]:
    done: list[str] = []
    for sid in ctx.ledger.in_state(ids, State.TRANSLATED):
        with per_submission(ctx, sid, "deliver") as step:
            case = ctx.case(sid)
            targets = ctx.route.targets_for(case["caseType"])
            refs: list[str] = []
            for target in targets:
                ref = _deliver_one(ctx, step, sid, case, target)
                if ref is None:
                    break
                refs.append(ref)
            if len(refs) < len(targets):
                continue
            step.note("ok", ", ".join(f"{t.id}={ref}" for t, ref in zip(targets, refs, strict=True)))
            ctx.ledger.update(sid, state=State.DELIVERED, external_ref=refs[0])
            done.append(sid)
    return done
