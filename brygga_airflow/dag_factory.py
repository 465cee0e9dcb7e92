"""One DAG per route: intake >> translate >> deliver >> archive >> notify.

A run takes everything waiting as one batch, so Airflow's per-task overhead is paid per batch,
not per submission. XCom carries submission ids only, never payloads or personal data.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from brygga import pipeline
from brygga.pipeline import PipelineContext
from brygga.routes import Route, load_routes
from brygga.settings import Settings
from brygga_airflow.connections import AirflowConnectionResolver

log = logging.getLogger(__name__)


def _context(route_id: str) -> PipelineContext:
    return PipelineContext.for_route(route_id, connections=AirflowConnectionResolver())


def dag_id_for(route: Route) -> str:
    return f"brygga_route_{route.id.replace('-', '_')}"


def build_route_dag(route: Route):  # type: ignore[no-untyped-def]
    from airflow.sdk import dag, task

    route_id = route.id
    retry = {"retries": 2, "retry_delay": timedelta(seconds=30)}

    @dag(dag_id=dag_id_for(route), schedule=route.schedule, start_date=datetime(2026, 1, 1), catchup=False,
         max_active_runs=1, tags=["brygga", route.tenant.kommunkod], default_args=retry,
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

        ids = intake()
        for name in pipeline.STEPS[1:]:
            ids = step_task(name)(ids)

    return route_dag()


def route_dags(settings: Settings | None = None) -> dict[str, object]:
    """Every route's DAG by dag id. An invalid routes file raises, so Airflow shows it as an import error."""
    settings = settings or Settings.from_env()
    return {dag_id_for(r): build_route_dag(r) for r in load_routes(settings.routes_file, settings.mappings_dir)}
