"""Deliver: for each routed target, run the outbound mapping and call the adapter, at least once and idempotently.

Two guards at once: the ledger's unique idempotency key (with a lease) decides who may call the
target, and the adapter checks the target for the extern ref before it creates anything.

A later version of the same e-service reference (revision 2, 3, …) waits until every earlier version has
settled, so a case officer sees them in order. Then, per target: when an earlier version reached it, this one
goes to that case as an ``Amendment`` carrying only the documents no version there had; when none did (all were
quarantined before reaching it), this one creates the case, and the earlier versions that never reached any
target are marked superseded. docs/reliability.md, "Amended forms".

Deliveries to one target overlap, up to the target's ``concurrency`` (routes file; 4 by default), because a
target's round trip dominates this step. The versions of one e-service reference run one after another in one lane
(``brygga.pipeline.lanes``), in the batch's order, so a later version still finds the earlier ones settled and never
overtakes them. Each submission keeps its own guard (``per_submission``): a quarantine or a wait is its own; an
infrastructure fault stops the batch from starting more, lets the deliveries under way finish, and fails the task.
The adapters are shared by the threads: they are thread-safe (docs/integrators.md, "Concurrency"); building one is
serialised here, as is compiling a mapping.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from brygga.canonical.serialize import loads_case
from brygga.ledger import State, Submission
from brygga.mapping import MappingFailed
from brygga.pipeline.attempts import CallSite, attempt
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.guard import StepHandle, per_submission
from brygga.pipeline.keys import extern_ref, idempotency_key
from brygga.pipeline.lanes import run_lanes
from brygga.pipeline.revisions import changed_fields, new_attachments
from brygga.plugins import Amendment, DeliveryRequest
from brygga.routes import TargetSpec, no_target_reason

log = logging.getLogger(__name__)

# Threads of one deliver call, whatever the targets ask together: each holds a ledger connection while it records.
MAX_WORKERS = 32


@dataclass(frozen=True)
class _Base:
    """The earlier version whose case a target holds, and the cases of every version that reached it."""

    submission: Submission
    external_ref: str
    delivered_cases: list[dict[str, Any]]


@dataclass
class _Shared:
    """What the threads of one deliver call share: a slot per target, the context's caches, what got through."""

    slots: dict[str, threading.BoundedSemaphore]
    workers: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: set[str] = field(default_factory=set)

    @classmethod
    def for_route(cls, ctx: PipelineContext) -> _Shared:
        targets = ctx.route.targets
        # Enough threads for every target to be busy at its limit (within MAX_WORKERS); the slots keep each target
        # at its own limit.
        return cls(slots={t.id: threading.BoundedSemaphore(t.concurrency) for t in targets},
                   workers=min(MAX_WORKERS, sum(t.concurrency for t in targets)))

    def adapter(self, ctx: PipelineContext, target: TargetSpec) -> Any:
        with self.lock:  # the context's adapter cache is a plain dict: one build per target
            return ctx.adapter(target)

    def mapping(self, ctx: PipelineContext, target: TargetSpec, case_type: str) -> Any:
        with self.lock:  # likewise its compiled mappings; running one is reentrant
            return ctx.mapping(target.mapping_for(case_type))

    def delivered(self, sid: str) -> None:
        with self.lock:
            self.done.add(sid)


def _lanes(submissions: list[Submission]) -> list[list[Submission]]:
    """One lane per e-service reference (a submission without one is a lane of its own), in the batch's order."""
    lanes: dict[str, list[Submission]] = {}
    for submission in submissions:
        key = f"ref:{submission.source_reference}" if submission.source_reference else f"id:{submission.id}"
        lanes.setdefault(key, []).append(submission)
    return list(lanes.values())


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


def _request(ctx: PipelineContext, shared: _Shared, submission: Submission, case: dict[str, Any],
             target: TargetSpec, base: _Base | None) -> DeliveryRequest:
    # The kommun the submission came in through keys it everywhere, also at a target working for another kommun:
    # that kommun's own e-service platform may number its submissions the same way.
    tenant = ctx.route.tenant.kommunkod
    key = idempotency_key(case, tenant, target.id, submission.revision or 1, submission.content_fingerprint)
    amendment, attachments = None, case.get("attachments", [])
    if base is not None:
        amendment = Amendment(external_ref=base.external_ref, revision=submission.revision or 1,
                              changed_fields=changed_fields(base.delivered_cases[-1], case))
        attachments = new_attachments(base.delivered_cases, case)
    payload = shared.mapping(ctx, target, case["caseType"]).run(case, context=ctx.route.target_context(target))
    return DeliveryRequest(submission_id=submission.id, idempotency_key=key, extern_ref=extern_ref(case, tenant),
                           payload=payload, case=case, documents=ctx.content.documents(attachments),
                           amendment=amendment)


