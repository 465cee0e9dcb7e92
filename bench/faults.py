"""Fault injection: every fault in the table below, against the real simulators, with route ticks in real child
processes (SIGKILLed in some scenarios), on SQLite and on PostgreSQL when one answers locally.

    .venv/bin/python bench/faults.py                       # every scenario, the table on stdout
    .venv/bin/python bench/faults.py --only byggr-down-5    # one (or a comma-separated few)
    .venv/bin/python bench/faults.py --quick                # fewer submissions
    .venv/bin/python bench/faults.py --write docs/reliability.md   # also between the faults markers there

Each scenario starts the ByggR, Open ePlatform callback and property-register simulators on free ports, makes a
temporary BRYGGA_HOME whose routes file has short retry values, drops its submissions into the inbox, then runs
the route tick by tick in child processes (bench/faults_tick.py, what one Airflow task does), pausing between ticks
as a scheduler would, until every submission has settled or the scenario's deadline passes. Every count comes from
the simulators' inspection views and the ledger:

- lost: a dropped file without a submission, or a submission neither completed nor quarantined at the end;
- duplicate cases (ByggR cases per externRef beyond one), documents (the same content twice in one case),
  packages (archive packages per e-service reference beyond one) and callbacks (addMessage per flowInstanceID
  beyond one);
- manual replays: submissions in quarantine at the end (0 is the target for every transient fault);
- red ticks: ticks where run_route raised (the Airflow task failed), not counting children killed on purpose.

The exit status is 1 when any row misses its target.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_harness import (
    Harness,
    Result,
    SqliteLock,
    TickOutcome,
    masked,
    mount_full,
    mount_read_only,
    personnummer_forms,
    random_killer,
    sigkill,
    throwaway_postgres,
    unmount,
    wait_for,
)

from brygga.ledger import Ledger

BEGIN, END = "<!-- faults:begin -->", "<!-- faults:end -->"
MB = 1024 * 1024
PNR = personnummer_forms()

Hook = Callable[[Harness, int, "Run"], None]


@dataclass
class Run:
    """What a scenario's hooks may change for the coming tick, and keep between ticks."""

    concurrency: int = 1
    killer: Callable[..., int] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None


@dataclass
class Scenario:
    name: str
    label: str
    kind: str  # transient | permanent | infrastructure | concurrency | crash
    before_tick: Hook | None = None
    after_tick: Hook | None = None
    cleanup: Callable[[Harness, Run], None] | None = None
    submissions: int = 5
    quick_submissions: int = 2
    drawings: int = 0
    drawing_bytes: int = 15 * MB
    read_timeout: float = 10.0
    in_doubt_delay: str | None = None
    database: str = "sqlite"
    busy_timeout_ms: int | None = None
    expected_replays: Callable[[int], int] = lambda n: 0
    deadline: float = 75.0
    pause: float = 1.0
    check_personnummer: bool = False
    stagger: int | None = None  # drop this many files before each tick; None: all before the first
    min_ticks: int = 1  # not settled before this tick: the fault must have come and gone

    @property
    def expected(self) -> str:
        return {"permanent": "quarantine", "infrastructure": "red ticks, 0 replays"}.get(self.kind, "0 replays")


# --- hooks ------------------------------------------------------------------------------------------


def window(sim: str, rules: list[dict[str, Any]], first: int = 1, last: int = 1) -> Hook:
    """``rules`` on simulator ``sim`` from tick ``first`` to tick ``last``, then cleared."""

    def hook(h: Harness, tick: int, run: Run) -> None:
        if tick == first:
            h.set_faults(getattr(h, sim), rules)
        elif tick == last + 1:
            h.clear_faults(getattr(h, sim))

    return hook


def once(sim: str, rules: list[dict[str, Any]]) -> Hook:
    """``rules`` on simulator ``sim`` from the first tick on (rules that fire on the nth call stop by themselves)."""
    return window(sim, rules, first=1, last=10**9)


def both(*hooks: Hook) -> Hook:
    def hook(h: Harness, tick: int, run: Run) -> None:
        for each in hooks:
            each(h, tick, run)

    return hook


def no_connection(conn_id: str, tick: int) -> Hook:
    def hook(h: Harness, number: int, run: Run) -> None:
        if number == tick:
            h.missing_connections.add(conn_id)
        else:
            h.missing_connections.discard(conn_id)

    return hook


