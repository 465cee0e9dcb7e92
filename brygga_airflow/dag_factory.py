"""One DAG per route: ``intake``, then ``process`` mapped over the batch's chunks, then ``check``.

A run takes everything waiting as one batch, so Airflow's per-task overhead is paid per batch, not per submission.
Intake splits the batch into disjoint chunks of at most ``CHUNK_SIZE`` ids; ``process`` is mapped over them, so the
chunks of a large batch run in parallel (Celery workers take one each) and no id is in two chunks. Each chunk runs
translate, deliver, archive and notify in order, and each step records itself in the ledger as before (the trace
shows every step, with the Airflow task that ran it). XCom carries submission ids only, never payloads or personal
data.

Why one ``process`` task per chunk and not a task per step: a task costs about 1 s on a live scheduler (the
scheduler's hand-off, a fresh process, parsing this DAG file) whatever it does, and a submission's latency from drop
to done is the sum over the tasks it passes through, plus the rest of a busy run it waits for. The target is a median
of 5 s from drop to case, archive package and status, over an empty one-task run's floor of 2 to 3 s: five tasks in a
row before done (intake, four steps) cannot reach it, two (intake, process) can leave room for the work.
``bench/latency.py`` measures it, and ``--shape steps`` the other shape.
The price: a step's failure shows on the chunk's ``process`` task, not on a task of its own name (its log and the
trace name the step), and a retry of ``process`` starts again at translate, which is safe because every step picks
only the submissions in its own state. ``BRYGGA_DAG_SHAPE=steps`` builds a task per step instead, in a mapped task
group per chunk: for a route where latency does not matter and a step per task helps the operators; it must be set
alike for the dag-processor and the workers.

When the run starts: a file-inbox route is scheduled on an asset whose watcher (``triggers.InboxArrivalTrigger``,
run by the triggerer) fires within a poll interval of a file's arrival, with the route's cron ``schedule`` kept as the
safety net (``AssetOrTimeSchedule``). The webhook's intake starts a run itself after landing a submission
(``plugin.trigger_route_run``). SFTP and bus routes run on their schedule. With ``max_active_runs=1``, what arrives
while a run is busy waits for one next run, which takes it all as its batch.

``check`` fails the run (red, and Airflow's failure callbacks and e-mail fire) when the batch had quarantines or a
remote call has been failing for over half its retry budget. An infrastructure fault fails its own task, which
Airflow retries.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from brygga import pipeline
from brygga.alerts import parse_alerts
from brygga.pipeline import PipelineContext
from brygga.routes import Route, parse_routes, read_routes_document
from brygga.settings import Settings
from brygga.status.config import parse_status_feeds
from brygga_airflow.bus_dag import RELAY_DAG_ID, build_relay_dag
from brygga_airflow.connections import AirflowConnectionResolver
from brygga_airflow.retention_dag import build_retention_dag, retention_dag_id_for
from brygga_airflow.status_dag import build_status_dag, status_dag_id_for
from brygga_airflow.task_context import bind_current_task

log = logging.getLogger(__name__)

# Submissions per mapped chunk. Large enough that a chunk's fixed cost (a task, a context) is small next to its
# work (about 30 ms a submission), small enough that a route's default batch of 500 gives several workers a chunk.
CHUNK_SIZE = 100
SHAPES = ("process", "steps")
SHAPE_ENV = "BRYGGA_DAG_SHAPE"
ROUTE_DAG_PREFIX = "brygga_route_"


def _context(route: Route) -> PipelineContext:
    """The task's context on the route this DAG file just parsed: what ``PipelineContext.for_route`` builds, without
    reading and checking the routes file a second time in the task's process (a few hundred ms a task)."""
    bind_current_task()
    return PipelineContext.for_route(route.id, route=route, connections=AirflowConnectionResolver())


def dag_id_for(route: Route) -> str:
    return f"{ROUTE_DAG_PREFIX}{route.id.replace('-', '_')}"


def chunked(ids: list[str], size: int = CHUNK_SIZE,
            references: Mapping[str, str | None] | None = None) -> list[list[str]]:
    """The batch in disjoint chunks of at most ``size``, in order, each id once; one empty chunk for an empty batch,
    so the run still reaches its check (which sends the alerts due, a recovery notice among them).

    Versions of one e-service reference (``references``: id to reference) stay in one chunk, in batch order: chunks
    run in parallel, and translate numbers the versions in the order it meets them. Such a group is never split, even
    when it alone is over ``size``.
    """
    groups: dict[object, list[str]] = {}
    for sid in dict.fromkeys(ids):
        reference = (references or {}).get(sid)
        groups.setdefault(sid if reference is None else ("reference", reference), []).append(sid)
    chunks: list[list[str]] = []
    for group in groups.values():
        if not chunks or len(chunks[-1]) + len(group) > size:
            chunks.append([])
        chunks[-1].extend(group)
    return [chunk for chunk in chunks if chunk] or [[]]


def dag_shape() -> str:
    shape = os.environ.get(SHAPE_ENV, "process")
    if shape not in SHAPES:
        from brygga.errors import ConfigError

        raise ConfigError(f"{SHAPE_ENV}={shape!r}: expected one of {', '.join(SHAPES)}")
    return shape


