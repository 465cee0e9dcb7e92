"""`make bench`: latency from a file drop to done, on a live `airflow standalone`, next to Airflow's own floor.

A temporary home gets Airflow (SQLite, LocalExecutor, ``airflow standalone``: scheduler, dag-processor, triggerer and
api-server), Brygga's DAG file on a routes file holding the bundled ``kumla-bygglov`` route only (without gallring,
so no DAG but the route's, the outbox relay and the floor's runs), and the route's simulators in this process over
real HTTP (``brygga_simulators.connections``, as ``brygga run --simulators`` starts them). Then:

- **floor**: an empty one-task DAG started the same way as the route's: an asset watcher
  (``brygga_airflow.triggers.InboxArrivalTrigger``) on a folder of its own; its task only moves the files it finds
  out of the folder. Drop to moved is Airflow's floor: trigger, scheduler, executor, a task's process.
- **spaced**: unique bygglov exports dropped one at a time into the route's inbox, ``--spacing`` seconds apart;
  drop to done, where done is the ledger's state ``completed`` with a diarienummer (the case registered in the ByggR
  simulator), an archive package (the SIP) and the status sent to Open ePlatform's callback (notify completes it).
- **burst**: ``--burst`` exports dropped at once; drop to done of each.

A drop is a rename into the folder (producers write elsewhere and rename). Done is seen by polling every 0.1 s.
Tasks run with byte-code caching on (``PYTHONPYCACHEPREFIX`` in the work folder) as an installed Airflow has, even
when the shell sets ``PYTHONDONTWRITEBYTECODE``; one warm-up drop per DAG is not counted.

    .venv/bin/python bench/latency.py                        # print the table
    .venv/bin/python bench/latency.py --write var/bench-latency.md
    .venv/bin/python bench/latency.py --spaced 5 --burst 5 --floor 5    # does it run?
    .venv/bin/python bench/latency.py --idle-sleep 1         # Airflow's default [scheduler] scheduler_idle_sleep_time
    .venv/bin/python bench/latency.py --shape steps          # a task per step (BRYGGA_DAG_SHAPE=steps)

This is a benchmark, never a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from brygga.resources import resource
from brygga.routes import load_routes
from brygga.settings import REPO_ROOT

ROUTE = "kumla-bygglov"
ROUTE_DAG = "brygga_route_kumla_bygglov"
FLOOR_DAG = "brygga_latency_floor"
SAMPLE = REPO_ROOT / "samples" / "open-eplatform" / "bygglov-person.xml"
AIRFLOW = Path(sys.executable).with_name("airflow")
POLL_S = 0.1
TARGET_MEDIAN_S, TARGET_P95_S = 5.0, 10.0
# The scheduler's sleep after a loop with nothing to do (Airflow's default 1 s): the hand-off between two tasks of a
# run waits for it, so it adds up to a second per task; 0.2 s costs a little idle CPU.
IDLE_SLEEP_S = 0.2

FLOOR_DAG_FILE = '''"""The latency bench's floor: a one-task DAG started by an asset watcher on a folder."""
from datetime import datetime
from pathlib import Path

from airflow.sdk import Asset, AssetWatcher, dag, task

from brygga_airflow.triggers import InboxArrivalTrigger

FOLDER, DONE = Path({folder!r}), Path({done!r})
watcher = AssetWatcher(name="brygga_latency_floor", trigger=InboxArrivalTrigger(directory=str(FOLDER)))
arrivals = Asset(name="brygga_latency_floor", uri="x-brygga-latency://floor", watchers=[watcher])


@dag(dag_id={dag_id!r}, schedule=arrivals, start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1)
def floor():
    @task
    def take():
        for path in sorted(FOLDER.glob("*.xml")):
            path.rename(DONE / path.name)

    take()


