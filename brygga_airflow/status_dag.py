"""One status DAG per case-system connection under ``status:`` in the routes file: poll >> tell.

``poll`` reads the case system's changes since the watermark and records each as a status event (XCom: counts only).
``tell`` tells the residents: Mina sidor and, where a route asks for it, Mina meddelanden. It fails the run (red, with
Airflow's alerting) when an event could not be told: refused, or its calls over their retry budget. An event that waits
(a transient fault, a case whose earlier event waits) keeps the run green and is tried again next run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from brygga.status.config import StatusFeedSpec
from brygga.status.context import StatusContext
from brygga.status.poll import poll
from brygga.status.tell import tell
from brygga_airflow.connections import AirflowConnectionResolver
from brygga_airflow.task_context import bind_current_task

log = logging.getLogger(__name__)


def status_dag_id_for(feed: StatusFeedSpec) -> str:
    return f"brygga_status_{feed.connection}"


def _context(connection: str) -> StatusContext:
    bind_current_task()
    return StatusContext.for_connection(connection, connections=AirflowConnectionResolver())


def build_status_dag(feed: StatusFeedSpec):  # type: ignore[no-untyped-def]
    from airflow.sdk import dag, task

    connection = feed.connection
    routes = sorted({route.id for route, _ in feed.targets})
    kommuner = sorted({route.tenant_of(target).kommunkod for route, target in feed.targets})

    @dag(dag_id=status_dag_id_for(feed), schedule=feed.schedule, start_date=datetime(2026, 1, 1), catchup=False,
         max_active_runs=1, tags=["brygga", "status", *kommuner],
         default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
         doc_md=f"The resident follows the case: changes of the cases on connection `{connection}` (routes "
                f"{', '.join(routes)}) to Mina sidor and Mina meddelanden. See docs/status.md.")
    def status_dag() -> None:
        @task(task_id="poll")
        def poll_task() -> dict[str, int]:
            result = poll(_context(connection))
            return {"read": result.read, "recorded": result.recorded}

        # all_done: events already recorded are told even while the case system cannot be polled.
        @task(task_id="tell", retries=0, trigger_rule="all_done")
        def tell_task(_: dict[str, int] | None) -> dict[str, int]:
            result = tell(_context(connection))
            if result.failed:
                from airflow.sdk.exceptions import AirflowFailException

                raise AirflowFailException(f"{len(result.failed)} status event(s) could not be told: "
                                           + " | ".join(result.failed[:10]))
            return result.outcomes

        tell_task(poll_task())

    return status_dag()
