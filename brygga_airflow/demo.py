"""`brygga demo`: the bundled routes on the embedded default, end to end, with no servers to install.

A tour: each route of ``TOUR`` is `brygga run ROUTE SAMPLES --simulators` on one fresh Brygga home (``var/demo``),
so every outside system is a local simulator: ByggR and Ecos over SOAP, a work-order system over REST with OAuth2,
SFTP servers, the webhook intake, the Open ePlatform callback and the property register. It prints a trace per
submission. With files, only the first route runs, over them.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from brygga.cli_parsers import add_command
from brygga.errors import ConfigError
from brygga.resources import resource
from brygga.settings import default_home
from brygga_airflow.follow_case import follow_case, print_follow_up, work_orders
from brygga_airflow.run import (
    RouteRun,
    check_files,
    print_airflow,
    print_summary,
    print_trace,
    run_report,
    run_route,
)

DEMO_ROUTE = "kumla-bygglov"
SAMPLES = resource("samples")
# The person's application twice shows the idempotent intake; the attefall anmälan, in both encodings, is another
# e-service through the same inbox; the last two show quarantine.
DEFAULT_SAMPLES = ("bygglov-person.xml", "bygglov-person.xml", "bygglov-organisation.xml", "attefall-utf8.xml",
                   "attefall-latin1.xml", "bygglov-malformed.xml", "bygglov-bad-personnummer.xml")


@dataclass(frozen=True)
class Stop:
    """One route of the tour: what it shows, and the bundled samples it runs."""

    route: str
    shows: str
    samples: tuple[str, ...]
    # What happens next, with the route's simulators still up: a case officer moves a case, the resident follows.
    then: Callable[[dict[str, Any], list[dict[str, Any]]], dict[str, Any]] | None = None


TOUR = (
    Stop(DEMO_ROUTE, "two e-services through one inbox into ByggR (SOAP); idempotent intake; quarantine; then the "
         "resident follows the case: a handler, a decision with its document, to Mina sidor and Mina meddelanden",
         tuple(f"open-eplatform/{name}" for name in DEFAULT_SAMPLES), partial(follow_case, "bygglov-person.xml")),
    Stop("kumla-felanmalan", "felanmälan into the work-order system (REST, OAuth2 client credentials)",
         ("open-eplatform/felanmalan-gatlykta.xml",)),
    Stop("kumla-varmepump", "anmälan om värmepump into Ecos (SOAP, MinutMiljoService)",
         ("open-eplatform/varmepump-bergvarme.xml",)),
    Stop("kumla-felanmalan-webhook", "a felanmälan pushed as signed JSON to the webhook intake",
         ("webhook/felanmalan-gatlykta.json",)),
    Stop("cesam-bygga-hus", "one life event across two kommuner: taken in over SFTP, a bygglov in Kinda and a VA "
         "connection in Ydre, Ydre's package to its e-archive over SFTP; then Kinda decides the bygglov",
         ("open-eplatform/bygga-hus-va.xml",), partial(follow_case, "bygga-hus-va.xml")),
    Stop("ydre-kinda-beslut", "a route whose source is the bus: Ydre's VA organisation takes Kinda's decision as a "
         "work order", (), work_orders),
)


def default_samples() -> list[Path]:
    return [SAMPLES / name for name in TOUR[0].samples]


# The demo runs the bundled routes on a ledger of its own, whatever the shell has set up for real work.
OWN_SETTINGS = ("BRYGGA_CONFIG", "BRYGGA_ROUTES", "BRYGGA_MAPPINGS", "BRYGGA_CASE_TYPES", "BRYGGA_DATABASE_URL")


def _prepare_environment(var: Path) -> Path:
    """Fresh Brygga state for every demo; the Airflow DB beside it is migrated once and kept."""
    brygga_home = var / "demo"
    shutil.rmtree(brygga_home, ignore_errors=True)
    brygga_home.mkdir(parents=True)
    for name in OWN_SETTINGS:
        os.environ.pop(name, None)
    os.environ.update({
        "BRYGGA_HOME": str(brygga_home),
        "AIRFLOW_HOME": str(var / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(resource("dags")),
    })
    return brygga_home


def run_demo(files: list[Path], *, var: Path | None = None, byggr_fault_plan: str | None = None) -> list[RouteRun]:
    """Run the tour on simulators: every stop's route DAG once over its samples; or, with ``files``, the main route
    over those. ``byggr_fault_plan`` (JSON, see brygga_simulators.faults) makes ByggR fail, to see how a fault shows."""
    _prepare_environment(var or Path(os.environ.get("BRYGGA_VAR") or default_home()))
    plans = {"byggr": byggr_fault_plan} if byggr_fault_plan else None
    if files:
        return [run_route(DEMO_ROUTE, files, simulators=True, fault_plans=plans)]
    return [run_route(stop.route, [SAMPLES / name for name in stop.samples], simulators=True, fault_plans=plans,
                      then=stop.then) for stop in TOUR]


def main(files: list[str], json_output: bool, byggr_fault_plan: str | None = None) -> int:
    try:
        paths = check_files(files)
    except FileNotFoundError as exc:
        print(f"brygga demo: {exc}", file=sys.stderr)
        return 2
    if not json_output:
        what = f"route {DEMO_ROUTE!r}, {len(paths)} file(s)" if paths else f"{len(TOUR)} routes"
        print(f"Brygga demo: {what}, Airflow dag.test() on SQLite, every outside system simulated ...", flush=True)
    try:
        runs = run_demo(paths, byggr_fault_plan=byggr_fault_plan)
    except ConfigError as exc:
        print(f"brygga demo: {exc}", file=sys.stderr)
        return 2
    if json_output:
        print(json.dumps({"runs": [run_report(run) for run in runs]}, ensure_ascii=False, indent=2))
        return 0
    shows = {stop.route: stop.shows for stop in TOUR}
    for run in runs:
        print(f"\n=== {run.route.id}: {shows.get(run.route.id, 'the files given')}")
        print_trace(run)
        print_airflow(run)
        if run.then is not None:
            print_follow_up(run.then)
    print_summary(runs, f"{os.environ['BRYGGA_HOME']}/ledger.sqlite")
    print_inspect(runs, Path(os.environ["BRYGGA_HOME"]))
    return 0


def _shown(path: Path) -> str:
    """A path as a person would type it here: relative to the current folder when it is under it."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _brygga_command() -> str:
    """`brygga` when that is on PATH, else the one beside this Python (``.venv/bin/brygga`` after make)."""
    if shutil.which("brygga"):
        return "brygga"
    beside = Path(sys.executable).with_name("brygga")
    return shlex.quote(_shown(beside.absolute())) if beside.exists() else "brygga"


