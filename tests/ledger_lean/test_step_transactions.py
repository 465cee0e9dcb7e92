"""How many ledger transactions a small batch costs, step by step, through the bundled kumla-bygglov route against
the simulators: a property lookup at translate, ByggR, the archive folder and Open ePlatform's callback (three calls).

The budget (issue 12, "A lean ledger"): one write per submission per step, plus the claim of each remote call, which
must be committed before the call goes out (the idempotent consumer), plus one per call a notifier records as it
returns. Reads: one per batch where a step reads its submissions (``Ledger.load``). v0 took 23 writes and 36 commits
per submission through these five steps.
"""

from __future__ import annotations

from transactions import counting

from brygga.ledger import State
from brygga.pipeline import archive, deliver, intake, notify, translate

SAMPLES = ("bygglov-person.xml", "bygglov-organisation.xml", "attefall-utf8.xml")
N = len(SAMPLES)
CALLBACK_CALLS = 3  # setStatus, addMessage, confirmDelivery: each recorded as it returns


def test_each_step_writes_once_per_submission_besides_the_claims_of_its_calls(route, byggr, callback, register):
    for name in SAMPLES:
        route.drop(name)
    ctx = route.context()
    counted: dict[str, tuple[int, int]] = {}
    with counting(ctx.ledger.engine) as tx:
        batch = intake(ctx)
        counted["intake"] = tx.take()
        for step in (translate, deliver, archive, notify):
            step(ctx, batch)
            counted[step.__name__] = tx.take()
    assert [ctx.ledger.get(sid).state for sid in batch] == [State.COMPLETED] * N, counted
    # (commits, writes): commits include the reads
    assert counted["intake"] == (N + 1, N), counted  # land with reference and step; one read of the backlog
    # the lookup's claim, then the move with the step, the reference, the personnummer keys and the lookup's row
    # dropped; reads: the batch, and each submission's earlier versions
    assert counted["translate"] == (1 + 3 * N, 2 * N), counted
    # the claim, then the answer (the package's location) with the move and the step record; the batch in one read
    assert counted["deliver"] == (1 + 2 * N, 2 * N), counted
    assert counted["archive"] == (1 + 2 * N, 2 * N), counted
    # the claim, one read of what was sent before, each call as it returns, then the answer with the move and step
    assert counted["notify"] == (1 + (3 + CALLBACK_CALLS) * N, (2 + CALLBACK_CALLS) * N), counted
