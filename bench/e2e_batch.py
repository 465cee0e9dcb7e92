"""`make bench`, the end-to-end batch: N submissions through the bundled route's real DAG, and the same steps without
Airflow as the baseline, in the same bench run.

N unique Open ePlatform bygglov exports (the realistic sample in tests/samples, each with its own FlowInstanceID and
description) are dropped into the inbox of ``kumla-bygglov`` on a fresh BRYGGA_HOME with a SQLite ledger. The
route's DAG runs under ``dag.test()`` (as ``brygga run`` runs it) again and again, each run taking up to the route's
``batch_size``, until the inbox is empty and every submission is done: real SOAP calls to the ByggR simulator, real
property lookups, real SIPs into the archive folder and real status callbacks, all to simulators running in
processes of their own. Then the baseline: the same step functions on the same kind of batch, called directly in
Python, on a world of its own. Each mode ends with a count at the source of truth (completed submissions, cases in
the simulator, SIPs, callbacks); the bench fails when one is off.

Figures: submissions/s; the cost per submission split by step and Airflow's own overhead (wall minus the steps); the
ledger's share (time in its SQL and commits, SQLAlchemy engine events); the RSS of this process (which runs the
tasks, as a worker does) over the batch. ``--profile``: cProfile of one direct run of a few hundred, every thread.

    .venv/bin/python bench/e2e_batch.py                                  # 10,000 submissions, print the report
    .venv/bin/python bench/e2e_batch.py --profile --write var/bench-e2e-batch.md   # what `make bench` runs
    .venv/bin/python bench/e2e_batch.py --submissions 300 --batch-size 100        # a small run

This is a benchmark, never a test: nothing here asserts a speed. tests/bench only checks that it runs and counts.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from e2e_probes import LedgerClock, RssSampler, StepClock  # noqa: E402
from e2e_report import Profile, render  # noqa: E402
from e2e_runs import STEPS, ModeResult, prepare_airflow, profile_direct, run_dag, run_direct  # noqa: E402
from e2e_world import World, properties_for, sample_path  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _checked(result: ModeResult, world: World) -> ModeResult:
    if not result.outcome.ok:
        raise SystemExit(f"FAIL: {result.mode}: {result.outcome.summary()}; the world is kept in {world.root}")
    log(f"  {result.mode}: {result.outcome.summary()}")
    return result


@contextlib.contextmanager
def _world(label: str, batch_size: int | None, properties: int, parent: Path, keep: bool) -> Iterator[World]:
    """A mode's world, entered (its environment set); removed afterwards unless kept, and kept when it failed."""
    world = World.create(label, batch_size, properties, parent)
    failed = True
    try:
        world.enter()
        yield world
        failed = False
    finally:
        world.close(keep=keep or failed)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=10_000, metavar="N", help="default: %(default)s")
    parser.add_argument("--baseline-submissions", type=int, metavar="N",
                        help="submissions for the direct baseline (default: as many as --submissions)")
    parser.add_argument("--batch-size", type=int, metavar="N",
                        help="the route's batch_size (default: the bundled route's own)")
    parser.add_argument("--cases-per-property", type=int, default=5, metavar="N",
                        help="submissions per property (default: %(default)s)")
    parser.add_argument("--profile", action="store_true", help="add cProfile of one direct run")
    parser.add_argument("--profile-submissions", type=int, default=300, metavar="N", help="default: %(default)s")
    parser.add_argument("--write", type=Path, metavar="FILE", help="write the Markdown section here too")
    parser.add_argument("--keep", action="store_true", help="keep the temporary worlds (homes, logs)")
    args = parser.parse_args(argv[1:])
    if args.submissions < 1 or args.cases_per_property < 1:
        parser.error("--submissions and --cases-per-property must be at least 1")
    baseline_n = args.baseline_submissions or args.submissions

    sample = sample_path().read_bytes()
    started = time.perf_counter()
    clock, steps = LedgerClock(""), StepClock(STEPS)
    clock.install()
    steps.install()
    profile: Profile | None = None
    parent = Path(tempfile.mkdtemp(prefix="brygga-e2e-"))
    log(f"end-to-end batch: {args.submissions:,} submissions through the DAG, {baseline_n:,} directly")
    def properties(n: int) -> int:
        return properties_for(n, args.cases_per_property)

    with _world("dag", args.batch_size, properties(args.submissions), parent, args.keep) as world:
        prepare_airflow(world)
        sampler = RssSampler()
        sampler.start()
        try:
            dag = _checked(run_dag(world, args.submissions, sample, clock, steps, sampler, log), world)
        finally:
            sampler.stop()
    with _world("direct", args.batch_size, properties(baseline_n), parent, args.keep) as world:
        direct = _checked(run_direct(world, baseline_n, sample, clock, steps, log), world)
    if args.profile:
        size = max(args.profile_submissions, args.batch_size or 0)
        with _world("profile", size, properties(args.profile_submissions), parent, args.keep) as world:
            stats, timing, outcome = profile_direct(world, args.profile_submissions, sample, steps)
            if not outcome.ok:
                raise SystemExit(f"FAIL: profile run: {outcome.summary()}; the world is kept in {world.root}")
            profile = Profile(args.profile_submissions, stats, timing)
    if not args.keep:
        shutil.rmtree(parent, ignore_errors=True)
    clock.uninstall()
    steps.uninstall()
    report = render(argv, dag, direct, sampler, profile, time.perf_counter() - started, args.cases_per_property)
    print(report, end="")
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report, encoding="utf-8")
        log(f"written to {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
