"""What the end-to-end bench measures inside its own process, beside the wall clock:

- ``LedgerClock``: time in the ledger's SQL. SQLAlchemy's ``before/after_cursor_execute`` on the ``Engine`` class
  (every engine, also the ones each task's ``PipelineContext`` makes), plus the commits and rollbacks, timed around
  the dialect's ``do_commit``/``do_rollback``. Only the ledger's database counts: Airflow's metadata DB is SQLite
  through SQLAlchemy in the same process, told apart by its file.
- ``RssSampler``: this process's RSS (psutil) every 0.1 s in a thread, and at the marks the bench sets after runs.
- ``profile_threads``: cProfile of the calling thread and of every thread started meanwhile (deliveries to a
  target run in a thread pool), merged into one ``pstats.Stats``.
"""

from __future__ import annotations

import contextlib
import cProfile
import pstats
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.default import DefaultDialect

MIB = 1024 * 1024


@dataclass
class LedgerTotals:
    statements: int = 0
    statement_s: float = 0.0
    commits: int = 0
    commit_s: float = 0.0  # commits and rollbacks

    @property
    def seconds(self) -> float:
        return self.statement_s + self.commit_s

    def minus(self, other: LedgerTotals) -> LedgerTotals:
        return LedgerTotals(self.statements - other.statements, self.statement_s - other.statement_s,
                            self.commits - other.commits, self.commit_s - other.commit_s)


class LedgerClock:
    """Sums the time the ledger's database spends on statements and commits, over every thread."""

    def __init__(self, ledger_file: str) -> None:
        self.ledger_file = ledger_file
        self.totals = LedgerTotals()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._saved: dict[str, Any] = {}

    def retarget(self, ledger_file: str) -> None:
        """Another world's ledger."""
        self.ledger_file = ledger_file

    def snapshot(self) -> LedgerTotals:
        with self._lock:
            return LedgerTotals(**vars(self.totals))

    def _ledger(self, conn: Any) -> bool:
        return bool(conn.engine.url.database == self.ledger_file)

    # --- listeners ---------------------------------------------------------------------------------

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        # Set for every statement, so one that raised (no "after") leaves nothing for the next to pick up.
        self._local.started = time.perf_counter() if self._ledger(conn) else None

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        started = getattr(self._local, "started", None)
        if started is not None:
            spent = time.perf_counter() - started
            self._local.started = None
            with self._lock:
                self.totals.statements += 1
                self.totals.statement_s += spent

    def _ending(self, conn: Any) -> None:
        # The Connection's commit/rollback event comes right before the dialect's do_commit/do_rollback, in the
        # same thread: it says whether the commit about to be timed is the ledger's.
        self._local.ending = self._ledger(conn)

    def _timed(self, original: Any) -> Any:
        clock = self

        def do(dialect: Any, dbapi_connection: Any) -> None:
            if not getattr(clock._local, "ending", False):
                return original(dialect, dbapi_connection)
            clock._local.ending = False
            started = time.perf_counter()
            try:
                return original(dialect, dbapi_connection)
            finally:
                spent = time.perf_counter() - started
                with clock._lock:
                    clock.totals.commits += 1
                    clock.totals.commit_s += spent

        return do

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        event.listen(Engine, "commit", self._ending)
        event.listen(Engine, "rollback", self._ending)
        for name in ("do_commit", "do_rollback"):
            self._saved[name] = getattr(DefaultDialect, name)
            setattr(DefaultDialect, name, self._timed(self._saved[name]))

    def uninstall(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)
        event.remove(Engine, "commit", self._ending)
        event.remove(Engine, "rollback", self._ending)
        for name, original in self._saved.items():
            setattr(DefaultDialect, name, original)
        self._saved.clear()


@dataclass
class RssSampler:
    """RSS of this process, sampled in a thread; ``mark`` records it at a point the bench chooses."""

    interval_s: float = 0.1
    samples: list[tuple[float, int]] = field(default_factory=list)
    marks: list[tuple[int, int]] = field(default_factory=list)  # (submissions done, RSS bytes)

    def __post_init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss-sampler", daemon=True)

    def rss(self) -> int:
        return int(self._process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.samples.append((time.monotonic(), self.rss()))

    def start(self) -> None:
        self.samples.append((time.monotonic(), self.rss()))
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.samples.append((time.monotonic(), self.rss()))

    def mark(self, done: int) -> int:
        rss = self.rss()
        self.samples.append((time.monotonic(), rss))
        self.marks.append((done, rss))
        return rss

    @property
    def peak(self) -> int:
        return max(rss for _, rss in self.samples)

    def slope_mb_per_1000(self) -> float | None:
        """Least-squares slope of RSS against submissions done, over the marks after the first run (the first run
        is the baseline: imports, compiled mappings, WSDLs). None with fewer than two such marks."""
        points = [mark for mark in self.marks if mark[0] > 0][1:]
        if len(points) < 2:
            return None
        xs, ys = [x for x, _ in points], [y / MIB for _, y in points]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        var = sum((x - mean_x) ** 2 for x in xs)
        if var == 0:
            return None
        return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var * 1000


@contextlib.contextmanager
def profile_threads() -> Iterator[list[cProfile.Profile]]:
    """Profile this thread and every thread started inside the block; the profiles are yielded as a list that
    fills up, to merge with ``merged_stats`` after the block."""
    profiles: list[cProfile.Profile] = []
    original_run = threading.Thread.run

    def run(thread: threading.Thread) -> None:
        profiler = cProfile.Profile()
        profiles.append(profiler)
        profiler.enable()
        try:
            original_run(thread)
        finally:
            profiler.disable()

    main = cProfile.Profile()
    profiles.append(main)
    threading.Thread.run = run  # type: ignore[method-assign]
    main.enable()
    try:
        yield profiles
    finally:
        main.disable()
        threading.Thread.run = original_run  # type: ignore[method-assign]


def merged_stats(profiles: list[cProfile.Profile]) -> pstats.Stats:
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        with contextlib.suppress(TypeError):  # a thread that never ran has no stats
            stats.add(profile)
    return stats


class StepClock:
    """Wall time in each pipeline step function, however the DAG groups them into tasks: the functions are wrapped
    where the DAG (and ``pipeline.run_route``) looks them up, as attributes of ``brygga.pipeline`` at call time."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.seconds: dict[str, float] = dict.fromkeys(names, 0.0)
        self.calls: dict[str, int] = dict.fromkeys(names, 0)
        self._saved: dict[str, Any] = {}
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self.seconds)

    def _wrap(self, name: str, original: Any) -> Any:
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                with clock._lock:
                    clock.seconds[name] += spent
                    clock.calls[name] += 1

        timed.__wrapped__ = original  # type: ignore[attr-defined]
        timed.__name__ = getattr(original, "__name__", name)
        return timed

    def install(self) -> None:
        from brygga import pipeline

        for name in self.names:
            self._saved[name] = getattr(pipeline, name)
            setattr(pipeline, name, self._wrap(name, self._saved[name]))

    def uninstall(self) -> None:
        from brygga import pipeline

        for name, original in self._saved.items():
            setattr(pipeline, name, original)
        self._saved.clear()
