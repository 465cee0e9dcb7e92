"""The fault runner's machinery: simulators on real sockets, a temporary BRYGGA_HOME, route ticks in child
processes, and the count of what came out of it, read from the simulators' and the ledger's real state.

``bench/faults.py`` defines the scenarios and prints the table; this module knows nothing of particular faults.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml
from sqlalchemy import JSON, String, Text, column, create_engine, inspect, select, table, text
from sqlalchemy.engine import Engine

from brygga.errors import ConfigError
from brygga.resources import resource
from brygga.routes import load_routes
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.oep_export import write_export_with_drawing

ROUTE = "kumla-bygglov"
TICK_SCRIPT = Path(__file__).with_name("faults_tick.py")
SAMPLE = resource("samples", "open-eplatform", "bygglov-person.xml")
SAMPLE_PERSONNUMMER = "198503142385"  # the applicant in SAMPLE (written 19850314-2385 there)
DONE_STATES = ("completed", "quarantined", "duplicate", "superseded")
TICK_LIMIT_S = 150.0  # a tick that runs longer is hung: killed and counted red
PG_HOST, PG_PORT = "127.0.0.1", 5432


def personnummer_forms(pnr: str = SAMPLE_PERSONNUMMER) -> list[str]:
    """Every way the personnummer may be written: 12 digits, with a dash, 10 digits."""
    return [pnr, f"{pnr[:8]}-{pnr[8:]}", pnr[2:], f"{pnr[2:8]}-{pnr[8:]}"]


_LONG_NUMBER = re.compile(r"\d{6,8}-?\d{4}")


def masked(text_: str) -> str:
    """For the runner's own output: a reason may quote a personnummer (that is what some scenarios test)."""
    return _LONG_NUMBER.sub("[number]", text_)


@dataclass
class Result:
    scenario: str
    label: str
    expected: str
    ticks: int = 0
    submissions: int = 0
    lost: int = 0
    duplicate_cases: int = 0
    duplicate_documents: int = 0
    duplicate_packages: int = 0
    duplicate_callbacks: int = 0
    manual_replays: int = 0
    red_ticks: int = 0
    kills: int = 0
    faults_fired: int = 0  # calls the simulators answered by a fault rule: proof the fault happened
    seconds: float = 0.0
    settled: bool = False
    meets_target: bool = False
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass
class TickOutcome:
    number: int
    codes: list[int | None]
    killed: int
    seconds: float
    errors: list[str] = field(default_factory=list)

    @property
    def red(self) -> bool:
        """run_route raised (or hung) in a child that was not killed on purpose."""
        return any(code not in (0, None, -signal.SIGKILL) for code in self.codes) or None in self.codes


