"""A real Airflow 3 cluster on this machine, for `make test-scale` and bench/scale_out.py.

Scheduler, dag-processor, api-server, triggerer and N Celery workers (``airflow celery worker``), each its own
process group with its own log, on:

- PostgreSQL (``BRYGGA_TEST_POSTGRES_URL``, default trust auth on 127.0.0.1:5432): a throwaway database for Airflow's
  metadata (also Celery's result backend) and one for Brygga's ledger, both dropped afterwards;
- RabbitMQ (``BRYGGA_TEST_AMQP_URL``, default amqp://guest:guest@127.0.0.1:5672//) as the Celery broker, on a queue
  named for this cluster only, so two clusters on one broker never take each other's tasks;
- the ByggR and Open ePlatform callback simulators, each in a process of its own, reached over HTTP like the real
  systems (``python -m brygga_simulators``);
- one route, ``scale-bygglov`` (file inbox -> ByggR -> e-archive folder -> Mina sidor callback), in a routes file
  of its own; its DAG is ``brygga_route_scale_bygglov``. Nothing here depends on the DAG's task names.

Every wait has a deadline; every failure says which log to read. Run by hand to look at it:

    .venv/bin/python scale/cluster.py --workers 2      # starts it, prints the URLs and logs, Ctrl-C stops it
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from brygga.ledger.states import State

REPO = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
AIRFLOW = PYTHON.with_name("airflow")
POSTGRES_ADMIN_URL = os.environ.get("BRYGGA_TEST_POSTGRES_URL",
                                    "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("BRYGGA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
ROUTE_ID = "scale-bygglov"
DAG_ID = "brygga_route_scale_bygglov"
SAMPLE = REPO / "samples" / "open-eplatform" / "bygglov-person.xml"
SAMPLE_FLOW_ID = b"<FlowInstanceID>2001</FlowInstanceID>"
SAMPLE_PROPERTY = b"KUMLA KVARNEN 4:12"
DONE = State.DONE
ADMIN = "scale-admin"


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=3):
        return True
    return False


def why_not() -> str | None:
    """Why a cluster cannot start here (a service that does not answer, the Celery provider missing), or None."""
    if importlib.util.find_spec("airflow.providers.celery") is None:
        return ("the Celery provider is not installed: .venv/bin/uv pip install --python .venv/bin/python "
                "'apache-airflow-providers-celery>=3.12,<4' (the scale-out extra)")
    pg = make_url(POSTGRES_ADMIN_URL)
    if not _answers(pg.host or "127.0.0.1", pg.port or 5432):
        return f"no PostgreSQL answers at {pg.host}:{pg.port} (BRYGGA_TEST_POSTGRES_URL)"
    amqp = requests.utils.urlparse(AMQP_URL)
    if not _answers(amqp.hostname or "127.0.0.1", amqp.port or 5672):
        return f"no RabbitMQ answers at {amqp.hostname}:{amqp.port} (BRYGGA_TEST_AMQP_URL)"
    return None


def wait_for(what: str, condition: Callable[[], Any], timeout: float, *, every: float = 0.5,
             alive: Callable[[], None] | None = None) -> Any:
    """Poll ``condition`` until it returns something truthy, at most ``timeout`` seconds; ``alive`` raises when a
    process it watches has died, so a crash fails at once instead of at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None:
            alive()
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


@dataclass
class Child:
    """A long-running process of the cluster, in a session of its own (its descendants die with it)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def check(self) -> None:
        if not self.alive():
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}; its log {self.log}:\n"
                               f"{tail(self.log)}")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the group (a Celery worker finishes its running tasks), then SIGKILL at the deadline; then
        SIGKILL to whatever is left in its session."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        # Whatever the leader left behind in its session (a task process, a pool child) goes too.
        kill_session(self.process.pid)

    def kill(self) -> None:
        """SIGKILL to every process of the session at once, as when the worker's machine or container dies. By
        session, not process group: Airflow's supervisor puts each task process in a group of its own."""
        kill_session(self.process.pid)
        self.process.wait(timeout=30)