def route_schedule(route: Route) -> Any:
    """The cron schedule alone; for an inbox folder, the folder's arrivals too, with the cron as a safety net."""
    if route.source.adapter != "file-inbox":
        return route.schedule
    from airflow import settings as airflow_settings
    from airflow.sdk import Asset, AssetOrTimeSchedule, AssetWatcher, CronTriggerTimetable

    from brygga_adapters.file.paths import resolve_config_path
    from brygga_airflow.triggers import InboxArrivalTrigger

    source = route.source.config
    trigger = InboxArrivalTrigger(directory=str(resolve_config_path(str(source["path"]))),
                                  pattern=str(source.get("pattern", "*.xml")))
    arrivals = Asset(name=f"brygga_inbox__{route.id}", uri=f"x-brygga-inbox://{route.id}",
                     watchers=[AssetWatcher(name=f"brygga_inbox__{route.id}", trigger=trigger)])
    if route.schedule is None:
        return arrivals
    return AssetOrTimeSchedule(timetable=CronTriggerTimetable(route.schedule, timezone=airflow_settings.TIMEZONE),
                               assets=arrivals)


def _run_step(ctx: PipelineContext, name: str, ids: list[str]) -> None:
    advanced = getattr(pipeline, name)(ctx, ids)
    log.info("%s: %d of a chunk of %d moved on", name, len(advanced), len(ids))


def build_route_dag(route: Route, shape: str | None = None):  # type: ignore[no-untyped-def]
    from airflow.sdk import dag, task, task_group

    route_id = route.id
    shape = shape or dag_shape()
    retry = {"retries": 2, "retry_delay": timedelta(seconds=30)}

    @dag(dag_id=dag_id_for(route), schedule=route_schedule(route), start_date=datetime(2026, 1, 1), catchup=False,
         max_active_runs=1, tags=["brygga", *(t.kommunkod for t in route.tenants)], default_args=retry,
         doc_md=f"Brygga route `{route_id}` for {route.tenant.name}. {route.description}")
    def route_dag() -> None:
        @task
        def intake() -> list[list[str]]:
            ctx = _context(route)
            batch = pipeline.intake(ctx)
            chunks = chunked(batch, references=ctx.ledger.source_references(batch))
            log.info("intake: a batch of %d in %d chunk(s)", len(batch), len(chunks))
            return chunks

        @task(map_index_template="{{ task.op_kwargs['chunk'] | length }} submission(s)")
        def process(chunk: list[str]) -> None:
            """Translate, deliver, archive and notify one chunk, in order; each step picks only its own state."""
            ctx = _context(route)
            for name in pipeline.STEPS[1:]:
                _run_step(ctx, name, chunk)

        def step_task(name: str):  # type: ignore[no-untyped-def]
            @task(task_id=name)
            def run(chunk: list[str]) -> list[str]:
                _run_step(_context(route), name, chunk)
                return chunk  # the whole chunk goes on: each step picks only what is in its state

            return run

        @task_group
        def steps(chunk: list[str]) -> None:
            ids: Any = chunk
            for name in pipeline.STEPS[1:]:
                ids = step_task(name)(ids)

        @task(retries=0)
        def check(chunks: list[list[str]]) -> None:
            ids = [sid for chunk in chunks for sid in chunk]
            health = pipeline.check(_context(route), ids)
            if not health.ok:
                from airflow.sdk.exceptions import AirflowFailException

                raise AirflowFailException(health.summary())
            log.info("check: a batch of %d, nothing quarantined, no call over half its retry budget", len(ids))
            for sent in health.alerts:  # a recovery notice goes out on a green run
                log.info("check: alert sent: %s", sent)

        chunks = intake()
        worked = process.expand(chunk=chunks) if shape == "process" else steps.expand(chunk=chunks)
        worked >> check(chunks)

    return route_dag()


def _only_route(document: Any) -> Any:
    """In a task's process, the routes document cut down to the task's own route: Airflow parses this DAG file again
    before every task, and the other routes' adapters, mappings and DAGs are only cost there. The dag-processor
    (no parsing context) builds and checks everything."""
    from airflow.sdk import get_parsing_context

    wanted = get_parsing_context().dag_id
    if not wanted or not wanted.startswith(ROUTE_DAG_PREFIX) or not isinstance(document, dict) \
            or not isinstance(document.get("routes"), list):
        return document
    mine = [r for r in document["routes"] if isinstance(r, dict)
            and f"{ROUTE_DAG_PREFIX}{str(r.get('id', '')).replace('-', '_')}" == wanted]
    return {**document, "routes": mine} if mine else document


def route_dags(settings: Settings | None = None) -> dict[str, object]:
    """Every route's DAG, its retention DAG where it has ``retention``, a status DAG per feed under ``status:``, and
    the outbox relay, by dag id. An invalid routes file raises, so Airflow shows it as an import error."""
    settings = settings or Settings.from_env()
    document = read_routes_document(settings.routes_file)
    task_document = _only_route(document)
    if task_document is not document:  # a route task: its own DAG is all this parse is for
        (route,) = parse_routes(task_document, file=settings.routes_file, mappings_dir=settings.mappings_dir)
        return {dag_id_for(route): build_route_dag(route)}
    routes = parse_routes(document, file=settings.routes_file, mappings_dir=settings.mappings_dir)
    feeds = parse_status_feeds(document, file=settings.routes_file, mappings_dir=settings.mappings_dir, routes=routes)
    parse_alerts(document, file=settings.routes_file)  # an unknown notifier is an import error, not a red check later
    dags = {dag_id_for(r): build_route_dag(r) for r in routes}
    dags.update({retention_dag_id_for(r): build_retention_dag(r) for r in routes if r.retention is not None})
    dags.update({status_dag_id_for(f): build_status_dag(f) for f in feeds})
    dags[RELAY_DAG_ID] = build_relay_dag()
    return dags
