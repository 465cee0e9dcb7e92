"""Work in lanes: the items of one lane one after another, in order; lanes side by side on a few threads.

Deliver runs one lane per e-service reference, so two versions of one reference never overlap and keep their
order, while different references overlap up to the targets' limits.

Each lane runs in a copy of the caller's context variables (``contextvars``): the Airflow task binding and the
correlation id (``brygga.provenance``) hold in the worker threads as in the caller.

When an item raises (an infrastructure fault that must fail the task), no lane starts another item; the items
already running finish, so their calls and ledger records are complete, and then the first exception is raised in
the caller. With one worker, or one lane, everything runs in the caller's thread, one item after another.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")


def run_lanes(lanes: Sequence[Sequence[T]], work: Callable[[T], None], *, workers: int,
              name: str = "brygga-lane") -> None:
    if workers <= 1 or len(lanes) <= 1:
        for lane in lanes:
            for item in lane:
                work(item)
        return
    stop = threading.Event()
    failures: list[BaseException] = []  # in the order they happened: the first is the one raised
    failures_lock = threading.Lock()

    def run(lane: Sequence[T]) -> None:
        for item in lane:
            if stop.is_set():
                return
            try:
                work(item)
            except BaseException as exc:  # re-raised in the caller, after the running items finished
                with failures_lock:
                    failures.append(exc)
                stop.set()
                return

    pool = ThreadPoolExecutor(max_workers=min(workers, len(lanes)), thread_name_prefix=name)
    try:
        # One context copy per lane: a context can be entered by one thread at a time.
        futures = [pool.submit(contextvars.copy_context().run, run, lane) for lane in lanes]
        wait(futures)
    finally:
        # Also when the caller is interrupted (a task timeout): nothing new starts, and what runs is waited for.
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
    if failures:
        raise failures[0]