def session_members(leader: int) -> list[int]:
    """The live processes whose session is ``leader``'s (each child here starts a session of its own); a zombie
    waiting to be reaped is dead already."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # /proc/PID/stat: "pid (comm) state ..."; comm may hold spaces, so split after its ")".
                state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
                if state != "Z" and os.getsid(int(entry.name)) == leader:
                    members.append(int(entry.name))
    return members


def kill_session(leader: int) -> None:
    """SIGKILL every process of the session, again until none is left (one may fork while we kill)."""
    deadline = time.monotonic() + 30
    while members := session_members(leader):
        for pid in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() >= deadline:
            raise RuntimeError(f"processes of session {leader} survive SIGKILL: {members}")
        time.sleep(0.05)


def start_child(name: str, argv: list[str], env: dict[str, str], logs: Path) -> Child:
    log = logs / f"{name}.log"
    with open(log, "ab") as handle:
        process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=str(REPO),
                                   start_new_session=True)
    return Child(name, process, log)


@contextlib.contextmanager
def throwaway_databases(*prefixes: str) -> Iterator[list[str]]:
    """A database per prefix on the local PostgreSQL, dropped afterwards (with whatever is still connected)."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    names = [f"{prefix}_{uuid.uuid4().hex[:10]}" for prefix in prefixes]
    made: list[str] = []
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                made.append(name)
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        yield [f"{base}/{name}" for name in names]
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def routes_yaml() -> str:
    """One route on the simulators: short retry waits, so a worker killed mid-call is taken over within the test.

    ``in_doubt_delay`` stays twice the connections' read timeout (10 s, set in their URIs): docs/reliability.md, 9.
    """
    return f"""\
tenants:
  kumla: {{kommunkod: "1881", name: Kumla kommun, organisationsnummer: "212000-1819"}}
routes:
  - id: {ROUTE_ID}
    description: The scale test's route, bygglov from Open ePlatform into ByggR, the e-archive and Mina sidor.
    tenant: kumla
    source:
      adapter: file-inbox
      config: {{path: inbox/{ROUTE_ID}}}
    mappings: [open-eplatform/bygglov.yaml]
    targets:
      - id: byggr
        adapter: byggr
        connection: byggr_scale
        mappings: {{bygglov: byggr/bygglov.yaml}}
    archive:
      adapter: archive-folder
      config: {{path: archive-out}}
      submission_agreement: "KUMLA-LÖ-2026-01"
    notify:
      adapter: oep-callback
      connection: oep_scale
      status: Under handläggning
      message: Din ansökan har registrerats med diarienummer {{diarienummer}}.
    retry: {{budget: 1h, first_delay: 1s, max_delay: 5s, in_doubt_delay: 21s}}
    schedule: null
"""


@dataclass
class Simulator:
    name: str
    child: Child
    base_url: str
    uri: str  # the connection URI pointing at it