def inspect_commands(runs: list[RouteRun], home: Path) -> list[str]:
    """The exact commands that show this demo's results. They name its home: the demo's ledger is not the one the
    CLI reads by default (BRYGGA_HOME, var/)."""
    brygga = f"{_brygga_command()} --home {shlex.quote(_shown(home.resolve()))}"
    results = [result for run in runs for result in run.results if "submission_id" in result]
    delivered = next((r for r in results if r.get("diarienummer")), None)
    stopped = next((r for r in results if r["state"] == "quarantined"), None)
    return [*([f"{brygga} find {shlex.quote(delivered['diarienummer'])}"] if delivered else []),
            *([f"{brygga} trace {stopped['submission_id']}"] if stopped else []),
            f"{brygga} quarantine list", f"{brygga} list"]


def print_inspect(runs: list[RouteRun], home: Path) -> None:
    print("\nInspect these results (the demo has a home of its own; docs/cli.md):")
    for command in inspect_commands(runs, home):
        print(f"  {command}")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `brygga demo` to the core CLI through the `brygga.commands` entry point."""
    p = add_command(
        subparsers, "demo", func=lambda args: main(args.files, args.json, args.byggr_fault_plan),
        help="run the bundled routes' DAGs end to end on SQLite and local simulators",
        description="A tour of the bundled routes: each route's real Airflow DAG once (dag.test()) over its samples, "
                    "every outside system a local simulator, on a fresh Brygga home of its own (var/demo, or "
                    "BRYGGA_VAR/demo) so your own ledger is never touched. It prints a trace per submission and, "
                    "at the end, the exact commands that inspect its results. Exit 2 when a file given is missing.",
        examples=["brygga demo", "brygga demo --json", "brygga demo samples/open-eplatform/bygglov-person.xml",
                  "brygga --home var/demo quarantine list"])
    p.add_argument("--json", action="store_true",
                   help="print a JSON object (per route: the Airflow run, one entry per file) instead of a trace")
    p.add_argument("--byggr-fault-plan", metavar="JSON",
                   help="make the ByggR simulator fail, e.g. '[{\"action\": \"http_status\", \"status\": 503}]' "
                        "(rules: brygga_simulators.faults), to see how a failing target shows in Airflow")
    p.add_argument("files", nargs="*", help="Open ePlatform FlowInstance files for the kumla-bygglov route (default: "
                                            "the tour of every bundled route with its samples)")