def archive_fault(mount: Callable[..., str | None], first: int, last: int) -> tuple[Hook, Callable[[Harness, Run],
                                                                                                     None]]:
    def hook(h: Harness, tick: int, run: Run) -> None:
        if tick == first:
            reason = mount(h.archive)
            if reason:
                run.skipped = f"skipped: {reason}"
            else:
                run.state["mounted"] = True
        elif tick == last + 1 and run.state.pop("mounted", False):
            unmount(h.archive)

    def cleanup(h: Harness, run: Run) -> None:
        if run.state.pop("mounted", False):
            unmount(h.archive)

    return hook, cleanup


def sqlite_lock(first: int, last: int) -> tuple[Hook, Callable[[Harness, Run], None]]:
    def hook(h: Harness, tick: int, run: Run) -> None:
        if tick == first:
            Ledger(h.database_url).engine.dispose()  # the ledger exists (in WAL mode) before it is locked
            lock = SqliteLock(h.home / "ledger.sqlite")
            lock.hold()
            run.state["lock"] = lock
        elif tick == last + 1 and "lock" in run.state:
            run.state.pop("lock").release()

    def cleanup(h: Harness, run: Run) -> None:
        if "lock" in run.state:
            run.state.pop("lock").release()

    return hook, cleanup


def kill_after_create(h: Harness, tick: int, run: Run) -> None:
    """Tick 1: SaveNewArende is carried out, then answered 5 s late; the child is killed once the case exists."""
    if tick == 1:
        h.set_faults(h.byggr, [{"operation": "SaveNewArende", "action": "delay", "phase": "after", "seconds": 5,
                                "nth": 1}])

        def killer(harness: Harness, children: list[Any]) -> int:
            created = wait_for(lambda: harness.counts()["cases"] >= 1, timeout=60, children=children)
            if not created:
                return 0
            harness.log("    the case exists, its answer is pending: SIGKILL")
            return sigkill(children)

        run.killer = killer
    else:
        run.killer = None


def random_kills(seed: str, kills: int = 4) -> Hook:
    def hook(h: Harness, tick: int, run: Run) -> None:
        if tick == 1:
            run.state["killer"] = random_killer(random.Random(seed), [kills], low=1.0, high=3.5, chance=0.9)
            # Some latency on every remote call, so a tick's work spans seconds and a kill can land in any step.
            for sim in (h.byggr, h.callback):
                h.set_faults(sim, [{"operation": "*", "action": "delay", "seconds": 0.25}])
        run.killer = run.state["killer"]

    return hook


def two_at_once(h: Harness, tick: int, run: Run) -> None:
    run.concurrency = 2
    if tick == 1:  # a callback service with some latency, so the two runs' notify steps overlap
        h.set_faults(h.callback, [{"operation": "*", "action": "delay", "seconds": 0.3}])


def _personnummer_fault() -> list[dict[str, Any]]:
    quoted = (f"Valideringsfel: intressent med personnummer {PNR[1]} saknar giltig adress. Begäran: "
              f"<Arende><intressent><personnr>{PNR[0]}</personnr>...</intressent></Arende>")
    return [{"operation": "SaveNewArende", "action": "soap_fault", "faultcode": "Client", "faultstring": quoted}]


read_only_hook, read_only_cleanup = archive_fault(mount_read_only, 1, 2)
full_hook, full_cleanup = archive_fault(mount_full, 1, 2)
lock_hook, lock_cleanup = sqlite_lock(1, 2)

