"""The same batch through a real Airflow cluster with 1 Celery worker, then with 2: submissions/s and the ratio.

Each worker count gets a fresh cluster (scale/cluster.py): scheduler, dag-processor, api-server, triggerer and the
workers, Airflow's metadata and Brygga's ledger on PostgreSQL, RabbitMQ as the broker, ByggR and the status
callback as simulators in processes of their own. A warm-up batch goes through first (the first run imports and
compiles everything), then the timed batch: from the drop into the inbox to the ledger showing every submission
done (case in ByggR, SIP, status message). Runs are triggered over the REST API whenever none is queued or running.
Every run is checked afterwards like `make test-scale` checks it (nothing lost, nothing duplicated).

    .venv/bin/python bench/scale_out.py                                 # 2,000 submissions, 1 then 2 workers
    .venv/bin/python bench/scale_out.py --write var/bench-scale-out.md  # the Markdown section for performance.md
    .venv/bin/python bench/scale_out.py --quick                         # 100 submissions: does it run?

Needs PostgreSQL on 127.0.0.1:5432 and RabbitMQ on :5672 (BRYGGA_TEST_POSTGRES_URL, BRYGGA_TEST_AMQP_URL) and the
Celery provider (the scale-out extra); without them it says why and exits 0 with no figures. This is a benchmark,
never a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "scale") not in sys.path:
    sys.path.insert(0, str(REPO / "scale"))

import cluster as scale  # noqa: E402 - the harness shared with tests/scale

WARM_UP = 20


@dataclass
class Measured:
    workers: int
    submissions: int
    seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.submissions / self.seconds


def measure(workers: int, submissions: int, concurrency: int, timeout: float) -> Measured:
    def say(text: str) -> None:
        print(f"[{workers} worker{'s' if workers > 1 else ''}] {text}", file=sys.stderr, flush=True)

    with scale.cluster(workers, concurrency=concurrency, progress=say) as the:
        the.drop(WARM_UP)
        the.drain(WARM_UP, timeout, progress=say)
        say(f"warm-up of {WARM_UP} done; timing {submissions}")
        the.drop(submissions)
        seconds = the.drain(WARM_UP + submissions, timeout, progress=say)
        problems = the.verify()
    result = Measured(workers, submissions, seconds, problems)
    say(f"{submissions} in {seconds:.1f} s: {result.per_second:.1f} submissions/s"
        + (f"; PROBLEMS: {problems}" if problems else "; nothing lost or duplicated"))
    return result


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def render(results: list[Measured], argv: list[str], concurrency: int, elapsed: float) -> str:
    base = next((r for r in results if r.workers == 1), None)
    lines = [
        "# Performance: scale-out",
        "",
        "## Scale-out: Celery workers on PostgreSQL and RabbitMQ",
        "",
        f"`{shlex.join(['python', *argv])}` on {dt.date.today().isoformat()}: {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, apache-airflow {_version('apache-airflow')}, "
        f"apache-airflow-providers-celery {_version('apache-airflow-providers-celery')}, "
        f"celery {_version('celery')}; {elapsed:.0f} s in all.",
        "",
        "| Celery workers | submissions | seconds | submissions/s | vs 1 worker | lost or duplicated |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        ratio = f"{r.per_second / base.per_second:.2f}×" if base else "n/a"
        checked = "none" if not r.problems else "; ".join(r.problems)
        lines.append(f"| {r.workers} | {r.submissions:,} | {r.seconds:.1f} | {r.per_second:.1f} | {ratio} "
                     f"| {checked} |")
    two = next((r for r in results if r.workers == 2), None)
    if base and two:
        faster = two.per_second > base.per_second
        lines += ["", "| figure | 1 worker | 2 workers | target | result |", "|---|---:|---:|---|---|",
                  f"| submissions/s with 2 workers against 1 | {base.per_second:.1f} | {two.per_second:.1f} "
                  f"| faster than 1 worker | {'**pass**' if faster else '**FAIL**'} |"]
    lines += [
        "",
        "How it is measured:",
        "",
        "- A fresh cluster per worker count (scale/cluster.py): scheduler, dag-processor, api-server, triggerer and "
        f"the workers (`airflow celery worker --concurrency {concurrency}`), Airflow's metadata database and "
        "Brygga's ledger on the local PostgreSQL, RabbitMQ as the broker, ByggR and Open ePlatform's callback as "
        "simulators in processes of their own, over HTTP.",
        f"- One route (file inbox -> ByggR -> archive folder -> status callback). {WARM_UP} submissions go through "
        "first as a warm-up; then the whole batch is dropped at once and timed from the drop to the ledger showing "
        "every submission done. A run is triggered over the REST API whenever none is queued or running (the "
        "ledger is polled once a second, so a figure is good to about a second).",
        "- Then every submission is checked: one completed submission per file, one case per reference in ByggR, "
        "one delivery, one SIP and one status message.",
        "- Everything runs on the same machine: the workers share its CPUs with the scheduler, the API server, "
        "PostgreSQL, RabbitMQ and the simulators. On 2 cores a second worker adds parallel task slots, not CPU; "
        "on real hosts each worker brings its own.",
        "- This is a benchmark, not a test: nothing fails when a figure is missed. `make test-scale` checks "
        "correctness (nothing lost or duplicated, also with a worker killed mid-run).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, help="the timed batch (default 2000; 100 with --quick)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare, comma-separated (default 1,2)")
    parser.add_argument("--concurrency", type=int, default=4, help="task slots per worker (default 4)")
    parser.add_argument("--timeout", type=float, default=1800, help="deadline per batch, seconds (default 1800)")
    parser.add_argument("--quick", action="store_true", help="100 submissions: check that it runs")
    parser.add_argument("--write", type=Path, metavar="FILE", help="write the Markdown section here too")
    args = parser.parse_args(argv[1:])
    submissions = args.submissions or (100 if args.quick else 2000)
    reason = scale.why_not()
    if reason:
        print(f"bench/scale_out.py: skipped, {reason}", file=sys.stderr)
        if args.write:
            args.write.parent.mkdir(parents=True, exist_ok=True)
            args.write.write_text("# Performance: scale-out\n\n"
                                  "## Scale-out: Celery workers on PostgreSQL and RabbitMQ\n\n"
                                  f"Not measured: {reason}.\n", encoding="utf-8")
        return 0
    started = time.perf_counter()
    results = [measure(int(n), submissions, args.concurrency, args.timeout) for n in args.workers.split(",")]
    report = render(results, argv, args.concurrency, time.perf_counter() - started)
    print(report, end="")
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report, encoding="utf-8")
        print(f"\nwritten to {args.write}", file=sys.stderr)
    return 1 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
