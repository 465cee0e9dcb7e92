"""The two ways the end-to-end bench drives a batch through the bundled route, run after run until it is drained:

- ``dag``: the route's real DAG (``brygga_airflow.dag_factory.build_route_dag``) under ``dag.test()``, as
  ``brygga run`` does, on a fresh AIRFLOW_HOME with a migrated SQLite metadata DB.
- ``direct``: the same step functions called in Python, one ``PipelineContext`` per run (each DAG task makes
  one). No Airflow: the baseline that makes Airflow's share visible.

Both measure the same: wall per run; each step function's time (``StepClock``, whichever task runs it); for the DAG
the duration of its task instances, so the wall splits into steps, the rest of the tasks (their context, Airflow's
task runner) and Airflow between the tasks; the ledger's SQL (``LedgerClock``); RSS after each run.
"""

from __future__ import annotations

import os
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2e_probes import LedgerClock, LedgerTotals, RssSampler, StepClock, merged_stats, profile_threads
from e2e_world import ROUTE, World

STEPS = ("intake", "translate", "deliver", "archive", "notify", "check")


@dataclass
class RunTiming:
    wall_s: float
    steps_s: dict[str, float]  # step function -> seconds in this run
    done: int  # submissions completed after this run
    tasks_s: float = 0.0  # the DAG's task instances, summed
    airflow: str = ""  # the DAG run's state, for the dag mode


@dataclass
class ModeResult:
    mode: str
    submissions: int
    batch_size: int
    runs: list[RunTiming] = field(default_factory=list)
    ledger: LedgerTotals = field(default_factory=LedgerTotals)
    floor_s: float | None = None  # an empty run after a warm-up one: the fixed cost of a run
    outcome: Any = None  # e2e_world.Outcome
    journal_mode: str = ""
    shape: str = ""  # how the route and the DAG are set up, in words

    @property
    def wall_s(self) -> float:
        return sum(r.wall_s for r in self.runs)

    def step_s(self, step: str) -> float:
        return sum(r.steps_s.get(step, 0.0) for r in self.runs)

    @property
    def steps_total_s(self) -> float:
        return sum(sum(r.steps_s.values()) for r in self.runs)

    @property
    def tasks_s(self) -> float:
        return sum(r.tasks_s for r in self.runs)

    @property
    def per_second(self) -> float:
        return self.submissions / self.wall_s if self.wall_s else 0.0