SCENARIOS: list[Scenario] = [
    Scenario("byggr-down-5", "ByggR down for 5 ticks (HTTP 503)", "transient",
             window("byggr", [{"action": "http_status", "status": 503}], 1, 5), deadline=90, min_ticks=6),
    Scenario("soap-server-fault", "one SOAP Server fault (SaveNewArende)", "transient",
             once("byggr", [{"operation": "SaveNewArende", "action": "soap_fault", "faultcode": "Server",
                             "faultstring": "Internt fel, försök igen", "nth": 1}])),
    Scenario("html-200", "HTTP 200 with an HTML maintenance page for 3 ticks", "transient",
             window("byggr", [{"action": "html_200"}], 1, 3), min_ticks=4),
    Scenario("no-connection", "ByggR's connection cannot be resolved for one tick", "infrastructure",
             no_connection("byggr_kumla", 1), min_ticks=2),
    Scenario("archive-read-only", "archive folder read-only for 2 ticks", "infrastructure",
             read_only_hook, cleanup=read_only_cleanup),
    Scenario("archive-full", "archive folder full (ENOSPC) for 2 ticks", "infrastructure",
             full_hook, cleanup=full_cleanup),
    Scenario("sqlite-locked", "SQLite locked over the busy timeout for 2 ticks", "infrastructure",
             lock_hook, cleanup=lock_cleanup, busy_timeout_ms=300, deadline=150),
    Scenario("commit-after", "ByggR commits the case 1.5 s after the 2 s read timeout", "transient",
             once("byggr", [{"operation": "SaveNewArende", "action": "commit_after", "seconds": 3.5, "nth": 1}]),
             read_timeout=2.0, in_doubt_delay="5s", pause=0.5),
    Scenario("two-runs", "two route runs at once, every tick", "concurrency", two_at_once, stagger=1,
             submissions=8, quick_submissions=3, deadline=90),
    Scenario("kill-after-create", "SIGKILL between SaveNewArende and recording it", "crash", kill_after_create),
    Scenario("personnummer-fault", "a SOAP Client fault quoting the request with a personnummer", "permanent",
             once("byggr", _personnummer_fault()), expected_replays=lambda n: n, check_personnummer=True),
    Scenario("client-fault", "one SOAP Client fault (permanent)", "permanent",
             once("byggr", [{"operation": "SaveNewArende", "action": "soap_fault", "faultcode": "Client",
                             "faultstring": "Ogiltig arendetyp", "nth": 1}]), expected_replays=lambda n: 1),
    Scenario("http-500", "HTTP 500 once (SaveNewArende)", "transient",
             once("byggr", [{"operation": "SaveNewArende", "action": "http_status", "status": 500, "nth": 1}])),
    Scenario("http-503", "HTTP 503 once (SaveNewHandelse)", "transient",
             once("byggr", [{"operation": "SaveNewHandelse", "action": "http_status", "status": 503, "nth": 1}])),
    Scenario("reset", "connection reset (SaveNewArende, twice)", "transient",
             once("byggr", [{"operation": "SaveNewArende", "action": "reset", "nth": 1, "times": 2}])),
    Scenario("slow", "a slow answer beyond the 2 s read timeout (case created)", "transient",
             once("byggr", [{"operation": "SaveNewArende", "action": "delay", "phase": "after", "seconds": 4,
                             "nth": 1}]), read_timeout=2.0, pause=0.5),
    Scenario("lost-after-create", "reply lost after SaveNewArende", "transient",
             once("byggr", [{"operation": "SaveNewArende", "action": "lose_reply", "nth": 1}])),
    Scenario("lost-after-documents", "reply lost after SaveNewHandelse (15 MB drawings)", "transient",
             once("byggr", [{"operation": "SaveNewHandelse", "action": "lose_reply", "nth": 1}]),
             submissions=3, quick_submissions=1, drawings=2, deadline=120),
    Scenario("callback-down", "callback service down for 3 ticks (HTTP 503)", "transient",
             window("callback", [{"action": "http_status", "status": 503}], 1, 3), min_ticks=4),
    Scenario("kill-random-sqlite", "SIGKILL at random moments (4 kills), SQLite", "crash",
             random_kills("kill-random-sqlite"), stagger=1, submissions=6, deadline=100),
    Scenario("kill-random-postgresql", "SIGKILL at random moments (4 kills), PostgreSQL", "crash",
             random_kills("kill-random-postgresql"), database="postgresql", stagger=1, submissions=6,
             deadline=100),
]
SMOKE = Scenario("smoke-byggr-down-2", "ByggR down for 2 ticks (HTTP 503), smoke", "transient",
                 window("byggr", [{"action": "http_status", "status": 503}], 1, 2), submissions=2,
                 quick_submissions=2, deadline=40, pause=0.5, min_ticks=3)
BY_NAME = {scenario.name: scenario for scenario in [*SCENARIOS, SMOKE]}


