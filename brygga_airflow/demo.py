"""`brygga demo`: the demo route on the embedded default, end to end, with no servers to install.

It is `brygga run kumla-bygglov --simulators` on a fresh Brygga home (``var/demo``) with the bundled samples: two
e-services (bygglov and anmälan om attefallsåtgärd) through one inbox, dispatched by e-service, to the same
ByggR-like case system, then the e-archive and Mina sidor. It prints a trace per submission.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from brygga.errors import ConfigError
from brygga.resources import resource
from brygga.settings import default_home
from brygga_airflow.run import RouteRun, as_json, check_files, print_airflow, print_summary, print_trace, run_route

DEMO_ROUTE = "kumla-bygglov"
SAMPLES = resource("samples", "open-eplatform")
# The person's application twice shows the idempotent intake; the attefall anmälan, in both encodings, is another
# e-service through the same inbox; the last two show quarantine.
DEFAULT_SAMPLES = ("bygglov-person.xml", "bygglov-person.xml", "bygglov-organisation.xml", "attefall-utf8.xml",
                   "attefall-latin1.xml", "bygglov-malformed.xml", "bygglov-bad-personnummer.xml")


def default_samples() -> list[Path]:
    return [SAMPLES / name for name in DEFAULT_SAMPLES]


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


def run_demo(files: list[Path], *, var: Path | None = None, byggr_fault_plan: str | None = None) -> RouteRun:
    """Run the demo route's DAG once over ``files`` on simulators. ``byggr_fault_plan`` (JSON, see
    brygga_simulators.faults) makes the case system fail, to see how a fault shows."""
    _prepare_environment(var or Path(os.environ.get("BRYGGA_VAR") or default_home()))
    plans = {"byggr": byggr_fault_plan} if byggr_fault_plan else None
    return run_route(DEMO_ROUTE, files, simulators=True, fault_plans=plans)


def main(files: list[str], json_output: bool, byggr_fault_plan: str | None = None) -> int:
    try:
        paths = check_files(files) if files else default_samples()
    except FileNotFoundError as exc:
        print(f"brygga demo: {exc}", file=sys.stderr)
        return 2
    if not json_output:
        print(f"Brygga demo: route {DEMO_ROUTE!r}, {len(paths)} file(s), Airflow dag.test() on SQLite ...")
    try:
        run = run_demo(paths, byggr_fault_plan=byggr_fault_plan)
    except ConfigError as exc:
        print(f"brygga demo: {exc}", file=sys.stderr)
        return 2
    if json_output:
        print(as_json(run))
    else:
        print_trace(run)
        print_airflow(run)
        print_summary(run, f"{os.environ['BRYGGA_HOME']}/ledger.sqlite")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `brygga demo` to the core CLI through the `brygga.commands` entry point."""
    p = subparsers.add_parser("demo", help="run the demo route's DAG end to end on SQLite and local simulators")
    p.add_argument("--json", action="store_true",
                   help="print a JSON object (the route, the Airflow run, one entry per file) instead of a trace")
    p.add_argument("--byggr-fault-plan", metavar="JSON",
                   help="make the ByggR simulator fail, e.g. '[{\"action\": \"http_status\", \"status\": 503}]' "
                        "(rules: brygga_simulators.faults), to see how a failing target shows in Airflow")
    p.add_argument("files", nargs="*", help="Open ePlatform FlowInstance files (default: the bundled samples)")
    p.set_defaults(func=lambda args: main(args.files, args.json, args.byggr_fault_plan))
