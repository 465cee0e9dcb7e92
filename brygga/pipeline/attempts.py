"""One call to a remote system for one submission, under the retry rules (docs/reliability.md, "Retry by time").

Every call site (each target, the status callback, the property lookup) has a row in ``deliveries``: the claim
there decides who may call and when (backoff, settle delay after an in-doubt outcome), and the outcome is recorded
on every exit path. A transient fault waits and is retried until the call site's budget is spent, then the
submission is quarantined; a permanent one quarantines at once; anything else releases the lease and propagates,
so an infrastructure fault fails the task without touching the submission.

The claim is committed before the call (the idempotent consumer); the answer rides in the step's next transaction
(``StepHandle.later``): for a step with one call, the one that moves the submission on.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from brygga.connections import ConnectionNotFound
from brygga.errors import ConfigError, TargetInDoubt, TargetRejected, TargetUnavailable
from brygga.ledger.models import utcnow
from brygga.ledger.writes import complete_delivery, forget_delivery
from brygga.observability import metrics
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.guard import StepHandle, route_id_of
from brygga.redact import redact
from brygga.retry import BUDGET_SPENT, RetryPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")


def call_site_key(submission_id: str, site: str) -> str:
    """The idempotency key of a call site that is per submission (the callback, the lookup)."""
    return hashlib.sha256(f"{submission_id}|{site}".encode()).hexdigest()


@dataclass(frozen=True)
class CallSite:
    submission_id: str
    site: str  # a target id, "@notify" or "@property_lookup": what an admin sees in `brygga trace`
    key: str
    policy: RetryPolicy
    what: str  # for people: "target byggr", "the status callback"


@dataclass(frozen=True)
class Attempted(Generic[T]):
    """A call that went through now (``result``), or earlier (``external_ref`` from the ledger)."""

    result: T | None = None
    external_ref: str | None = None


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def attempt(ctx: PipelineContext, step: StepHandle, site: CallSite, call: Callable[[], T], *,
            external_ref: Callable[[T], str | None] = lambda _: None, forget: bool = False) -> Attempted[T] | None:
    """Call ``call`` if this site may be called now. None when the submission must wait or has been quarantined.

    ``external_ref`` picks what to record from the result (a diarienummer); ``forget`` drops the row instead
    (a lookup, which a later re-translation must do again). Each call made is counted and timed in the metrics
    by route, call site and outcome: delivered, failed, in_doubt, refused, not_sent or interrupted.
    """
    ledger, sid = ctx.ledger, site.submission_id
    # What the step noted before (an earlier target's answer) is committed with the claim, before this call goes out.
    noted = step.take_writes()
    try:
        claim = ledger.claim_delivery(submission_id=sid, target=site.site, idempotency_key=site.key,
                                      settle=site.policy.in_doubt_delay, writes=noted)
    except BaseException:
        step.give_back(noted)
        raise
    if claim.outcome == "done":
        return Attempted(external_ref=claim.external_ref)
    if claim.outcome == "busy":
        step.note("deferred", f"{site.what}: another worker is calling it")
        return None
    if claim.outcome == "wait":
        assert claim.next_attempt_at is not None
        doubt = " (the last attempt's outcome is unknown; the target is checked first)" if claim.in_doubt else ""
        step.note("waiting", f"{site.what}: next attempt after {_when(claim.next_attempt_at)}{doubt}")
        return None
    started = time.perf_counter()

    def measured(outcome: str) -> None:
        metrics.record_call(route_id_of(ctx), site.site, outcome, (time.perf_counter() - started) * 1000)

    try:
        result = call()
    except TargetUnavailable as exc:
        measured("in_doubt" if isinstance(exc, TargetInDoubt) else "failed")
        _transient(ctx, step, site, claim.token, claim.attempts, claim.first_attempt_at or utcnow(), exc)
        return None
    except TargetRejected as exc:
        measured("refused")
        reason = f"{site.what} refused: {exc}"  # redacted where it is stored and logged
        if ledger.fail_delivery(site.key, claim.token, reason):
            step.quarantine([reason])
        else:
            _fenced_out(step, site)
        return None
    except (ConfigError, ConnectionNotFound):
        measured("not_sent")
        ledger.release_delivery(site.key, claim.token)  # found before anything was sent: no doubt
        raise
    except BaseException:
        measured("interrupted")
        # A task timeout, a shutdown, the ledger failing: the call may have gone out, so it is in doubt.
        ledger.release_delivery(site.key, claim.token, settle_until=utcnow() + site.policy.in_doubt_delay)
        raise
    measured("delivered")
    # Recorded with the step's next write: its move on (one transaction with its Step record), the next call's claim,
    # or its record at the end, whichever comes first. No other call goes out before it is committed.
    step.later(forget_delivery(site.key) if forget else complete_delivery(site.key, external_ref(result)))
    return Attempted(result=result)


def _fenced_out(step: StepHandle, site: CallSite) -> None:
    """Another worker took this call over while it ran (our lease ran out): its outcome is the one that counts."""
    step.note("deferred", f"{site.what}: another worker took the call over; its outcome counts")
    log.warning("submission %s: %s was taken over by another worker while this one called it",
                site.submission_id, site.what)


def _transient(ctx: PipelineContext, step: StepHandle, site: CallSite, token: int, attempts: int,
               first_attempt_at: datetime, exc: TargetUnavailable) -> None:
    now = utcnow()
    error = redact(str(exc), 500)
    failing_for = now - first_attempt_at
    in_doubt = isinstance(exc, TargetInDoubt)
    if failing_for >= site.policy.budget:
        if ctx.ledger.fail_delivery(site.key, token, error, in_doubt=in_doubt):
            step.quarantine([f"{site.what} unavailable for {_duration(failing_for)}, over the retry budget of "
                             f"{_duration(site.policy.budget)} {BUDGET_SPENT}, after {attempts} attempt(s): {error}"])
        else:
            _fenced_out(step, site)
        return
    next_attempt_at = now + retry_delay(site.policy, attempts, exc)
    if not ctx.ledger.fail_delivery(site.key, token, error, next_attempt_at=next_attempt_at, in_doubt=in_doubt):
        _fenced_out(step, site)
        return
    doubt = "; the outcome is unknown, so the target is checked before anything is created" if in_doubt else ""
    step.note("retry", f"{site.what}: attempt {attempts} failed; next after {_when(next_attempt_at)}{doubt}")
    log.warning("submission %s: %s failed (attempt %d, failing for %s of a %s budget; rule: transient, retried "
                "after %s): %s", site.submission_id, site.what, attempts, _duration(failing_for),
                _duration(site.policy.budget), _when(next_attempt_at), error)


def retry_delay(policy: RetryPolicy, attempts: int, exc: TargetUnavailable) -> timedelta:
    """How long to wait after a transient fault: the backoff, at least the settle delay when the outcome is unknown,
    and at least the target's own Retry-After, within the route's longest delay."""
    delay = policy.backoff(attempts)
    if isinstance(exc, TargetInDoubt):
        delay = max(delay, policy.in_doubt_delay)
    asked = getattr(exc, "retry_after", None)
    if isinstance(asked, int | float) and asked > 0:
        delay = max(delay, min(timedelta(seconds=asked), policy.max_delay))
    return delay


def _duration(span) -> str:  # type: ignore[no-untyped-def]
    seconds = int(span.total_seconds())
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds} s"