# --- running ----------------------------------------------------------------------------------------


def run_scenario(scenario: Scenario, *, quick: bool = False, log: Callable[[str], None] = print,
                 keep: bool = False) -> Result:
    result = Result(scenario.name, scenario.label, scenario.expected)
    started = time.monotonic()
    if scenario.database == "postgresql":
        with throwaway_postgres() as url:
            if url is None:
                result.skipped = "skipped: no PostgreSQL"
                log(f"  {result.skipped} on 127.0.0.1:5432")
                return result
            return _run(scenario, result, started, quick=quick, log=log, keep=keep, database_url=url)
    return _run(scenario, result, started, quick=quick, log=log, keep=keep)


def _run(scenario: Scenario, result: Result, started: float, *, quick: bool, log: Callable[[str], None],
         keep: bool, database_url: str | None = None) -> Result:
    count = scenario.quick_submissions if quick else scenario.submissions
    harness = Harness(name=scenario.name, submissions=count, drawing_bytes=scenario.drawing_bytes,
                      drawings=min(scenario.drawings, count), read_timeout=scenario.read_timeout,
                      in_doubt_delay=scenario.in_doubt_delay, database_url=database_url,
                      busy_timeout_ms=scenario.busy_timeout_ms, log=log)
    run = Run()
    log(f"  {count} submission(s); {harness.routes_note}; home {harness.home}")
    try:
        tick = 0
        while time.monotonic() - started < scenario.deadline:
            tick += 1
            run.concurrency, run.killer = 1, None
            harness.release(scenario.stagger)
            if scenario.before_tick is not None:
                scenario.before_tick(harness, tick, run)
            if run.skipped:
                result.skipped = run.skipped
                log(f"  {run.skipped}")
                return result
            outcome = harness.tick(tick, concurrency=run.concurrency, killer=run.killer)
            result.ticks = tick
            result.red_ticks += outcome.red
            result.kills += outcome.killed
            if scenario.after_tick is not None:
                scenario.after_tick(harness, tick, run)
            _progress(log, outcome, harness)
            if tick >= scenario.min_ticks and harness.settled() and not _fault_pending(run):
                result.settled = True
                break
            time.sleep(scenario.pause)
        if scenario.cleanup is not None:
            scenario.cleanup(harness, run)
        harness.measure(result)
        if not result.settled:
            result.notes.append(f"not settled by the {scenario.deadline:g} s deadline")
        if scenario.check_personnummer:
            leaks = harness.personal_data_leaks(PNR)
            result.notes.append("personnummer found in: " + ", ".join(leaks) if leaks
                                else "personnummer in no ledger text column and no task log")
            result.meets_target = not leaks
        else:
            result.meets_target = True
        if result.kills:
            result.notes.append(f"{result.kills} child process(es) SIGKILLed")
            if result.duplicate_callbacks:
                result.notes.append("a killed addMessage was sent again: the one-call window of docs/reliability.md "
                                    "section 10")
        meets = _meets(result, scenario.expected_replays(count), scenario.kind)
        result.meets_target = result.meets_target and meets
        return result
    finally:
        if scenario.cleanup is not None:
            scenario.cleanup(harness, run)
        result.seconds = time.monotonic() - started
        harness.close(keep=keep)


def _fault_pending(run: Run) -> bool:
    """A lock or a mount still in place: the scenario goes on until its fault is over."""
    return "lock" in run.state or "mounted" in run.state


def _meets(result: Result, expected_replays: int, kind: str) -> bool:
    """The issue's targets: 0 lost, 0 duplicate cases, documents and packages, the expected replays; red ticks
    where (and only where) the fault is the platform's. A duplicate callback counts too, except where a worker is
    killed: an addMessage under way when its worker dies is sent again, at most once per kill, the one-call window
    Open ePlatform's contract leaves (docs/reliability.md, section 10). A crash row must have killed something, and
    a transient or permanent row must have had its fault answered by a simulator."""
    duplicates = [result.duplicate_cases, result.duplicate_documents, result.duplicate_packages]
    if kind == "crash":
        callbacks_ok = result.kills > 0 and result.duplicate_callbacks <= result.kills
    else:
        callbacks_ok = result.duplicate_callbacks == 0
    red_ok = result.red_ticks > 0 if kind == "infrastructure" else result.red_ticks == 0
    fired_ok = result.faults_fired > 0 if kind in ("transient", "permanent") else True  # the fault did happen
    return (result.lost == 0 and not any(duplicates) and callbacks_ok and red_ok and fired_ok
            and result.manual_replays == expected_replays)


