"""`brygga demo`: the route DAG on the embedded default, end to end, with no servers to install.

It starts the simulators (ByggR-like case system, Open ePlatform callback, property register) on free local ports,
points the route's Connections at them, drops the sample files into the inbox, runs the real DAG
with ``dag.test()`` against a migrated SQLite Airflow DB, and prints a trace per submission.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from brygga.resources import resource
from brygga.settings import default_home

DEMO_ROUTE = "kumla-bygglov"
SAMPLES = resource("samples", "open-eplatform")
# The person's application twice shows the idempotent intake; the last two show quarantine.
DEFAULT_SAMPLES = ("bygglov-person.xml", "bygglov-person.xml", "bygglov-organisation.xml",
                   "bygglov-malformed.xml", "bygglov-bad-personnummer.xml")
STATE_NAMES = {"completed": "delivered", "quarantined": "quarantined"}


def default_samples() -> list[Path]:
    return [SAMPLES / name for name in DEFAULT_SAMPLES]


def _prepare_environment(var: Path) -> tuple[Path, Path]:
    """Fresh Brygga state for every demo; the Airflow DB is migrated once and kept."""
    brygga_home = var / "demo"
    airflow_home = var / "airflow"
    shutil.rmtree(brygga_home, ignore_errors=True)
    brygga_home.mkdir(parents=True)
    airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ.update({
        "BRYGGA_HOME": str(brygga_home),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(resource("dags")),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    })
    return brygga_home, airflow_home


def migrate_airflow_db(airflow_home: Path) -> None:
    stamp = airflow_home / ".brygga-migrated"
    if stamp.exists():
        return
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, env=os.environ.copy())
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stderr[-2000:]}")
    stamp.touch()


@contextlib.contextmanager
def _output_to(log_file: Path) -> Iterator[None]:
    """Send everything written to fd 1 and 2 (Airflow's own logging included) to a file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_file, "ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _airflow_outcome(dag: Any, dag_run: Any) -> dict[str, Any]:
    """The run's state and each task's, in the DAG's order, as the Airflow UI shows them."""
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    return {"run": str(dag_run.state), "tasks": {task_id: states.get(task_id) for task_id in dag.task_ids}}


def run_demo(files: list[Path], *, var: Path | None = None,
             byggr_fault_plan: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the demo route's DAG once over ``files``: one result per file, and the Airflow run's outcome.

    ``byggr_fault_plan`` (JSON, see brygga_simulators.faults) makes the case system fail, to see how a fault shows.
    """
    from brygga_simulators import start_simulator

    brygga_home, airflow_home = _prepare_environment(var or Path(os.environ.get("BRYGGA_VAR") or default_home()))
    migrate_airflow_db(airflow_home)

    from brygga.pipeline import PipelineContext
    from brygga.routes import load_routes
    from brygga.settings import Settings
    from brygga_airflow.dag_factory import build_route_dag

    settings = Settings.from_env()
    route = {r.id: r for r in load_routes(settings.routes_file, settings.mappings_dir)}[DEMO_ROUTE]
    byggr_options = {"fault_plan": byggr_fault_plan} if byggr_fault_plan else {}
    with start_simulator("byggr", **byggr_options) as byggr, start_simulator("oep-callback") as callback, \
            start_simulator("property-register") as register:
        # Local simulators speak plain HTTP, which a connection must allow explicitly.
        os.environ["AIRFLOW_CONN_BYGGR_KUMLA"] = f"{byggr.url}?allow_http=true"
        os.environ["AIRFLOW_CONN_OEP_KUMLA"] = f"{callback.url}?allow_http=true"
        os.environ["AIRFLOW_CONN_FASTIGHETSREGISTER_KUMLA"] = f"{register.url}?allow_http=true"
        inbox = settings.home / route.source.config["path"]
        inbox.mkdir(parents=True, exist_ok=True)
        for i, path in enumerate(files):
            # Each file gets its own inbox name, so the same file twice really arrives twice.
            shutil.copyfile(path, inbox / f"{i:03d}-{path.name}")
        dag = build_route_dag(route)
        with _output_to(brygga_home / "airflow-run.log"):
            airflow = _airflow_outcome(dag, dag.test())
        ctx = PipelineContext.for_route(DEMO_ROUTE, settings=settings)
        results = []
        for path in files:
            submission = ctx.ledger.by_content(route.id, hashlib.sha256(path.read_bytes()).hexdigest())
            if submission is None:
                results.append({"file": str(path), "state": "not_taken_in", "diarienummer": None,
                                "archive_package": None, "reasons": ["the file was not picked up from the inbox"]})
                continue
            results.append({
                "file": str(path),
                "state": STATE_NAMES.get(submission.state, submission.state),
                "diarienummer": submission.external_ref,
                "archive_package": submission.archive_location,
                "reasons": ctx.ledger.quarantine_reasons(submission.id),
                "submission_id": submission.id,
                "callback_calls": [c.operation for c in callback.app.calls
                                   if str(c.fields.get("flowInstanceID")) == submission.source_reference],
            })
        return results, airflow


def print_trace(results: list[dict[str, Any]]) -> None:
    from brygga.pipeline import PipelineContext

    ctx = PipelineContext.for_route(DEMO_ROUTE)
    shown: set[str] = set()
    for result in results:
        print(f"\n{Path(result['file']).name}  ->  {result['state'].upper()}")
        if "submission_id" not in result:
            continue
        if result["submission_id"] in shown:
            print("   the same bytes as a file above: one submission, one case (idempotent intake)")
            continue
        shown.add(result["submission_id"])
        for step in ctx.ledger.steps(result["submission_id"]):
            detail = f"  {step.detail}" if step.detail else ""
            print(f"   {step.step:<10} {step.outcome:<12} {step.duration_ms:8.1f} ms{detail}")
        if result["diarienummer"]:
            print(f"   diarienummer: {result['diarienummer']}")
        if result["archive_package"]:
            print(f"   archive package: {result['archive_package']}")
        if result.get("callback_calls"):
            print(f"   Open ePlatform callbacks: {', '.join(result['callback_calls'])}")
        for reason in result["reasons"]:
            print(f"   reason: {reason}")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `brygga demo` to the core CLI through the `brygga.commands` entry point."""
    p = subparsers.add_parser("demo", help="run the demo route's DAG end to end on SQLite and local simulators")
    p.add_argument("--json", action="store_true",
                   help="print a JSON object (the Airflow run, one entry per file) instead of a trace")
    p.add_argument("--byggr-fault-plan", metavar="JSON",
                   help="make the ByggR simulator fail, e.g. '[{\"action\": \"http_status\", \"status\": 503}]' "
                        "(rules: brygga_simulators.faults), to see how a failing target shows in Airflow")
    p.add_argument("files", nargs="*", help="Open ePlatform FlowInstance files (default: the bundled samples)")
    p.set_defaults(func=lambda args: main(args.files, args.json, args.byggr_fault_plan))


def print_airflow(airflow: dict[str, Any], log_file: Path) -> None:
    tasks = ", ".join(f"{task} {state}" for task, state in airflow["tasks"].items())
    print(f"\nAirflow run: {airflow['run']} ({tasks})")
    if airflow["run"] != "success":
        print(f"   a red run is how Brygga shows quarantines and long outages; the check task's log says why: "
              f"{log_file}")


def main(files: list[str], as_json: bool, byggr_fault_plan: str | None = None) -> int:
    paths = [Path(f).resolve() for f in files] or default_samples()
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"brygga demo: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not as_json:
        print(f"Brygga demo: route {DEMO_ROUTE!r}, {len(paths)} file(s), Airflow dag.test() on SQLite ...")
    results, airflow = run_demo(paths, byggr_fault_plan=byggr_fault_plan)
    if as_json:
        public = ("file", "state", "diarienummer", "archive_package", "reasons")
        files_out = [{k: r[k] for k in public} for r in results]
        print(json.dumps({"airflow": airflow, "files": files_out}, ensure_ascii=False, indent=2))
    else:
        print_trace(results)
        print_airflow(airflow, Path(os.environ["BRYGGA_HOME"]) / "airflow-run.log")
        ok = sum(r["state"] == "delivered" for r in results)
        print(f"\n{ok} delivered, {sum(r['state'] == 'quarantined' for r in results)} quarantined, "
              f"{len(results)} file(s). Ledger: {os.environ['BRYGGA_HOME']}/ledger.sqlite")
    return 0
