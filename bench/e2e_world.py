"""The end-to-end bench's world: a fresh BRYGGA_HOME, the bundled route, N unique submissions in its inbox, and the
systems it calls (ByggR, the property register, Open ePlatform's callback) as simulators in processes of their own,
so their CPU and memory are not the measured process's. Afterwards, what came out, counted at the source of truth:
the ledger's states, the simulator's cases, the SIPs in the archive folder and the callbacks Open ePlatform took.

The submissions are spread over properties, a few cases each (``cases_per_property``), as a kommun's cases are; the
property register (``bench/e2e_register.py``) knows every one. All of them on one property would measure the ByggR
adapter's search for an existing case among thousands of cases on that property, which no kommun has.

Simulators are started with ``python -m brygga_simulators NAME`` and stopped with SIGINT (their clean stop).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from brygga.resources import resource

ROUTE = "kumla-bygglov"
FIRST_FLOW_ID = 100001
# The systems the route calls over a connection: connection id -> simulator.
SIMULATED = {"byggr_kumla": "byggr", "fastighetsregister_kumla": "property-register", "oep_kumla": "oep-callback"}
START_TIMEOUT_S = 60.0
DONE_STATES = ("completed", "quarantined", "duplicate", "superseded")


def sample_path() -> Path:
    """The realistic bygglov export (tests/samples), from the repository this bench runs in."""
    return Path(__file__).resolve().parents[1] / "tests" / "samples" / "open-eplatform" / "bygglov-person.xml"


@dataclass
class SimulatorProcess:
    name: str
    process: subprocess.Popen[bytes]
    url: str  # the service URL a connection points at
    base_url: str
    user: str
    secret: str

    @property
    def connection_uri(self) -> str:
        with_account = self.url.replace("://", f"://{self.user}:{self.secret}@", 1)
        return f"{with_account}?allow_http=true&read_timeout=60"

    def view(self, what: str) -> Any:
        response = requests.get(f"{self.base_url}/_sim/{what}", auth=(self.user, self.secret), timeout=120)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_simulator_process(name: str, log: Path, properties: int) -> SimulatorProcess:
    """``python -m brygga_simulators NAME`` on a free port, with a made-up account (the property register: the
    bench's own, which knows the bench's properties); its URL from its first line."""
    secret = secrets.token_urlsafe(24)
    out = log.with_suffix(".out")
    command = [sys.executable, "-m", "brygga_simulators", name, "--option", f"basic_auth=brygga:{secret}"]
    if name == "property-register":
        command = [sys.executable, str(Path(__file__).with_name("e2e_register.py")), str(properties),
                   f"brygga:{secret}"]
    with out.open("wb") as stdout, log.open("ab") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, start_new_session=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + START_TIMEOUT_S
    prefix = f"{name} simulator: "
    while time.monotonic() < deadline:
        lines = out.read_text(encoding="utf-8", errors="replace").splitlines()
        url = next((line.removeprefix(prefix) for line in lines if line.startswith(prefix)), None)
        if url:
            base = url.split("/", 3)
            return SimulatorProcess(name, process, url, "/".join(base[:3]), "brygga", secret)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise SystemExit(f"the {name} simulator did not start:\n{log.read_text(errors='replace')[-2000:]}")


def bench_property(number: int) -> tuple[str, str, str, int, str]:
    """Property ``number`` of the bench: (designation, trakt, blockenhet, FNR, object identity)."""
    blockenhet = f"{100 + number // 1000}:{number % 1000 + 1}"
    identity = str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://brygga.invalid/bench/property/{number}"))
    return f"KUMLA KVARNEN {blockenhet}", "KVARNEN", blockenhet, 90_000_000 + number, identity


def properties_for(submissions: int, cases_per_property: int) -> int:
    return max(1, -(-submissions // cases_per_property))


SAMPLE_PROPERTY = (b"KUMLA KVARNEN 4:12", b"5f0e4b7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b")


def submission_bytes(sample: bytes, number: int, properties: int = 1) -> bytes:
    """The sample as submission ``number``: its own FlowInstanceID and its own description, so every file is a
    different submission with a different case, not a duplicate Brygga would fold into one; on property
    ``number % properties``."""
    flow_id, description = b"<FlowInstanceID>2001</FlowInstanceID>", b"Nybyggnad av enbostadshus med carport."
    if any(sample.count(part) != 1 for part in (flow_id, description, *SAMPLE_PROPERTY)):
        raise SystemExit(f"{sample_path()}: the sample changed; the bench cannot make its submissions unique")
    designation, _, _, _, identity = bench_property(number % properties)
    return (sample.replace(flow_id, f"<FlowInstanceID>{FIRST_FLOW_ID + number}</FlowInstanceID>".encode())
            .replace(description, f"Nybyggnad av enbostadshus med carport, ansökan {number + 1}.".encode())
            .replace(SAMPLE_PROPERTY[0], designation.encode()).replace(SAMPLE_PROPERTY[1], identity.encode()))


@dataclass
class World:
    """One mode's world: a home, a routes file, simulators; ``close`` removes it all."""

    label: str
    root: Path
    batch_size: int | None = None
    properties: int = 1
    simulators: dict[str, SimulatorProcess] = field(default_factory=dict)

    @classmethod
    def create(cls, label: str, batch_size: int | None, properties: int, parent: Path | None = None) -> World:
        root = Path(tempfile.mkdtemp(prefix=f"brygga-e2e-{label}-", dir=parent))
        world = cls(label, root, batch_size, properties)
        world.home.mkdir()
        world.inbox.mkdir(parents=True)
        world._write_routes()
        try:
            for conn_id, name in SIMULATED.items():
                world.simulators[conn_id] = start_simulator_process(name, root / f"{name}.log", properties)
        except BaseException:
            world.close()
            raise
        return world

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def inbox(self) -> Path:
        return self.home / "inbox" / ROUTE

    @property
    def archive(self) -> Path:
        return self.home / "archive-out"

    @property
    def ledger_file(self) -> Path:
        return self.home / "ledger.sqlite"

    @property
    def routes_file(self) -> Path:
        return self.root / "routes.yaml"

    def _write_routes(self) -> None:
        """The bundled route as shipped, alone (the other routes call systems this bench does not start), with the
        batch size asked for, and no schedule: runs are started here."""
        bundled = yaml.safe_load(resource("routes", "routes.yaml").read_text(encoding="utf-8"))
        (route,) = [r for r in bundled["routes"] if r["id"] == ROUTE]
        route["schedule"] = None
        if self.batch_size is not None:
            route["batch_size"] = self.batch_size
        document = {"tenants": bundled["tenants"], "alerts": bundled.get("alerts", {"notifiers": [{"adapter": "log"}]}),
                    "routes": [route]}
        self.routes_file.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def environment(self) -> dict[str, str]:
        """What this world's runs see: the home, the routes file, and each connection as Brygga and Airflow read it."""
        env = {"BRYGGA_HOME": str(self.home), "BRYGGA_ROUTES": str(self.routes_file),
               "BRYGGA_DATABASE_URL": f"sqlite:///{self.ledger_file}"}
        for conn_id, sim in self.simulators.items():
            env[f"BRYGGA_CONN_{conn_id.upper()}"] = sim.connection_uri
            env[f"AIRFLOW_CONN_{conn_id.upper()}"] = sim.connection_uri
        return env

    def enter(self) -> None:
        for key in [k for k in os.environ if k.startswith(("BRYGGA_CONN_", "AIRFLOW_CONN_"))]:
            del os.environ[key]
        os.environ.update(self.environment())

    def drop(self, count: int, sample: bytes) -> None:
        """``count`` unique submissions into the inbox, each written under a temporary name and renamed, as a
        partner's upload arrives."""
        for number in range(count):
            path = self.inbox / f"flowinstance-{FIRST_FLOW_ID + number}.xml"
            partial = path.with_name(f".{path.name}.part")
            partial.write_bytes(submission_bytes(sample, number, self.properties))
            partial.rename(path)

    # --- what came out ------------------------------------------------------------------------

    def waiting(self) -> int:
        return sum(1 for p in self.inbox.iterdir() if not p.name.startswith("."))

    def states(self) -> dict[str, int]:
        """Submissions by state, read with sqlite3 itself so the bench's ledger clock does not count its reads."""
        if not self.ledger_file.exists():
            return {}
        with sqlite3.connect(self.ledger_file, timeout=30) as db:
            return dict(db.execute("SELECT state, count(*) FROM submissions WHERE route_id = ? GROUP BY state",
                                   (ROUTE,)).fetchall())

    def journal_mode(self) -> str:
        with sqlite3.connect(self.ledger_file, timeout=30) as db:
            return str(db.execute("PRAGMA journal_mode").fetchone()[0])

    def settled(self) -> bool:
        states = self.states()
        return self.waiting() == 0 and sum(n for s, n in states.items() if s not in DONE_STATES) == 0

    def packages(self) -> int:
        """SIPs the e-archive would pick up: the archive folder's entries, not the half-copied (hidden) ones."""
        if not self.archive.exists():
            return 0
        return sum(1 for p in self.archive.iterdir() if not p.name.startswith("."))

    def outcome(self, expected: int) -> Outcome:
        counts = self.simulators["byggr_kumla"].view("counts")
        per_ref = counts.get("cases_per_extern_ref", {})
        callbacks = self.simulators["oep_kumla"].view("callbacks")
        expected_flows = {str(FIRST_FLOW_ID + n) for n in range(expected)}
        return Outcome(expected=expected, states=self.states(), cases=int(counts.get("cases", 0)),
                       duplicate_cases=sum(n - 1 for n in per_ref.values() if n > 1), packages=self.packages(),
                       callbacks=len(expected_flows & set(callbacks)), waiting=self.waiting())

    def close(self, keep: bool = False) -> None:
        for sim in self.simulators.values():
            sim.stop()
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True)
class Outcome:
    expected: int
    states: dict[str, int]
    cases: int
    duplicate_cases: int
    packages: int
    callbacks: int  # flow instances Open ePlatform got a status callback for
    waiting: int  # files still in the inbox

    @property
    def completed(self) -> int:
        return self.states.get("completed", 0)

    @property
    def ok(self) -> bool:
        n = self.expected
        return (self.completed == n and self.cases == n and self.duplicate_cases == 0 and self.packages == n
                and self.callbacks == n and self.waiting == 0)

    def summary(self) -> str:
        others = ", ".join(f"{n} {s}" for s, n in sorted(self.states.items()) if s != "completed")
        return (f"{self.completed:,} of {self.expected:,} completed{f' ({others})' if others else ''}; "
                f"{self.cases:,} cases in the ByggR simulator ({self.duplicate_cases} duplicates); "
                f"{self.packages:,} SIPs in the archive folder; status callbacks for {self.callbacks:,} flow "
                f"instances; {self.waiting} files left in the inbox")