def _progress(log: Callable[[str], None], outcome: TickOutcome, harness: Harness) -> None:
    states = harness.states()
    shown = ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "no submissions yet"
    status = "killed" if outcome.killed else "RED" if outcome.red else "ok"
    log(f"  tick {outcome.number:>2}: {status:<6} {outcome.seconds:5.1f} s | {shown}")
    for error in outcome.errors:
        log(f"           raised: {error}")


# --- the table --------------------------------------------------------------------------------------

HEADER = ("| fault | expected | ticks | submissions | lost | duplicate cases | duplicate documents | "
          "duplicate packages | duplicate callbacks | manual replays | red ticks | meets target | notes |")
RULE = "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|"


def table(results: list[Result], *, quick: bool, seconds: float) -> str:
    lines = [HEADER, RULE]
    for r in results:
        if r.skipped:
            lines.append(f"| {r.label} | {r.expected} | | | | | | | | | | {r.skipped} | |")
            continue
        notes = "; ".join(r.notes + [f"reason: {reason}" for reason in r.reasons[:2]]).replace("|", "/")
        lines.append(
            f"| {r.label} | {r.expected} | {r.ticks} | {r.submissions} | {r.lost} | {r.duplicate_cases} | "
            f"{r.duplicate_documents} | {r.duplicate_packages} | {r.duplicate_callbacks} | {r.manual_replays} | "
            f"{r.red_ticks} | {'yes' if r.meets_target else '**no**'} | {notes} |")
    missed = sum(not r.meets_target and not r.skipped for r in results)
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    head = (f"Measured {stamp} by `make faults`{' (QUICK MODE)' if quick else ''}: {len(results)} scenario(s) in "
            f"{seconds:.0f} s, {missed} missing the target. Targets: 0 lost and 0 duplicate cases, documents and "
            "packages everywhere; 0 duplicate callbacks except where a worker is killed mid-addMessage (the one-call "
            "window of section 10); 0 manual replays for every transient fault; a permanent fault quarantines what "
            "it hit.")
    return head + "\n\n" + "\n".join(lines) + "\n"


def write_between_markers(path: Path, content: str) -> None:
    document = path.read_text(encoding="utf-8")
    if BEGIN not in document or END not in document:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} markers")
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{content}{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run these scenarios only (comma-separated or repeated): {', '.join(BY_NAME)}")
    parser.add_argument("--quick", action="store_true", help="fewer submissions per scenario")
    parser.add_argument("--write", type=Path, metavar="FILE", help="replace the table between the faults markers")
    parser.add_argument("--keep", action="store_true", help="keep each scenario's temporary home for inspection")
    args = parser.parse_args(argv)
    names = [name for item in args.only for name in item.split(",") if name]
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    chosen = [BY_NAME[name] for name in names] if names else SCENARIOS
    started = time.monotonic()
    results = []
    for index, scenario in enumerate(chosen, start=1):
        print(f"[{index}/{len(chosen)}] {scenario.name}: {scenario.label}", flush=True)
        result = run_scenario(scenario, quick=args.quick, log=lambda line: print(line, flush=True), keep=args.keep)
        verdict = result.skipped or ("meets the target" if result.meets_target else "MISSES the target")
        print(f"  => {verdict} in {result.seconds:.0f} s: lost {result.lost}, duplicates "
              f"{result.duplicate_cases}/{result.duplicate_documents}/{result.duplicate_packages}/"
              f"{result.duplicate_callbacks}, replays {result.manual_replays}, red ticks {result.red_ticks}",
              flush=True)
        for reason in result.reasons[:3]:
            print(f"     quarantined: {masked(reason)}", flush=True)
        results.append(result)
    report = table(results, quick=args.quick, seconds=time.monotonic() - started)
    print()
    print(report, end="")
    if args.write:
        write_between_markers(args.write, report)
    return 1 if any(not r.meets_target and not r.skipped for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