floor()
'''


@dataclass
class Drop:
    name: str
    sha256: str
    dropped: float
    done: float | None = None

    @property
    def latency(self) -> float | None:
        return None if self.done is None else self.done - self.dropped


@dataclass
class Phase:
    name: str
    drops: list[Drop]

    def latencies(self) -> list[float]:
        return sorted(d.latency for d in self.drops if d.latency is not None)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def submission(sample: bytes, number: int) -> bytes:
    """The sample as submission ``number``: its own FlowInstanceID and description, so no two drops are the same
    bytes (the same bytes twice are one submission)."""
    return (sample.replace(b"<FlowInstanceID>2001</FlowInstanceID>",
                           f"<FlowInstanceID>{700000 + number}</FlowInstanceID>".encode())
            .replace(b"Nybyggnad av enbostadshus med carport.",
                     f"Nybyggnad av enbostadshus, latency {number}.".encode()))


def trimmed_routes(work: Path) -> Path:
    """The bundled routes file with the measured route only, without gallring and status feeds."""
    document = yaml.safe_load(resource("routes", "routes.yaml").read_text(encoding="utf-8"))
    (route,) = [r for r in document["routes"] if r["id"] == ROUTE]
    route.pop("retention", None)
    document["routes"] = [route]
    document.pop("status", None)
    path = work / "routes.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def airflow_env(work: Path, port: int, idle_sleep: float | None, shape: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    base = f"http://127.0.0.1:{port}"
    env.update(
        PATH=f"{AIRFLOW.parent}{os.pathsep}{env.get('PATH', '')}",  # standalone starts `airflow` by name
        PYTHONPYCACHEPREFIX=str(work / "pycache"),
        AIRFLOW_HOME=str(work / "airflow"), AIRFLOW__CORE__DAGS_FOLDER=str(work / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__PARALLELISM="4", AIRFLOW__API__PORT=str(port), AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__BASE_URL=base, AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{base}/execution/",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5", AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        BRYGGA_HOME=str(work / "home"), BRYGGA_ROUTES=str(work / "routes.yaml"), BRYGGA_DAG_SHAPE=shape,
    )
    if idle_sleep is not None:
        env["AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME"] = str(idle_sleep)
    # SQLite's busy timeout is 5 s by default: on a loaded machine a component waits longer than that for the write
    # lock, and the scheduler dies of "database is locked". A minute is what the embedded default should have.
    lib = work / "pylib"
    lib.mkdir(exist_ok=True)
    (lib / "brygga_latency_db.py").write_text('CONNECT_ARGS = {"timeout": 60}\n')
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(lib), env.get("PYTHONPATH")]))
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] = "brygga_latency_db.CONNECT_ARGS"
    return env


def _wait(what: str, ready: Callable[[], bool], timeout: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"airflow standalone exited ({process.returncode}) before {what}:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.5)
    raise RuntimeError(f"no {what} within {timeout:.0f} s; see {log}")


@contextlib.contextmanager
def standalone(work: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`airflow standalone`, stopped with SIGINT (SIGTERM orphans its children), its process group killed after."""
    log = work / "standalone.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(AIRFLOW), "standalone"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of its group is left
        process.wait(timeout=30)


def _watchers_running(db: Path) -> bool:
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
        (n,) = conn.execute("SELECT COUNT(*) FROM trigger WHERE triggerer_id IS NOT NULL "
                            "AND classpath LIKE 'brygga_airflow.triggers.%'").fetchone()
    return int(n) >= 2


class Watch:
    """What is done: the route's completed submissions (by content hash) and the floor's moved files."""

    def __init__(self, database_url: str, floor_done: Path) -> None:
        from brygga.ledger import Ledger

        self.ledger = Ledger(database_url)
        self.floor_done = floor_done

    def completed(self) -> set[str]:
        from sqlalchemy import select

        from brygga.ledger import State, Submission

        with self.ledger.session() as s:
            rows = s.execute(select(Submission.content_sha256, Submission.external_ref, Submission.archive_location)
                             .where(Submission.route_id == ROUTE, Submission.state == State.COMPLETED)).all()
        return {sha for sha, ref, archive in rows if ref and archive}

    def floor(self) -> set[str]:
        return {p.name for p in self.floor_done.iterdir()}


def _drop(folder: Path, name: str, body: bytes) -> Drop:
    staged = folder.parent / f".{name}.part"
    staged.write_bytes(body)
    dropped = time.time()
    staged.rename(folder / name)
    return Drop(name=name, sha256=hashlib.sha256(body).hexdigest(), dropped=dropped)


def _settle(drops: list[Drop], done: Callable[[], set[str]], key: Callable[[Drop], str], timeout: float,
            until: float | None = None) -> None:
    """Poll until every drop is done (or the timeout), stamping each when first seen done; with ``until``, return at
    that time at the latest (the next drop is due)."""
    deadline = time.time() + timeout
    while True:
        pending = [d for d in drops if d.done is None]
        if not pending or time.time() > deadline or (until is not None and time.time() >= until):
            return
        finished, now = done(), time.time()
        for d in pending:
            if key(d) in finished:
                d.done = now
        time.sleep(POLL_S)


def run_phase(name: str, folder: Path, bodies: list[tuple[str, bytes]], spacing: float, done: Callable[[], set[str]],
              key: Callable[[Drop], str], timeout: float) -> Phase:
    drops: list[Drop] = []
    start = time.time()
    for i, (file_name, body) in enumerate(bodies):
        drops.append(_drop(folder, file_name, body))
        if spacing:
            _settle(drops, done, key, timeout, until=start + (i + 1) * spacing)
    _settle(drops, done, key, timeout)
    return Phase(name, drops)


def measure(args: argparse.Namespace, work: Path) -> tuple[list[Phase], dict[str, Any]]:
    from brygga_airflow.run import route_simulators

    routes_file = trimmed_routes(work)
    (work / "dags").mkdir()
    (work / "dags" / "brygga_routes.py").write_text(resource("dags", "brygga_routes.py").read_text())
    floor_in, floor_done = work / "floor" / "in", work / "floor" / "done"
    floor_in.mkdir(parents=True)
    floor_done.mkdir(parents=True)
    (work / "dags" / "latency_floor.py").write_text(FLOOR_DAG_FILE.format(
        folder=str(floor_in), done=str(floor_done), dag_id=FLOOR_DAG))
    inbox = work / "home" / "inbox" / ROUTE
    inbox.mkdir(parents=True)
    port = _free_port()
    env = airflow_env(work, port, args.idle_sleep, args.shape)
    route = next(r for r in load_routes(routes_file, resource("mappings")) if r.id == ROUTE)
    sample = SAMPLE.read_bytes()
    info: dict[str, Any] = {"port": port, "load_before": os.getloadavg()[0]}
    with route_simulators(route, work / "simulated"):
        env.update({k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")})
        migrated = subprocess.run([str(AIRFLOW), "db", "migrate"], capture_output=True, text=True, env=env,
                                  timeout=600, check=False)
        if migrated.returncode:
            raise RuntimeError(f"airflow db migrate failed:\n{migrated.stderr[-3000:]}")
        t0 = time.monotonic()
        with standalone(work, env) as process:
            log, db = work / "standalone.log", work / "airflow" / "airflow.db"
            _wait("healthy api-server", lambda: requests.get(f"http://127.0.0.1:{port}/api/v2/monitor/health",
                                                             timeout=5).status_code == 200, 300, process, log)
            _wait("running inbox watchers", lambda: _watchers_running(db), 300, process, log)
            info["ready_s"] = time.monotonic() - t0
            watch = Watch(f"sqlite:///{work / 'home' / 'ledger.sqlite'}", floor_done)
            by_sha: Callable[[Drop], str] = lambda d: d.sha256  # noqa: E731
            by_name: Callable[[Drop], str] = lambda d: d.name  # noqa: E731
            # Warm-up, not counted: the first run of each DAG imports and compiles what later runs find cached.
            run_phase("warm-up floor", floor_in, [("warm.xml", b"<x/>")], 0, watch.floor, by_name, args.timeout)
            run_phase("warm-up route", inbox, [("warm.xml", submission(sample, 0))], 0, watch.completed, by_sha,
                      args.timeout)
            number = iter(range(1, 10_000))
            phases = [
                run_phase("floor: empty 1-task run, same trigger", floor_in,
                          [(f"f{i:03d}.xml", b"<x/>") for i in range(args.floor)], args.spacing, watch.floor,
                          by_name, args.timeout),
                run_phase(f"route, one at a time ({args.spacing:g} s apart)", inbox,
                          [(f"s{i:03d}.xml", submission(sample, next(number))) for i in range(args.spaced)],
                          args.spacing, watch.completed, by_sha, args.timeout),
                run_phase(f"route, a burst of {args.burst} at once", inbox,
                          [(f"b{i:03d}.xml", submission(sample, next(number))) for i in range(args.burst)],
                          0, watch.completed, by_sha, args.timeout),
            ]
            info["runs"] = _run_counts(db)
            info["load_after"] = os.getloadavg()[0]
    return phases, info


def _run_counts(db: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
        return {f"{dag} {kind}": n for dag, kind, n in conn.execute(
            "SELECT dag_id, run_type, COUNT(*) FROM dag_run GROUP BY dag_id, run_type")}


def render(phases: list[Phase], info: dict[str, Any], args: argparse.Namespace) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine()) if Path("/proc/cpuinfo").exists() else ""
    idle = f"{args.idle_sleep:g} s" + (" (Airflow's default)" if args.idle_sleep == 1 else "")
    lines = [
        "# Performance: drop-to-done latency",
        "",
        "## Latency: drop to done on `airflow standalone`, next to Airflow's floor",
        "",
        f"{dt.date.today()}; {cpu}, {os.cpu_count()} CPUs; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite; LocalExecutor, `[core] parallelism` 4; route DAG shape "
        f"`{args.shape}`; "
        f"`[scheduler] scheduler_idle_sleep_time` {idle}; SQLite busy timeout 60 s; inbox watcher polling every "
        f"0.5 s. "
        f"Standalone ready (healthy, watchers running) after {info.get('ready_s', 0):.0f} s. Load average (1 min) "
        f"{info.get('load_before', 0):.1f} before, {info.get('load_after', 0):.1f} at the end: a busy machine shows "
        "in every figure, the floor's too.",
        "",
        "| phase | drops | done | median | p95 | max | target | result |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for phase in phases:
        values = phase.latencies()
        if values:
            figures = (f"{statistics.median(values):.1f} s | {percentile(values, 0.95):.1f} s | "
                       f"{max(values):.1f} s")
        else:
            figures = "- | - | -"
        if phase.name.startswith("floor"):
            target, verdict = "floor", ""
        else:
            target = f"median ≤ {TARGET_MEDIAN_S:g} s, p95 ≤ {TARGET_P95_S:g} s"
            met = len(values) == len(phase.drops) and bool(values) and statistics.median(values) <= TARGET_MEDIAN_S \
                and percentile(values, 0.95) <= TARGET_P95_S
            verdict = "**pass**" if met else "**FAIL**"
        lines.append(f"| {phase.name} | {len(phase.drops)} | {len(values)} | {figures} | {target} | {verdict} |")
    runs = ", ".join(f"{k}: {v}" for k, v in sorted(info.get("runs", {}).items()))
    lines += [
        "",
        "Done for the route: the ledger's state `completed` with a diarienummer and an archive package (the status "
        "callback is notify's, which completes it). For the floor: the one task moved the file. "
        f"DAG runs during the bench, by kind: {runs}.",
        "",
        "A drop that arrives while its route's run is busy waits for the next run (`max_active_runs=1`), which "
        "takes everything that arrived meanwhile as one batch: that wait is part of the figures above.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spaced", type=int, default=50, help="drops one at a time (default 50)")
    parser.add_argument("--burst", type=int, default=50, help="drops at once (default 50)")
    parser.add_argument("--floor", type=int, default=20, help="drops for the floor (default 20)")
    parser.add_argument("--spacing", type=float, default=2.0, help="seconds between drops (default 2)")
    parser.add_argument("--idle-sleep", type=float, default=IDLE_SLEEP_S,
                        help=f"[scheduler] scheduler_idle_sleep_time (default {IDLE_SLEEP_S:g}, what docs/deploy.md "
                             "recommends; Airflow's own default is 1)")
    parser.add_argument("--shape", choices=("process", "steps"), default="process",
                        help="the route DAG's shape (BRYGGA_DAG_SHAPE): a process task per chunk, or a task per step")
    parser.add_argument("--timeout", type=float, default=180, help="seconds a phase may take to settle")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, homes)")
    parser.add_argument("--write", type=Path, metavar="FILE", help="write the Markdown report here too")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="brygga-latency-"))
    try:
        phases, info = measure(args, work)
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    report = render(phases, info, args)
    print(report)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
