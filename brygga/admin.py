"""What a system administrator asks of the ledger: where is this submission, why did it stop, run it again."""

from __future__ import annotations

from dataclasses import dataclass

from brygga.ledger import Ledger, State, Submission

# Where a replay starts: quarantine at translate means the raw bytes are mapped again; later steps
# resume from the state before them. Steps only act on their own state, so this is always safe.
REPLAY_FROM = {"translate": State.LANDED, "route": State.LANDED, "deliver": State.TRANSLATED,
               "archive": State.DELIVERED, "notify": State.ARCHIVED}


@dataclass(frozen=True)
class Replayed:
    submission_id: str
    from_state: str


def describe(ledger: Ledger, submission: Submission) -> list[str]:
    """A readable trace of one submission: ids, state, every step, deliveries and quarantine reasons."""
    version = f"  revision {submission.revision}" if submission.revision else ""
    lines = [f"submission {submission.id}  route {submission.route_id}  state {submission.state}{version}",
             f"  source reference {submission.source_reference or '-'}  "
             f"received {submission.received_at:%Y-%m-%d %H:%M:%S}  sha256 {submission.content_sha256[:16]}…"]
    for step in ledger.steps(submission.id):
        detail = f"  {step.detail}" if step.detail else ""
        lines.append(f"  {step.started_at:%H:%M:%S} {step.step:<10} {step.outcome:<12} "
                     f"{step.duration_ms:8.1f} ms{detail}")
    for delivery in ledger.deliveries(submission.id):
        error = f"  last error: {delivery.last_error}" if delivery.last_error else ""
        lines.append(f"  delivery {delivery.target}: {delivery.state} {delivery.external_ref or ''} "
                     f"(attempts {delivery.attempts}){error}")
    if submission.archive_location:
        lines.append(f"  archive package {submission.archive_location}")
    lines.extend(f"  quarantine reason: {reason}" for reason in ledger.quarantine_reasons(submission.id))
    return lines


def replay(ledger: Ledger, submission_id: str) -> Replayed:
    """Take a quarantined submission out of quarantine so the route's next run handles it again."""
    submission = ledger.get(submission_id)
    if submission.state != State.QUARANTINED:
        raise ValueError(f"submission {submission_id} is {submission.state}, not quarantined: nothing to replay")
    steps = [s for s in ledger.steps(submission_id) if s.outcome in ("quarantined", "error")]
    last_step = steps[-1].step if steps else "translate"
    from_state = REPLAY_FROM.get(last_step, State.LANDED)
    ledger.release(submission_id, from_state)
    return Replayed(submission_id, from_state)
