"""Deliver: for each routed target, run the outbound mapping and call the adapter, at least once and idempotently.

Two guards at once: the ledger's unique idempotency key (with a lease) decides who may call the
target, and the adapter checks the target for the extern ref before it creates anything.

A later version of the same e-service reference (revision 2, 3, …) waits until every earlier version has
settled, so a case officer sees them in order. Then, per target: when an earlier version reached it, this one
goes to that case as an ``Amendment`` carrying only the documents no version there had; when none did (all were
quarantined before reaching it), this one creates the case, and the earlier versions that never reached any
target are marked superseded. docs/reliability.md, "Amended forms".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from brygga.canonical.serialize import loads_case
from brygga.ledger import State, Submission
from brygga.mapping import MappingFailed
from brygga.pipeline.attempts import CallSite, attempt
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.guard import StepHandle, per_submission
from brygga.pipeline.keys import extern_ref, idempotency_key
from brygga.pipeline.revisions import changed_fields, new_attachments
from brygga.plugins import Amendment, DeliveryRequest
from brygga.routes import TargetSpec, no_target_reason

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Base:
    """The earlier version whose case a target holds, and the cases of every version that reached it."""

    submission: Submission
    external_ref: str
    delivered_cases: list[dict[str, Any]]


def _settled_earlier_versions(ctx: PipelineContext, step: StepHandle,
                              submission: Submission) -> list[Submission] | None:
    """The earlier versions, or None (noted) while one of them is still on its way."""
    earlier = ctx.ledger.earlier_versions(submission)
    for version in earlier:
        if version.state not in State.SETTLED:
            step.note("waiting", f"revision {version.revision} (submission {version.id}) is still on its way; "
                                 "retried next run")
            return None
    return earlier


def _base(ctx: PipelineContext, earlier: list[Submission], target: TargetSpec) -> _Base | None:
    reached = [(v, ref) for v in earlier if (ref := ctx.ledger.delivered_ref(v.id, target.id))]
    if not reached:
        return None
    first, ref = reached[0]
    return _Base(first, ref, [loads_case(v.canonical_json or "{}") for v, _ in reached])


def _request(ctx: PipelineContext, submission: Submission, case: dict[str, Any], target: TargetSpec,
             base: _Base | None) -> DeliveryRequest:
    # The kommun the submission came in through keys it everywhere, also at a target working for another kommun:
    # that kommun's own e-service platform may number its submissions the same way.
    tenant = ctx.route.tenant.kommunkod
    key = idempotency_key(case, tenant, target.id, submission.revision or 1, submission.content_fingerprint)
    amendment, attachments = None, case.get("attachments", [])
    if base is not None:
        amendment = Amendment(external_ref=base.external_ref, revision=submission.revision or 1,
                              changed_fields=changed_fields(base.delivered_cases[-1], case))
        attachments = new_attachments(base.delivered_cases, case)
    payload = ctx.mapping(target.mapping_for(case["caseType"])).run(case, context=ctx.route.target_context(target))
    return DeliveryRequest(submission_id=submission.id, idempotency_key=key, extern_ref=extern_ref(case, tenant),
                           payload=payload, case=case, documents=ctx.content.documents(attachments),
                           amendment=amendment)


def _deliver_one(ctx: PipelineContext, step: StepHandle, submission: Submission, case: dict[str, Any],
                 target: TargetSpec, base: _Base | None) -> str | None:
    """Deliver to one target. Returns the external reference, or None when the submission must wait or stop."""
    try:
        request = _request(ctx, submission, case, target, base)
    except MappingFailed as failed:
        step.quarantine([f"target {target.id}: {p}" for p in failed.problems])
        return None
    adapter = ctx.adapter(target)  # a missing connection or a bad config stops here, before any lease is taken
    site = CallSite(submission.id, target.id, request.idempotency_key, target.retry, f"target {target.id}")
    done = attempt(ctx, step, site, lambda: adapter.deliver(request), external_ref=lambda r: r.external_ref)
    if done is None:
        return None
    if done.result is not None:
        log.info("submission %s delivered to %s (created=%s, revision=%s)", submission.id, target.id,
                 done.result.created, submission.revision)
        return done.result.external_ref
    return done.external_ref


def _pass_without_target(ctx: PipelineContext, step: StepHandle, sid: str, case_type: str,
                         earlier: list[Submission], done: list[str]) -> None:
    """No case system for this case type: the submission goes on to the archive and the resident without a
    diarienummer.

    A later version amends the first version that got past this step (its package is the one the new package
    refers to), and takes the place of earlier versions that never did.
    """
    in_a_case = [v for v in earlier if ctx.ledger.delivered_anywhere(v.id)]
    if in_a_case:  # the case lives in a case system that this case type no longer goes to
        step.quarantine([f"an earlier version (submission {in_a_case[0].id}) reached a case system, but case type "
                         f"{case_type} has none on route {ctx.route.id} now: this komplettering "
                         "would not reach the case; give the case type its target back, then replay"])
        return
    passed = [v for v in earlier
              if v.archive_location is not None or v.state in (State.DELIVERED, State.ARCHIVED, State.COMPLETED)]
    amends = passed[0].id if passed else None
    if not ctx.ledger.advance(sid, State.TRANSLATED, state=State.DELIVERED, amends=amends):
        step.note("deferred", "another run took it meanwhile")
        return
    step.note("skipped", "no case system for this case type: archive and notify only"
              + (f" (revision, amending {amends})" if amends else ""))
    went_on = {v.id for v in passed}
    for version in earlier:
        if version.state == State.QUARANTINED and version.id not in went_on:
            ctx.ledger.supersede(version.id, by=sid)
    done.append(sid)


def deliver(ctx: PipelineContext, ids: list[str]) -> list[str]:
    done: list[str] = []
    for sid in ctx.ledger.in_state(ids, State.TRANSLATED):
        with per_submission(ctx, sid, "deliver") as step:
            submission = ctx.ledger.get(sid)
            earlier = _settled_earlier_versions(ctx, step, submission)
            if earlier is None:
                continue
            case = ctx.case(sid)
            if not ctx.route.has_case_system(case["caseType"]):
                _pass_without_target(ctx, step, sid, case["caseType"], earlier, done)
                continue
            targets = ctx.route.targets_for(case)
            if not targets:  # the routes file changed since translate let it through
                step.quarantine([no_target_reason(ctx.route, case)])
                continue
            left_out = [t for t in ctx.route.targets if t not in targets and _base(ctx, earlier, t) is not None]
            if left_out:
                step.quarantine([f"target {t.id} holds this case from an earlier version, but does not take this "
                                 "version " + (f"(when {t.when})" if t.when else "(its case types)")
                                 + ": the change would not reach it; tell the case officer there, then replay"
                                 for t in left_out])
                continue
            bases = [_base(ctx, earlier, target) for target in targets]
            found: list[str | None] = []
            for target, base in zip(targets, bases, strict=True):
                found.append(_deliver_one(ctx, step, submission, case, target, base))
                if step.quarantined:
                    break  # refused: no other target gets it either
                # A target that must wait does not hold the others up: each side is retried on its own.
            refs = [ref for ref in found if ref is not None]
            if len(refs) < len(targets):
                continue
            amends = next((base.submission.id for base in bases if base is not None), None)
            kind = f"revision {submission.revision}, amending {amends}: " if amends else ""
            step.note("ok", kind + ", ".join(f"{t.id}={ref}" for t, ref in zip(targets, refs, strict=True)))
            if not ctx.ledger.advance(sid, State.TRANSLATED, state=State.DELIVERED, external_ref=refs[0],
                                      amends=amends):
                step.note("deferred", "another run delivered it meanwhile")
                continue
            for version in earlier:  # versions that never got anywhere: this one took their place
                if version.state == State.QUARANTINED and not ctx.ledger.delivered_anywhere(version.id):
                    ctx.ledger.supersede(version.id, by=sid)
            done.append(sid)
    return done
