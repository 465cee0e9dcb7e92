"""Deliver: for each routed target, run the outbound mapping and call the adapter, at least once and idempotently.

Two guards at once: the ledger's unique idempotency key (with a lease) decides who may call the
target, and the adapter checks the target for the extern ref before it creates anything.

An amendment (revision 2, 3, …: the same e-service reference exported again with other content) goes to the
case the first version created, as an ``Amendment`` carrying only the documents no earlier version had. It
waits until every earlier version has reached the target, so a case officer sees them in order.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from brygga.canonical.serialize import loads_case
from brygga.errors import ConfigError, TargetRejected, TargetUnavailable
from brygga.ledger import State, Submission
from brygga.mapping import MappingFailed
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.guard import StepHandle, per_submission
from brygga.pipeline.keys import extern_ref, idempotency_key
from brygga.pipeline.revisions import changed_fields, new_attachments
from brygga.plugins import Amendment, DeliveryRequest, StoredDocument
from brygga.routes import TargetSpec

log = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def stored_documents(ctx: PipelineContext, attachments: list[dict[str, Any]]) -> list[StoredDocument]:
    return [StoredDocument(name=a["name"], media_type=a["mediaType"], size=a["size"], sha256=a["sha256"],
                           path=ctx.content.path_for(a["sha256"])) for a in attachments]


@dataclass(frozen=True)
class _Version:
    """What a delivery needs to know about the earlier versions of the submission's reference."""

    first: Submission | None  # None for revision 1
    earlier_cases: list[dict[str, Any]]


def _earlier_versions(ctx: PipelineContext, step: StepHandle, submission: Submission) -> _Version | None:
    """The earlier versions when they have all reached their targets; None (noted) when this one must wait."""
    if (submission.revision or 1) == 1:
        return _Version(first=None, earlier_cases=[])
    earlier = [s for s in ctx.ledger.versions(ctx.route.id, submission.source_reference or "")
               if s.revision is not None and s.revision < submission.revision]
    for version in earlier:
        if version.state == State.QUARANTINED:
            step.quarantine([f"revision {submission.revision} amends revision {version.revision} "
                             f"(submission {version.id}), which is quarantined: replay that one first, then this"])
            return None
        if version.state not in State.DELIVERED_OR_LATER:
            step.note("waiting", f"revision {version.revision} (submission {version.id}) has not reached its "
                                 "targets yet; retried next run")
            return None
    first = next(v for v in earlier if v.revision == 1)
    return _Version(first=first, earlier_cases=[loads_case(v.canonical_json or "{}") for v in earlier])


def _request(ctx: PipelineContext, submission: Submission, case: dict[str, Any], target: TargetSpec,
             version: _Version) -> DeliveryRequest | None:
    tenant = ctx.route.tenant.kommunkod
    key = idempotency_key(case, tenant, target.id, submission.revision or 1, submission.content_fingerprint)
    amendment, attachments = None, case.get("attachments", [])
    if version.first is not None:
        case_ref = ctx.ledger.delivered_ref(version.first.id, target.id)
        if case_ref is None:  # the first version was routed elsewhere: this target never had the case
            return None
        amendment = Amendment(external_ref=case_ref, revision=submission.revision or 1,
                              changed_fields=changed_fields(version.earlier_cases[-1], case))
        attachments = new_attachments(version.earlier_cases, case)
    payload = ctx.mapping(target.mapping).run(case, context=ctx.route.mapping_context)
    return DeliveryRequest(submission_id=submission.id, idempotency_key=key, extern_ref=extern_ref(case, tenant),
                           payload=payload, case=case, documents=stored_documents(ctx, attachments),
                           amendment=amendment)


def _deliver_one(ctx: PipelineContext, step: StepHandle, submission: Submission, case: dict[str, Any],
                 target: TargetSpec, version: _Version) -> str | None:
    """Deliver to one target. Returns the external reference, or None when the submission must wait or stop."""
    sid = submission.id
    try:
        request = _request(ctx, submission, case, target, version)
    except MappingFailed as failed:
        step.quarantine([f"target {target.id}: {p}" for p in failed.problems])
        return None
    if request is None:
        step.quarantine([f"target {target.id}: the first version of this reference was never delivered there, "
                         "so there is no case to add the amendment to"])
        return None
    claim = ctx.ledger.claim_delivery(submission_id=sid, target=target.id, idempotency_key=request.idempotency_key,
                                      owner=WORKER_ID)
    if claim.outcome == "done":
        return claim.external_ref
    if claim.outcome == "busy":
        step.note("deferred", f"target {target.id}: another worker holds the delivery")
        return None
    try:
        receipt = ctx.adapter(target).deliver(request)
    except TargetRejected as exc:
        ctx.ledger.fail_delivery(request.idempotency_key, str(exc)[:500])
        step.quarantine([f"target {target.id} rejected the case: {str(exc)[:500]}"])
        return None
    except ConfigError as exc:  # e.g. an http:// connection without allow_http: fix it, then replay
        ctx.ledger.fail_delivery(request.idempotency_key, str(exc)[:500])
        step.quarantine([f"target {target.id}: {str(exc)[:500]}"])
        return None
    except TargetUnavailable as exc:
        ctx.ledger.fail_delivery(request.idempotency_key, str(exc)[:500])
        if claim.attempts >= ctx.route.max_delivery_attempts:
            step.quarantine([f"target {target.id} unavailable after {claim.attempts} attempts: {str(exc)[:300]}"])
        else:
            step.note("retry", f"target {target.id} unavailable (attempt {claim.attempts}); retried next run")
        return None
    ctx.ledger.complete_delivery(request.idempotency_key, receipt.external_ref)
    log.info("submission %s delivered to %s (created=%s, revision=%s)", sid, target.id, receipt.created,
             submission.revision)
    return receipt.external_ref


def deliver(ctx: PipelineContext, ids: list[str]) -> list[str]:
    done: list[str] = []
    for sid in ctx.ledger.in_state(ids, State.TRANSLATED):
        with per_submission(ctx, sid, "deliver") as step:
            submission = ctx.ledger.get(sid)
            version = _earlier_versions(ctx, step, submission)
            if version is None:
                continue
            case = ctx.case(sid)
            targets = ctx.route.targets_for(case["caseType"])
            refs: list[str] = []
            for target in targets:
                ref = _deliver_one(ctx, step, submission, case, target, version)
                if ref is None:
                    break
                refs.append(ref)
            if len(refs) < len(targets):
                continue
            kind = f"revision {submission.revision}: " if (submission.revision or 1) > 1 else ""
            step.note("ok", kind + ", ".join(f"{t.id}={ref}" for t, ref in zip(targets, refs, strict=True)))
            ctx.ledger.update(sid, state=State.DELIVERED, external_ref=refs[0])
            done.append(sid)
    return done
