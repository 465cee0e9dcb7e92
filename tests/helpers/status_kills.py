"""The world of the status-flow kill test: simulators on real sockets, a BRYGGA_HOME with a SQLite ledger, cases the
bundled kumla-bygglov route registered, a case officer who moves them, and `python -m brygga.cli status run` /
`bus relay` as child processes that are SIGKILLed at random moments.

A kill moment is counted from the moment the child has the ledger open: importing and loading the routes take
seconds on a busy machine, and a kill there would test nothing. From then on its work takes about a second (the poll,
the calls to Mina sidor and Mina meddelanden, the publishing), and the kills land in it.

While children run, this process holds no connection to the ledger: a second ``Ledger`` made in a process that still
has another one open drops that one's SQLite locks (``brygga.ledger.store._private_sqlite_file`` opens and closes the
database file; sqlite.org/howtocorrupt.html, 2.2), and this process would then read a stale ledger. ``ledger()``
disposes of its engine, and ``assert_ledger_closed`` checks it before children start.
"""

from __future__ import annotations

import gc
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from brygga.ledger import Ledger
from brygga.pipeline import PipelineContext, run_route
from brygga.settings import REPO_ROOT, Settings
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.connections import Simulated, simulate

ROUTE = "kumla-bygglov"
CONNECTION = "byggr_kumla"
SAMPLES = REPO_ROOT / "samples" / "open-eplatform"
AUDIT_QUEUE = "audit.all"
AUDIT_BINDINGS = ("se.brygga.#",)
# Short waits so that a killed worker's call is retried within the test: the in-doubt settle and the backoff.
RETRY = {"budget": "24h", "first_delay": "0s", "max_delay": "1s", "in_doubt_delay": "1s"}
CHILD_LIMIT_S = 150.0  # a child that runs longer is hung
# What each officer's move becomes: the canonical kind the bundled ByggR vocabulary gives it.
MOVE_KINDS = {"assign_handler": "handler_assigned", "request_supplement": "supplement_requested",
              "decide": "decision_made", "close": "closed"}
# The note tell.py writes on an event whose Mina sidor call may have gone out twice.
CALLBACK_IN_DOUBT = ("the status callback", "may have reached the resident twice")

COMMANDS = {"status": ["status", "run", CONNECTION], "relay": ["bus", "relay"]}


@dataclass
class Case:
    sample: str
    dnr: str
    flow_id: str
    at_registration: int  # calls the route's own notify step made to Mina sidor
    moves: list[str] = field(default_factory=list)
    decisions: int = 0
    closed: bool = False


def _open_files(pid: int | str) -> list[str]:
    """Where a process's file descriptors point (Linux /proc)."""
    found = []
    with suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with suppress(OSError):
                found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return found


@dataclass
class Child:
    kind: str  # status | relay
    process: subprocess.Popen[bytes]
    out: Path
    err: Path
    kill_after: float  # seconds after it opened the ledger
    armed_at: float | None = None
    ended_at: float | None = None

    def holds_ledger(self, home: Path) -> bool:
        """Whether it has the ledger's database open: its command is past its set-up."""
        return any(path.startswith(str(home / "ledger.sqlite")) for path in _open_files(self.process.pid))

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # its process group: start_new_session
        self.process.wait()


@dataclass(frozen=True)
class ChildResult:
    kind: str
    returncode: int
    ran_for: float | None  # seconds from opening the ledger to its exit
    output: str
    stderr_tail: str


