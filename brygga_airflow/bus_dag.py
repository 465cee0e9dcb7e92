"""The outbox relay as a DAG: every minute, publish what the ledger's outbox holds to the bus (docs/events.md).

A broker that is down fails the task (red; Airflow retries it); nothing is lost, the outbox keeps it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

RELAY_DAG_ID = "brygga_bus_relay"


def build_relay_dag():  # type: ignore[no-untyped-def]
    from airflow.sdk import dag, task

    @dag(dag_id=RELAY_DAG_ID, schedule="*/1 * * * *", start_date=datetime(2026, 1, 1), catchup=False,
         max_active_runs=1, tags=["brygga", "bus"], default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
         doc_md="Publishes the ledger's outbox (every submission state change and status event, as CloudEvents) to "
                "the bus. See docs/events.md.")
    def relay_dag() -> None:
        @task(task_id="relay")
        def relay_task() -> dict[str, int | bool]:
            from brygga.bus.cli import relay_once

            result = relay_once()
            log.info("relay: %d published, %d left in the outbox", result["published"], result["backlog"])
            return result

        relay_task()

    return relay_dag()