def _max_runs(submissions: int, batch_size: int) -> int:
    return -(-submissions // batch_size) * 2 + 5  # twice what it should take: a run that makes no progress stops it


def drain(world: World, result: ModeResult, run_once: Callable[[], RunTiming], sampler: RssSampler | None,
          log: Callable[[str], None]) -> None:
    """Run until nothing waits and nothing is unfinished; fail loudly when runs stop making progress."""
    last = (-1, -1)
    for number in range(1, _max_runs(result.submissions, result.batch_size) + 1):
        timing = run_once()
        result.runs.append(timing)
        if sampler is not None:
            sampler.mark(timing.done)
        log(f"  {result.mode} run {number}: {timing.done:,}/{result.submissions:,} completed, "
            f"{timing.wall_s:.1f} s{f' ({timing.airflow})' if timing.airflow else ''}")
        if world.settled():
            return
        progress = (timing.done, world.waiting())
        if progress == last:
            break
        last = progress
    raise SystemExit(f"{result.mode}: the runs stopped making progress: {world.outcome(result.submissions).summary()}"
                     f"; see {world.root}")


def _completed(world: World) -> int:
    return world.states().get("completed", 0)


# --- the DAG ------------------------------------------------------------------------------------------------


def prepare_airflow(world: World) -> Path:
    """A fresh AIRFLOW_HOME in the world, migrated. Must come before anything imports Airflow (it reads its
    settings once per process), so one process can run the DAG mode once."""
    from brygga_airflow.run import migrate_airflow_db, use_airflow_home

    os.environ.pop("AIRFLOW_HOME", None)
    airflow_home = use_airflow_home(world.root / "airflow")
    migrate_airflow_db(airflow_home)
    return airflow_home


def _shape(route: Any) -> str:
    """The settings that decide the run's shape, as far as this version of Brygga has them."""
    from brygga_airflow import dag_factory

    parts = [f"{t.id} target concurrency {t.concurrency}" for t in route.targets if hasattr(t, "concurrency")]
    if hasattr(dag_factory, "dag_shape"):
        chunk = getattr(dag_factory, "CHUNK_SIZE", None)
        parts.append(f"DAG shape `{dag_factory.dag_shape()}`" + (f", mapped over chunks of {chunk}" if chunk else ""))
    return "; ".join(parts)


def _task_seconds(dag_run: Any) -> float:
    """The run's task instances, mapped ones each, from start to end as Airflow recorded them."""
    return sum((ti.end_date - ti.start_date).total_seconds() for ti in dag_run.get_task_instances()
               if ti.start_date is not None and ti.end_date is not None)


def _timed(steps: StepClock, run: Callable[[], Any]) -> tuple[float, dict[str, float], Any]:
    before = steps.snapshot()
    started = time.perf_counter()
    value = run()
    wall = time.perf_counter() - started
    after = steps.snapshot()
    return wall, {name: after[name] - before[name] for name in after}, value


def run_dag(world: World, submissions: int, sample: bytes, clock: LedgerClock, steps: StepClock,
            sampler: RssSampler, log: Callable[[str], None]) -> ModeResult:
    from brygga.routes import load_routes
    from brygga.settings import Settings
    from brygga_airflow.dag_factory import build_route_dag
    from brygga_airflow.run import output_to

    settings = Settings.from_env()
    (route,) = [r for r in load_routes(settings.routes_file, settings.mappings_dir) if r.id == ROUTE]
    result = ModeResult("dag", submissions, route.batch_size, shape=_shape(route))
    airflow_log = world.root / "airflow-runs.log"
    with output_to(airflow_log):
        dag = build_route_dag(route)

    def test() -> Any:
        try:
            with output_to(airflow_log):
                return dag.test()
        except Exception as exc:
            raise SystemExit(f"dag.test() raised {exc.__class__.__name__}: {exc}; see {airflow_log}") from exc

    def run_once() -> RunTiming:
        wall, spent, dag_run = _timed(steps, test)
        return RunTiming(wall, spent, _completed(world), _task_seconds(dag_run), str(dag_run.state))

    # Warm-up: the first dag.test() in a process imports and syncs much of Airflow. Then an empty run: the floor.
    run_once()
    result.floor_s = run_once().wall_s
    world.drop(submissions, sample)
    clock.retarget(str(world.ledger_file))
    before = clock.snapshot()
    sampler.mark(0)
    drain(world, result, run_once, sampler, log)
    result.ledger = clock.snapshot().minus(before)
    result.outcome = world.outcome(submissions)
    result.journal_mode = world.journal_mode()
    return result


# --- directly in Python -------------------------------------------------------------------------------------


def _direct_steps() -> None:
    """Every step in order, in Python, on a fresh context; the run's check must be green."""
    from brygga import pipeline
    from brygga.pipeline import PipelineContext
    from brygga.settings import Settings

    ctx = PipelineContext.for_route(ROUTE, settings=Settings.from_env())
    batch = pipeline.intake(ctx)
    for name in STEPS[1:-1]:
        getattr(pipeline, name)(ctx, batch)
    health = pipeline.check(ctx, batch)
    if not health.ok:
        raise SystemExit(f"direct: the run's check is red: {health.summary()}")


def _direct_run(world: World, steps: StepClock) -> RunTiming:
    wall, spent, _ = _timed(steps, _direct_steps)
    return RunTiming(wall, spent, _completed(world))


def _batch_size(world: World) -> int:
    from brygga.routes import load_routes
    from brygga.settings import Settings

    settings = Settings.from_env()
    (route,) = [r for r in load_routes(settings.routes_file, settings.mappings_dir) if r.id == ROUTE]
    return route.batch_size


def run_direct(world: World, submissions: int, sample: bytes, clock: LedgerClock, steps: StepClock,
               log: Callable[[str], None], sampler: RssSampler | None = None) -> ModeResult:
    result = ModeResult("direct", submissions, _batch_size(world))
    _direct_run(world, steps)  # warm-up, as for the DAG: imports, the first WSDL fetch
    result.floor_s = _direct_run(world, steps).wall_s
    world.drop(submissions, sample)
    clock.retarget(str(world.ledger_file))
    before = clock.snapshot()
    drain(world, result, lambda: _direct_run(world, steps), sampler, log)
    result.ledger = clock.snapshot().minus(before)
    result.outcome = world.outcome(submissions)
    result.journal_mode = world.journal_mode()
    return result


def profile_direct(world: World, submissions: int, sample: bytes,
                   steps: StepClock) -> tuple[pstats.Stats, RunTiming, Any]:
    """One direct run of ``submissions`` (the world's batch size takes them all) under cProfile, every thread."""
    _direct_run(world, steps)
    world.drop(submissions, sample)
    with profile_threads() as profiles:
        timing = _direct_run(world, steps)
    return merged_stats(profiles), timing, world.outcome(submissions)