@dataclass
class World:
    home: Path
    byggr: RunningSimulator
    callback: RunningSimulator
    mailbox: Simulated
    logs: Path
    started: int = 0

    @contextmanager
    def ledger(self) -> Iterator[Ledger]:
        """The ledger, its connections closed afterwards (see the module's note)."""
        ledger = Ledger(Settings.from_env().database_url)
        try:
            yield ledger
        finally:
            ledger.engine.dispose()

    def ledger_files_open(self) -> list[str]:
        """This process's open descriptors of the ledger's files (database, -wal, -shm)."""
        return [path for path in _open_files("self") if path.startswith(str(self.home / "ledger.sqlite"))]

    def assert_ledger_closed(self) -> None:
        gc.collect()  # an engine nobody refers to any more closes its pool when collected
        still_open = self.ledger_files_open()
        assert not still_open, (f"the test process still holds the ledger open ({', '.join(still_open)}) while child "
                                "processes are to run: dispose of every Ledger engine first")

    # --- cases -----------------------------------------------------------------------------------

    def register_cases(self, samples: list[str]) -> list[Case]:
        """Run the samples through kumla-bygglov in this process: each a case in ByggR, told to Mina sidor."""
        inbox = self.home / "inbox" / ROUTE
        inbox.mkdir(parents=True, exist_ok=True)
        for sample in samples:
            shutil.copyfile(SAMPLES / sample, inbox / sample)
        ctx = PipelineContext.for_route(ROUTE, settings=Settings.from_env())
        try:
            run_route(ctx)
        finally:
            ctx.ledger.engine.dispose()
        cases = []
        with self.ledger() as ledger:
            for sample in samples:
                submission = ledger.by_content(ROUTE, hashlib.sha256((SAMPLES / sample).read_bytes()).hexdigest())
                state = submission.state if submission else "not landed"
                assert submission is not None and state == "completed" and submission.external_ref, (
                    f"samples/open-eplatform/{sample}: kumla-bygglov did not register it (state {state})")
                flow_id = str(submission.source_reference)
                cases.append(Case(sample, submission.external_ref, flow_id, len(self.told(flow_id))))
        return cases

    def told(self, flow_id: str) -> list[tuple[str, str]]:
        """(setStatus, status) and (addMessage, text) in the order the callback simulator got them."""
        told = []
        for call in self.callback.app.calls:
            if str(call.fields.get("flowInstanceID")) != flow_id:
                continue
            if call.operation == "setStatus":
                told.append(("setStatus", str(call.fields.get("statusAlias") or call.fields.get("statusID"))))
            elif call.operation == "addMessage":
                told.append(("addMessage", str(call.fields["message"]["message"])))
        return told

    # --- children --------------------------------------------------------------------------------

    def start(self, kind: str, kill_after: float) -> Child:
        self.started += 1
        stem = self.logs / f"{self.started:03d}-{kind}"
        out, err = stem.with_suffix(".out"), stem.with_suffix(".err")
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen([sys.executable, "-m", "brygga.cli", *COMMANDS[kind]], env=dict(os.environ),
                                       stdout=stdout, stderr=stderr, cwd=str(self.home), start_new_session=True)
        return Child(kind, process, out, err, kill_after)

    def run_children(self, kill_after: dict[str, list[float]]) -> list[ChildResult]:
        """Start the children at once (``{"status": [moments], "relay": [...]}``, one per moment); SIGKILL each
        at its moment after it opened the ledger, if it is still running; wait for all of them."""
        self.assert_ledger_closed()
        children = [self.start(kind, moment) for kind, moments in kill_after.items() for moment in moments]
        deadline = time.monotonic() + CHILD_LIMIT_S
        try:
            while any(child.process.poll() is None for child in children):
                now = time.monotonic()
                assert now < deadline, f"children still running after {CHILD_LIMIT_S:.0f} s: " + ", ".join(
                    str(child.err) for child in children if child.process.poll() is None)
                for child in children:
                    if child.process.poll() is not None:
                        child.ended_at = child.ended_at or now
                        continue
                    if child.armed_at is None and child.holds_ledger(self.home):
                        child.armed_at = now
                    if child.armed_at is not None and now >= child.armed_at + child.kill_after:
                        child.kill()
                        child.ended_at = now
                time.sleep(0.005)
        finally:
            for child in children:
                if child.process.poll() is None:
                    child.kill()
        ended = time.monotonic()
        return [ChildResult(child.kind, child.process.returncode,
                            None if child.armed_at is None else (child.ended_at or ended) - child.armed_at,
                            child.out.read_text(encoding="utf-8", errors="replace"),
                            child.err.read_text(encoding="utf-8", errors="replace")[-2000:]) for child in children]


class Officer:
    """A case officer in the ByggR simulator moving cases along their life at random (seeded): a handler first,
    then supplements or a decision, then one more decision (slutbesked) or the closing, which is last."""

    def __init__(self, byggr: RunningSimulator, cases: list[Case], rng: random.Random) -> None:
        self.app = byggr.app
        self.cases = cases
        self.rng = rng
        self.documents = 0

    @staticmethod
    def choices(case: Case) -> list[str]:
        if case.closed:
            return []
        if not case.moves:
            return ["assign_handler"]  # once: a handler's change id is the handler's, so a second one would be new
        if not case.decisions:
            return ["request_supplement", "decide"]
        return ["decide", "close"] if case.decisions < 2 else ["close"]

    def move(self, count: int) -> list[tuple[Case, str]]:
        made = []
        for _ in range(count):
            open_cases = [case for case in self.cases if self.choices(case)]
            if not open_cases:
                break
            case = self.rng.choice(open_cases)
            action = self.rng.choice(self.choices(case))
            self._do(case, action)
            case.moves.append(action)
            made.append((case, action))
        return made

    def _do(self, case: Case, action: str) -> None:
        if action == "decide":
            self.documents += 1
            document = (f"Beslut-{self.documents}.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n")
            slutbesked = case.decisions == 1
            self.app.decide(case.dnr, rubrik="Slutbesked" if slutbesked else "Startbesked",
                            handelseslag="SLU" if slutbesked else "GAAC", document=document)
            case.decisions += 1
        elif action == "close":
            self.app.close(case.dnr)
            case.closed = True
        else:
            getattr(self.app, action)(case.dnr)


