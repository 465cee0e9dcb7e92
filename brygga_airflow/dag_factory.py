"""One DAG per route: intake >> translate >> deliver >> archive >> notify >> check.

A run takes everything waiting as one batch, so Airflow's per-task overhead is paid per batch,
not per submission. XCom carries submission ids only, never payloads or personal data.

``check`` fails the run (red, and Airflow's failure callbacks and e-mail fire) when the batch had quarantines or a
remote call has been failing for over half its retry budget. An infrastructure fault fails its own task, which
Airflow retries.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

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


def _context(route_id: str) -> PipelineContext:
    bind_current_task()
    return PipelineContext.for_route(route_id, connections=AirflowConnectionResolver())


def dag_id_for(route: Route) -> str:
    return f"brygga_route_{route.id.replace('-', '_')}"


def build_route_dag(route: Route):  # type: ignore[no-untyped-def]
    from airflow.sdk import dag, task

    route_id = route.id
    retry = {"retries": 2, "retry_delay": timedelta(seconds=30)}

    @dag(dag_id=dag_id_for(route), schedule=route.schedule, start_date=datetime(2026, 1, 1), catchup=False,
         max_active_runs=1, tags=["brygga", *(t.kommunkod for t in route.tenants)], default_args=retry,
         doc_md=f"Brygga route `{route_id}` for {route.tenant.name}. {route.description}")
    def route_dag() -> None:
        @task
        def intake() -> list[str]:
            return pipeline.intake(_context(route_id))

        def step_task(name: str):  # type: ignore[no-untyped-def]
            step = getattr(pipeline, name)

            @task(task_id=name)
            def run(ids: list[str]) -> list[str]:
                advanced = step(_context(route_id), ids)
                log.info("%s: %d of a batch of %d moved on", name, len(advanced), len(ids))
                return ids  # the whole batch goes on: each step picks only what is in its state

            return run

        @task(retries=0)
        def check(ids: list[str]) -> None:
            health = pipeline.check(_context(route_id), ids)
            if not health.ok:
                from airflow.sdk.exceptions import AirflowFailException

                raise AirflowFailException(health.summary())
            log.info("check: a batch of %d, nothing quarantined, no call over half its retry budget", len(ids))
            for sent in health.alerts:  # a recovery notice goes out on a green run
                log.info("check: alert sent: %s", sent)

        ids = intake()
        for name in pipeline.STEPS[1:]:
            ids = step_task(name)(ids)
        check(ids)

    return route_dag()


def route_dags(settings: Settings | None = None) -> dict[str, object]:
    """Every route's DAG, its retention DAG where it has ``retention``, a status DAG per feed under ``status:``, and
    the outbox relay, by dag id. An invalid routes file raises, so Airflow shows it as an import error."""
    settings = settings or Settings.from_env()
    document = read_routes_document(settings.routes_file)
    routes = parse_routes(document, file=settings.routes_file, mappings_dir=settings.mappings_dir)
    feeds = parse_status_feeds(document, file=settings.routes_file, mappings_dir=settings.mappings_dir, routes=routes)
    parse_alerts(document, file=settings.routes_file)  # an unknown notifier is an import error, not a red check later
    dags = {dag_id_for(r): build_route_dag(r) for r in routes}
    dags.update({retention_dag_id_for(r): build_retention_dag(r) for r in routes if r.retention is not None})
    dags.update({status_dag_id_for(f): build_status_dag(f) for f in feeds})
    dags[RELAY_DAG_ID] = build_relay_dag()
    return dags