class Harness:
    """One scenario's world: simulators, a home folder, a ledger, and the ticks run against them."""

    def __init__(self, *, name: str, submissions: int, drawing_bytes: int = 0, drawings: int = 0,
                 read_timeout: float = 10.0, in_doubt_delay: str | None = None, database_url: str | None = None,
                 busy_timeout_ms: int | None = None, log: Callable[[str], None] = print) -> None:
        self.name = name
        self.log = log
        self.root = Path(tempfile.mkdtemp(prefix=f"brygga-faults-{name}-"))
        self.home = self.root / "home"
        self.home.mkdir()
        self.inbox = self.home / "inbox" / ROUTE
        self.inbox.mkdir(parents=True)
        self.archive = self.home / "archive-out"
        self.archive.mkdir()
        self.task_log = self.root / "task.log"
        self.outbox = self.root / "outbox"
        self.read_timeout = read_timeout
        self.database_url = database_url or f"sqlite:///{self.home / 'ledger.sqlite'}"
        self.busy_timeout_ms = busy_timeout_ms
        self.byggr = start_simulator("byggr")
        self.callback = start_simulator("oep-callback")
        self.register = start_simulator("property-register")
        self.missing_connections: set[str] = set()
        self.routes_note = self._write_routes(in_doubt_delay or f"{int(2 * read_timeout) + 1}s")
        self.dropped: list[str] = []  # sha256 of every file dropped
        self.flow_ids: list[int] = []
        self._drop(submissions, drawing_bytes, drawings)
        self._engine: Engine | None = None

    # --- set-up ----------------------------------------------------------------------------------

    def _write_routes(self, in_doubt_delay: str) -> str:
        """The bundled route with short retry values; without them if this core does not take a retry block."""
        bundled = yaml.safe_load(resource("routes", "routes.yaml").read_text(encoding="utf-8"))
        path = self.home / "routes.yaml"
        retry = {"budget": "120s", "first_delay": "1s", "max_delay": "4s", "in_doubt_delay": in_doubt_delay}
        with_retry = json.loads(json.dumps(bundled))
        for route in with_retry["routes"]:
            route.pop("max_delivery_attempts", None)
            route["retry"] = retry
        for document, note in ((with_retry, f"retry {retry}"),
                               (bundled, "this core takes no retry block: count-based retries")):
            path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
            try:
                load_routes(path, resource("mappings"))
                return note
            except ConfigError:
                continue
        raise ConfigError("the bundled routes file does not load, with or without a retry block")

    def _drop(self, count: int, drawing_bytes: int, drawings: int) -> None:
        """Write every submission's file into an outbox; ``release`` moves them into the inbox (atomically)."""
        sample = SAMPLE.read_bytes()
        base = 3001
        self.outbox.mkdir()
        for index in range(count):
            flow_id = base + index
            target = self.outbox / f"flowinstance-{flow_id}.xml"
            if index < drawings:
                write_export_with_drawing(target, drawing_bytes, flow_instance_id=str(flow_id))
            else:
                target.write_bytes(sample.replace(b"<FlowInstanceID>2001</FlowInstanceID>",
                                                  f"<FlowInstanceID>{flow_id}</FlowInstanceID>".encode()))
            self.dropped.append(_sha256(target))
            self.flow_ids.append(flow_id)

    def release(self, count: int | None = None) -> int:
        """Drop ``count`` (None: all) of the waiting files into the route's inbox; how many are still waiting."""
        waiting = sorted(self.outbox.iterdir())
        for path in waiting[:count] if count is not None else waiting:
            path.rename(self.inbox / path.name)
        return len(list(self.outbox.iterdir()))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRYGGA_")}
        env.update(BRYGGA_HOME=str(self.home), BRYGGA_ROUTES=str(self.home / "routes.yaml"),
                   BRYGGA_DATABASE_URL=self.database_url, PYTHONUNBUFFERED="1")
        if self.busy_timeout_ms is not None:
            env["BRYGGA_SQLITE_BUSY_TIMEOUT_MS"] = str(self.busy_timeout_ms)
        timeout = f"allow_http=true&read_timeout={self.read_timeout:g}"
        for conn_id, sim in (("byggr_kumla", self.byggr), ("oep_kumla", self.callback),
                             ("fastighetsregister_kumla", self.register)):
            if conn_id not in self.missing_connections:
                env[f"BRYGGA_CONN_{conn_id.upper()}"] = f"{sim.url}?{timeout}"
        return env

    # --- faults ----------------------------------------------------------------------------------

    def set_faults(self, sim: RunningSimulator, rules: list[dict[str, Any]]) -> None:
        response = requests.post(sim.base_url + "/_sim/faults", json=rules, timeout=10)
        response.raise_for_status()

    def clear_faults(self, sim: RunningSimulator) -> None:
        requests.delete(sim.base_url + "/_sim/faults", timeout=10).raise_for_status()

    def counts(self) -> dict[str, Any]:
        return requests.get(self.byggr.base_url + "/_sim/counts", timeout=10).json()

    def received(self, sim: RunningSimulator, operation: str | None) -> list[dict[str, Any]]:
        return requests.get(sim.base_url + "/_sim/received", params={"operation": operation}, timeout=10).json()

    # --- ticks -----------------------------------------------------------------------------------

    def start_child(self) -> subprocess.Popen[bytes]:
        with self.task_log.open("ab") as out:
            out.write(f"--- child started {time.strftime('%H:%M:%S')}\n".encode())
            return subprocess.Popen([sys.executable, str(TICK_SCRIPT), ROUTE], env=self.env(), stdout=out,
                                    stderr=subprocess.STDOUT, cwd=str(self.home), start_new_session=True)

    def tick(self, number: int, *, concurrency: int = 1,
             killer: Callable[[Harness, list[subprocess.Popen[bytes]]], int] | None = None) -> TickOutcome:
        started = time.monotonic()
        log_offset = self.task_log.stat().st_size if self.task_log.exists() else 0
        children = [self.start_child() for _ in range(concurrency)]
        killed = killer(self, children) if killer is not None else 0
        codes: list[int | None] = []
        for child in children:
            left = max(TICK_LIMIT_S - (time.monotonic() - started), 0.1)
            try:
                codes.append(child.wait(timeout=left))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                codes.append(None)
        outcome = TickOutcome(number, codes, killed, time.monotonic() - started)
        if outcome.red:
            outcome.errors = self._errors_since(log_offset)
        return outcome

    def _errors_since(self, offset: int) -> list[str]:
        """The last line of each traceback the tick's children wrote: the exception a task log would end with."""
        with self.task_log.open("rb") as stream:
            stream.seek(offset)
            lines = stream.read().decode("utf-8", errors="replace").splitlines()
        errors, in_traceback = [], False
        for index, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                in_traceback = True
            elif in_traceback and line and not line.startswith(" "):
                errors.append(masked(line)[:200])
                in_traceback = index + 1 < len(lines) and lines[index + 1].startswith("Traceback")
        return errors

    # --- the ledger ------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.database_url, future=True)
        return self._engine

    def submissions(self) -> list[dict[str, Any]]:
        """Every submission row (id, state, sha256, reference); empty before the first tick made the ledger."""
        with suppress(Exception), self.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, state, content_sha256, source_reference FROM submissions WHERE route_id = :route"),
                {"route": ROUTE})
            return [dict(row._mapping) for row in rows]
        return []

    def quarantine_reasons(self) -> list[str]:
        with suppress(Exception), self.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT q.reasons FROM quarantine q JOIN submissions s ON s.id = q.submission_id "
                "WHERE s.state = 'quarantined' AND q.released_at IS NULL"))
            found: list[str] = []
            for (reasons,) in rows:
                found.extend(json.loads(reasons) if isinstance(reasons, str) else list(reasons or []))
            return found
        return []

    def states(self) -> Counter[str]:
        return Counter(row["state"] for row in self.submissions())

    def settled(self) -> bool:
        if any(self.inbox.iterdir()) or any(self.outbox.iterdir()):
            return False
        rows = self.submissions()
        landed = {row["content_sha256"] for row in rows}
        return all(sha in landed for sha in self.dropped) and all(row["state"] in DONE_STATES for row in rows)

    # --- what came out of it ---------------------------------------------------------------------

    def measure(self, result: Result) -> None:
        result.faults_fired = sum(1 for sim in (self.byggr, self.callback, self.register)
                                  for call in self.received(sim, None) if call.get("action"))
        rows = self.submissions()
        landed = {row["content_sha256"] for row in rows}
        not_landed = sum(sha not in landed for sha in self.dropped)
        unfinished = sum(row["state"] not in DONE_STATES for row in rows)
        # A duplicate or superseded version is only done when another version of its reference reached an end.
        ended = {row["source_reference"] for row in rows if row["state"] in ("completed", "quarantined")}
        orphaned = [row for row in rows if row["state"] in ("duplicate", "superseded")
                    and row["source_reference"] not in ended]
        if orphaned:
            result.notes.append(f"{len(orphaned)} submission(s) marked {orphaned[0]['state']} with no version of "
                                "their reference completed or quarantined")
        result.submissions = len(self.dropped)
        result.lost = not_landed + unfinished + len(orphaned)
        counts = self.counts()
        result.duplicate_cases = sum(n - 1 for n in counts["cases_per_extern_ref"].values())
        cases_without_ref = counts["cases"] - sum(counts["cases_per_extern_ref"].values())
        if cases_without_ref:
            result.notes.append(f"{cases_without_ref} case(s) without externRef")
        result.duplicate_documents = sum(counts["duplicate_documents"].values())
        result.duplicate_packages, half = self.duplicate_packages()
        if half:
            result.notes.append(f"{half} half-written package folder(s) left in the archive folder")
        callbacks = requests.get(self.callback.base_url + "/_sim/callbacks", timeout=10).json()
        result.duplicate_callbacks = sum(max(ops.get("addMessage", 0) - 1, 0) for ops in callbacks.values())
        for operation in ("setStatus", "confirmDelivery"):
            extra = sum(max(ops.get(operation, 0) - 1, 0) for ops in callbacks.values())
            if extra:
                result.notes.append(f"{extra} repeated {operation} (idempotent)")
        result.manual_replays = sum(row["state"] == "quarantined" for row in rows)
        result.reasons = sorted({masked(reason)[:160] for reason in self.quarantine_reasons()})
        if unfinished:
            states = Counter(row["state"] for row in rows if row["state"] not in DONE_STATES)
            result.notes.append("unfinished at the end: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))

    def duplicate_packages(self) -> tuple[int, int]:
        """(packages beyond the first per e-service reference, half-written folders) in the archive folder."""
        per_reference: Counter[str] = Counter()
        half = 0
        for entry in self.archive.iterdir():
            if entry.name.startswith("."):
                half += 1
                continue
            case_json = entry / "representations" / "rep1" / "data" / "case.json"
            reference = _source_reference(json.loads(case_json.read_text(encoding="utf-8"))) \
                if case_json.is_file() else None
            per_reference[reference or entry.name] += 1
        return sum(n - 1 for n in per_reference.values()), half

    def personal_data_leaks(self, forms: list[str]) -> list[str]:
        """Where a personnummer shows up: ledger text columns (but the canonical case itself) and the task logs."""
        found: list[str] = []
        inspector = inspect(self.engine)
        with self.engine.connect() as connection:
            for table_name in inspector.get_table_names():
                for col in inspector.get_columns(table_name):
                    if not isinstance(col["type"], String | Text | JSON):
                        continue
                    if (table_name, col["name"]) == ("submissions", "canonical_json"):
                        continue  # the case itself, by design (purged by retention)
                    values = connection.execute(select(column(col["name"])).select_from(table(table_name)))
                    if any(form in str(value) for (value,) in values for form in forms):
                        found.append(f"ledger {table_name}.{col['name']}")
        logs = self.task_log.read_text(encoding="utf-8", errors="replace") if self.task_log.exists() else ""
        if any(form in logs for form in forms):
            found.append("task logs")
        return found

    # --- tear-down -------------------------------------------------------------------------------

    def close(self, keep: bool = False) -> None:
        for sim in (self.byggr, self.callback, self.register):
            sim.stop()
        if self._engine is not None:
            self._engine.dispose()
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _source_reference(document: Any) -> str | None:
    """The e-service reference in a package's case.json, wherever the case sits in it."""
    if isinstance(document, dict):
        source = document.get("source")
        if isinstance(source, dict) and isinstance(source.get("reference"), str):
            return source["reference"]
        for value in document.values():
            found = _source_reference(value)
            if found:
                return found
    return None


# --- helpers for faults outside the simulators ------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float, children: list[subprocess.Popen[bytes]] | None = None,
             interval: float = 0.05) -> bool:
    """Poll ``condition`` until it holds, the time is up, or every child has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if children and all(child.poll() is not None for child in children):
            return condition()
        time.sleep(interval)
    return False


def sigkill(children: list[subprocess.Popen[bytes]]) -> int:
    killed = 0
    for child in children:
        if child.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
                killed += 1
    return killed


def random_killer(rng: random.Random, kills: list[int], low: float = 1.2, high: float = 3.5,
                  chance: float = 0.7) -> Callable[[Harness, list[subprocess.Popen[bytes]]], int]:
    """Kill the tick's children at a random moment, with ``chance``, while ``kills[0]`` > 0."""

    def killer(harness: Harness, children: list[subprocess.Popen[bytes]]) -> int:
        if kills[0] <= 0 or rng.random() > chance:
            return 0
        moment = rng.uniform(low, high)
        deadline = time.monotonic() + moment
        for child in children:  # until the moment comes, or every child has exited by itself
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
        killed = sigkill(children)
        if killed:
            kills[0] -= 1
            harness.log(f"    SIGKILL after {moment:.2f} s")
        return killed

    return killer


