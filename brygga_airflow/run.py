"""`brygga run ROUTE [FILES…]`: run one route's real DAG once, here, with ``dag.test()``.

The files (if any) are handed to the route's source first, the way they would arrive: into the inbox folder, pushed
signed to the webhook intake, or (with ``--simulators``) onto the SFTP server. The DAG runs on whatever connections
are configured (Airflow Connections, ``AIRFLOW_CONN_<ID>``), or, with ``--simulators``, on a local stand-in for
every connection, chosen by the adapter that uses it (``brygga_simulators.connections``). State goes to
``BRYGGA_HOME`` like any other run, so ``brygga find`` sees it afterwards. ``brygga demo`` is this, on a fresh home.
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
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brygga.cli_parsers import add_command
from brygga.errors import ConfigError
from brygga.resources import resource
from brygga.routes import AdapterRef, Route, load_routes
from brygga.settings import Settings

# A completed submission that went to a case system was delivered; one without a case system is just completed.
DELIVERED = "delivered"


@dataclass(frozen=True)
class RouteRun:
    route: Route
    results: list[dict[str, Any]]  # one per file given, in order
    airflow: dict[str, Any]  # the run's state and each task's, as the Airflow UI shows them
    log_file: Path
    then: dict[str, Any] | None = None  # what ran after the route, with its simulators still up


def use_airflow_home(default: Path) -> Path:
    """AIRFLOW_HOME when it is set (the kommun's own Airflow), else ``default``. Must come before anything imports
    Airflow, which reads its settings once. The DAG file is Brygga's: ``dag.test()`` runs the DAG it parsed."""
    airflow_home = Path(os.environ.get("AIRFLOW_HOME") or default)
    airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(airflow_home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(resource("dags"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    return airflow_home


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
def output_to(log_file: Path) -> Iterator[None]:
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


def remote_refs(route: Route) -> list[tuple[str, AdapterRef]]:
    """What the route calls over a connection, named as in the routes file."""
    refs: list[tuple[str, AdapterRef | None]] = [(f"target {t.id}", t) for t in route.targets]
    refs += [(f"archive of target {t.id}", t.archive) for t in route.targets]
    refs += [("notify", route.notify), ("property_lookup", route.property_lookup), ("archive", route.archive),
             ("source", route.source), ("digital_mail", route.digital_mail)]
    return [(what, ref) for what, ref in refs if ref is not None and ref.connection]


def connection_env(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


@contextlib.contextmanager
def route_simulators(route: Route, workdir: Path,
                     fault_plans: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Start a stand-in for every connection the route uses and point the connection at it, chosen by the adapter
    that uses it (brygga_simulators.connections). ``fault_plans`` are by simulator name."""
    from brygga_simulators import SIMULATORS
    from brygga_simulators.connections import simulate, simulator_name

    fault_plans = fault_plans or {}
    unknown = sorted(set(fault_plans) - set(SIMULATORS))
    if unknown:
        raise ConfigError(f"no simulator named {unknown[0]}; known: {', '.join(sorted(SIMULATORS))}")
    started: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        for what, ref in remote_refs(route):
            name = simulator_name(ref.adapter)
            if name is None:
                raise ConfigError(f"route {route.id}: {what} uses adapter {ref.adapter}, which has no simulator; "
                                  f"configure connection {ref.connection} instead of --simulators")
            if ref.connection in started:
                continue
            simulated = stack.enter_context(simulate(ref.adapter, workdir / str(ref.connection),
                                                     fault_plans.get(name)))
            env = connection_env(str(ref.connection))
            stack.callback(_restore, env, os.environ.get(env))  # a connection of the user's own comes back
            os.environ[env] = simulated.uri
            started[str(ref.connection)] = simulated
        yield started


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def missing_connections(route: Route) -> list[str]:
    """Connections Airflow cannot resolve from here, each with who needs it."""
    from brygga.connections import ConnectionNotFound
    from brygga_airflow.connections import AirflowConnectionResolver

    resolver, missing = AirflowConnectionResolver(), []
    for what, ref in remote_refs(route):
        try:
            resolver.get(str(ref.connection))
        except ConnectionNotFound:
            missing.append(f"{ref.connection} ({what}; e.g. {connection_env(str(ref.connection))})")
    return missing


# Task states from worst to best: a mapped task shows its worst instance's state, the one an operator must look at.
_SEVERITY = ("failed", "upstream_failed", "up_for_retry", "up_for_reschedule", "restarting", "running", "deferred",
             "queued", "scheduled", "None", "removed", "skipped", "success")


def worst_state(states: list[str]) -> str | None:
    """The most severe of a task's instances' states (a state Airflow adds later ranks first: it is looked at)."""
    if not states:
        return None
    rank = {state: i for i, state in enumerate(_SEVERITY)}
    return min(states, key=lambda state: rank.get(state, -1))


def airflow_outcome(dag: Any, dag_run: Any) -> dict[str, Any]:
    """The run's state, each task's (a mapped task's worst over its chunks), and how many chunks each mapped task
    ran over."""
    states: dict[str, list[str]] = {}
    mapped: dict[str, int] = {}
    for ti in dag_run.get_task_instances():
        states.setdefault(ti.task_id, []).append(str(ti.state))
        if (ti.map_index if ti.map_index is not None else -1) >= 0:
            mapped[ti.task_id] = mapped.get(ti.task_id, 0) + 1
    return {"run": str(dag_run.state), "tasks": {task_id: worst_state(states.get(task_id, [])) for task_id in
                                                 dag.task_ids},
            "chunks": {task_id: mapped[task_id] for task_id in dag.task_ids if task_id in mapped}}


def _result(ctx: Any, route: Route, path: Path) -> dict[str, Any]:
    submission = ctx.ledger.by_content(route.id, hashlib.sha256(path.read_bytes()).hexdigest())
    if submission is None:
        return {"file": str(path), "state": "not_taken_in", "diarienummer": None, "archive_package": None,
                "reasons": ["the file was not picked up from the inbox"]}
    return {
        "file": str(path),
        "state": DELIVERED if submission.state == "completed" and route.has_case_system(submission.case_type or "")
        else submission.state,
        "case_type": submission.case_type,
        "diarienummer": submission.external_ref,
        "archive_package": submission.archive_location,
        "reasons": ctx.ledger.quarantine_reasons(submission.id),
        "submission_id": submission.id,
        **_elsewhere(ctx, route, submission),
    }


def _elsewhere(ctx: Any, route: Route, submission: Any) -> dict[str, Any]:
    """With several targets or archives: each target's case and each other kommun's package."""
    if len(route.targets) < 2 and not any(t.archive for t in route.targets):
        return {}
    done = [d for d in ctx.ledger.deliveries(submission.id) if d.state == "delivered" and d.external_ref]
    return {"cases": {d.target: d.external_ref for d in done if not d.target.startswith("@")},
            "other_archives": {d.target.removeprefix("@archive:"): d.external_ref for d in done
                               if d.target.startswith("@archive:")}}


# Sources that files given to `brygga run` can be handed to: dropped in the inbox, posted to the webhook, or put
# on the (simulated) SFTP server.
HANDS_IN = {"file-inbox": "", "webhook": "", "sftp-inbox": " (with --simulators)"}


def find_route(settings: Settings, route_id: str, files: list[Path], *, simulators: bool = False) -> Route:
    """The route, when it exists and can take the files given."""
    routes = {r.id: r for r in load_routes(settings.routes_file, settings.mappings_dir)}
    if route_id not in routes:
        raise ConfigError(f"{settings.routes_file}: no route {route_id}; known: {', '.join(sorted(routes))}")
    route = routes[route_id]
    adapter = route.source.adapter
    if files and (adapter not in HANDS_IN or (adapter == "sftp-inbox" and not simulators)):
        can = ", ".join(name + note for name, note in HANDS_IN.items())
        raise ConfigError(f"route {route_id} takes submissions from {adapter}, which files given here cannot be "
                          f"handed to (only {can}); run it without files")
    return route


def _hand_in(settings: Settings, route: Route, files: list[Path], started: dict[str, Any]) -> None:
    """Give the files to the route's source the way they would arrive: in the inbox folder, on the partner's SFTP
    server, or pushed to the webhook intake, signed with the connection's secret."""
    adapter = route.source.adapter
    if adapter == "webhook":
        from brygga_airflow.webhook_push import push_files

        push_files(route, files)
        return
    if adapter == "sftp-inbox":
        inbox = started[str(route.source.connection)].running.root / route.source.config.get("path", "").lstrip("/")
    else:
        inbox = settings.home / route.source.config.get("path", "")
    inbox.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(files):
        # Each file gets its own name, so the same file twice really arrives twice.
        shutil.copyfile(path, inbox / f"{i:03d}-{path.name}")


def run_route(route_id: str, files: list[Path], *, simulators: bool = False,
              fault_plans: dict[str, str] | None = None,
              then: Callable[[dict[str, Any], list[dict[str, Any]]], dict[str, Any]] | None = None) -> RouteRun:
    """Copy ``files`` into the route's inbox and run the route's DAG once with ``dag.test()``. ``then`` runs next,
    with the simulators still up (by connection) and the results, and its report goes into ``RouteRun.then``."""
    settings = Settings.from_env()
    airflow_home = use_airflow_home(settings.home / "airflow")
    route = find_route(settings, route_id, files, simulators=simulators)
    settings.ensure_dirs()
    migrate_airflow_db(airflow_home)

    from brygga.pipeline import PipelineContext
    from brygga_airflow.dag_factory import build_route_dag

    log_file = settings.home / "airflow-run.log"
    stand_ins = settings.home / "simulated"
    with route_simulators(route, stand_ins, fault_plans) if simulators else contextlib.nullcontext({}) as started:
        _hand_in(settings, route, files, started)
        dag = build_route_dag(route)
        with output_to(log_file):
            airflow = airflow_outcome(dag, dag.test())
        ctx = PipelineContext.for_route(route_id, settings=settings)
        results = [_result(ctx, route, path) for path in files]
        # What the resident saw, when the status callback is a simulator here.
        callback = started.get(str(route.notify.connection)) if route.notify is not None else None
        for result in results:
            if callback is not None and "submission_id" in result:
                reference = ctx.ledger.get(result["submission_id"]).source_reference
                result["callback_calls"] = [c.operation for c in callback.running.app.calls
                                            if str(c.fields.get("flowInstanceID")) == reference]
        if then is not None:
            with output_to(log_file):
                follow_up = then(started, results)
    return RouteRun(route, results, airflow, log_file, follow_up if then is not None else None)


def print_trace(run: RouteRun) -> None:
    from brygga.pipeline import PipelineContext

    ctx = PipelineContext.for_route(run.route.id)
    shown: set[str] = set()
    for result in run.results:
        kind = f"  ({result['case_type']})" if result.get("case_type") else ""
        print(f"\n{Path(result['file']).name}  ->  {result['state'].upper()}{kind}")
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


def print_airflow(run: RouteRun) -> None:
    chunks = run.airflow.get("chunks", {})
    tasks = ", ".join(f"{task} {state}" + (f" ({chunks[task]} chunk{'s' * (chunks[task] != 1)})" if task in chunks
                                            else "") for task, state in run.airflow["tasks"].items())
    print(f"\nAirflow run: {run.airflow['run']} ({tasks})")
    if run.airflow["run"] != "success":
        print(f"   a red run is how Brygga shows quarantines and long outages; the check task's log says why: "
              f"{run.log_file}")


def print_summary(runs: list[RouteRun], ledger_hint: str) -> None:
    counts = Counter(r["state"] for run in runs for r in run.results)
    states = ", ".join(f"{n} {state}" for state, n in counts.items()) or "nothing"
    files = sum(len(run.results) for run in runs)
    print(f"\n{states}; {files} file(s). Ledger: {ledger_hint}")


def ledger_shown(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=True)


def run_report(run: RouteRun) -> dict[str, Any]:
    public = ("file", "state", "case_type", "diarienummer", "archive_package", "reasons")
    files = [{**{k: r.get(k) for k in public}, **{k: r[k] for k in ("cases", "other_archives") if k in r}}
             for r in run.results]
    report = {"route": run.route.id, "airflow": run.airflow, "files": files}
    return {**report, "then": run.then} if run.then is not None else report


def as_json(run: RouteRun) -> str:
    return json.dumps(run_report(run), ensure_ascii=False, indent=2)


def parse_fault_plans(pairs: list[str]) -> dict[str, str]:
    """``["byggr=[{...}]"]`` -> ``{"byggr": "[{...}]"}``."""
    plans = {}
    for pair in pairs:
        name, sep, plan = pair.partition("=")
        if not sep:
            raise ValueError(f"--fault-plan expects SIMULATOR=JSON, got {pair!r}")
        plans[name.strip()] = plan
    return plans


def check_files(files: list[str]) -> list[Path]:
    paths = [Path(f).resolve() for f in files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such file: {', '.join(missing)}")
    return paths


def main(args: argparse.Namespace) -> int:
    try:
        paths = check_files(args.files)
        plans = parse_fault_plans(args.fault_plan)
    except (FileNotFoundError, ValueError) as exc:
        print(f"brygga run: {exc}", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
        use_airflow_home(settings.home / "airflow")  # before the connection check imports Airflow
        route = find_route(settings, args.route, paths, simulators=args.simulators)
        missing = []
        if not args.simulators:
            settings.ensure_dirs()
            with output_to(settings.home / "airflow-run.log"):  # Airflow logs to stdout as it resolves them
                missing = missing_connections(route)
        if missing:
            print("brygga run: these connections are not configured: " + "; ".join(missing)
                  + ". Configure them (docs/connections.md) or run with --simulators.", file=sys.stderr)
            return 2
        if not args.json:
            print(f"brygga run: route {args.route!r}, {len(paths)} file(s), Airflow dag.test() ...", flush=True)
        run = run_route(args.route, paths, simulators=args.simulators, fault_plans=plans)
    except ConfigError as exc:
        print(f"brygga run: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(as_json(run))
    else:
        print_trace(run)
        print_airflow(run)
        print_summary([run], ledger_shown(Settings.from_env().database_url))
    return 0 if run.airflow["run"] == "success" else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `brygga run` to the core CLI through the `brygga.commands` entry point."""
    p = add_command(
        subparsers, "run", func=main,
        help="run one route's DAG here, once (dag.test()), on its connections or on local simulators",
        description="Copies FILES (if any) into the route's inbox and runs the route's real Airflow DAG once with "
                    "dag.test(). Without --simulators every connection the route uses must be configured "
                    "(Airflow Connections or AIRFLOW_CONN_<ID>). State goes to BRYGGA_HOME; the routes file is "
                    "BRYGGA_ROUTES or BRYGGA_CONFIG/routes.yaml. `brygga routes list` shows the routes. Exit 0 when "
                    "the Airflow run succeeded, 1 when it is red (a quarantine or a long outage), 2 on a usage or "
                    "configuration error.",
        examples=["brygga run kumla-bygglov --simulators samples/open-eplatform/bygglov-person.xml",
                  "brygga run kumla-bygglov --simulators --fault-plan 'byggr=[{\"action\": \"http_status\", "
                  "\"status\": 503}]' samples/open-eplatform/bygglov-person.xml",
                  "BRYGGA_ROUTES=/etc/brygga/routes.yaml brygga run kumla-bygglov",
                  "brygga run kumla-felanmalan --simulators --json"])
    p.add_argument("route", help="the route id (see `brygga routes list`)")
    p.add_argument("files", nargs="*", help="submission files to drop into the route's inbox first")
    p.add_argument("--simulators", action="store_true",
                   help="start a local simulator for every connection of the route and use it")
    p.add_argument("--fault-plan", action="append", default=[], metavar="SIMULATOR=JSON",
                   help="with --simulators: make one simulator fail, e.g. "
                        "'byggr=[{\"action\": \"http_status\", \"status\": 503}]' (rules: brygga_simulators.faults)")
    p.add_argument("--json", action="store_true", help="print a JSON report instead of a trace")
