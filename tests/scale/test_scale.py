"""A real cluster: scheduler, dag-processor, api-server, triggerer and two Celery workers, on PostgreSQL (Airflow's
metadata and Brygga's ledger) and RabbitMQ (the broker), with ByggR and the status callback as simulators in
processes of their own (scale/cluster.py).

1,000 submissions go through the route's real DAG; then 500 more while one worker is killed with SIGKILL in the
middle of a run. Each time, every dropped file must become exactly one completed submission with exactly one case
in ByggR, one delivery, one SIP and one status message: nothing lost, nothing duplicated.

Run with `make test-scale` (BRYGGA_SCALE=1); progress is printed, so run it with -s.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import cluster as scale
import pytest

from brygga.ledger.states import State

FIRST_BATCH = 1000
KILL_BATCH = 500
# Deadlines for the whole batch to be done; generous for a shared 2-core machine, never a speed assertion.
DRAIN_TIMEOUT_S = 900
# Deliveries under way: some submissions translated and not yet delivered, some delivered already.
DELIVERING = (State.TRANSLATED, State.DELIVERED)


def say(text: str) -> None:
    print(text, flush=True)


@pytest.fixture(scope="module")
def the_cluster() -> Iterator[scale.Cluster]:
    reason = scale.why_not()
    if reason:
        pytest.skip(f"make test-scale needs PostgreSQL, RabbitMQ and the Celery provider: {reason}")
    with scale.cluster(workers=2, progress=say) as running:
        yield running


def test_a_thousand_submissions_through_two_celery_workers_none_lost_none_duplicated(the_cluster):
    before = len(the_cluster.dropped)
    the_cluster.drop(FIRST_BATCH)
    say(f"phase 1: {FIRST_BATCH} submissions dropped into {the_cluster.inbox}")
    took = the_cluster.drain(before + FIRST_BATCH, DRAIN_TIMEOUT_S, progress=say)
    say(f"phase 1: all done in {took:.0f} s; Airflow runs: {dict(the_cluster.runs())}")
    assert the_cluster.verify() == []


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(the_cluster):
    before = len(the_cluster.dropped)
    done_before = sum(the_cluster.states()[s] for s in scale.DONE)
    killed: dict[str, object] = {}

    def kill_one_mid_run(cluster: scale.Cluster, states: Counter[str]) -> None:
        """Once this batch's deliveries are under way and a worker runs a task of the route, SIGKILL that worker:
        every process of it at once (the Celery parent, its pool and the task process, calls in flight)."""
        if killed or not all(states[s] for s in DELIVERING):
            return
        busy = [w for w in (cluster.worker_of(pid) for pid in cluster.running_task_pids()) if w is not None]
        if not busy:
            return
        victim = busy[0]
        killed.update(worker=victim.name, states=dict(states), at=time.monotonic())
        cluster.kill_worker(victim)
        say(f"phase 2: SIGKILL to {victim.name} while it ran a task; the ledger said {dict(states)}")

    the_cluster.drop(KILL_BATCH)
    say(f"phase 2: {KILL_BATCH} more submissions dropped; one worker gets SIGKILL mid-run")
    took = the_cluster.drain(before + KILL_BATCH, DRAIN_TIMEOUT_S, progress=say, during=kill_one_mid_run)
    say(f"phase 2: all done in {took:.0f} s with one worker left; Airflow runs: {dict(the_cluster.runs())}")

    assert killed, "no worker was ever seen running a task of the route while submissions were in progress"
    done_at_kill = sum(killed["states"].get(s, 0) for s in scale.DONE)  # type: ignore[union-attr]
    assert done_at_kill - done_before < KILL_BATCH, "the kill came after the batch was done"
    assert the_cluster.verify() == []

    # Scaling back out is starting a worker: no code, no config change.
    name = str(killed["worker"])
    the_cluster.children[name] = scale.start_worker(int(name.removeprefix("worker")), the_cluster.env,
                                                    the_cluster.logs, the_cluster.queue, 4)
    scale.wait_for(f"{name} ready again", lambda: " ready." in scale.tail(the_cluster.children[name].log, 200_000),
                   180, alive=the_cluster.check_alive)