def start_simulator_process(name: str, env: dict[str, str], logs: Path) -> Simulator:
    """``python -m brygga_simulators NAME`` on a free port, with a made-up account; waits until it answers and
    points the connection at the service's own path, as it prints it (``NAME simulator: http://...``)."""
    password = secrets.token_urlsafe(24)
    port = free_port()
    child = start_child(f"sim-{name}", [str(PYTHON), "-m", "brygga_simulators", name, "--port", str(port),
                                        "--option", f"basic_auth=brygga:{password}"], env, logs)
    prefix = f"{name} simulator: "

    def printed_url() -> str | None:
        return next((line.removeprefix(prefix) for line in tail(child.log, 20_000).splitlines()
                     if line.startswith(prefix)), None)

    url = wait_for(f"simulator {name}", printed_url, 60, alive=child.check)
    with_account = url.replace("://", f"://brygga:{password}@", 1)
    return Simulator(name, child, f"http://127.0.0.1:{port}",
                     f"{with_account}?allow_http=true&read_timeout=10")


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]
    api_url: str
    ledger_url: str
    queue: str
    simulators: dict[str, Simulator]
    children: dict[str, Child] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # sha256 of every file dropped
    references: list[str] = field(default_factory=list)  # FlowInstanceID of every file dropped
    _token: str | None = None
    _engine: Engine | None = None
    _next_flow_id: int = 100_000

    # --- where things are ---------------------------------------------------------------------------

    @property
    def home(self) -> Path:
        return Path(self.env["BRYGGA_HOME"])

    @property
    def inbox(self) -> Path:
        return self.home / "inbox" / ROUTE_ID

    @property
    def archive(self) -> Path:
        return self.home / "archive-out"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def workers(self) -> list[Child]:
        return [c for name, c in sorted(self.children.items()) if name.startswith("worker")]

    def check_alive(self) -> None:
        """Raise when a component died (a worker killed on purpose is no longer in ``children``)."""
        for child in self.children.values():
            child.check()

    # --- Airflow ------------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            answer = requests.post(f"{self.api_url}/auth/token",
                                   json={"username": ADMIN, "password": self.env["_SCALE_ADMIN_PASSWORD"]},
                                   timeout=30)
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return {"Authorization": f"Bearer {self._token}"}

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = requests.request(method, f"{self.api_url}/api/v2{path}", headers=self._headers(), timeout=60,
                                  **kwargs)
        if answer.status_code == 401:  # the token expired: once more with a new one
            self._token = None
            answer = requests.request(method, f"{self.api_url}/api/v2{path}", headers=self._headers(), timeout=60,
                                      **kwargs)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def active_runs(self) -> list[dict[str, Any]]:
        found = self.api("GET", f"/dags/{DAG_ID}/dagRuns", params={"state": ["queued", "running"], "limit": 100})
        return list(found["dag_runs"])

    def runs(self) -> Counter[str]:
        found = self.api("GET", f"/dags/{DAG_ID}/dagRuns", params={"limit": 1000})
        return Counter(str(run["state"]) for run in found["dag_runs"])

    def trigger(self) -> str:
        run = self.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
        return str(run["dag_run_id"])

    def running_task_pids(self) -> list[int]:
        """The process ids of the task instances running now, of any run of the route's DAG."""
        found = self.api("GET", f"/dags/{DAG_ID}/dagRuns/~/taskInstances", params={"state": ["running"],
                                                                                   "limit": 1000})
        return [int(ti["pid"]) for ti in found["task_instances"] if ti.get("pid")]

    def worker_of(self, pid: int) -> Child | None:
        """The Celery worker whose session holds ``pid`` (the task process is a descendant of the worker)."""
        try:
            session = os.getsid(pid)
        except ProcessLookupError:
            return None
        return next((w for w in self.workers if w.process.pid == session), None)

    # --- submissions --------------------------------------------------------------------------------

    def drop(self, count: int) -> None:
        """``count`` distinct bygglov submissions into the inbox, each written aside and renamed in (atomically)."""
        sample = SAMPLE.read_bytes()
        staging = self.root / "outbox"
        staging.mkdir(exist_ok=True)
        self.inbox.mkdir(parents=True, exist_ok=True)
        for _ in range(count):
            flow_id = self._next_flow_id
            self._next_flow_id += 1
            # Each on a property of its own, as a kommun's applications are: ByggR's check-before-create searches by
            # property, and a thousand cases on one property would measure that search, not Brygga.
            data = sample.replace(SAMPLE_FLOW_ID, f"<FlowInstanceID>{flow_id}</FlowInstanceID>".encode()).replace(
                SAMPLE_PROPERTY, f"KUMLA KVARNEN {flow_id // 1000}:{flow_id % 1000 + 1}".encode())
            name = f"flowinstance-{flow_id}.xml"
            (staging / name).write_bytes(data)
            (staging / name).rename(self.inbox / name)
            self.dropped.append(hashlib.sha256(data).hexdigest())
            self.references.append(str(flow_id))

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.ledger_url, pool_size=2)
        return self._engine

    def states(self) -> Counter[str]:
        with contextlib.suppress(Exception), self.engine.connect() as conn:  # before the first run: no tables
            rows = conn.execute(text("SELECT state, count(*) FROM submissions GROUP BY state"))
            return Counter({str(state): int(n) for state, n in rows})
        return Counter()

    def submissions(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, state, content_sha256, source_reference, external_ref "
                                     "FROM submissions WHERE route_id = :route"), {"route": ROUTE_ID})
            return [dict(row._mapping) for row in rows]

    def deliveries(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT submission_id, target, state, external_ref, attempts FROM deliveries"))
            return [dict(row._mapping) for row in rows]

    def byggr_counts(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.simulators['byggr'].base_url}/_sim/counts", timeout=120).json())

    def callbacks(self) -> dict[str, dict[str, int]]:
        return dict(requests.get(f"{self.simulators['oep-callback'].base_url}/_sim/callbacks", timeout=120).json())

    def packages_per_reference(self) -> tuple[Counter[str], int]:
        """SIPs in the archive folder by the FlowInstanceID in their case.json; and half-written folders."""
        per_reference: Counter[str] = Counter()
        half = 0
        for entry in self.archive.iterdir() if self.archive.exists() else []:
            if entry.name.startswith("."):  # a staging folder may stay, empty; what is in it is half-written
                half += len(list(entry.iterdir())) if entry.is_dir() else 1
                continue
            case_json = entry / "representations" / "rep1" / "data" / "case.json"
            reference = _source_reference(json.loads(case_json.read_text(encoding="utf-8"))) \
                if case_json.is_file() else None
            per_reference[str(reference or entry.name)] += 1
        return per_reference, half

    # --- driving it ---------------------------------------------------------------------------------

    def drain(self, expected: int, timeout: float, *, progress: Callable[[str], None] = print,
              during: Callable[[Cluster, Counter[str]], None] | None = None) -> float:
        """Trigger runs until ``expected`` submissions are done (completed, quarantined, duplicate, superseded) and
        the inbox is empty; seconds it took. A run is triggered only when none is queued or running, so an
        event-driven DAG's own runs are waited for rather than doubled. ``during`` is called at every poll."""
        started = time.monotonic()
        deadline = started + timeout
        last_report = 0.0
        while True:
            self.check_alive()
            states = self.states()
            done = sum(states[s] for s in DONE)
            waiting = any(self.inbox.iterdir())
            now = time.monotonic()
            if now - last_report >= 10:
                shown = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "nothing landed yet"
                progress(f"  {now - started:5.0f} s: {shown}; {len(list(self.inbox.iterdir()))} in the inbox")
                last_report = now
            if done >= expected and not waiting:
                return now - started
            if now >= deadline:
                raise TimeoutError(f"{done} of {expected} done after {timeout:.0f} s ({dict(states)}); "
                                   f"logs in {self.logs}")
            if during is not None:
                during(self, states)
            if not self.active_runs():
                self.trigger()
            time.sleep(1)

    def verify(self) -> list[str]:
        """What is wrong: a dropped file that is no submission, a submission not completed, a reference with more
        or fewer than one case, delivery, SIP or status message. Empty when nothing was lost or duplicated."""
        problems: list[str] = []
        rows = self.submissions()
        by_sha = {row["content_sha256"]: row for row in rows}
        lost = [sha for sha in self.dropped if sha not in by_sha]
        if lost:
            problems.append(f"{len(lost)} dropped file(s) never became a submission")
        if leftover := list(self.inbox.iterdir()):
            problems.append(f"{len(leftover)} file(s) still in the inbox")
        if len(rows) != len(self.dropped):
            problems.append(f"{len(rows)} submissions for {len(self.dropped)} files dropped")
        states = Counter(row["state"] for row in rows)
        if states["completed"] != len(self.dropped):
            problems.append(f"not all completed: {dict(states)}")
        references = Counter(row["source_reference"] for row in rows)
        twice = [ref for ref, n in references.items() if n != 1]
        if twice or set(references) != set(self.references):
            problems.append(f"{len(twice)} reference(s) with more than one submission, "
                            f"{len(set(self.references) - set(references))} without one")
        delivered = Counter(d["submission_id"] for d in self.deliveries()
                            if d["target"] == "byggr" and d["state"] == "delivered")
        if sorted(delivered.values()) != [1] * len(rows) or set(delivered) != {row["id"] for row in rows}:
            problems.append(f"deliveries to byggr: {len(delivered)} submissions delivered of {len(rows)}, "
                            f"{sum(n > 1 for n in delivered.values())} delivered more than once")
        counts = self.byggr_counts()
        per_ref = Counter(counts["cases_per_extern_ref"])
        if counts["cases"] != len(rows):
            problems.append(f"ByggR holds {counts['cases']} cases for {len(rows)} submissions")
        if extra := sum(n - 1 for n in per_ref.values() if n > 1):
            problems.append(f"{extra} duplicate case(s) in ByggR (same externRef)")
        if dup_docs := sum(counts["duplicate_documents"].values()):
            problems.append(f"{dup_docs} duplicate document(s) in ByggR cases")
        dnrs = Counter(row["external_ref"] for row in rows)
        if None in dnrs or any(n > 1 for n in dnrs.values()):
            problems.append("submissions without a diarienummer, or two sharing one")
        packages, half = self.packages_per_reference()
        if sorted(packages) != sorted(self.references) or any(n != 1 for n in packages.values()):
            problems.append(f"SIPs: {sum(packages.values())} for {len(self.references)} references, "
                            f"{sum(n > 1 for n in packages.values())} references with more than one")
        if half:
            problems.append(f"{half} half-written package folder(s) in the archive folder")
        callbacks = self.callbacks()
        messages = Counter({ref: ops.get("addMessage", 0) for ref, ops in callbacks.items()})
        if set(messages) != set(self.references) or any(n != 1 for n in messages.values()):
            problems.append(f"status messages: {sum(messages.values())} for {len(self.references)} references, "
                            f"{sum(n > 1 for n in messages.values())} sent more than once")
        return problems

    def kill_worker(self, worker: Child) -> None:
        """SIGKILL the whole worker (the Celery parent, its pool, the task processes under it)."""
        worker.kill()
        del self.children[worker.name]


def _source_reference(document: Any) -> str | None:
    """The e-service reference in a package's case.json, wherever the case sits in it."""
    if isinstance(document, dict):
        source = document.get("source")
        if isinstance(source, dict) and isinstance(source.get("reference"), str):
            return str(source["reference"])
        for value in document.values():
            if found := _source_reference(value):
                return found
    return None


def airflow_env(root: Path, airflow_db: str, ledger_db: str, queue: str, api_port: int,
                connections: dict[str, str], concurrency: int) -> dict[str, str]:
    """Every component's environment: nothing of the shell's AIRFLOW_* or BRYGGA_*, then the cluster's."""
    password = secrets.token_urlsafe(16)
    passwords = root / "passwords.json"
    passwords.write_text(json.dumps({ADMIN: password}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env.update(
        # The venv's bin first: Airflow starts its own helpers by name.
        PATH=os.pathsep.join([str(PYTHON.parent), env.get("PATH", "")]),
        PYTHONUNBUFFERED="1",
        AIRFLOW_HOME=str(root / "airflow"),
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{api_port}/execution/",
        AIRFLOW__CORE__AUTH_MANAGER="airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{ADMIN}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{api_port}",
        AIRFLOW__API__SECRET_KEY=secrets.token_hex(32),
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=airflow_db,
        AIRFLOW__CELERY__BROKER_URL=AMQP_URL,
        # The driver named: SQLAlchemy 2.1's default for postgresql:// is psycopg 3, which is not installed.
        AIRFLOW__CELERY__RESULT_BACKEND=f"db+{airflow_db}",
        AIRFLOW__CELERY__WORKER_CONCURRENCY=str(concurrency),
        # This cluster's own queue on the shared broker.
        AIRFLOW__OPERATORS__DEFAULT_QUEUE=queue,
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="10",
        # A task whose worker died is noticed in 30 s instead of 5 minutes, so the kill phase fits in the test.
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="30",
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL="5",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        # Two clusters (or another helper's standalone) on one machine must not fight over the log server's port.
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        BRYGGA_HOME=str(root / "home"),
        BRYGGA_ROUTES=str(root / "routes.yaml"),
        BRYGGA_DATABASE_URL=ledger_db,
        _SCALE_ADMIN_PASSWORD=password,
    )
    for conn_id, uri in connections.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = uri
    return env


@contextlib.contextmanager
def cluster(workers: int = 2, *, concurrency: int = 4, keep: bool = False,
            progress: Callable[[str], None] = print) -> Iterator[Cluster]:
    """Start everything, yield the running cluster, stop everything and drop its databases."""
    reason = why_not()
    if reason:
        raise RuntimeError(reason)
    root = Path(tempfile.mkdtemp(prefix="brygga-scale-"))
    logs = root / "logs"
    logs.mkdir()
    (root / "routes.yaml").write_text(routes_yaml(), encoding="utf-8")
    children: dict[str, Child] = {}
    sims: dict[str, Simulator] = {}
    started = time.monotonic()
    try:
        with throwaway_databases("brygga_scale_airflow", "brygga_scale_ledger") as (airflow_db, ledger_db):
            base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
            sims["byggr"] = start_simulator_process("byggr", base_env, logs)
            sims["oep-callback"] = start_simulator_process("oep-callback", base_env, logs)
            api_port = free_port()
            queue = f"brygga_scale_{uuid.uuid4().hex[:8]}"
            env = airflow_env(root, airflow_db, ledger_db, queue, api_port,
                              {"byggr_scale": sims["byggr"].uri, "oep_scale": sims["oep-callback"].uri},
                              concurrency)
            Path(env["BRYGGA_HOME"]).mkdir()
            progress(f"cluster: {root} (logs in {logs}); airflow db migrate on PostgreSQL ...")
            migrated = subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True,
                                      timeout=600, check=False)
            (logs / "db-migrate.log").write_text(migrated.stdout + migrated.stderr, encoding="utf-8")
            if migrated.returncode != 0:
                raise RuntimeError(f"airflow db migrate failed:\n{migrated.stderr[-3000:]}")
            airflow = str(AIRFLOW)
            children["api-server"] = start_child("api-server", [airflow, "api-server", "--host", "127.0.0.1",
                                                                "--port", str(api_port), "--workers", "1"], env, logs)
            children["scheduler"] = start_child("scheduler", [airflow, "scheduler"], env, logs)
            children["dag-processor"] = start_child("dag-processor", [airflow, "dag-processor"], env, logs)
            children["triggerer"] = start_child("triggerer", [airflow, "triggerer", "--skip-serve-logs"], env, logs)
            for i in range(1, workers + 1):
                children[f"worker{i}"] = start_worker(i, env, logs, queue, concurrency)
            the = Cluster(root=root, env=env, api_url=f"http://127.0.0.1:{api_port}", ledger_url=ledger_db,
                          queue=queue, simulators=sims, children=children)
            _wait_ready(the, progress)
            progress(f"cluster: up in {time.monotonic() - started:.0f} s with {workers} Celery worker(s)")
            try:
                yield the
            finally:
                if the._engine is not None:
                    the._engine.dispose()
                _stop_all(children, sims)
    finally:
        _stop_all(children, sims)
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def start_worker(i: int, env: dict[str, str], logs: Path, queue: str, concurrency: int) -> Child:
    """``airflow celery worker`` on the cluster's queue, named for this cluster, without a log server."""
    return start_child(f"worker{i}", [str(AIRFLOW), "celery", "worker", "--queues", queue,
                                      "--celery-hostname", f"{queue}-w{i}@%h", "--concurrency", str(concurrency),
                                      "--skip-serve-logs", "--without-gossip", "--without-mingle"], env, logs)


def _wait_ready(the: Cluster, progress: Callable[[str], None]) -> None:
    def healthy() -> bool:
        with contextlib.suppress(requests.RequestException, ValueError):
            health = requests.get(f"{the.api_url}/api/v2/monitor/health", timeout=5).json()
            return all(str((health.get(part) or {}).get("status")) == "healthy"
                       for part in ("metadatabase", "scheduler", "triggerer", "dag_processor"))
        return False

    wait_for("api-server, scheduler, triggerer and dag-processor healthy", healthy, 300, every=1,
             alive=the.check_alive)

    def dag_parsed() -> bool:
        with contextlib.suppress(requests.RequestException):
            return bool(the.api("GET", f"/dags/{DAG_ID}"))
        return False

    wait_for(f"DAG {DAG_ID} parsed", dag_parsed, 300, every=2, alive=the.check_alive)
    the.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
    for worker in the.workers:
        wait_for(f"{worker.name} ready", lambda w=worker: " ready." in tail(w.log, 200_000), 180, every=1,
                 alive=the.check_alive)
    progress("cluster: every component is up; the DAG is parsed and unpaused")


def _stop_all(children: dict[str, Child], sims: dict[str, Simulator]) -> None:
    # Workers first (they finish what they run), the scheduler and the rest after, the simulators last.
    for name in sorted(children, key=lambda n: (not n.startswith("worker"), n)):
        children[name].stop()
    children.clear()
    for sim in sims.values():
        sim.child.stop(timeout=10)


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv[1:])
    with cluster(args.workers, keep=True) as the:
        print(f"api: {the.api_url} (user {ADMIN}, password in {the.root / 'passwords.json'})")
        print(f"inbox: {the.inbox}\nledger: {the.ledger_url}\nlogs: {the.logs}\nCtrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