def write_routes(home: Path) -> Path:
    """The bundled routes file with short retry waits, and a queue on the bus for every event: a route that is
    never run, so that the relay declares ``audit.all`` and its binding before it publishes (the embedded bus keeps
    bindings in the memory of the process that declares them)."""
    bundled = yaml.safe_load((REPO_ROOT / "routes" / "routes.yaml").read_text(encoding="utf-8"))
    routes = bundled["routes"]
    [kumla] = [route for route in routes if route["id"] == ROUTE]
    kumla["retry"] = dict(RETRY)
    [bus_route] = [route for route in routes if route["source"]["adapter"] == "bus"]
    audit = yaml.safe_load(yaml.safe_dump(bus_route))
    audit["id"] = "audit-all"
    audit["source"]["config"] = {"queue": AUDIT_QUEUE, "bindings": list(AUDIT_BINDINGS)}
    routes.append(audit)
    path = home / "routes.yaml"
    path.write_text(yaml.safe_dump(bundled, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _local(sim: RunningSimulator) -> str:
    return f"{sim.url}?allow_http=true"


@contextmanager
def status_world(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Simulators, a home and the environment, which the children inherit: BRYGGA_HOME, BRYGGA_ROUTES and
    BRYGGA_CONN_<ID> of ByggR, the callback, the property register and Mina meddelanden. The bus is the embedded one
    in the ledger's SQLite file."""
    for key in [key for key in os.environ if key.startswith("BRYGGA_")]:
        monkeypatch.delenv(key)  # a developer's BRYGGA_BUS_URL or database must not reach the test
    with ExitStack() as stack:
        byggr = stack.enter_context(start_simulator("byggr"))
        callback = stack.enter_context(start_simulator("oep-callback"))
        register = stack.enter_context(start_simulator("property-register"))
        mailbox = stack.enter_context(simulate("mina-meddelanden", home / "mina-meddelanden"))
        monkeypatch.setenv("BRYGGA_HOME", str(home))
        monkeypatch.setenv("BRYGGA_ROUTES", str(write_routes(home)))
        for conn_id, uri in (("byggr_kumla", _local(byggr)), ("oep_kumla", _local(callback)),
                             ("fastighetsregister_kumla", _local(register)), ("mina_meddelanden_kumla", mailbox.uri)):
            monkeypatch.setenv(f"BRYGGA_CONN_{conn_id.upper()}", uri)
        logs = home / "children"
        logs.mkdir()
        yield World(home, byggr, callback, mailbox, logs)


@dataclass(frozen=True)
class BusMessage:
    message_id: str
    body: bytes
    event: dict[str, Any]  # the CloudEvent as JSON


def drain_queue(url: str, queue: str = AUDIT_QUEUE, bindings: tuple[str, ...] = AUDIT_BINDINGS) -> list[BusMessage]:
    """Every message on ``queue``, each acknowledged, in the order the queue gives them."""
    from brygga.bus.consumer import BusConsumer, body_of
    from brygga.bus.topology import Subscription

    got = []
    with BusConsumer(url, Subscription(queue, bindings)) as consumer:
        while (message := consumer.get()) is not None:
            body = body_of(message)
            got.append(BusMessage(str(message.properties.get("message_id")), body, orjson.loads(body)))
            consumer.ack(message)
    return got


def callback_in_doubt(detail: str | None) -> bool:
    return all(part in (detail or "") for part in CALLBACK_IN_DOUBT)


def match_told(told: list[tuple[str, str]], expected: list[tuple[str, str, bool]]) -> tuple[list[str], int]:
    """Match what Mina sidor got for one case against its events in recording order, ``(status, text, in_doubt)``:
    each event a setStatus then an addMessage, each call once, or at most twice in a row for an event whose Mina
    sidor call was in doubt. (problems, repeated calls)."""
    problems: list[str] = []
    repeats = at = 0
    for number, (status, text, in_doubt) in enumerate(expected, 1):
        for operation, value in (("setStatus", status), ("addMessage", text)):
            seen = 0
            while at < len(told) and told[at] == (operation, value):
                seen, at = seen + 1, at + 1
            allowed = 2 if in_doubt else 1
            if not 1 <= seen <= allowed:
                problems.append(f"event {number} ({status}): {operation} seen {seen} time(s) in a row at call "
                                f"{at + 1}, expected {'1 or 2' if in_doubt else '1'}")
                return problems, repeats
            repeats += seen - 1
    if at != len(told):
        problems.append(f"{len(told) - at} call(s) after the last event: {[op for op, _ in told[at:]]}")
    return problems, repeats