class SqliteLock:
    """Another process's write transaction on the ledger file (``BEGIN EXCLUSIVE``), held until released."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection: sqlite3.Connection | None = None

    def hold(self) -> None:
        self.connection = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        self.connection.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        if self.connection is not None:
            self.connection.execute("COMMIT")
            self.connection.close()
            self.connection = None


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


def mount_read_only(path: Path) -> str | None:
    """Make ``path`` a read-only bind mount of itself; the reason when that cannot be done."""
    if not can_mount():
        return "needs root to mount"
    done = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"mount --bind failed: {done.stderr.strip()[:100]}"
    done = subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        unmount(path)
        return f"remount ro failed: {done.stderr.strip()[:100]}"
    return None


def mount_full(path: Path, size: str = "64k") -> str | None:
    """Mount a tiny tmpfs over ``path`` and fill it, so any write fails with ENOSPC; the reason if not possible."""
    if not can_mount():
        return "needs root to mount a small filesystem"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        return f"mount tmpfs failed: {done.stderr.strip()[:100]}"
    with suppress(OSError), (path / ".filler").open("wb") as filler:
        while True:
            filler.write(b"\0" * 4096)
            filler.flush()
    return None


def unmount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, check=False)


# --- PostgreSQL ------------------------------------------------------------------------------------


def postgres_answers() -> bool:
    with suppress(OSError), socket.create_connection((PG_HOST, PG_PORT), timeout=1):
        return True
    return False


@contextmanager
def throwaway_postgres() -> Iterator[str | None]:
    """A fresh database on the local PostgreSQL, dropped afterwards; yields None when none answers."""
    if not postgres_answers():
        yield None
        return
    name = f"brygga_faults_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/postgres",
                          isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        admin.dispose()
        yield None
        return
    try:
        yield f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with suppress(Exception), admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
