"""One retention (gallring) DAG per route that has ``retention``: once a day, purge what has been kept long enough.

The task runs ``brygga.retention.purge_route`` with ``apply=True`` and actor ``airflow``, reading the routes file
and the ledger at run time, as the route DAG does. It logs counts only; XCom carries counts only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from brygga.ledger import Ledger
from brygga.retention import format_duration, purge_route
from brygga.routes import Route, load_routes
from brygga.settings import Settings

log = logging.getLogger(__name__)

ACTOR = "airflow"


def retention_dag_id_for(route: Route) -> str:
    return f"brygga_retention_{route.id.replace('-', '_')}"


def run_retention(route_id: str, now: datetime | None = None) -> dict[str, int]:
    """The task's body, outside Airflow: purge one route as it is in the routes file now; returns the counts."""
    settings = Settings.from_env()
    routes = {r.id: r for r in load_routes(settings.routes_file, settings.mappings_dir)}
    route = routes.get(route_id)
    if route is None or route.retention is None:
        log.warning("retention %s: the route is gone or has no retention any more; nothing purged", route_id)
        return {}
    report = purge_route(Ledger(settings.database_url), settings, route, now=now, apply=True, actor=ACTOR)
    counts = report.counts()
    log.info("retention %s: %s", route_id, ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def build_retention_dag(route: Route):  # type: ignore[no-untyped-def]
    from airflow.sdk import dag, task

    if route.retention is None:
        raise ValueError(f"route {route.id} has no retention: it gets no retention DAG")
    route_id = route.id

    @dag(dag_id=retention_dag_id_for(route), schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False,
         max_active_runs=1, tags=["brygga", route.tenant.kommunkod, "gallring"],
         default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
         doc_md=f"Gallring for Brygga route `{route_id}` ({route.tenant.name}): the raw file, attachments and "
                f"canonical case of submissions done more than {format_duration(route.retention)} ago are purged and "
                "audited (actor `airflow`). See docs/retention.md.")
    def retention_dag() -> None:
        @task(task_id="purge")
        def purge() -> dict[str, int]:
            return run_retention(route_id)

        purge()

    return retention_dag()