def _deliver_one(ctx: PipelineContext, shared: _Shared, step: StepHandle, submission: Submission,
                 case: dict[str, Any], target: TargetSpec, base: _Base | None) -> str | None:
    """Deliver to one target. Returns the external reference, or None when the submission must wait or stop."""
    try:
        request = _request(ctx, shared, submission, case, target, base)
    except MappingFailed as failed:
        step.quarantine([f"target {target.id}: {p}" for p in failed.problems])
        return None
    adapter = shared.adapter(ctx, target)  # a missing connection or a bad config stops here, before any lease
    site = CallSite(submission.id, target.id, request.idempotency_key, target.retry, f"target {target.id}")
    done = attempt(ctx, step, site, lambda: adapter.deliver(request), external_ref=lambda r: r.external_ref)
    if done is None:
        return None
    if done.result is not None:
        log.info("submission %s delivered to %s (created=%s, revision=%s)", submission.id, target.id,
                 done.result.created, submission.revision)
        return done.result.external_ref
    return done.external_ref


def _pass_without_target(ctx: PipelineContext, shared: _Shared, step: StepHandle, sid: str, case_type: str,
                         earlier: list[Submission]) -> None:
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
    step.note("skipped", "no case system for this case type: archive and notify only"
              + (f" (revision, amending {amends})" if amends else ""))
    if not step.advance(State.TRANSLATED, state=State.DELIVERED, amends=amends):
        step.note("deferred", "another run took it meanwhile")
        return
    went_on = {v.id for v in passed}
    for version in earlier:
        if version.state == State.QUARANTINED and version.id not in went_on:
            ctx.ledger.supersede(version.id, by=sid)
    shared.delivered(sid)


def deliver(ctx: PipelineContext, ids: list[str]) -> list[str]:
    submissions = ctx.ledger.load(list(dict.fromkeys(ids)), State.TRANSLATED)
    shared = _Shared.for_route(ctx)
    run_lanes(_lanes(submissions), lambda submission: _deliver_submission(ctx, shared, submission),
              workers=shared.workers, name=f"deliver-{ctx.route.id}")
    return [s.id for s in submissions if s.id in shared.done]


def _deliver_submission(ctx: PipelineContext, shared: _Shared, submission: Submission) -> None:
    sid = submission.id
    with per_submission(ctx, sid, "deliver") as step:
        earlier = _settled_earlier_versions(ctx, step, submission)
        if earlier is None:
            return
        case = ctx.case_of(submission)
        if not ctx.route.has_case_system(case["caseType"]):
            _pass_without_target(ctx, shared, step, sid, case["caseType"], earlier)
            return
        targets = ctx.route.targets_for(case)
        if not targets:  # the routes file changed since translate let it through
            step.quarantine([no_target_reason(ctx.route, case)])
            return
        left_out = [t for t in ctx.route.targets if t not in targets and _base(ctx, earlier, t) is not None]
        if left_out:
            step.quarantine([f"target {t.id} holds this case from an earlier version, but does not take this "
                             "version " + (f"(when {t.when})" if t.when else "(its case types)")
                             + ": the change would not reach it; tell the case officer there, then replay"
                             for t in left_out])
            return
        bases = [_base(ctx, earlier, target) for target in targets]
        found: list[str | None] = []
        for target, base in zip(targets, bases, strict=True):
            with shared.slots[target.id]:  # at most the target's concurrency at once
                found.append(_deliver_one(ctx, shared, step, submission, case, target, base))
            if step.quarantined:
                break  # refused: no other target gets it either
            # A target that must wait does not hold the others up: each side is retried on its own.
        refs = [ref for ref in found if ref is not None]
        if len(refs) < len(targets):
            return
        amends = next((base.submission.id for base in bases if base is not None), None)
        kind = f"revision {submission.revision}, amending {amends}: " if amends else ""
        step.note("ok", kind + ", ".join(f"{t.id}={ref}" for t, ref in zip(targets, refs, strict=True)))
        if not step.advance(State.TRANSLATED, state=State.DELIVERED, external_ref=refs[0], amends=amends):
            step.note("deferred", "another run delivered it meanwhile")
            return
        for version in earlier:  # versions that never got anywhere: this one took their place
            if version.state == State.QUARANTINED and not ctx.ledger.delivered_anywhere(version.id):
                ctx.ledger.supersede(version.id, by=sid)
        shared.delivered(sid)
